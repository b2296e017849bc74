"""CEL112 priority-without-max-priority."""
from conftest import assert_fixture_tree, positions

APP = """
from celery import Celery

app = Celery("proj"{broker})
{extra}

@app.task(priority=9)
def urgent(user_id):
    ...
"""


def test_fixture_tree():
    findings = assert_fixture_tree("CEL112", "CEL112")
    by_line = {(f.path, f.line): f.message for f in findings}
    assert by_line[("apps/declared.py", 23)].startswith(
        "task apps.declared.render has priority=9 but its queue 'reports' is declared without "
        "x-max-priority")


def test_default_broker_is_amqp(project):
    findings = project({"proj.py": APP.format(broker="", extra="")}, select="CEL112")
    assert positions(findings) == [("proj.py", 6, 20, "CEL112")]


def test_dict_form_of_task_queues(project):
    extra = ('app.conf.task_queues = {"celery": {"queue_arguments": {"x-max-priority": 10}}}')
    text = APP.format(broker=', broker="amqp://rabbitmq//"', extra=extra)
    assert project({"proj.py": text}, select="CEL112") == []


def test_sqs_is_not_flagged(project):
    text = APP.format(broker=', broker="sqs://"', extra="")
    assert project({"proj.py": text}, select="CEL112") == []


def test_create_missing_queues_is_read_for_its_truth(project):
    # Celery tests task_create_missing_queues with `if`: 1 creates the undeclared queue,
    # without x-max-priority; 0 refuses to send, so nothing is said
    declared = 'app.conf.task_queues = {"other": {}}\napp.conf.task_create_missing_queues = '
    for value, expected in (("1", [("proj.py", 7, 20, "CEL112")]), ("0", [])):
        text = APP.format(broker="", extra=declared + value)
        assert positions(project({"proj.py": text}, select="CEL112")) == expected
