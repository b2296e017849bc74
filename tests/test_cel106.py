"""CEL106 event-queue-without-ttl: version-aware."""
from conftest import assert_fixture_tree, positions

CONFIG_31 = """
    BROKER_URL = "amqp://guest@rabbitmq//"
    CELERY_SEND_EVENTS = True
"""
APP = """
    from celery import Celery

    app = Celery("proj")
    app.config_from_object("proj.celeryconfig")
"""


def test_celery_31_tree():
    assert_fixture_tree("CEL106_31", "CEL106")


def test_celery_5x_tree():
    assert_fixture_tree("CEL106_5x", "CEL106")


def test_version_from_requirements_pin(project):
    files = {"requirements.txt": "celery==3.1.25\nkombu==3.0.37\n",
             "proj/__init__.py": "", "proj/celery.py": APP, "proj/celeryconfig.py": CONFIG_31}
    findings = project(files, select="CEL106")
    assert positions(findings) == [("proj/celeryconfig.py", 2, 1, "CEL106")]
    message = findings[0].message
    assert "CELERY_SEND_EVENTS" in message and "Celery 3.1" in message
    assert "CELERY_EVENT_QUEUE_TTL = 5" in message and "CELERY_EVENT_QUEUE_EXPIRES = 60" in message


def test_same_settings_silent_when_pinned_to_5(project):
    files = {"requirements.txt": "celery==5.3.6\n",
             "proj/__init__.py": "", "proj/celery.py": APP, "proj/celeryconfig.py": CONFIG_31}
    assert project(files, select="CEL106") == []


def test_target_version_option_overrides_detection(project):
    files = {"requirements.txt": "celery==5.3.6\n",
             "proj/__init__.py": "", "proj/celery.py": APP, "proj/celeryconfig.py": CONFIG_31}
    findings = project(files, select="CEL106", target_version=(3, 1))
    assert positions(findings) == [("proj/celeryconfig.py", 2, 1, "CEL106")]


def test_explicit_none_message_points_to_the_switch(project):
    findings = project({"proj/__init__.py": "", "proj/celery.py": APP + """
    app.conf.event_queue_ttl = None
    """, "proj/celeryconfig.py": """
        broker_url = "amqp://guest@rabbitmq//"
        worker_send_task_events = True
    """}, select="CEL106")
    assert positions(findings) == [("proj/celery.py", 6, 10, "CEL106")]
    message = findings[0].message
    assert "event_queue_ttl = None" in message
    assert "worker_send_task_events (proj/celeryconfig.py:2)" in message
    assert message.endswith("set event_queue_ttl = 5")


def test_unresolved_config_source_is_silent_in_31(project):
    findings = project({"proj/__init__.py": "", "proj/celery.py": """
        import os
        from celery import Celery

        app = Celery("proj")
        app.config_from_object(os.environ["CELERY_CONFIG"])
        app.conf.CELERY_SEND_EVENTS = True
    """}, select="CEL106", target_version=(3, 1))
    assert findings == []


def test_events_switch_is_read_for_its_truth(project):
    # Celery tests worker_send_task_events with `if`: 1 turns events on
    config = ('broker_url = "amqp://guest@rabbitmq//"\nworker_send_task_events = 1\n'
              "event_queue_ttl = None\n")
    files = {"requirements.txt": "celery==5.3.6\n", "proj/__init__.py": "",
             "proj/celery.py": APP, "proj/celeryconfig.py": config}
    findings = project(files, select="CEL106")
    assert positions(findings) == [("proj/celeryconfig.py", 3, 1, "CEL106")]
    assert "enabled by worker_send_task_events" in findings[0].message
