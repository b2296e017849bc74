"""CEL108 pickle-serializer: settings, tasks, dispatches and Celery 3.1's defaults."""
from conftest import assert_fixture_tree, positions

APP_31 = """
    from celery import Celery

    app = Celery("proj", broker="redis://localhost")
"""


def test_modern_tree():
    findings = assert_fixture_tree("CEL108/modern", "CEL108")
    assert all(f.severity == "error" for f in findings)


def test_celery_31_defaults_tree():
    findings = assert_fixture_tree("CEL108/celery31", "CEL108")
    by_path = {f.path: f.message for f in findings}
    assert by_path["partial/celery.py"].startswith(
        "CELERY_ACCEPT_CONTENT is not set, so Celery 3.1's pickle defaults apply")
    assert by_path["partial/celery.py"].endswith('set CELERY_ACCEPT_CONTENT = ["json"]')
    assert "CELERY_TASK_SERIALIZER, CELERY_RESULT_SERIALIZER, CELERY_ACCEPT_CONTENT are not set" \
        in by_path["defaults/celery.py"]


def test_version_from_requirements_pin(project):
    findings = project({"requirements.txt": "celery==3.1.25\n", "proj.py": APP_31}, select="CEL108")
    assert positions(findings) == [("proj.py", 3, 7, "CEL108")]


def test_defaults_are_safe_from_celery_4(project):
    files = {"requirements.txt": "celery==4.4.7\n", "proj.py": APP_31}
    assert project(files, select="CEL108") == []


def test_target_version_option(project):
    findings = project({"proj.py": APP_31}, select="CEL108", target_version=(3, 1))
    assert positions(findings) == [("proj.py", 3, 7, "CEL108")]
