"""Per-file facts of every form the extractor knows, on the trees in tests/fixtures/extract/.

Positions are found in the fixture text itself (`at(...)`), so every expected
line and column is independent of the extractor.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Dict, Tuple

import pytest

from celerylint.engine import facts_for_path
from celerylint.facts import (AppFact, ConfigSource, FileFacts, ImportFact, Known, Loc, Options,
                              Unknown, Value, from_data, to_data)
from celerylint.parse import parse_and_extract
from conftest import collect_tree_facts

EXTRACT = Path(__file__).parent / "fixtures" / "extract"
TREES = sorted(p.name for p in EXTRACT.iterdir() if (p / "pyproject.toml").is_file())


@cache
def tree(name: str) -> Dict[str, FileFacts]:
    """Facts of every file of one fixture tree, keyed by path relative to the tree."""
    return {f.path: f for f in collect_tree_facts(EXTRACT / name)}


def at(
    tree_name: str, path: str, needle: str, occurrence: int = 1, offset: int = 0
) -> Tuple[int, int]:
    """(line, 1-based character column) of the n-th `needle` in a fixture file."""
    text = (EXTRACT / tree_name / path).read_text(encoding="utf-8")
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    index += offset
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def span(tree_name: str, path: str, needle: str, occurrence: int = 1) -> Loc:
    """The Loc of exactly `needle` (on one line)."""
    line, col = at(tree_name, path, needle, occurrence)
    return Loc(line, col, line, col + len(needle))


def line_of(tree_name: str, path: str, needle: str, occurrence: int = 1) -> int:
    return at(tree_name, path, needle, occurrence)[0]


def known(value: Value):
    assert value.known, value
    return value.value


# -- every file ------------------------------------------------------------------

def test_every_fixture_tree_is_found():
    assert TREES == ["beat", "calls", "config_forms", "django_manage", "django_proj", "routes",
                     "srclayout", "tasks"]


@pytest.mark.parametrize("name", TREES)
def test_fixture_files_extract_without_errors(name):
    for path, facts in tree(name).items():
        assert facts.error is None and facts.internal_error is None, (path, facts.error,
                                                                      facts.internal_error)


@pytest.mark.parametrize("name", TREES)
def test_facts_serialise_and_come_back_equal(name):
    for facts in tree(name).values():
        data = json.loads(json.dumps(to_data(facts)))
        assert from_data(data) == facts


ALL_FIXTURE_FILES = sorted((Path(__file__).parent / "fixtures").rglob("*.py"))


def test_every_python_fixture_file_round_trips_through_data():
    assert len(ALL_FIXTURE_FILES) > 40
    for path in ALL_FIXTURE_FILES:
        text = path.read_text(encoding="utf-8", errors="replace")
        facts = parse_and_extract(text, path.name, path.stem if path.stem.isidentifier() else "",
                                  False)
        assert facts.internal_error is None, (path, facts.internal_error)
        assert from_data(json.loads(json.dumps(to_data(facts)))) == facts, path


def test_module_names_follow_the_source_roots():
    assert {p: f.module for p, f in tree("srclayout").items() if p.endswith(".py")} == {
        "src/inventory/__init__.py": "inventory",
        "src/inventory/celery.py": "inventory.celery",
        "src/inventory/tasks.py": "inventory.tasks",
    }
    assert tree("django_proj")["proj/settings/__init__.py"].module == "proj.settings"
    assert tree("django_proj")["proj/settings/prod.py"].module == "proj.settings.prod"


# -- apps and their settings ---------------------------------------------------------

DJ = "django_proj"


def test_celery_subclass_in_the_same_file_makes_an_app():
    facts = tree(DJ)["proj/celery.py"]
    start = at(DJ, "proj/celery.py", "MyCelery(\n")
    end = at(DJ, "proj/celery.py", ")\napp.config_from_object")
    assert facts.apps == [AppFact(var="app", qualname="proj.celery.app", main="proj",
                                  loc=Loc(start[0], start[1], end[0], end[1] + 1),
                                  cls="proj.celery.MyCelery")]


def test_celery_keyword_arguments_become_settings_under_their_setting_names():
    facts = tree(DJ)["proj/celery.py"]
    kwargs = {s.key: s for s in facts.settings if s.kind == "celery-kwarg"}
    assert {k: known(s.value) for k, s in kwargs.items()} == {
        "broker_url": "redis://kwarg:6379/0",
        "result_backend": "redis://kwarg:6379/1",
        "include": ["proj.tasks"],
        "task_default_queue": "from-kwarg",
        "worker_prefetch_multiplier": 8,
    }
    assert all(s.app == "proj.celery.app" for s in kwargs.values())
    assert kwargs["broker_url"].loc == span(DJ, "proj/celery.py", "broker")
    assert kwargs["result_backend"].loc == span(DJ, "proj/celery.py", "backend")


def test_conf_update_attribute_and_item_writes():
    facts = tree(DJ)["proj/celery.py"]
    writes = [(s.kind, s.key, known(s.value), s.app) for s in facts.settings
              if s.kind.startswith("conf-")]
    app = "proj.celery.app"
    assert writes == [
        ("conf-update", "task_default_queue", "from-update-dict", app),
        ("conf-update", "result_expires", 3600, app),
        ("conf-update", "task_acks_late", False, app),
        ("conf-update", "timezone", "Europe/Paris", app),
        ("conf-attr", "worker_concurrency", 4, app),
        ("conf-item", "task_serializer", "json", app),
    ]
    by_key = {s.key: s for s in facts.settings}
    assert by_key["result_expires"].loc == span(DJ, "proj/celery.py", '"result_expires"')
    assert by_key["timezone"].loc == span(DJ, "proj/celery.py", "timezone")
    assert by_key["worker_concurrency"].loc == span(DJ, "proj/celery.py", "worker_concurrency")
    assert by_key["task_serializer"].loc == span(DJ, "proj/celery.py", '"task_serializer"')


def test_django_config_source_with_namespace_and_settings_module():
    facts = tree(DJ)["proj/celery.py"]
    line, col = at(DJ, "proj/celery.py", "app.config_from_object(")
    end = len('app.config_from_object("django.conf:settings", namespace="CELERY")')
    assert facts.config_sources == [ConfigSource(
        "proj.celery.app", "django.conf:settings", "string", "CELERY",
        Loc(line, col, line, col + end))]
    assert facts.django_settings_module == "proj.settings"


def test_django_settings_module_named_only_in_manage_py():
    files = tree("django_manage")
    assert files["manage.py"].django_settings_module == "site_cfg.settings"
    assert files["site_cfg/celery.py"].django_settings_module is None


def test_django_settings_module_set_by_item_assignment():
    facts = parse_and_extract('import os\nos.environ["DJANGO_SETTINGS_MODULE"] = "a.settings"\n',
                              "celery.py", "celery_app", False)
    assert facts.django_settings_module == "a.settings"
    other = parse_and_extract('import os\nos.environ["OTHER"] = "a.settings"\n',
                              "celery.py", "celery_app", False)
    assert other.django_settings_module is None


CF = "config_forms"


@pytest.mark.parametrize("path, target, kind", [
    ("forms/by_string.py", "celeryconfig", "string"),
    ("forms/by_module.py", "celeryconfig", "name"),
    ("forms/by_class.py", "forms.by_class.Config", "name"),
    ("forms/by_colon.py", "forms.conf:Config", "string"),
    ("forms/by_keyword.py", "forms.conf:Base", "string"),
    ("forms/missing.py", "somewhere.else.config", "string"),
    ("forms/unresolved.py", 'os.environ["CELERY_CONFIG_MODULE"]', "unknown"),
])
def test_config_from_object_targets(path, target, kind):
    facts = tree(CF)[path]
    module = path[:-3].replace("/", ".")
    assert [(s.app, s.target, s.target_kind, s.namespace) for s in facts.config_sources] == [
        (module + ".app", target, kind, None)]


def test_class_level_settings_name_their_class():
    facts = tree(CF)["forms/conf.py"]
    assert [(s.container, s.key, known(s.value), s.kind) for s in facts.settings
            if s.kind == "class"] == [
        ("Base", "task_acks_late", True, "class"),
        ("Base", "task_default_queue", "from-base-class", "class"),
        ("Config", "task_default_queue", "from-derived-class", "class"),
    ]
    assert facts.class_bases == {"Base": [], "Config": ["forms.conf.Base"]}


def test_star_imports_relative_and_absolute():
    files = tree(DJ)
    stars = {p: [(i.target, i.line) for i in f.imports if i.star] for p, f in files.items()
             if p.startswith("proj/settings/")}
    assert stars == {
        "proj/settings/__init__.py": [("proj.settings.prod", 1)],
        "proj/settings/prod.py": [("proj.settings.base", 1)],
        "proj/settings/base.py": [("proj.settings.common", 1)],
        "proj/settings/common.py": [],
    }
    prod = files["proj/settings/prod.py"]
    assert [(s.key, known(s.value), s.loc) for s in prod.settings] == [
        (
            "CELERY_BROKER_URL",
            "redis://prod:6379/0",
            span(DJ, "proj/settings/prod.py", "CELERY_BROKER_URL"),
        ),
        ("CELERY_TASK_ACKS_LATE", True, span(DJ, "proj/settings/prod.py", "CELERY_TASK_ACKS_LATE")),
        (
            "CELERY_WORKER_MAX_TASKS_PER_CHILD",
            100,
            span(DJ, "proj/settings/prod.py", "CELERY_WORKER_MAX_TASKS_PER_CHILD"),
        ),
        ("DEBUG", False, span(DJ, "proj/settings/prod.py", "DEBUG")),
    ]


def test_imports_resolve_aliases_and_packages():
    facts = tree(DJ)["proj/__init__.py"]
    assert facts.imports == [ImportFact("celery_app", "proj.celery.app", line=1)]


# -- tasks -------------------------------------------------------------------------

TS = "tasks"


def _tasks(path: str):
    return {t.func: t for t in tree(TS)[path].tasks}


def test_task_decorator_forms():
    tasks = _tasks("shop/tasks.py")
    assert {f: (t.decorator, t.app, t.qualname, t.function) for f, t in tasks.items()} == {
        "plain": ("app.task", "shop.celery.app", "shop.tasks.plain", "plain"),
        "configured": ("app.task", "shop.celery.app", "shop.tasks.configured", "configured"),
        "shared": ("shared_task", "", "shop.tasks.shared", "shared"),
        "shared_opts": ("shared_task", "", "shop.tasks.shared_opts", "shared_opts"),
        "aliased": ("app.task", "shop.celery.app", "shop.tasks.aliased", "aliased"),
        "via_alias": ("shared_task", "", "shop.tasks.via_alias", "via_alias"),
        "based": ("app.task", "shop.celery.app", "shop.tasks.based", "based"),
        "registered": ("call", "shop.celery.app", "shop.tasks.registered", "registered"),
        "RunTask": ("class", "", "shop.tasks.RunTask", "RunTask.run"),
        "legacy_periodic": ("periodic_task", "", "shop.tasks.legacy_periodic", "legacy_periodic"),
        "through_package": ("app.task", "shop.celery_app", "shop.tasks.through_package",
                            "through_package"),
    }
    assert tasks["plain"].loc == span(TS, "shop/tasks.py", "plain")
    assert tasks["registered"].loc == span(TS, "shop/tasks.py", "registered")
    assert tasks["RunTask"].loc == span(TS, "shop/tasks.py", "RunTask")


def test_task_options_from_the_decorator():
    task = _tasks("shop/tasks.py")["configured"]
    assert task.name == "shop.explicit" and task.bind is True
    assert task.options.values == {
        "name": Known("shop.explicit"), "bind": Known(True), "queue": Known("slow"),
        "acks_late": Known(True), "ignore_result": Known(True), "time_limit": Known(60),
        "soft_time_limit": Known(50), "max_retries": Known(3),
        "autoretry_for": Unknown("(IOError,)"), "expires": Known(120),
    }
    assert task.options.unreadable is None
    assert task.option_locs["queue"] == span(TS, "shop/tasks.py", '"slow"')
    assert task.option_locs["time_limit"] == span(TS, "shop/tasks.py", "60")


def test_shared_task_options_and_base_class():
    tasks = _tasks("shop/tasks.py")
    assert tasks["shared_opts"].bind is True
    assert known(tasks["shared_opts"].options.values["queue"]) == "fast"
    assert tasks["shared"].options == Options() and tasks["shared"].bind is False
    assert tasks["based"].bases == ["shop.tasks.AcksLateTask"]
    assert tasks["RunTask"].bases == ["celery.Task"]
    assert tasks["RunTask"].name == "shop.run_task"
    assert known(tasks["RunTask"].options.values["ignore_result"]) is True
    # the abstract base has no run(): it is not a task itself
    assert "AcksLateTask" not in tasks
    base_attrs = [(s.key, known(s.value)) for s in tree(TS)["shop/tasks.py"].settings
                  if s.kind == "class" and s.container == "AcksLateTask"]
    assert base_attrs == [("abstract", True), ("acks_late", True)]


def test_other_task_queues_do_not_make_tasks():
    facts = tree(TS)["shop/lookalikes.py"]
    assert facts.tasks == []
    assert facts.apps == []
    # rq's @job gives functions a .delay too: still a dispatch fact, its receiver is no task
    assert [(d.method, d.receiver_qualname) for d in facts.dispatches] == [
        ("delay", "shop.lookalikes.rq_job")]


# -- dispatches --------------------------------------------------------------------

CL = "calls"
VIEWS = "orders/views.py"


def _dispatches(path: str = VIEWS):
    return tree(CL)[path].dispatches


def test_dispatch_forms_receivers_and_result_use():
    def row(needle, method, receiver, qualname, task_name, use, function, occurrence=1):
        line, col = at(CL, VIEWS, needle, occurrence)
        return (line, col, method, receiver, qualname, task_name, use, function)

    expected = [
        row(
            "add.delay(1, 2)", "delay", "add", "orders.tasks.add", None, "discarded", "delay_forms"
        ),
        row("add.delay(3, 4)", "delay", "add", "orders.tasks.add", None, "used", "delay_forms"),
        row(
            "add.delay(5, 6)", "delay", "add", "orders.tasks.add", None, "discarded", "delay_forms"
        ),
        row(
            "add.delay(7, 8)", "delay", "add", "orders.tasks.add", None, "discarded", "delay_forms"
        ),
        row("add.delay(1, 2)", "delay", "add", "orders.tasks.add", None, "used", "returned", 2),
        row("add.delay(1, 2)", "delay", "add", "orders.tasks.add", None, "used", "chained_get", 3),
        row(
            "add.apply_async(args",
            "apply_async",
            "add",
            "orders.tasks.add",
            None,
            "discarded",
            "apply_forms",
        ),
        row(
            "add.apply_async((1, 2)",
            "apply_async",
            "add",
            "orders.tasks.add",
            None,
            "discarded",
            "apply_forms",
        ),
        row(
            "tasks.report.delay(7)",
            "delay",
            "tasks.report",
            "orders.tasks.report",
            None,
            "discarded",
            "module_attribute",
        ),
        row(
            "reexported_add.delay",
            "delay",
            "reexported_add",
            "orders.add",
            None,
            "discarded",
            "through_package",
        ),
        row(
            "report.delay(order)",
            "delay",
            "report",
            "orders.tasks.report",
            None,
            "discarded",
            "locals_and_loops",
        ),
        row(
            "report.delay(item)",
            "delay",
            "report",
            "orders.tasks.report",
            None,
            "discarded",
            "locals_and_loops",
        ),
        row("add.s(1, 2)", "s", "add", "orders.tasks.add", None, "canvas", "canvas_forms"),
        row("add.si(3, 4)", "si", "add", "orders.tasks.add", None, "discarded", "canvas_forms"),
        row(
            "add.signature((5, 6)",
            "signature",
            "add",
            "orders.tasks.add",
            None,
            "discarded",
            "canvas_forms",
        ),
        row(
            'signature("orders.tasks.report"',
            "signature()",
            "signature",
            "",
            "orders.tasks.report",
            "discarded",
            "canvas_forms",
        ),
        row("chain(", "chain", "", "", None, "canvas", "canvas_forms"),
        row("add.s(1, 2), report", "s", "add", "orders.tasks.add", None, "canvas", "canvas_forms"),
        row("report.s())()", "s", "report", "orders.tasks.report", None, "canvas", "canvas_forms"),
        row("group(", "apply_async", "group()", "", None, "discarded", "canvas_forms"),
        row("group(", "group", "", "", None, "canvas", "canvas_forms"),
        row("report.s(i)", "s", "report", "orders.tasks.report", None, "canvas", "canvas_forms"),
        row("chord(", "chord", "", "", None, "canvas", "canvas_forms"),
        row("add.s(1, 2)]", "s", "add", "orders.tasks.add", None, "canvas", "canvas_forms"),
        row(
            "report.s())()", "s", "report", "orders.tasks.report", None, "canvas", "canvas_forms", 2
        ),
        row(
            'app.send_task("orders',
            "send_task",
            "app",
            "orders.celery.app",
            "orders.tasks.report",
            "discarded",
            "send_task_forms",
        ),
        row(
            'app.send_task("elsewhere',
            "send_task",
            "app",
            "orders.celery.app",
            "elsewhere.remote_task",
            "discarded",
            "send_task_forms",
        ),
        row("thing.delay(1)", "delay", "thing", "", None, "discarded", "unknown_receiver"),
        row(
            "add.s(1, 2).delay()",
            "delay",
            "add.s()",
            "orders.tasks.add",
            None,
            "discarded",
            "signature_then_send",
        ),
        row(
            "add.s(1, 2).delay()",
            "s",
            "add",
            "orders.tasks.add",
            None,
            "canvas",
            "signature_then_send",
        ),
        row(
            "add.si(1, 2).set(",
            "apply_async",
            "add.si().set()",
            "orders.tasks.add",
            None,
            "used",
            "signature_then_send",
        ),
        row(
            "add.si(1, 2).set(",
            "si",
            "add",
            "orders.tasks.add",
            None,
            "canvas",
            "signature_then_send",
        ),
        row(
            'app.signature("orders',
            "signature()",
            "signature",
            "",
            "orders.tasks.report",
            "canvas",
            "app_signature",
        ),
    ]
    actual = [(d.loc.line, d.loc.col, d.method, d.receiver, d.receiver_qualname, d.task_name,
               d.result_use, d.function) for d in _dispatches()]
    assert sorted(actual) == sorted(expected)


def test_dispatch_in_the_module_that_defines_the_task():
    [dispatch] = _dispatches("orders/tasks.py")
    assert (
        dispatch.method,
        dispatch.receiver_qualname,
        dispatch.function,
        dispatch.result_use,
    ) == ("delay", "orders.tasks.add", "kick", "discarded")


def _dispatch_at(needle: str, method: str, occurrence: int = 1):
    line, col = at(CL, VIEWS, needle, occurrence)
    found = [d for d in _dispatches() if (d.loc.line, d.loc.col, d.method) == (line, col, method)]
    assert len(found) == 1, found
    return found[0]


def test_apply_async_args_kwargs_and_options():
    dispatch = _dispatch_at("add.apply_async(args", "apply_async")
    assert [(a.keyword, a.expr.shape, a.expr.source) for a in dispatch.args] == [
        (None, "order_id", "order_id"), (None, "<number>", "2"), ("z", "<number>", "3")]
    line, col = at(CL, VIEWS, "order_id, 2")
    assert dispatch.args[0].loc == Loc(line, col, line, col + len("order_id"))
    assert {k: known(v) for k, v in dispatch.options.values.items()} == {
        "countdown": 10, "queue": "slow"}
    positional = _dispatch_at("add.apply_async((1, 2)", "apply_async")
    assert [a.expr.source for a in positional.args] == ["1", "2"]
    assert {k: known(v) for k, v in positional.options.values.items()} == {"countdown": 5}


def test_arguments_followed_through_locals_and_loop_variables():
    order = _dispatch_at("report.delay(order)", "delay").args[0].expr
    assert (order.shape, order.qualname, order.via, order.via_line) == (
        "Order.objects.get()", "orders.models.Order.objects.get()", "order",
        line_of(CL, VIEWS, "order = Order.objects.get"))
    item = _dispatch_at("report.delay(item)", "delay").args[0].expr
    assert (item.shape, item.qualname, item.via, item.via_line) == (
        "Order.objects.all()[]", "orders.models.Order.objects.all()[]", "item",
        line_of(CL, VIEWS, "for item in"))


def test_signature_and_send_task_arguments_and_options():
    sig = _dispatch_at('signature("orders.tasks.report"', "signature()")
    assert [a.expr.source for a in sig.args] == ["9"]
    assert {k: known(v) for k, v in sig.options.values.items()} == {"countdown": 2}
    method_sig = _dispatch_at("add.signature((5, 6)", "signature")
    assert [a.expr.source for a in method_sig.args] == ["5", "6"]
    assert {k: known(v) for k, v in method_sig.options.values.items()} == {"countdown": 1}
    app_sig = _dispatch_at('app.signature("orders', "signature()")
    assert [a.expr.source for a in app_sig.args] == ["1"]
    assert {k: known(v) for k, v in app_sig.options.values.items()} == {"countdown": 4}
    send = _dispatch_at('app.send_task("orders', "send_task")
    assert [(a.keyword, a.expr.source) for a in send.args] == [(None, "1")]
    assert {k: known(v) for k, v in send.options.values.items()} == {"countdown": 3}
    remote = _dispatch_at('app.send_task("elsewhere', "send_task")
    assert [(a.keyword, a.expr.source) for a in remote.args] == [("x", "1")]
    chained = _dispatch_at("add.si(1, 2).set(", "apply_async")
    assert {k: known(v) for k, v in chained.options.values.items()} == {"countdown": 1}


# -- beat ----------------------------------------------------------------------------

BT = "beat"


def _beat(path: str):
    return {b.name: b for b in tree(BT)[path].beat}


def test_beat_schedule_assigned_on_conf_and_updated_with_a_constant():
    entries = _beat("sched/celery.py")
    rows = {n: (b.task, b.task_ref, known(b.schedule), b.setting, b.app,
                {k: known(v) for k, v in b.options.values.items()}) for n, b in entries.items()}
    crontab = "celery.schedules.crontab"
    assert rows == {
        "every-10s": (
            "sched.tasks.ping",
            "",
            10.0,
            "beat_schedule",
            "sched.celery.app",
            {"expires": 5},
        ),
        "nightly": (
            "sched.tasks.report",
            "",
            {"$call": crontab, "args": [], "kwargs": {"hour": 3, "minute": 0}},
            "beat_schedule",
            "sched.celery.app",
            {},
        ),
        "from-constant": (
            "sched.tasks.ping",
            "",
            {"$timedelta": 60.0},
            "beat_schedule",
            "sched.celery.other",
            {},
        ),
        "add every 10": (
            None,
            "sched.tasks.test",
            10.0,
            "add_periodic_task",
            "sender",
            {"expires": 5},
        ),
        "by-name": (
            "sched.tasks.ping",
            "",
            {"$call": crontab, "args": [], "kwargs": {"minute": "*/15"}},
            "add_periodic_task",
            "sender",
            {},
        ),
        "hourly": (
            "sched.tasks.report",
            "",
            {"$call": crontab, "args": [], "kwargs": {"minute": 0}},
            "beat_schedule",
            "sched.celery.app",
            {},
        ),
    }


def test_beat_positions():
    entries = _beat("sched/celery.py")
    path = "sched/celery.py"
    assert entries["every-10s"].loc == span(BT, path, '"every-10s"')
    assert entries["every-10s"].schedule_loc == span(BT, path, "10.0")
    assert entries["nightly"].schedule_loc == span(BT, path, "crontab(hour=3, minute=0)")
    # an entry bound to a constant: the key is where the dict names it, the schedule where it is
    assert entries["from-constant"].loc == span(BT, path, '"from-constant"')
    assert entries["from-constant"].schedule_loc == span(BT, path, "timedelta(minutes=1)")
    line, col = at(BT, path, "sender.add_periodic_task(10.0")
    assert entries["add every 10"].loc.line == line and entries["add every 10"].loc.col == col
    assert entries["add every 10"].schedule_loc == span(BT, path, "10.0", 2)
    assert entries["by-name"].schedule_loc == span(BT, path, 'crontab(minute="*/15")')
    assert entries["hourly"].loc == span(BT, path, '"hourly"')


def test_beat_in_django_settings_update_and_item_forms():
    entries = _beat("sched/settings.py")
    path = "sched/settings.py"
    assert {n: (b.task, known(b.schedule), b.setting, b.app) for n, b in entries.items()} == {
        "half-minute": ("sched.tasks.ping", {"$timedelta": 30.0}, "CELERY_BEAT_SCHEDULE", ""),
        "updated": ("sched.tasks.ping", 60, "CELERY_BEAT_SCHEDULE", ""),
        "item": ("sched.tasks.report", 120, "CELERY_BEAT_SCHEDULE", ""),
    }
    assert entries["half-minute"].schedule_loc == span(BT, path, "timedelta(seconds=INTERVAL)")
    assert entries["updated"].loc == span(BT, path, '"updated"')
    assert entries["item"].loc == span(BT, path, '"item"')
    assert entries["item"].schedule_loc == span(BT, path, "2 * 60")


def test_old_style_beat_settings_and_periodic_task():
    old, new = tree(BT)["sched/celeryconfig.py"].beat
    assert (old.name, old.task, known(old.schedule), old.setting) == (
        "old-style", "sched.tasks.ping", 15, "CELERYBEAT_SCHEDULE")
    assert (new.name, new.task, known(new.schedule), new.setting, new.app) == (
        "new-style", "sched.tasks.report", 45, "beat_schedule", "")
    assert {k: known(v) for k, v in new.options.values.items()} == {"queue": "beat"}
    assert new.schedule_loc == span(BT, "sched/celeryconfig.py", "45")
    [legacy] = tree(BT)["sched/tasks.py"].beat
    assert (legacy.name, legacy.task_ref, known(legacy.schedule), legacy.setting) == (
        "sched.tasks.legacy", "sched.tasks.legacy", {"$timedelta": 300.0}, "periodic_task")
    assert {k: known(v) for k, v in legacy.options.values.items()} == {"expires": 60}
    assert legacy.loc == span(BT, "sched/tasks.py", "legacy")
    assert legacy.schedule_loc == span(BT, "sched/tasks.py", "timedelta(minutes=5)")


# -- positions ---------------------------------------------------------------------

NON_ASCII = (
    "from celery import Celery\n"
    "app = Celery('x')\n"
    "x = 'é漢'; app.conf.beat_schedule = {'k€y': {'task': 't.ping', 'schedule': 5}}\n"
    "def f():\n"
    "    y = '€'; t.delay('ü', 1)\n"
)


def _col(text: str, line: int, needle: str) -> int:
    return text.splitlines()[line - 1].index(needle) + 1


def test_columns_count_characters_after_non_ascii_text():
    facts = parse_and_extract(NON_ASCII, "a.py", "a", False)
    [entry] = facts.beat
    assert entry.loc == Loc(3, _col(NON_ASCII, 3, "'k€y'"), 3, _col(NON_ASCII, 3, "'k€y'") + 5)
    assert entry.schedule_loc.col == _col(NON_ASCII, 3, "5}") == 75
    line3 = NON_ASCII.splitlines()[2]
    assert len(line3[:74].encode("utf-8")) + 1 == 80  # a byte column would be 80
    [setting] = [s for s in facts.settings if s.kind == "conf-attr"]
    assert (setting.loc.line, setting.loc.col) == (3, _col(NON_ASCII, 3, "beat_schedule"))
    [dispatch] = facts.dispatches
    assert (dispatch.loc.line, dispatch.loc.col) == (5, _col(NON_ASCII, 5, "t.delay"))
    assert [a.loc.col for a in dispatch.args] == [
        _col(NON_ASCII, 5, "'ü'"),
        _col(NON_ASCII, 5, "1)"),
    ]


def test_crlf_files_have_the_same_positions(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(NON_ASCII.replace("\n", "\r\n").encode("utf-8"))
    crlf = facts_for_path(str(path), str(tmp_path), ["."])
    lf = parse_and_extract(NON_ASCII, crlf.path, "a", False)
    assert crlf.error is None and crlf.module == "a"
    assert crlf.beat == lf.beat and crlf.dispatches == lf.dispatches
    assert crlf.settings == lf.settings


def test_a_stored_result_is_used_only_when_the_variable_is_read():
    source = (
        "from proj.tasks import add\n"
        "def keyword_only():\n    res = add.delay(1)\n    log(res=2)\n"
        "def attribute_only():\n    res = add.delay(1)\n    self.res = 3\n"
        "def rebound():\n    res = add.delay(1)\n    res = None\n"
        "def read():\n    res = add.delay(1)\n    log(value=res)\n"
        "def read_attribute():\n    res = add.delay(1)\n    return res.id\n"
    )
    facts = parse_and_extract(source, "a.py", "a", False)
    assert [(d.function, d.result_use) for d in facts.dispatches] == [
        ("keyword_only", "discarded"), ("attribute_only", "discarded"), ("rebound", "discarded"),
        ("read", "used"), ("read_attribute", "used")]


def test_results_of_with_items_canvases_and_module_level_assignments():
    source = (
        "from celery import chain\n"
        "from proj.tasks import add\n"
        "def in_with():\n    with add.delay(1) as res:\n        pass\n"
        "def canvas_in_with():\n    with add.s(1) as sig:\n        pass\n"
        "def canvas_stored():\n    sig = add.s(1)\n"
        "def canvas_discarded():\n    chain(add.s(1))\n"
        "def discarded():\n    _ = add.delay(1)\n"
        "kept = add.delay(1)\n"
    )
    facts = parse_and_extract(source, "a.py", "a", False)
    assert [(d.function, d.method, d.result_use) for d in facts.dispatches] == [
        ("in_with", "delay", "used"), ("canvas_in_with", "s", "canvas"),
        ("canvas_stored", "s", "canvas"), ("canvas_discarded", "chain", "discarded"),
        ("canvas_discarded", "s", "canvas"), ("discarded", "delay", "discarded"),
        ("", "delay", "used")]


def test_options_say_what_could_not_be_read():
    """Options given in a form the extractor cannot read are recorded beside the ones it
    read, with their source text: never as a key among them."""
    source = (
        "from celery import Celery, shared_task, signature\n"
        "app = Celery('a')\n"
        "@shared_task\ndef t(x):\n    pass\n"
        "OPTS = make_options()\n"
        "BASE = {'task': 'a.t'}\n"
        "app.conf.beat_schedule = {\n"
        "    'literal': {'task': 'a.t', 'schedule': 1, 'options': {'queue': 'q'}},\n"
        "    'built': {'task': 'a.t', 'schedule': 1, 'options': OPTS},\n"
        "    'spread-entry': {**BASE, 'schedule': 1},\n"
        "    'spread-option': {'task': 'a.t', 'schedule': 1,\n"
        "                      'options': {'queue': 'q', **more()}},\n"
        "    'known-spread': {'task': 'a.t', 'schedule': 1, 'options': {**{'expires': 5}}},\n"
        "}\n"
        "app.add_periodic_task(1, t.s(1), name='star', queue='q', **kw)\n"
        "app.add_periodic_task(1, t.s(1).set(**extra), name='set-star')\n"
        "app.add_periodic_task(1, signature('a.t', options=OPTS), name='sig-options')\n"
        "app.add_periodic_task(1, t.signature((1,), expires=5), name='sig-kw', queue='q')\n"
    )
    facts = parse_and_extract(source, "a.py", "a", False)
    found = {b.name: (sorted(b.options.values), b.options.unreadable) for b in facts.beat}
    assert found == {
        "literal": (["queue"], None),
        "built": ([], "make_options()"),
        "spread-entry": ([], "**"),
        "spread-option": (["queue"], "**more()"),
        "known-spread": (["expires"], None),
        "star": (["queue"], "kw"),
        "set-star": ([], "extra"),
        "sig-options": ([], "OPTS"),
        "sig-kw": (["expires", "queue"], None),
    }
    assert all("$unknown" not in b.options.values for b in facts.beat)
    assert facts.tasks[0].options == Options()


# -- crontabs, reads back, switches ------------------------------------------------------

def test_crontabs_made_in_code():
    facts = tree("beat")["sched/crontabs.py"]
    found = [(c.loc.line, c.kind, {k: v.value if v.known else "?" for k, v in c.fields.items()},
              c.unreadable) for c in facts.crontabs]
    assert found == [
        (6, "crontab", {"hour": 4}, False),
        (7, "crontab", {"minute": "0", "hour": "*/12", "day_of_week": "mon-fri"}, False),
        (8, "crontab", {}, True),
        (9, "crontab", {"minute": 0}, True),
        (10, "crontab", {"hour": "?"}, False),
        (14, "CrontabSchedule", {"hour": "3", "minute": "30"}, False),
        (15, "CrontabSchedule", {"hour": "5"}, True),
        (16, "CrontabSchedule", {}, True),
        (17, "CrontabSchedule", {"day_of_week": "sun"}, False),
    ]
    assert facts.crontabs[0].loc == span("beat", "sched/crontabs.py", "cron(hour=HOUR)")


def test_names_read_back_from_an_app_but_not_written():
    facts = tree("calls")["orders/reads.py"]
    assert facts.conf_reads == ["order_timeout", "order_limit", "order_retries", "order_backoff"]


def test_calls_switched_by_a_setting():
    facts = tree("calls")["orders/reads.py"]
    (throttle,) = [f for f in facts.functions if f.name == "throttle"]
    sleeps = [(c.loc.line, c.switch) for c in throttle.calls if c.qualname == "time.sleep()"]
    assert [(line, switch.name if switch else None) for line, switch in sleeps] == [
        (21, "ORDER_THROTTLE"), (22, "ORDER_PAUSE_MS"), (24, "ORDER_SLOW_MODE"), (26, None),
        (27, None)]
    assert sleeps[0][1].default == Unknown()
    assert sleeps[1][1].default == Known(0) and sleeps[2][1].default == Known(False)
