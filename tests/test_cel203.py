from conftest import assert_fixture_tree


def test_fixture_tree():
    findings = assert_fixture_tree("CEL203", "CEL203", target_version=(5, 7))
    assert all(f.severity == "error" for f in findings)


def test_same_keys_in_every_version():
    for version in [(4, 4), (5, 3), (5, 6)]:
        assert_fixture_tree("CEL203", "CEL203", target_version=version)


def test_silent_when_the_app_has_several_config_objects(project):
    files = {
        "proj/__init__.py": "",
        "proj/celery.py": """
        from celery import Celery
        app = Celery("proj")
        app.config_from_object("proj.a")
        app.config_from_object("proj.b")
        """,
        "proj/a.py": "broker_url = 'redis://'\ntask_acks_late = True\nCELERYD_CONCURRENCY = 2\n",
        "proj/b.py": "broker_url = 'redis://'\n",
    }
    assert project(files, select="CEL203,CEL201,CEL204") == []
