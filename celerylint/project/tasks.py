"""Tasks: which app each belongs to, and the options Celery runs it with.

Option questions are answered here once, as Celery answers them, so that rules
never re-derive them: where an option comes from (:func:`task_option`), the app
setting that applies (:func:`task_setting`), ``task_annotations`` overrides
(:func:`task_annotation`), and whether the task acknowledges late (:func:`acks_late`).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from celerylint.facts import FileFacts, Known, Loc, TaskFact, Unknown, Value
from celerylint.project.index import MAX_REEXPORT_HOPS, ProjectIndex
from celerylint.project.presets import Presets
from celerylint.project.views import AppView, OptionSource, TaskView
from celerylint.readings import truthy
from celerylint.tables import NEWEST_KNOWN, Version, old_task_decorators, task_decorators

TASK_BASE_CLASSES = {"celery.Task", "celery.app.task.Task", "celery.task.Task",
                     "celery.task.base.Task", "celery.app.Task"}
APP_NAMES = {"app", "celery", "celery_app", "capp", "celeryapp"}

AppLookup = Callable[[str], Optional[AppView]]


class TaskLookup:
    """Tasks by qualified name (following re-exports) and by Celery name (the first)."""

    def __init__(self, index: ProjectIndex, tasks: List[TaskView]):
        self.index = index
        self.tasks = tasks
        self.by_qualname: Dict[str, TaskView] = {t.fact.qualname: t for t in tasks}
        self.by_name: Dict[str, TaskView] = {}
        for task in tasks:
            self.by_name.setdefault(task.name, task)

    def reference(self, qualname: str) -> Optional[TaskView]:
        """The task a dotted reference names (``proj.tasks.add``, or a re-export of it,
        by name or by ``from .x import *``)."""
        return self._through_stars(self.index.resolve_symbol(qualname), 0)

    def _through_stars(self, qualname: str, hops: int) -> Optional[TaskView]:
        task = self.by_qualname.get(qualname)
        module, _, name = qualname.rpartition(".")
        if task is not None or hops > MAX_REEXPORT_HOPS or name.startswith("_"):
            return task
        facts = self.index.modules.get(module)
        for imp in facts.imports if facts is not None else ():
            if imp.star:
                found = self._through_stars(
                    self.index.resolve_symbol(f"{imp.target}.{name}"), hops + 1)
                if found is not None:
                    return found
        return None


def build_tasks(index: ProjectIndex, apps: List[AppView], app_for: AppLookup,
                version: Version = NEWEST_KNOWN) -> List[TaskView]:
    """Every task whose app is known, in file order (the tasks of presets included); a
    task of an old Celery decorator only when the target release has it."""
    presets = Presets(index)
    missing = old_task_decorators() - task_decorators(version)
    return [task for facts in index.sorted_files
            for task in _task_views(index, presets, facts, apps, app_for)
            if task.fact.celery_decorator not in missing]


def _task_views(index: ProjectIndex, presets: Presets, facts: FileFacts, apps: List[AppView],
                app_for: AppLookup) -> Iterator[TaskView]:
    celery_imported = any(i.target.split(".")[0] == "celery" for i in facts.imports)
    for task in facts.tasks:
        if task.decorator == "preset":
            made = presets.task(task, facts.path, app_for)
            if made is None:
                continue
            task_apps = _task_apps(index, made.fact, True, apps, app_for)
            if task_apps is not None:
                yield TaskView(made.fact, facts.path, made.fact.name or made.fact.qualname,
                               task_apps, made.option_paths, made.beat)
            continue
        task_apps = _task_apps(index, task, celery_imported, apps, app_for)
        if task_apps is not None:
            yield TaskView(task, facts.path, task.name or task.qualname, task_apps)


def _task_apps(index: ProjectIndex, task: TaskFact, celery_imported: bool, apps: List[AppView],
               app_for: AppLookup) -> Optional[List[AppView]]:
    """The apps a task may belong to; None when it is not surely a Celery task."""
    if task.decorator in ("shared_task", "periodic_task"):
        return list(apps)
    if task.decorator in ("app.task", "call"):
        app = app_for(task.app)
        if app is not None:
            return [app]
        last = task.app.rsplit(".", 1)[-1]
        if task.app.startswith("celery.") or (celery_imported and last in APP_NAMES):
            return list(apps)
        return None
    if task.decorator == "class" and any(base in TASK_BASE_CLASSES
                                         for base in index.base_chain(task.qualname)):
        return list(apps)
    return None


def task_option(index: ProjectIndex, task: TaskView, key: str) -> Optional[Tuple[Value, str]]:
    """A task option and where it is set: "decorator", or a base class's qualified name;
    unknown when the decorator's options may set it in a part that cannot be read."""
    options = task.fact.options
    if key in options.values:
        return options.values[key], "decorator"
    if options.unreadable is not None:
        return Unknown(options.unreadable), "decorator"
    for base in task.fact.bases:
        for klass in index.base_chain(base):
            found = index.class_settings(klass).get(key)
            if found is not None:
                return found.value, klass
    return None


