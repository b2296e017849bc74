from conftest import assert_fixture_tree, lint, FIXTURES


def test_fixture_tree():
    assert_fixture_tree("CEL201", "CEL201", target_version=(5, 7))


def test_target_version_decides_added_and_removed_settings():
    findings = lint(FIXTURES / "CEL201", select="CEL201", target_version=(5, 3))
    messages = {(f.path, f.line): f.message for f in findings}
    assert "came after 5.3" in messages[("proj/celery.py", 11)]
    old = lint(FIXTURES / "CEL201", select="CEL201", target_version=(4, 4))
    assert ("proj/celery.py", 10) not in {(f.path, f.line) for f in old}  # 4.4 still has it


def test_known_settings_option(project):
    files = {"proj/__init__.py": "", "proj/celery.py": """
        from celery import Celery
        app = Celery("proj")
        app.conf.update(task_ack_late=3, task_acks_lat=1)
        """}
    assert [f.line for f in project(files, select="CEL201")] == [3, 3]
    assert project(files, select="CEL201", known_settings=["task_ack_late", "task_acks_lat"]) == []
