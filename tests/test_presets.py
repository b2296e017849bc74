"""Task presets: decorators of the project that make tasks (issue 11, item 2), their
options seen by the rules, the dispatches and beat entries linked to their tasks, and
the look-alikes that make no task or whose options cannot be read."""
from __future__ import annotations

from functools import cache

import pytest

from celerylint.project import Project
from conftest import FIXTURES, assert_fixture_tree, collect_tree_facts
from test_project import project_of


@cache
def view() -> Project:
    return Project(collect_tree_facts(FIXTURES / "presets"))


@pytest.mark.parametrize("code", ["CEL102", "CEL103", "CEL107", "CEL109", "CEL111"])
def test_fixture_tree(code):
    assert_fixture_tree("presets", code)


def test_tasks_of_presets_and_the_decorators_that_make_none():
    names = {task.name for task in view().tasks}
    assert {"proj.tasks.charge", "proj.tasks.export", "proj.refund", "proj.tasks.notify",
            "proj.tasks.total", "proj.tasks.subtotal", "proj.sweep", "proj.lookalikes.summary",
            "proj.lookalikes.tally", "proj.lookalikes.count", "proj.lookalikes.opaque",
            "proj.lookalikes.opaque_late", "proj.untouched", "proj.audit"} <= names
    for not_a_task in ("called_bare_preset", "factory_bare", "other_library", "plain"):
        assert f"proj.lookalikes.{not_a_task}" not in names
    # the template inside a preset is not a task of its own
    assert not any("decorate" in name or "wrapped" in name for name in names)


def test_preset_options_merge_with_the_call_and_say_where_they_are_written():
    project = view()
    export = project.task_by_name("proj.tasks.export")
    assert export.fact.decorator == "app.task" and export.fact.app == "proj.celery.app"
    value, path, _, _ = project.task_option_site(export, "acks_late")
    assert (value.value, path) == (True, "proj/presets.py")
    value, path, _, _ = project.task_option_site(export, "time_limit")
    assert (value.value, path) == (7200, "proj/tasks.py")
    refund = project.task_by_name("proj.refund")
    assert project.task_option(refund, "trail")[0].value is False  # kwargs["trail"] = False
    assert project.task_option(refund, "stat_suffix") is None  # the wrapper's own parameter
    tally = project.task_by_name("proj.lookalikes.tally")
    assert project.task_option(tally, "ignore_result")[0].value is True  # the wrapper's default


def test_options_a_preset_cannot_read_are_unknown_not_defaults():
    project = view()
    for name in ("proj.lookalikes.opaque", "proj.lookalikes.opaque_late"):
        task = project.task_by_name(name)
        for key in ("ignore_result", "acks_late"):
            value, _ = project.task_option(task, key)
            assert not value.known, (name, key)
        assert project.acks_late(task) is None


def test_dispatches_and_beat_entries_link_to_preset_tasks():
    project = view()
    linked = {d.task.name for d in project.dispatches if d.task is not None}
    assert {"proj.tasks.total", "proj.tasks.subtotal", "proj.lookalikes.summary",
            "proj.lookalikes.tally", "proj.lookalikes.count", "proj.lookalikes.opaque",
            "proj.untouched"} <= linked
    assert not any(d.fact.receiver == "plain" and d.task for d in project.dispatches)
    (entry,) = [b for b in project.beat if b.fact.setting == "periodic_task"]
    assert entry.task is not None and entry.task.name == "proj.sweep"
    assert entry.fact.schedule.value == 30
    sweep = project.task_by_name("proj.sweep")
    assert project.task_option(sweep, "run_every") is None  # taken out by the preset
    assert project.task_option(sweep, "ignore_result")[0].value is True  # its default


def test_unknown_call_options_make_a_presets_default_unknown(tmp_path):
    project = project_of(tmp_path, {
        "proj/__init__.py": "",
        "proj/celery.py": """
            from celery import Celery, shared_task

            app = Celery("proj")

            def quiet(**kwargs):
                kwargs.setdefault("ignore_result", True)
                return shared_task(**kwargs)
            """,
        "proj/tasks.py": """
            from proj.celery import quiet

            @quiet(**OPTIONS)
            def add(x):
                return x
            """})
    task = project.task_by_name("proj.tasks.add")
    assert not project.task_option(task, "ignore_result")[0].known


