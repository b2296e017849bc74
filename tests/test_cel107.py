"""CEL107 periodic-task-without-expires."""
from __future__ import annotations

from conftest import FIXTURES, assert_fixture_tree, expected_markers, lint, positions

TREE = FIXTURES / "CEL107"


def test_fixture_tree():
    assert_fixture_tree("CEL107", "CEL107")


def entry_at(path: str, needle: str):
    """(path, line, col, CEL107) of the entry key (or call) on the line holding `needle`."""
    lines = (TREE / path).read_text(encoding="utf-8").splitlines()
    number, text = next((n, t) for n, t in enumerate(lines, start=1) if needle in t)
    return (path, number, len(text) - len(text.lstrip()) + 1, "CEL107")


def test_higher_threshold_reports_hourly_schedules_too():
    findings = set(positions(lint(TREE, select="CEL107", expires_required_below=3600), "CEL107"))
    assert findings - expected_markers(TREE, "CEL107") == {
        entry_at("proj/celery.py", '"poll-hourly-timedelta"'),
        entry_at("proj/celery.py", '"poll-hourly-crontab"'),  # crontab(minute="30")
        entry_at("proj/celery.py", '"poll-just-above"'),
        entry_at("celeryconfig.py", '"legacy-hourly"'),
        entry_at("proj/signals.py", 'name="hourly"'),
    }


def test_lower_threshold_keeps_only_the_fastest_entries():
    findings = positions(lint(TREE, select="CEL107", expires_required_below=15), "CEL107")
    assert sorted(findings) == [
        ("proj/settings.py", 4, 5, "CEL107"),      # every second
        ("proj/worker_app.py", 7, 9, "CEL107"),    # every 15 seconds: "at most" the threshold
    ]


def test_messages_name_the_period_and_the_fix_for_each_form():
    messages = {(f.path, f.line): f.message for f in lint(TREE, select="CEL107")}
    assert messages[("proj/celery.py", 17)] == (
        'beat entry "poll-every-minute" runs every 1 minute and its messages never expire: '
        "when workers fall behind, stale runs pile up and the backlog never drains; "
        'add "options": {"expires": 60} to the entry, or expires=60 on the task')
    assert messages[("proj/celery.py", 31)].startswith(
        'beat entry "report-every-five-minutes" runs as often as every 5 minutes ')
    assert messages[("proj/signals.py", 7)].endswith(
        "pass expires=30 to add_periodic_task, or set expires=30 on the task")
    assert messages[("proj/signals.py", 8)].endswith(
        "(add_periodic_task does not unpack options={...})")


LEGACY = FIXTURES / "CEL107_legacy"


def test_old_periodic_task_decorator_for_a_release_that_has_it():
    assert_fixture_tree("CEL107_legacy", "CEL107")
    messages = {(f.path, f.line): f.message for f in lint(LEGACY, select="CEL107")}
    assert messages[("proj/legacy.py", 7)].endswith("add expires=30 to @periodic_task")
    findings = set(positions(lint(LEGACY, select="CEL107", expires_required_below=3600)))
    assert ("proj/legacy.py", 17, 5, "CEL107") in findings  # the name of `def legacy_hourly`


def test_old_periodic_task_decorator_makes_nothing_for_celery_5():
    """celery.task is gone in Celery 5 (the shipped tables say which releases have it)."""
    assert lint(LEGACY, select="CEL107", target_version=(5, 0)) == []


def test_unresolved_task_is_silent_but_a_project_task_of_that_name_is_judged(project):
    findings = project({
        "proj/__init__.py": "",
        "proj/tasks.py": """
            from celery import shared_task

            @shared_task(name="jobs.ping")
            def ping():
                pass
        """,
        "proj/celery.py": """
            from celery import Celery

            app = Celery("proj")
            app.conf.beat_schedule = {
                "library": {"task": "django_celery_results.cleanup", "schedule": 60},
                "by-name": {"task": "jobs.ping", "schedule": 60},
            }
        """,
    }, select="CEL107")
    assert positions(findings) == [("proj/celery.py", 6, 5, "CEL107")]