def task_option_site(index: ProjectIndex, task: TaskView, key: str
                     ) -> Optional[Tuple[Value, str, Loc, str]]:
    """:func:`task_option` with where it is written, for findings:
    (value, path, loc, "decorator" or the base class's qualified name)."""
    option = task_option(index, task, key)
    if option is None:
        return None
    value, where = option
    if where == "decorator":
        loc = task.fact.option_locs.get(key) or (task.fact.loc if not value.known else None)
        path = task.option_paths.get(key, task.path)
        return (value, path, loc, where) if loc is not None else None
    assign = index.class_settings(where).get(key)
    facts = index.modules.get(where.rpartition(".")[0])
    if assign is None or facts is None:
        return None
    return value, facts.path, assign.loc, where


def task_setting(task: TaskView, key: str) -> Value:
    """The app setting that applies to a task; unknown when its apps disagree."""
    if not task.apps:
        return Unknown(f"{key} (no Celery app found)")
    values = [app.value(key) for app in task.apps]
    first = values[0]
    if len(values) == 1:
        return first  # known, or unknown for its own reason
    if all(v.known and first.known and v.value == first.value for v in values):
        return first
    return Unknown(f"{key} (differs between apps)")


def task_annotation(task: TaskView, key: str) -> Optional[Value]:
    """``key`` as the ``task_annotations`` setting sets it for a task (it overrides
    the task's own options); None when not annotated, unknown when unreadable."""
    return _annotation(task_setting(task, "task_annotations"), task.name, key)


def written_annotation(task: TaskView, key: str) -> Optional[Value]:
    """``key`` as the ``task_annotations`` the project writes set it for a task, in the
    first of its apps where they do: like :func:`task_annotation`, but the annotations
    that an unresolved config source might hold are not assumed.  None when no app of
    the task writes annotations that set it, unknown when the written ones are unreadable."""
    for app in task.apps:
        written = app.get("task_annotations")
        found = _annotation(written.value, task.name, key) if written is not None else None
        if found is not None:
            return found
    return None


def _annotation(setting: Value, name: str, key: str) -> Optional[Value]:
    """``key`` as a ``task_annotations`` value sets it for the task called ``name``."""
    if not setting.known:
        return Unknown(setting.source)
    tables = setting.value if isinstance(setting.value, list) else [setting.value]
    for table in tables:
        found = _annotated(table, (name, "*"), key)
        if found is not None:
            return found
    return None


def _annotated(table: Any, patterns: Tuple[str, str], key: str) -> Optional[Value]:
    """``key`` as one annotations table sets it for the first pattern that has it;
    None when the table does not set it."""
    if table is None:
        return None
    if not _literal_dict(table):
        return Unknown("task_annotations (not a literal dict)")
    for entry in (table.get(pattern) for pattern in patterns):
        if entry is None:
            continue
        if not _literal_dict(entry):
            return Unknown("task_annotations (not a literal dict)")
        if key in entry:
            return Known(entry[key])
    return None


def _literal_dict(data: object) -> bool:
    return isinstance(data, dict) and "$call" not in data


def acks_late(index: ProjectIndex, task: TaskView) -> Optional[OptionSource]:
    """Where a task's late acknowledgement comes from; None when the task acks early
    or that cannot be known.

    As Celery decides: ``task_annotations`` set the task's attribute last; a task
    attribute that is None (the default) takes ``task_acks_late`` (Task.bind); the
    worker tests the attribute's truth (``acks_late=1`` acks late)."""
    annotated = task_annotation(task, "acks_late")
    if annotated is not None:
        return OptionSource(annotated, "task_annotations") if truthy(annotated) else None
    option = task_option(index, task, "acks_late")
    if option is not None and not (option[0].known and option[0].value is None):
        value, where = option
        if not truthy(value):
            return None
        return OptionSource(value, "decorator") if where == "decorator" else \
            OptionSource(value, "class", where)
    setting = task_setting(task, "task_acks_late")
    if not truthy(setting):
        return None
    written = task.apps[0].get("task_acks_late")
    return OptionSource(setting, "setting", written.assign.key if written else "task_acks_late")


def app_acks_late(app: AppView) -> bool:
    """Whether the app's tasks ack late unless they say otherwise (``task_acks_late``)."""
    return truthy(app.value("task_acks_late")) is True