def test_tasks_defined_inside_a_function(tmp_path):
    project = project_of(tmp_path, {
        "proj/__init__.py": "",
        "proj/tasks.py": """
            import celery

            def create_task(celery_app, **task_kwargs):
                @celery_app.task(bind=True, name="execute_plan", **task_kwargs)
                def _execute_plan(self, plan):
                    return plan

                return _execute_plan

            def not_an_app(queue):
                @queue.task
                def job():
                    pass
            """,
        "proj/celery.py": """
            from celery import Celery

            app = Celery("proj")
            """})
    task = project.task_by_name("execute_plan")
    assert task.fact.qualname == "proj.tasks.create_task._execute_plan"
    assert task.fact.function == "create_task._execute_plan" and task.fact.bind
    assert project.task_option(task, "queue")[0].known is False  # **task_kwargs
    assert [t.name for t in project.tasks] == ["execute_plan"]  # `queue` is no app's name


def test_star_reexports_link_dispatches(tmp_path):
    project = project_of(tmp_path, {
        "proj/__init__.py": "",
        "proj/celery.py": "from celery import Celery\napp = Celery('proj')\n",
        "proj/tasks/__init__.py": "from .upload import *  # NOQA\n",
        "proj/tasks/upload.py": """
            from proj.celery import app

            @app.task
            def task_upload(x):
                return x

            @app.task
            def _private(x):
                return x
            """,
        "proj/views.py": """
            from proj import tasks
            from proj.tasks import task_upload

            def view():
                task_upload.apply_async(args=(1,))
                tasks.task_upload.delay(1)
                tasks._private.delay(1)
            """})
    linked = [d.task.name if d.task else None for d in project.dispatches]
    assert linked == ["proj.tasks.upload.task_upload", "proj.tasks.upload.task_upload", None]


def test_a_schedule_imported_from_another_module(tmp_path):
    project = project_of(tmp_path, {
        "proj/__init__.py": "",
        "proj/const.py": "HEARTBEAT_FREQUENCY = 120\nTWICE = 1\nTWICE = 2\n",
        "proj/tasks.py": """
            from celery import Celery
            from proj.const import HEARTBEAT_FREQUENCY, TWICE, MISSING

            app = Celery("proj")

            @app.task
            def heartbeat():
                pass

            @app.on_after_finalize.connect
            def setup(sender, **kwargs):
                sender.add_periodic_task(HEARTBEAT_FREQUENCY, heartbeat.s(), name="heartbeat")
                sender.add_periodic_task(TWICE, heartbeat.s(), name="twice")
                sender.add_periodic_task(MISSING, heartbeat.s(), name="missing")
            """})
    schedules = {b.fact.name: b.fact.schedule for b in project.beat}
    assert schedules["heartbeat"].value == 120
    assert not schedules["twice"].known and not schedules["missing"].known


OLD_TASKS = {
    "proj/__init__.py": "",
    "proj/celery.py": "from celery import Celery\napp = Celery('proj')\n",
    "proj/tasks.py": """
        from celery import task
        from celery.task import periodic_task

        old_style = task

        @task()
        def add(x):
            return x

        @old_style
        def mul(x):
            return x

        @periodic_task(run_every=10)
        def tick():
            pass

        def send():
            add.delay(1)
        """}


@pytest.mark.parametrize("target, tasks", [
    ((4, 4), ["proj.tasks.add", "proj.tasks.mul", "proj.tasks.tick"]),
    ((5, 0), []),  # celery.task is gone in Celery 5: the shipped tables say so
])
def test_old_celery_task_decorators_only_for_a_release_that_has_them(tmp_path, target, tasks):
    facts = project_of(tmp_path, OLD_TASKS).files.values()
    project = Project(facts, target)
    assert [t.name for t in project.tasks] == tasks
    assert [d.task is not None for d in project.dispatches] == [bool(tasks)]
    assert len(project.beat) == len(tasks[2:])