def test_task_annotations_setting_expires_count(project):
    files = {
        "app.py": """
            from celery import Celery

            app = Celery("proj")
            app.conf.task_annotations = ANNOTATIONS

            @app.task
            def ping():
                pass

            app.conf.beat_schedule = {"ping": {"task": "app.ping", "schedule": 60}}
        """,
    }
    with_expires = dict(files)
    with_expires["app.py"] = files["app.py"].replace("ANNOTATIONS", '{"*": {"expires": 60}}')
    assert project(with_expires, select="CEL107") == []
    other = dict(files)
    other["app.py"] = files["app.py"].replace("ANNOTATIONS", '{"*": {"rate_limit": "10/s"}}')
    assert positions(project(other, select="CEL107")) == [("app.py", 10, 27, "CEL107")]
    assert project(files, select="CEL107") == []  # annotations that cannot be read


def test_only_annotations_for_the_task_itself_count(project):
    """The annotations are read as Celery reads them (the task's name, then "*"), not
    searched for the word "expires"."""
    files = {
        "app.py": """
            from celery import Celery

            app = Celery("proj")
            app.conf.task_annotations = ANNOTATIONS

            @app.task
            def ping():
                pass

            app.conf.beat_schedule = {"ping": {"task": "app.ping", "schedule": 60}}
        """,
    }

    def findings(annotations: str):
        tree = {"app.py": files["app.py"].replace("ANNOTATIONS", annotations)}
        return positions(project(tree, select="CEL107"))

    reported = [("app.py", 10, 27, "CEL107")]
    assert findings('{"app.other": {"expires": 60}}') == reported
    assert findings('{"app.ping": {"rate_limit": "expires"}}') == reported
    assert findings('[{"app.other": {"expires": 60}}, {"*": {"queue": "expires"}}]') == reported
    assert findings('{"app.ping": {"expires": 60}}') == []
    assert findings('[{"app.other": {"rate_limit": "1/s"}}, {"app.ping": {"expires": 60}}]') == []
    assert findings('{"app.ping": make()}') == []  # cannot be read: assumed to set it


def test_spread_options_count_when_literal(project):
    findings = project(
        {
            "app.py": """
            from celery import Celery

            app = Celery("proj")
            FAST = {"expires": 10}

            @app.task
            def ping():
                pass

            app.conf.beat_schedule = {
                "spread": {"task": "app.ping", "schedule": 10, "options": {**FAST}},
                "spread-other": {"task": "app.ping", "schedule": 10, "options": {"queue": "q",
                                                                                 **FAST}},
                "no-expiry": {"task": "app.ping", "schedule": 10, "options": {"queue": "q"}},
            }
        """,
        },
        select="CEL107",
    )
    assert positions(findings) == [("app.py", 14, 5, "CEL107")]


def test_database_scheduler_keeps_only_expire_seconds():
    messages = {(f.path, f.line): f.message for f in lint(TREE, select="CEL107")}
    assert messages[("dbbeat/celery.py", 11)] == (
        'beat entry "db-poll" never expires under DatabaseScheduler; '
        'add options "expire_seconds": 60')
    assert messages[("dbbeat/celery.py", 12)] == (
        'beat entry "db-poll-expires": DatabaseScheduler drops "expires"; '
        'use "expire_seconds": 60')
    assert messages[("dbbeat/celery.py", 28)] == (
        'beat entry "db-add": DatabaseScheduler drops "expires"; use expire_seconds')
    assert messages[("dbbeat/custom.py", 7)].startswith(
        'beat entry "custom-poll": DatabaseScheduler drops "expires"')
    assert all(len(m) <= 100 for k, m in messages.items() if k[0].startswith("dbbeat/"))


def test_database_scheduler_named_by_its_alias_in_django_settings(project):
    files = {"proj/__init__.py": "", "proj/celery.py": """
        import os
        from celery import Celery
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
        app = Celery("proj")
        app.config_from_object("django.conf:settings", namespace="CELERY")
        """, "proj/settings.py": """
        CELERY_BROKER_URL = "redis://"
        CELERY_BEAT_SCHEDULER = "django"
        CELERY_BEAT_SCHEDULE = {
            "poll": {"task": "proj.tasks.poll", "schedule": 60, "options": {"expires": 60}},
        }
        """, "proj/tasks.py": """
        from celery import shared_task

        @shared_task
        def poll():
            pass
        """}
    (finding,) = project(files, select="CEL107")
    assert finding.line == 4 and "DatabaseScheduler drops" in finding.message
    files["proj/settings.py"] = files["proj/settings.py"].replace(
        '"django"', '"celery.beat:PersistentScheduler"')
    assert project(files, select="CEL107") == []
