"""CEL102 unused-task-result."""
from __future__ import annotations

from conftest import assert_fixture_tree, positions

APP = """
from celery import Celery

app = Celery("proj", broker="redis://localhost", backend={backend!r})
{extra}

@app.task{options}
def send(x):
    return x


def view(x):
    send.delay(x)
"""


def app_source(backend="redis://localhost/1", extra="", options=""):
    return APP.format(backend=backend, extra=extra, options=options)


def test_fixture_tree_apps():
    findings = assert_fixture_tree("CEL102/apps", "CEL102")
    by_line = {f.line: f.message for f in findings}
    assert "2 dispatch sites discard it" in by_line[16]
    assert "1 beat entry sends it" in by_line[11]


def test_fixture_tree_django():
    assert_fixture_tree("CEL102/django", "CEL102")


def test_message_names_task_and_fix(project):
    findings = project({"proj.py": app_source()}, select="CEL102")
    assert positions(findings) == [("proj.py", 7, 5, "CEL102")]
    message = findings[0].message
    assert "'proj.send'" in message and "1 dispatch site discards it" in message
    # no fix exists, so the message promises none
    assert message.endswith("; set ignore_result=True on the task")


def test_unresolved_config_is_silent(project):
    # the config source might set task_ignore_result, or the backend itself
    source = app_source(extra="app.config_from_object(load_settings())")
    assert positions(project({"proj.py": source}, select="CEL102")) == []
    source = source.replace(", backend='redis://localhost/1'", "")
    assert positions(project({"proj.py": source}, select="CEL102")) == []


def test_unknown_ignore_result_is_silent(project):
    source = app_source(
        options="(ignore_result=IGNORE)", extra="import os\nIGNORE = os.environ['X']"
    )
    assert positions(project({"proj.py": source}, select="CEL102")) == []


def test_explicit_ignore_result_false_is_silent(project):
    source = app_source(options="(ignore_result=False)")
    assert positions(project({"proj.py": source}, select="CEL102")) == []


def test_annotations_ignoring_results_are_silent(project):
    extra = 'app.conf.task_annotations = {"proj.send": {"ignore_result": True}}'
    assert positions(project({"proj.py": app_source(extra=extra)}, select="CEL102")) == []
    extra = 'app.conf.task_annotations = {"*": {"rate_limit": "10/s"}}'
    assert len(positions(project({"proj.py": app_source(extra=extra)}, select="CEL102"))) == 1


def test_disabled_and_django_db_backends_are_silent(project):
    for backend in ("disabled", "django-db"):
        source = app_source(backend=backend)
        assert positions(project({"proj.py": source}, select="CEL102")) == [], backend


def test_env_default_backend_counts(project):
    source = app_source().replace(
        "backend='redis://localhost/1'", "backend=os.environ.get('BACKEND', 'redis://h/1')")
    source = "import os\n" + source
    assert len(positions(project({"proj.py": source}, select="CEL102"))) == 1


def test_backend_from_env_without_default_is_silent(project):
    source = app_source().replace(
        "backend='redis://localhost/1'", "backend=os.environ['BACKEND']")
    source = "import os\n" + source
    assert positions(project({"proj.py": source}, select="CEL102")) == []


def test_unread_local_is_discarded_but_returned_local_is_used(project):
    discarded = app_source() + "\n\ndef other(x):\n    r = send.delay(x)\n    log(x)\n"
    assert len(positions(project({"proj.py": discarded}, select="CEL102"))) == 1
    used = app_source() + "\n\ndef other(x):\n    r = send.delay(x)\n    return r\n"
    assert positions(project({"proj.py": used}, select="CEL102")) == []


def test_ignore_result_at_a_send_site_is_read_for_its_truth(project):
    # Celery tests ignore_result with `if`: ignore_result=1 drops the result at that site
    text = app_source() + "\n\ndef other(x):\n    send.apply_async((x,), ignore_result=1)\n"
    findings = project({"proj.py": text}, select="CEL102")
    assert positions(findings) == [("proj.py", 7, 5, "CEL102")]
    assert "(1 dispatch site discards it)" in findings[0].message


def test_blank_result_backend_stores_nothing_known(project):
    assert project({"proj.py": app_source(backend="  ")}, select="CEL102") == []
