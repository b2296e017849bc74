"""The project view over the trees in tests/fixtures/extract/: settings merged
across sources, tasks with their apps and names, dispatches and beat entries
resolved to tasks, and the queue each task goes to."""
from __future__ import annotations

import textwrap
from functools import cache
from pathlib import Path
from typing import Dict

import pytest

from celerylint.project import Project
from celerylint.tables import NEWEST_KNOWN
from conftest import collect_tree_facts

EXTRACT = Path(__file__).parent / "fixtures" / "extract"


@cache
def view(name: str) -> Project:
    # the tasks and beat trees use celery.task.periodic_task: Celery 4's
    target = (4, 4) if name in ("tasks", "beat") else NEWEST_KNOWN
    return Project(collect_tree_facts(EXTRACT / name), target)


def project_of(tmp_path: Path, files: Dict[str, str]) -> Project:
    (tmp_path / "pyproject.toml").write_text("[tool.celerylint]\n", encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return Project(collect_tree_facts(tmp_path))


def app(project: Project, qualname: str):
    found = project.app_for_qualname(qualname)
    assert found is not None, [a.fact.qualname for a in project.apps]
    return found


def settings_of(project: Project, qualname: str):
    """key -> (value, kind of the write that won, file it is in)."""
    return {k: (s.value.value if s.value.known else "?", s.assign.kind, s.path)
            for k, s in app(project, qualname).settings.items()}


def task(project: Project, name: str):
    found = project.task_by_name(name)
    assert found is not None, [t.name for t in project.tasks]
    return found


# -- settings ------------------------------------------------------------------------

def test_django_settings_merge_with_precedence_and_namespace():
    project = view("django_proj")
    celery_py = "proj/celery.py"
    assert settings_of(project, "proj.celery.app") == {
        # Celery(...) keywords win over the config source ...
        "broker_url": ("redis://kwarg:6379/0", "celery-kwarg", celery_py),
        "result_backend": ("redis://kwarg:6379/1", "celery-kwarg", celery_py),
        "include": (["proj.tasks"], "celery-kwarg", celery_py),
        "worker_prefetch_multiplier": (8, "celery-kwarg", celery_py),
        # ... and app.conf writes win over both
        "task_default_queue": ("from-update-dict", "conf-update", celery_py),
        "result_expires": (3600, "conf-update", celery_py),
        "task_acks_late": (False, "conf-update", celery_py),
        "timezone": ("Europe/Paris", "conf-update", celery_py),
        "worker_concurrency": (4, "conf-attr", celery_py),
        "task_serializer": ("json", "conf-item", celery_py),
        # star-import chain settings/__init__ -> prod -> base -> common; later modules win
        "worker_max_tasks_per_child": (100, "module", "proj/settings/prod.py"),
        "task_time_limit": (300, "module", "proj/settings/base.py"),
        "task_soft_time_limit": (90, "module", "proj/settings/common.py"),
        # DEBUG, SECRET_KEY and the unprefixed task_always_eager are not read with
        # namespace="CELERY"
    }
    assert app(project, "proj.celery.app").unresolved_sources == []


def test_effective_values_fall_back_to_celery_defaults():
    celery_app = app(view("django_proj"), "proj.celery.app")
    assert (celery_app.value("task_always_eager").known,
            celery_app.value("task_always_eager").value) == (True, False)
    assert celery_app.value("task_acks_late").value is False
    assert celery_app.value("task_default_queue").value == "from-update-dict"


def test_django_settings_module_named_in_manage_py():
    project = view("django_manage")
    assert settings_of(project, "site_cfg.celery.app") == {
        "broker_url": ("amqp://guest@rabbit//", "module", "site_cfg/settings.py")}


@pytest.mark.parametrize(
    "qualname, expected",
    [
        (
            "forms.by_string.app",
            {
                "broker_url": ("redis://celeryconfig:6379/0", "module", "celeryconfig.py"),
                "task_default_queue": ("from-celeryconfig", "module", "celeryconfig.py"),
                "task_serializer": ("json", "module", "celeryconfig.py"),
            },
        ),
        (
            "forms.by_module.app",
            {
                "broker_url": ("redis://celeryconfig:6379/0", "module", "celeryconfig.py"),
                "task_default_queue": ("from-celeryconfig", "module", "celeryconfig.py"),
                "task_serializer": ("json", "module", "celeryconfig.py"),
            },
        ),
        (
            "forms.by_class.app",
            {
                "broker_url": ("redis://class:6379/0", "class", "forms/by_class.py"),
                "task_acks_late": (True, "class", "forms/by_class.py"),
            },
        ),
        (
            "forms.by_colon.app",
            {  # a class and its base class in another module
                "task_acks_late": (True, "class", "forms/conf.py"),
                "task_default_queue": ("from-derived-class", "class", "forms/conf.py"),
            },
        ),
        (
            "forms.by_keyword.app",
            {
                "task_acks_late": (True, "class", "forms/conf.py"),
                "task_default_queue": ("from-base-class", "class", "forms/conf.py"),
            },
        ),
        (
            "forms.unresolved.app",
            {"broker_url": ("redis://explicit", "celery-kwarg", "forms/unresolved.py")},
        ),
        ("forms.missing.app", {}),
    ],
)
def test_config_from_object_forms(qualname, expected):
    assert settings_of(view("config_forms"), qualname) == expected


def test_unresolved_config_sources_make_unset_keys_unknown():
    project = view("config_forms")
    unresolved = app(project, "forms.unresolved.app")
    assert unresolved.unresolved_sources == ['os.environ["CELERY_CONFIG_MODULE"]']
    assert unresolved.value("broker_url").value == "redis://explicit"
    assert not unresolved.value("task_acks_late").known
    missing = app(project, "forms.missing.app")
    assert missing.unresolved_sources == ["somewhere.else.config"]
    assert not missing.value("task_default_queue").known
    assert app(project, "forms.by_string.app").value("task_acks_late").known


def test_settings_set_under_a_condition_or_augmented_are_unknown(tmp_path):
    project = project_of(tmp_path, {
        "proj/__init__.py": "",
        "proj/celery.py": """
            from celery import Celery
            app = Celery("proj")
            app.config_from_object("proj.settings")
            if DEBUG:
                app.conf.task_always_eager = True
        """,
        "proj/settings.py": """
            import os
            broker_url = "redis://a"
            if os.environ.get("TEST"):
                broker_url = "memory://"
            task_default_queue = "plain"
            try:
                from .local import *
            except ImportError:
                task_default_queue = "fallback"
            result_expires = 10
            result_expires += 5
            timezone = "UTC"
        """,
    })
    settings = settings_of(project, "proj.celery.app")
    assert settings == {
        "broker_url": ("?", "module", "proj/settings.py"),
        "task_default_queue": ("?", "module", "proj/settings.py"),
        "result_expires": ("?", "module", "proj/settings.py"),
        "timezone": ("UTC", "module", "proj/settings.py"),
        "task_always_eager": ("?", "conf-attr", "proj/celery.py"),
    }


# -- tasks -----------------------------------------------------------------------------

def test_tasks_names_and_apps():
    project = view("tasks")
    assert {t.name: (t.fact.decorator, [a.fact.qualname for a in t.apps], t.path)
            for t in project.tasks} == {
        "shop.tasks.plain": ("app.task", ["shop.celery.app"], "shop/tasks.py"),
        "shop.explicit": ("app.task", ["shop.celery.app"], "shop/tasks.py"),
        "shop.tasks.shared": ("shared_task", ["shop.celery.app"], "shop/tasks.py"),
        "shop.tasks.shared_opts": ("shared_task", ["shop.celery.app"], "shop/tasks.py"),
        "shop.tasks.aliased": ("app.task", ["shop.celery.app"], "shop/tasks.py"),
        "shop.tasks.via_alias": ("shared_task", ["shop.celery.app"], "shop/tasks.py"),
        "shop.tasks.based": ("app.task", ["shop.celery.app"], "shop/tasks.py"),
        "shop.tasks.registered": ("call", ["shop.celery.app"], "shop/tasks.py"),
        "shop.run_task": ("class", ["shop.celery.app"], "shop/tasks.py"),
        "shop.tasks.legacy_periodic": ("periodic_task", ["shop.celery.app"], "shop/tasks.py"),
        # the app imported from the package that re-exports it
        "shop.tasks.through_package": ("app.task", ["shop.celery.app"], "shop/tasks.py"),
        # nothing from shop/lookalikes.py (huey, dramatiq, rq)
    }


def test_task_options_through_the_decorator_and_the_base_class():
    project = view("tasks")
    based = task(project, "shop.tasks.based")
    value, where = project.task_option(based, "acks_late")
    assert (value.value, where) == (True, "shop.tasks.AcksLateTask")
    configured = task(project, "shop.explicit")
    value, where = project.task_option(configured, "acks_late")
    assert (value.value, where) == (True, "decorator")
    assert project.task_option(task(project, "shop.tasks.plain"), "acks_late") is None
    run_task = task(project, "shop.run_task")
    assert project.task_option(run_task, "ignore_result")[0].value is True
    assert project.task_setting(configured, "result_backend").value == "redis://localhost/1"


def test_task_names_in_a_src_layout():
    project = view("srclayout")
    assert [t.name for t in project.tasks] == ["inventory.tasks.restock"]
    [entry] = project.beat
    assert entry.task is not None and entry.task.name == "inventory.tasks.restock"


def test_task_without_a_known_app_is_not_a_task(tmp_path):
    project = project_of(tmp_path, {
        "jobs.py": """
            from registry import registry
            @registry.task
            def not_celery():
                pass
        """,
    })
    assert project.tasks == []


# -- dispatches -----------------------------------------------------------------------

def test_every_dispatch_resolves_to_the_task_the_project_defines():
    project = view("calls")
    resolved = {}
    for dispatch in project.dispatches:
        key = (dispatch.path, dispatch.fact.method, dispatch.fact.receiver,
               dispatch.fact.task_name or "")
        resolved.setdefault(key, set()).add(dispatch.task.name if dispatch.task else None)
    views = "orders/views.py"
    assert resolved == {
        ("orders/tasks.py", "delay", "add", ""): {"orders.tasks.add"},
        (views, "delay", "add", ""): {"orders.tasks.add"},
        (views, "apply_async", "add", ""): {"orders.tasks.add"},
        (views, "delay", "tasks.report", ""): {"orders.tasks.report"},
        (views, "delay", "reexported_add", ""): {"orders.tasks.add"},  # through orders/__init__.py
        (views, "delay", "report", ""): {"orders.tasks.report"},
        (views, "s", "add", ""): {"orders.tasks.add"},
        (views, "si", "add", ""): {"orders.tasks.add"},
        (views, "signature", "add", ""): {"orders.tasks.add"},
        (views, "s", "report", ""): {"orders.tasks.report"},
        (views, "signature()", "signature", "orders.tasks.report"): {"orders.tasks.report"},
        (views, "send_task", "app", "orders.tasks.report"): {"orders.tasks.report"},
        (views, "send_task", "app", "elsewhere.remote_task"): {None},
        (views, "chain", "", ""): {None},
        (views, "group", "", ""): {None},
        (views, "chord", "", ""): {None},
        (views, "apply_async", "group()", ""): {None},
        (views, "delay", "thing", ""): {None},
        (views, "delay", "add.s()", ""): {"orders.tasks.add"},
        (views, "apply_async", "add.si().set()", ""): {"orders.tasks.add"},
    }


def test_dispatch_of_a_lookalike_is_not_a_task_dispatch():
    project = view("tasks")
    [dispatch] = project.dispatches
    assert dispatch.fact.receiver == "rq_job" and dispatch.task is None


# -- beat ------------------------------------------------------------------------------

def test_beat_entries_resolve_to_tasks():
    project = view("beat")
    assert sorted((b.path, b.fact.name, b.task.name if b.task else None) for b in project.beat) == [
        ("sched/celery.py", "add every 10", "sched.tasks.test"),
        ("sched/celery.py", "by-name", "sched.tasks.ping"),
        ("sched/celery.py", "every-10s", "sched.tasks.ping"),
        ("sched/celery.py", "from-constant", "sched.tasks.ping"),
        ("sched/celery.py", "hourly", "sched.tasks.report"),
        ("sched/celery.py", "nightly", "sched.tasks.report"),
        ("sched/celeryconfig.py", "new-style", "sched.tasks.report"),
        ("sched/celeryconfig.py", "old-style", "sched.tasks.ping"),
        ("sched/settings.py", "half-minute", "sched.tasks.ping"),
        ("sched/settings.py", "item", "sched.tasks.report"),
        ("sched/settings.py", "updated", "sched.tasks.ping"),
        ("sched/tasks.py", "sched.tasks.legacy", "sched.tasks.legacy"),
    ]


# -- routes ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, queue", [
    ("r.tasks.exact", "exact-q"),
    ("r.tasks.glob_one", "glob-q"),
    ("r.tasks.as_string", "string-q"),
    ("r.tasks.no_queue", None),  # exchange only: where it lands depends on the broker's bindings
    ("r.tasks.unrouted", "dict-default"),
    ("r.tasks.exact_but_decorated", "decorator-q"),  # the task's own queue beats task_routes
    ("r.tasks.listed", "list-q"),
    ("r.tasks.other_listed", "list-glob-q"),
    ("r.tasks.routed_by_function", None),
    ("r.tasks.pinned", "pinned"),
    ("r.tasks.on_plain", "celery"),  # task_queues declares queues, it does not route
])
def test_task_queue(name, queue):
    project = view("routes")
    assert project.task_queue(task(project, name)) == queue


