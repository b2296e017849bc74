"""CEL110 result-expiry-disabled."""
from conftest import assert_fixture_tree, positions


def test_fixture_tree():
    findings = assert_fixture_tree("CEL110", "CEL110")
    by_path = {f.path: f.message for f in findings}
    assert by_path["apps/old_names.py"].startswith(
        "CELERY_TASK_RESULT_EXPIRES = timedelta(0) turns off result expiry on the rediss result "
        "backend"
    )
    assert "stays in the cache" in by_path["apps/cache_config.py"]


def test_django_namespace(project):
    files = {
        "site/__init__.py": "",
        "site/celery.py": """
            import os
            from celery import Celery

            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")
            app = Celery("site")
            app.config_from_object("django.conf:settings", namespace="CELERY")
        """,
        "site/settings.py": """
            CELERY_RESULT_BACKEND = "redis://localhost:6379/1"
            CELERY_RESULT_EXPIRES = None
            RESULT_EXPIRES = 0
        """,
    }
    assert positions(project(files, select="CEL110")) == [("site/settings.py", 2, 1, "CEL110")]
