"""CEL103 and CEL109 agree on which tasks ack late, and both agree with Celery.

Celery's worker tests ``task.acks_late`` for truth (celery/worker/request.py), and a
task whose ``acks_late`` is None takes ``task_acks_late`` (Task.bind, from_config), so
``acks_late=1`` acks late and ``acks_late=None`` defers to the app's setting.
"""
from __future__ import annotations

import pytest

from conftest import positions

APP = """
import requests
from celery import Celery

app = Celery("proj", broker="redis://localhost")
{extra}

@app.task{options}
def charge(order_id):
    requests.post("https://pay.example", json={{"id": order_id}})
"""


def late_ack_findings(project, options="", extra=""):
    source = APP.format(options=options, extra=extra)
    findings = project({"proj.py": source}, select="CEL1")
    return {f.code: f for f in findings if f.code in ("CEL103", "CEL109")}


@pytest.mark.parametrize("options, extra, quoted", [
    ("(acks_late=1, time_limit=7200)", "", "(acks_late=1)"),
    ("(acks_late=True, time_limit=7200)", "", "(acks_late=True)"),
    ("(time_limit=7200)", "app.conf.task_acks_late = 1", "(task_acks_late = 1)"),
    ("(acks_late=None, time_limit=7200)", "app.conf.task_acks_late = True",
     "(task_acks_late = True)"),
    ("(time_limit=7200)", 'app.conf.task_annotations = {"proj.charge": {"acks_late": 1}}',
     "(acks_late=1 in task_annotations)"),
])
def test_true_acks_late_fires_both_rules_and_quotes_the_value(project, options, extra, quoted):
    found = late_ack_findings(project, options, extra)
    assert sorted(found) == ["CEL103", "CEL109"]
    assert quoted in found["CEL103"].message


@pytest.mark.parametrize("options, extra", [
    ("(acks_late=0, time_limit=7200)", ""),
    ("(acks_late=None, time_limit=7200)", ""),
    ("(acks_late=0, time_limit=7200)", "app.conf.task_acks_late = True"),
    ("(time_limit=7200)", "app.conf.task_acks_late = 0"),
    ("(acks_late=True, time_limit=7200)",
     'app.conf.task_annotations = {"proj.charge": {"acks_late": None}}'),
    ("(acks_late=LATE, time_limit=7200)", "LATE = compute()"),
])
def test_false_or_unknown_acks_late_leaves_both_rules_silent(project, options, extra):
    assert late_ack_findings(project, options, extra) == {}


def test_base_class_acks_late_one(project):
    source = APP.format(options="(base=LateTask, time_limit=7200)", extra=(
        "class LateTask(app.Task):\n    acks_late = 1\n"))
    findings = project({"proj.py": source}, select="CEL1")
    codes = sorted(f.code for f in findings if f.code in ("CEL103", "CEL109"))
    assert codes == ["CEL103", "CEL109"]
    [cel103] = [f for f in findings if f.code == "CEL103"]
    assert "(acks_late = 1 on proj.LateTask)" in cel103.message
    assert positions([cel103]) == [("proj.py", 10, 5, "CEL103")]
