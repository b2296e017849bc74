"""CEL105 mixed-speed-queue."""
from conftest import assert_fixture_tree, positions

APP = """
    from celery import Celery

    app = Celery("proj", broker="amqp://localhost//")
"""


def test_fixture_tree():
    assert_fixture_tree("CEL105", "CEL105")


def test_message_names_queue_reason_and_three_fast_tasks(project):
    findings = project({"proj/celery.py": APP, "proj/tasks.py": """
        from proj.celery import app

        @app.task
        def d_task(): pass

        @app.task
        def a_task(): pass

        @app.task
        def c_task(): pass

        @app.task
        def b_task(): pass

        @app.task(time_limit=3600)
        def report(): pass
    """}, select="CEL105")
    assert positions(findings) == [("proj/tasks.py", 16, 5, "CEL105")]
    message = findings[0].message
    assert "proj.tasks.report (time_limit=3600s)" in message
    assert "queue 'celery'" in message
    assert "proj.tasks.a_task, proj.tasks.b_task, proj.tasks.c_task and 1 more" in message
    assert "task_routes" in message and "-Q" in message


def test_one_fast_task_is_named_alone(project):
    findings = project({"proj/celery.py": APP, "proj/tasks.py": """
        import time
        from proj.celery import app

        @app.task
        def ping(): pass

        @app.task
        def wait(): time.sleep(60)
    """}, select="CEL105")
    assert len(findings) == 1
    assert "with fast task proj.tasks.ping, which wait" in findings[0].message


def test_slow_tasks_option_takes_patterns(project):
    findings = project({"proj/celery.py": APP, "proj/tasks.py": """
        from proj.celery import app

        @app.task
        def ping(): pass

        @app.task
        def import_users(): pass

        @app.task
        def import_orders(): pass
    """}, select="CEL105", slow_tasks=["proj.tasks.import_*"])
    assert positions(findings) == [
        ("proj/tasks.py", 7, 5, "CEL105"),
        ("proj/tasks.py", 10, 5, "CEL105"),
    ]
    assert "listed in slow-tasks" in findings[0].message


def test_slow_task_seconds_option(project):
    files = {"proj/celery.py": APP, "proj/tasks.py": """
        from proj.celery import app

        @app.task
        def ping(): pass

        @app.task(soft_time_limit=120)
        def resize(): pass
    """}
    assert project(files, select="CEL105") == []
    assert positions(project(files, select="CEL105", slow_task_seconds=60)) == [
        ("proj/tasks.py", 7, 5, "CEL105")]


def test_app_wide_time_limit_does_not_make_tasks_slow(project):
    findings = project({"proj/celery.py": APP + "app.conf.task_time_limit = 3600\n",
                        "proj/tasks.py": """
        from proj.celery import app

        @app.task
        def ping(): pass

        @app.task
        def pong(): pass
    """}, select="CEL105")
    assert findings == []


def test_timedelta_time_limit_and_class_task(project):
    findings = project({"proj/celery.py": APP, "proj/tasks.py": """
        from celery import Task
        from proj.celery import app

        @app.task
        def ping(): pass

        class Export(Task):
            name = "proj.tasks.export"
            soft_time_limit = 900

            def run(self): pass
    """}, select="CEL105")
    assert positions(findings) == [("proj/tasks.py", 7, 7, "CEL105")]


def test_fast_task_with_unknown_queue_is_not_counted(project):
    findings = project({"proj/celery.py": APP, "proj/tasks.py": """
        import os
        import subprocess
        from proj.celery import app

        @app.task(queue=os.environ["FAST_QUEUE"])
        def ping(): pass

        @app.task
        def convert(): subprocess.run(["convert"])
    """}, select="CEL105")
    assert findings == []


def test_slow_task_always_sent_with_explicit_queue(project):
    files = {"proj/celery.py": APP, "proj/tasks.py": """
        import time
        from proj.celery import app

        @app.task
        def ping(): pass

        @app.task
        def wait(): time.sleep(60)
    """, "proj/views.py": """
        from proj.tasks import wait

        def view():
            wait.apply_async(queue="slow")
    """}
    assert project(files, select="CEL105") == []
    files["proj/cron.py"] = """
        from proj.tasks import wait

        def hourly():
            wait.delay()
    """
    assert positions(project(files, select="CEL105")) == [("proj/tasks.py", 8, 5, "CEL105")]
