"""CEL103 acks-late-not-idempotent."""
from __future__ import annotations

from conftest import FIXTURES, assert_fixture_tree, lint, positions

TASK = """
import requests
from celery import Celery

app = Celery("shop", broker="redis://localhost")
{extra}

@app.task{options}
def charge(order_id):
{body}
"""


def source(body="    requests.post('https://pay.example', json={'id': order_id})",
           options="(acks_late=True)", extra=""):
    return TASK.format(body=body, options=options, extra=extra)


def run(project, text, **settings):
    return positions(project({"shop.py": text}, select="CEL103", **settings))


def test_fixture_tree_with_custom_guard():
    assert_fixture_tree("CEL103/shop", "CEL103", idempotency_guards=["claim_job"])


def test_custom_guard_is_needed_for_process_job():
    findings = lint(FIXTURES / "CEL103" / "shop", select="CEL103")
    assert ("shop/tasks.py", 131, 5, "CEL103") in positions(findings)


def test_message_names_side_effect_line_and_fix(project):
    findings = project({"shop.py": source()}, select="CEL103")
    assert positions(findings) == [("shop.py", 8, 5, "CEL103")]
    message = findings[0].message
    assert "'shop.charge'" in message and "HTTP POST" in message and "line 9" in message
    assert "drop acks_late" in message and "get_or_create" in message


def test_acks_late_unset_is_silent(project):
    assert run(project, source(options="")) == []


def test_app_setting_and_task_override(project):
    extra = "app.conf.task_acks_late = True"
    assert run(project, source(options="", extra=extra)) == [("shop.py", 8, 5, "CEL103")]
    assert run(project, source(options="(acks_late=False)", extra=extra)) == []


def test_annotations_override_acks_late(project):
    extra = 'app.conf.task_annotations = {"shop.charge": {"acks_late": False}}'
    assert run(project, source(extra=extra)) == []
    extra = "app.conf.task_annotations = build_annotations()"
    assert run(project, source(extra=extra)) == []


def test_unknown_acks_late_is_silent(project):
    assert run(project, source(options="(acks_late=LATE)", extra="LATE = compute()")) == []


def test_early_return_after_side_effect_does_not_guard(project):
    body = ("    requests.post('https://pay.example')\n"
            "    if order_id:\n"
            "        return\n")
    assert run(project, source(body=body)) == [("shop.py", 8, 5, "CEL103")]


def test_select_for_update_and_lock_guards(project):
    body = ("    order = Order.objects.select_for_update().get(pk=order_id)\n"
            "    requests.post('https://pay.example')\n")
    assert run(project, source(body=body)) == []
    body = ("    with acquire_lock(order_id):\n"
            "        requests.post('https://pay.example')\n")
    assert run(project, source(body=body)) == []


def test_helpers_followed_two_levels_only(project):
    extra = ("def level1(x):\n    level2(x)\n\n"
             "def level2(x):\n    level3(x)\n\n"
             "def level3(x):\n    requests.post('https://pay.example')\n")
    assert run(project, source(body="    level2(order_id)", extra=extra)) == [
        ("shop.py", 16, 5, "CEL103")]
    assert run(project, source(body="    level1(order_id)", extra=extra)) == []


def test_plain_update_and_get_are_safe(project):
    body = ("    requests.get('https://pay.example')\n"
            "    Order.objects.filter(pk=order_id).update(status='paid')\n")
    assert run(project, source(body=body)) == []