def test_task_queues_value_is_kept_as_queue_calls():
    plain = app(view("routes"), "r.apps.plain")
    assert plain.value("task_queues").value == [
        {"$call": "kombu.Queue", "args": ["only-declared"], "kwargs": {}}]


def test_routes_match_like_celery(tmp_path):
    project = project_of(tmp_path, {
        "proj/__init__.py": "",
        "proj/celery.py": """
            from celery import Celery
            globbed = Celery("globbed")
            globbed.conf.task_routes = {"proj.tasks.*": "glob", "proj.tasks.exact": "exact"}
            marked = Celery("marked")
            marked.conf.task_routes = {"proj.tasks.ot?er": {"queue": "question-mark"}}
            emptied = Celery("emptied")
            emptied.conf.task_routes = {"proj.tasks.empty": {}, "proj.tasks.*": "glob"}
            emptied.conf.task_default_queue = "default"
        """,
        "proj/tasks.py": """
            from proj.celery import emptied, globbed, marked
            @globbed.task
            def exact(): pass
            @globbed.task
            def glob_only(): pass
            @marked.task
            def other(): pass
            @emptied.task
            def empty(): pass
        """,
    })
    queues = {t.name: project.task_queue(t) for t in project.tasks}
    assert queues == {
        "proj.tasks.exact": "exact",  # exact names are looked up before any glob
        "proj.tasks.glob_only": "glob",
        "proj.tasks.other": "celery",  # `?` alone is no glob in task_routes: an exact name
        "proj.tasks.empty": "default",  # an empty route stops the lookup: default queue
    }


