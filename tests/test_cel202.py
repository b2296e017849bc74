from conftest import assert_fixture_tree, lint, FIXTURES


def test_fixture_tree():
    findings = assert_fixture_tree("CEL202", "CEL202", target_version=(5, 7))
    messages = {(f.path, f.line): f.message for f in findings}
    assert messages[("web/settings.py", 4)].endswith("write CELERY_TASK_ACKS_LATE")
    assert messages[("proj/celery.py", 5)].endswith("write task_acks_late")
    assert "rename every old name of this file together" in messages[("proj/celeryconfig.py", 1)]


def test_silent_before_celery_4():
    assert lint(FIXTURES / "CEL202", select="CEL202", target_version=(3, 1)) == []


def test_ignored_old_names_are_left_to_cel204_before_5_7():
    findings = lint(FIXTURES / "CEL202", select="CEL202", target_version=(5, 6))
    assert ("web/settings.py", 4) not in {(f.path, f.line) for f in findings}
