"""CEL113 crontab-missing-minute."""
from conftest import assert_fixture_tree, lint, FIXTURES


def test_fixture_tree():
    assert_fixture_tree("CEL113", "CEL113")


def test_messages_name_the_hour_and_the_fix():
    findings = lint(FIXTURES / "CEL113", select="CEL113")
    messages = {(f.path, f.line): f.message for f in findings}
    assert messages[("proj/celery.py", 10)] == (
        "crontab without minute runs every minute from 04:00 to 04:59; add minute=0")
    assert messages[("proj/celery.py", 18)] == (
        "crontab without minute runs every minute of each hour it names; add minute=0")
    assert messages[("proj/celery.py", 22)] == (
        "crontab without minute or hour runs every minute of each day it names; "
        "add minute=0, hour=0")
    assert messages[("site/migrations/0002_schedules.py", 6)].endswith('add minute="0"')
    assert all(len(m) <= 100 for m in messages.values())


def test_unknown_hour_still_restricts(project):
    findings = project({"proj/__init__.py": "", "proj/beat.py": """
        from celery.schedules import crontab
        from proj.tz import local_hour

        NIGHTLY = crontab(hour=local_hour(1))
        ALL_DAY = crontab(hour="*", day_of_week="*")
        """}, select="CEL113")
    assert [(f.line, f.column) for f in findings] == [(4, 11)]