def test_unknown_routes_or_disagreeing_apps_give_no_queue(tmp_path):
    project = project_of(tmp_path, {
        "proj/__init__.py": "",
        "proj/celery.py": """
            from celery import Celery
            app = Celery("proj")
            app.conf.task_routes = ["proj.routers.MyRouter"]
            other = Celery("other")
            other.conf.task_default_queue = "other-default"
        """,
        "proj/tasks.py": """
            from celery import shared_task
            from proj.celery import app
            @app.task
            def routed(): pass
            @shared_task
            def shared(): pass
        """,
    })
    assert project.task_queue(task(project, "proj.tasks.routed")) is None
    # a shared task runs on both apps, whose default queues differ
    assert project.task_queue(task(project, "proj.tasks.shared")) is None


def test_namespace_given_to_celery_applies_to_its_config_source(tmp_path):
    project = project_of(tmp_path, {
        "proj/__init__.py": "",
        "proj/celery.py": """
            import os
            from celery import Celery
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
            app = Celery("proj", namespace="CELERY")
            app.config_from_object("django.conf:settings")
        """,
        "proj/settings.py": """
            CELERY_TASK_ACKS_LATE = True
            task_always_eager = True
        """,
    })
    assert settings_of(project, "proj.celery.app") == {
        "task_acks_late": (True, "module", "proj/settings.py")}


