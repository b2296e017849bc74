"""CEL111 retry-without-limit."""
from conftest import assert_fixture_tree, positions

TASK = """
from celery import Celery

app = Celery("proj", broker="redis://localhost")
{extra}

@app.task(bind=True, max_retries=None)
def sync(self, account_id):
    try:
        push(account_id)
    except ConnectionError as exc:
        raise self.retry(exc=exc)
"""


def test_fixture_tree():
    findings = assert_fixture_tree("CEL111", "CEL111")
    by_line = {(f.path, f.line): f.message for f in findings}
    assert "on ForeverTask" in by_line[("proj/base.py", 5)]
    assert "self.retry() at line 12" in by_line[("proj/tasks.py", 7)]
    assert by_line[("proj/tasks.py", 7)].endswith(
        "set max_retries to a number (Celery's default is 3)"
    )


def test_annotation_overrides_the_option(project):
    extra = 'app.conf.task_annotations = {"proj.sync": {"max_retries": 5}}'
    assert project({"proj.py": TASK.format(extra=extra)}, select="CEL111") == []


def test_fires_without_annotation(project):
    findings = project({"proj.py": TASK.format(extra="")}, select="CEL111")
    assert positions(findings) == [("proj.py", 6, 34, "CEL111")]
