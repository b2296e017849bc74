from conftest import assert_fixture_tree, lint, FIXTURES


def test_fixture_tree():
    assert_fixture_tree("CEL201", "CEL201", target_version=(5, 7))


def test_target_version_decides_added_and_removed_settings():
    findings = lint(FIXTURES / "CEL201", select="CEL201", target_version=(5, 3))
    messages = {(f.path, f.line): f.message for f in findings}
    # worker_eta_task_limit: not in celery 5.5.3's celery/app/defaults.py, in 5.6.3's
    assert "(it was added in Celery 5.6)" in messages[("proj/celery.py", 11)]
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


def test_settings_the_old_hand_written_lists_got_wrong(project):
    """Every minor has its own table now: no release between two measured ones counts
    as having every later setting."""
    files = {"proj/__init__.py": "", "proj/celery.py": """
        from celery import Celery
        app = Celery("proj")
        app.conf.update(task_default_queue_type="quorum", result_accept_content=["json"])
        """}
    at_54 = {f.message for f in project(files, select="CEL201", target_version=(5, 4))}
    assert at_54 == {"task_default_queue_type is not a setting of Celery 5.4 (it was added in "
                     "Celery 5.5), so Celery ignores it: upgrade Celery or remove it"}
    at_42 = [f.message for f in project(files, select="CEL201", target_version=(4, 2))]
    assert any(m.startswith("result_accept_content is not a setting of Celery 4.2 (it was added "
                            "in Celery 4.3)") for m in at_42), at_42
    assert project(files, select="CEL201", target_version=(5, 5)) == []


def test_a_name_the_target_release_spells_differently(project):
    """Celery 4.0.2 reads worker_send_task_events as CELERYD_SEND_EVENTS only (3.1 and
    4.1 on: CELERY_SEND_EVENTS)."""
    files = {"proj/__init__.py": "", "proj/celery.py": """
        from celery import Celery
        app = Celery("proj")
        app.config_from_object("proj.celeryconfig")
        """, "proj/celeryconfig.py": """
        BROKER_URL = "amqp://"
        CELERY_SEND_EVENTS = True
        """}
    (finding,) = project(files, select="CEL201", target_version=(4, 0))
    assert (finding.path, finding.line) == ("proj/celeryconfig.py", 2)
    assert finding.message == ("Celery 4.0 does not read CELERY_SEND_EVENTS (other releases' name "
                               "of worker_send_task_events), so Celery ignores it: write "
                               "CELERYD_SEND_EVENTS")
    assert project(files, select="CEL201", target_version=(4, 1)) == []


def test_settings_celery_4_dropped_are_named_as_removed(project):
    files = {"proj/__init__.py": "", "proj/celery.py": """
        from celery import Celery
        app = Celery("proj")
        app.config_from_object("proj.celeryconfig")
        """, "proj/celeryconfig.py": """
        BROKER_URL = "amqp://"
        CELERYD_AUTORELOADER = "x:Y"
        """}
    (finding,) = project(files, select="CEL201", target_version=(4, 4))
    assert finding.message == ("CELERYD_AUTORELOADER was removed in Celery 4.0, so Celery 4.4 "
                               "ignores it: remove it")
    assert project(files, select="CEL201", target_version=(3, 1)) == []


def test_command_line_settings_before_celery_5_4(project):
    """worker_pidfile is read by `celery worker` from app.conf since 5.4 (DaemonOption)."""
    files = {"proj/__init__.py": "", "proj/celery.py": """
        from celery import Celery
        app = Celery("proj")
        app.conf.update(worker_pidfile="/run/w.pid", beat_umask="022")
        """}
    assert project(files, select="CEL201", target_version=(5, 4)) == []
    messages = [f.message for f in project(files, select="CEL201", target_version=(5, 3))]
    assert messages == [
        "worker_pidfile is read by the celery command line only since Celery 5.4, so Celery 5.3 "
        "ignores it",
        "beat_umask is read by the celery command line only since Celery 5.4, so Celery 5.3 "
        "ignores it"]


def test_reads_back_follow_the_namespace(project):
    """app.conf.name reads CELERY_NAME under namespace CELERY, not NAME or OTHER_NAME."""
    files = {"proj/__init__.py": "", "proj/celery.py": """
        from celery import Celery
        app = Celery("proj")
        app.config_from_object("proj.config", namespace="CELERY")
        """, "proj/config.py": """
        CELERY_TASK_AUDIT_QUEUE = "audit"
        CELERY_BROKER_URL = "redis://"
        """, "proj/audit.py": """
        from proj.celery import app

        def queue():
            return app.conf.task_audit_queue
        """}
    assert project(files, select="CEL201") == []
    files["proj/audit.py"] = files["proj/audit.py"].replace("task_audit_queue", "audit_queue")
    assert [f.line for f in project(files, select="CEL201")] == [1]


def test_writes_are_not_reads(project):
    files = {"proj/__init__.py": "", "proj/celery.py": """
        from celery import Celery
        app = Celery("proj")
        app.conf.task_ack_late = True
        app.conf["task_ack_lates"] = True
        del app.conf.task_ack_latest
        app.conf.update(task_acks_lat=True)
        """}
    assert [f.line for f in project(files, select="CEL201")] == [3, 4, 6]


def test_a_key_whose_meant_setting_is_already_set_is_a_duplicate():
    findings = lint(FIXTURES / "CEL201", select="CEL201", target_version=(5, 7))
    messages = {(f.path, f.line): f.message for f in findings}
    assert messages[("web/settings/base.py", 18)] == (
        "CELERY_SEND_TASK_EVENTS is not a Celery setting; CELERY_WORKER_SEND_TASK_EVENTS "
        "(line 19) already sets it: remove this one")
    assert messages[("web/settings/base.py", 13)].endswith("did you mean CELERY_TASK_TIME_LIMIT?")


def test_another_releases_name_of_a_setting_already_set(project):
    files = {"proj/__init__.py": "", "proj/celery.py": """
        from celery import Celery
        app = Celery("proj")
        app.config_from_object("proj.celeryconfig")
        """, "proj/celeryconfig.py": """
        BROKER_URL = "amqp://"
        CELERYD_SEND_EVENTS = True
        CELERY_SEND_EVENTS = True
        """}
    (finding,) = project(files, select="CEL201", target_version=(4, 0))
    assert finding.message == ("Celery 4.0 does not read CELERY_SEND_EVENTS; CELERYD_SEND_EVENTS "
                               "(line 2) already sets it: remove this one")


def test_a_duplicate_with_another_value_says_which_wins(project):
    files = {"proj/__init__.py": "", "proj/celery.py": """
        from celery import Celery
        app = Celery("proj")
        app.conf.update(worker_concurrency=4, worker_concurency=8)
        """}
    (finding,) = project(files, select="CEL201")
    assert finding.message == ("worker_concurency is not a Celery setting; worker_concurrency "
                               "(line 3) sets it and wins: keep one")