def test_settings_that_cannot_be_read_leave_the_app_unresolved(tmp_path):
    project = project_of(tmp_path, {
        "proj.py": """
            from celery import Celery
            OPTIONS = {"task_acks_late": True}
            first = Celery("first")
            first.conf.update(OPTIONS)
            second = Celery("second")
            second.conf.update(**OPTIONS)
            third = Celery("third", broker="redis://", **extra)
            fourth = Celery("fourth")
            def configure(options):
                fourth.conf.update(options)
        """,
    })
    for readable in ("proj.first", "proj.second"):
        assert settings_of(project, readable) == {
            "task_acks_late": (True, "conf-update", "proj.py")
        }
        assert app(project, readable).unresolved_sources == []
    third = app(project, "proj.third")
    assert third.unresolved_sources == ["extra"]
    assert third.value("broker_url").value == "redis://"
    assert not third.value("task_acks_late").known
    assert app(project, "proj.fourth").unresolved_sources == ["options"]


def test_app_built_by_an_unreadable_factory_is_known_by_its_configuration(tmp_path):
    """`app = celery_class(...)` cannot be followed, but config_from_object marks it a Celery
    app."""
    project = project_of(tmp_path, {
        "proj/__init__.py": "",
        "proj/celery.py": """
            from django.utils.module_loading import import_string
            celery_class = import_string("proj.base.Custom")
            app = celery_class(main="proj")
            app.config_from_object("proj.conf")
        """,
        "proj/conf.py": "result_backend = 'redis://'\n",
        "proj/tasks.py": """
            from proj.celery import app

            @app.task
            def add(x, y):
                return x + y
        """,
        "other/__init__.py": "",
        "other/worker.py": """
            from other.factory import make
            queue = make()

            @queue.task
            def not_celery():
                pass
        """,
    })
    assert [a.fact.qualname for a in project.apps] == ["proj.celery.app"]
    assert project.apps[0].value("result_backend").value == "redis://"
    assert [t.name for t in project.tasks] == ["proj.tasks.add"]


