from conftest import assert_fixture_tree, lint, FIXTURES


def test_fixture_tree_before_5_7():
    assert_fixture_tree("CEL204", "CEL204", target_version=(5, 6))


def test_celery_5_7_reads_old_names_under_a_namespace():
    findings = lint(FIXTURES / "CEL204", select="CEL204", target_version=(5, 7))
    assert {f.path for f in findings} == {"proj/celery.py", "proj/celeryconfig.py"}


def test_message_gives_the_spelling_to_write():
    findings = lint(FIXTURES / "CEL204", select="CEL204", target_version=(5, 6))
    messages = {(f.path, f.line): f.message for f in findings}
    assert messages[("web/settings.py", 5)].endswith("write CELERY_BROKER_HEARTBEAT")
    assert "write task_acks_late" in messages[("proj/celeryconfig.py", 2)]


def test_a_key_whose_setting_is_already_set_is_a_duplicate():
    findings = lint(FIXTURES / "CEL204", select="CEL204", target_version=(5, 6))
    messages = {(f.path, f.line): f.message for f in findings}
    assert messages[("web/settings.py", 8)] == (
        "CELERY_ACKS_LATE duplicates CELERY_TASK_ACKS_LATE (line 7), the name Celery reads; "
        "remove CELERY_ACKS_LATE")
    assert messages[("proj/celery.py", 5)] == (
        "CELERY_TASK_TRACK_STARTED duplicates task_track_started (proj/celeryconfig.py:5), the "
        "name Celery reads; remove CELERY_TASK_TRACK_STARTED")
    assert "write worker_concurrency" in messages[("proj/celeryconfig.py", 3)]


def test_a_duplicate_with_another_value_says_which_wins(project):
    files = {"web/__init__.py": "", "web/celery.py": """
        import os
        from celery import Celery
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
        app = Celery("web")
        app.config_from_object("django.conf:settings", namespace="CELERY")
        """, "web/settings.py": """
        CELERY_RESULT_EXPIRES = 86400
        CELERY_TASK_RESULT_EXPIRES = 43200
        """}
    (finding,) = project(files, select="CEL204", target_version=(5, 6))
    assert finding.message == ("CELERY_TASK_RESULT_EXPIRES is ignored: CELERY_RESULT_EXPIRES "
                               "(line 1) wins for the same setting; keep one")
