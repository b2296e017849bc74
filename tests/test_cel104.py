"""CEL104 beat-interval-too-short."""
from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES, assert_fixture_tree, expected_markers, lint, positions

TREE = FIXTURES / "CEL104"


def test_fixture_tree():
    assert_fixture_tree("CEL104", "CEL104")


def test_old_periodic_task_decorator_only_for_a_release_that_has_it():
    assert_fixture_tree("CEL104_legacy", "CEL104")
    assert lint(FIXTURES / "CEL104_legacy", select="CEL104", target_version=(5, 0)) == []


def at(path: str, needle: str, column_of: str):
    """(path, line, col, CEL104) of the line holding `needle`, at `column_of` on it."""
    lines = (TREE / path).read_text(encoding="utf-8").splitlines()
    number, text = next((n, t) for n, t in enumerate(lines, start=1) if needle in t)
    return (path, number, text.index(column_of) + 1, "CEL104")


def test_higher_min_beat_interval_reports_crontabs_by_their_shortest_gap():
    findings = set(positions(lint(TREE, select="CEL104", min_beat_interval=120), "CEL104"))
    extra = findings - expected_markers(TREE, "CEL104")
    assert extra == {
        at("proj/celery.py", '"every-minute-crontab"', "crontab("),  # every minute
        at("proj/celery.py", '"four-am-burst"', "crontab("),  # every minute 04:00-04:59
        at("proj/celery.py", '"refresh-at-threshold"', "10.0"),
        at("proj/celery.py", '"schedule": 30,', "30"),
        at("proj/worker_app.py", '"ping-slow"', "60.0"),
    }
    # crontab(minute="30") (hourly) and a 1-hour timedelta stay quiet.
    assert at("proj/celery.py", '"hourly-crontab"', "crontab(") not in findings
    assert at("proj/celery.py", '"hourly-timedelta"', "timedelta(") not in findings


def test_lower_min_beat_interval_keeps_only_sub_second_schedules():
    findings = positions(lint(TREE, select="CEL104", min_beat_interval=1), "CEL104")
    assert sorted(findings) == [
        ("proj/celery.py", 33, 21, "CEL104"),
        ("proj/worker_app.py", 7, 64, "CEL104"),
    ]


def test_message_states_period_threshold_and_fix(project):
    findings = project({"example.py": """
        from celery import Celery

        app = Celery("proj")
        app.conf.beat_schedule = {
            "flush": {"task": "proj.tasks.flush", "schedule": 1.0},
        }
    """}, select="CEL104")
    assert [f.message for f in findings] == [
        'beat entry "flush" runs every 1 second, more often than min-beat-interval '
        "(10 seconds): beat queues a message every period even when workers fall behind; "
        "use a longer interval or make the work event-driven (raise min-beat-interval if "
        "this rate is intended)"]
    assert (findings[0].line, findings[0].column) == (5, 55)


def test_environment_default_is_judged_and_named(project):
    findings = project({"example.py": """
        import os

        from celery import Celery
        from celery.schedules import crontab

        app = Celery("proj")
        app.conf.beat_schedule = {
            "poll": {"task": "t", "schedule": int(os.getenv("POLL_SECONDS", "3"))},
            "cron": {"task": "t", "schedule": crontab(minute=os.getenv("MINUTE", "*"))},
        }
    """}, select="CEL104", min_beat_interval=120)
    messages = [f.message for f in findings]
    assert len(messages) == 2
    assert "runs every 3 seconds (default of an environment variable)" in messages[0]
    assert "runs as often as every 1 minute (default of an environment variable)" in messages[1]


def test_schedule_imported_from_another_module_is_read(project):
    findings = project({
        "intervals.py": "FAST = 1\nif DEBUG:\n    SLOW = 1\n",
        "app.py": """
            from celery import Celery
            from intervals import FAST, SLOW, MISSING

            app = Celery("proj")
            app.conf.beat_schedule = {"poll": {"task": "t", "schedule": FAST},
                                      "maybe": {"task": "t", "schedule": SLOW},
                                      "gone": {"task": "t", "schedule": MISSING}}
        """,
    }, select="CEL104")
    assert [(f.path, f.line, f.column) for f in findings] == [("app.py", 5, 61)]


def test_min_beat_interval_from_pyproject(tmp_path):
    from conftest import write_tree
    write_tree(tmp_path, {
        "pyproject.toml": "[tool.celerylint]\nmin-beat-interval = 0.25\n",
        "app.py": """
            from celery import Celery

            app = Celery("proj")
            app.conf.beat_schedule = {
                "a": {"task": "t", "schedule": 0.5},
                "b": {"task": "t", "schedule": 0.2},
            }
        """,
    })
    assert positions(lint(Path(tmp_path), select="CEL104")) == [("app.py", 6, 36, "CEL104")]