def test_rules_ask_the_view_and_never_read_the_files():
    """Rules ask the project view their questions (project.acks_late(task), ...): a rule
    that reads the raw facts re-derives an answer that another rule may give otherwise."""
    from conftest import REPO

    readers = sorted(path.name for path in (REPO / "rules").glob("cel*.py")
                     if "project.files" in path.read_text(encoding="utf-8")
                     or "project.index" in path.read_text(encoding="utf-8"))
    assert readers == []


# -- reads back, switches, crontabs, schedulers ------------------------------------------

def test_reads_back_follow_each_apps_namespace(tmp_path):
    project = project_of(tmp_path, {
        "proj/__init__.py": "",
        "proj/celery.py": """
            from celery import Celery
            plain = Celery("plain")
            plain.conf.update(lock_ttl=1, LOCK_TTL=1)
            django = Celery("django")
            django.config_from_object("proj.conf", namespace="CELERY")
            """,
        "proj/conf.py": "CELERY_LOCK_TTL = 1\nCELERY_OWN_KEY = 1\nCELERY_OTHER = 1\n",
        "proj/use.py": """
            from django.conf import settings
            from proj.celery import plain

            def f():
                return plain.conf.lock_ttl, settings.CELERY_OWN_KEY
            """})
    plain, django = app(project, "proj.celery.plain"), app(project, "proj.celery.django")
    assert project.reads_back(plain, "lock_ttl") and not project.reads_back(plain, "LOCK_TTL")
    assert project.reads_back(django, "CELERY_LOCK_TTL") and project.reads_back(django, "lock_ttl")
    assert project.reads_back(plain, "CELERY_OWN_KEY")  # settings.KEY: as written, any app
    assert not project.reads_back(django, "CELERY_OTHER")


def test_django_setting_and_switches(tmp_path):
    from celerylint.facts import CallSwitch, Known

    files = {"manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 's.prod')\n",
             "s/__init__.py": "", "s/base.py": "DELAY = 5\nOFF = 0\n",
             "s/prod.py": "from s.base import *\nDELAY = 0\n"}
    project = project_of(tmp_path, files)
    assert project.django_setting("DELAY") == Known(0)
    assert project.django_setting("MISSING") is None
    assert project.switched_on(CallSwitch("DELAY")) is False
    assert project.switched_on(CallSwitch("MISSING")) is None
    assert project.switched_on(CallSwitch("MISSING", Known(2))) is True
    del files["manage.py"]
    (tmp_path / "no_module").mkdir()
    value = project_of(tmp_path / "no_module", files).django_setting("DELAY")
    assert value is not None and not value.known


def test_crontabs_and_the_scheduler_of_each_entry(tmp_path):
    project = project_of(tmp_path, {
        "proj/__init__.py": "",
        "proj/celery.py": """
            from celery import Celery
            from celery.schedules import crontab
            app = Celery("proj")
            app.conf.beat_scheduler = "proj.sched:Sched"
            app.conf.beat_schedule = {"a": {"task": "t", "schedule": crontab(hour=4)}}
            other = Celery("other")
            other.conf.beat_schedule = {"b": {"task": "t", "schedule": 60}}
            """,
        "proj/sched.py": """
            from django_celery_beat.schedulers import DatabaseScheduler

            class Sched(DatabaseScheduler):
                pass
            """})
    assert [(path, c.loc.line) for path, c in project.crontabs()] == [("proj/celery.py", 5)]
    answers = {view.fact.name: project.database_scheduler(view) for view in project.beat}
    assert answers == {"a": True, "b": False}
