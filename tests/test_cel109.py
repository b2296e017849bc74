"""CEL109 visibility-timeout-exceeded."""
from conftest import assert_fixture_tree, positions

APP = """
from celery import Celery

app = Celery("proj", broker="redis://localhost")
{extra}

@app.task(acks_late=True, time_limit=7200)
def rebuild():
    ...
"""


def test_fixture_tree():
    findings = assert_fixture_tree("CEL109", "CEL109")
    by_line = {(f.path, f.line): f.message for f in findings}
    assert by_line[("apps/redis_app.py", 14)].startswith(
        "time_limit=7200 lets late-ack task apps.redis_app.rebuild_index run past the Redis "
        "visibility timeout (3600 s, 1 h)")
    assert "late-ack tasks run past" in by_line[("apps/appwide_config.py", 2)]
    assert "SQS visibility timeout (1800 s, 30 min)" in by_line[("apps/sqs_app.py", 6)]


def test_visibility_timeout_from_update(project):
    extra = 'app.conf.update(broker_transport_options={"visibility_timeout": 7000})'
    findings = project({"proj.py": APP.format(extra=extra)}, select="CEL109")
    assert positions(findings) == [("proj.py", 6, 38, "CEL109")]
    assert "(7000 s)" in findings[0].message


def test_annotated_time_limit_is_not_judged(project):
    extra = 'app.conf.task_annotations = {"proj.rebuild": {"time_limit": 600}}'
    assert project({"proj.py": APP.format(extra=extra)}, select="CEL109") == []


def test_unknown_transport_options_are_silent(project):
    extra = "app.conf.broker_transport_options = load_options()"
    assert project({"proj.py": APP.format(extra=extra)}, select="CEL109") == []


def test_infinite_time_limit_and_countdown_are_reported_not_crashed_on(project):
    source = APP.replace("time_limit=7200", "time_limit=1e400").format(
        extra="") + "\nrebuild.apply_async(countdown=1e400)\n"
    findings = project({"proj.py": source}, select="CEL109")
    assert positions(findings) == [("proj.py", 6, 38, "CEL109"), ("proj.py", 10, 1, "CEL109")]
    assert findings[0].message.startswith("time_limit=inf lets late-ack task proj.rebuild run")
    assert findings[1].message.startswith("countdown=inf reaches the Redis visibility timeout")
