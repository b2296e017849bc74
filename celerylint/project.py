"""The project view: every file's facts merged and resolved across files.

Rules read the project only through this view: apps with their resolved
settings, tasks with their app, options and queue, dispatches and beat
entries with the task they name.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from celerylint.facts import (AppFact, BeatEntry, Dispatch, FileFacts, FunctionFact, Loc,
                              SettingAssign, TaskFact, Value)
from celerylint.settings import celery_like, read_alone, resolve
from celerylint.tables import NEWEST_KNOWN, SettingTable, table as release_table

TASK_BASE_CLASSES = {"celery.Task", "celery.app.task.Task", "celery.task.Task",
                     "celery.task.base.Task", "celery.app.Task"}
APP_NAMES = {"app", "celery", "celery_app", "capp", "celeryapp"}
# Where a setting came from, lowest precedence first (Celery's own order).
SOURCE_RANK = {"module": 0, "class": 0, "celery-kwarg": 1, "conf-update": 2, "conf-attr": 2,
               "conf-item": 2}


@dataclass
class ResolvedSetting:
    key: str  # the new-style (lowercase) name
    value: Value
    assign: SettingAssign
    path: str


@dataclass
class IgnoredKey:
    """A key written in a settings source that Celery never reads.

    ``source`` is ``changes`` (Celery keywords, ``app.conf`` writes) or ``conf``
    (the config object); ``shadowed`` when Celery would read it if another key
    did not provide the same setting first."""

    path: str
    assign: SettingAssign
    source: str
    shadowed: bool = False


@dataclass
class AppView:
    fact: AppFact
    path: str
    settings: Dict[str, ResolvedSetting] = field(default_factory=dict)
    unresolved_sources: List[str] = field(default_factory=list)
    namespace: Optional[str] = None  # the namespace Celery applies (last one given)
    # keys of the app's sources that no setting lookup reads (see IgnoredKey)
    ignored: List["IgnoredKey"] = field(default_factory=list)
    # (path, assign) of the keys Celery rejects at start-up for mixing old and new names
    mix_error: List[Tuple[str, SettingAssign]] = field(default_factory=list)
    old_style: bool = False  # Celery reads the config object as old uppercase names
    version: Tuple[int, int] = NEWEST_KNOWN  # the target Celery version

    @property
    def table(self) -> SettingTable:
        """The target release's settings: names, old names, defaults."""
        return release_table(self.version)

    def get(self, key: str) -> Optional[ResolvedSetting]:
        return self.settings.get(key)

    def value(self, key: str) -> Value:
        """The effective value: set in the project, else the target release's default.

        Unknown when a config source could not be resolved and the key is not
        set explicitly (the missing source might set it)."""
        found = self.settings.get(key)
        if found is not None:
            return found.value
        if self.unresolved_sources:
            return Value.unknown(f"{key} (config source {self.unresolved_sources[0]} not resolved)")
        return self.table.default(key)


@dataclass
class TaskView:
    fact: TaskFact
    path: str
    name: str
    apps: List[AppView]


@dataclass
class DispatchView:
    fact: Dispatch
    path: str
    task: Optional[TaskView]


@dataclass
class BeatView:
    fact: BeatEntry
    path: str
    task: Optional[TaskView]


class Project:
    def __init__(self, files: Iterable[FileFacts], target_version: Tuple[int, int] = NEWEST_KNOWN,
                 options: Optional[Dict] = None, python_version: Optional[Tuple[int, int]] = None):
        self.files: Dict[str, FileFacts] = {f.path: f for f in files}
        self.target_version = target_version
        self.settings_table = release_table(target_version)  # the target release's settings
        self.python_version = python_version  # the project's lowest Python, None: not declared
        self.options = options or {}
        self.modules: Dict[str, FileFacts] = {}
        for facts in sorted(self.files.values(), key=lambda f: f.path):
            if facts.module and facts.error is None:
                self.modules.setdefault(facts.module, facts)
        self.apps = [self._app_view(app, f) for f in self._sorted_files() for app in f.apps]
        self.apps += [self._app_view(app, f) for app, f in self._implicit_apps()]
        self._apps_by_qualname = {a.fact.qualname: a for a in self.apps if a.fact.qualname}
        self.tasks = [t for f in self._sorted_files() for t in self._task_views(f)]
        self._tasks_by_qualname = {t.fact.qualname: t for t in self.tasks}
        self._tasks_by_name: Dict[str, TaskView] = {}
        for task in self.tasks:
            self._tasks_by_name.setdefault(task.name, task)
        self.dispatches = [DispatchView(d, f.path, self.task_for_dispatch(d, f))
                           for f in self._sorted_files() for d in f.dispatches]
        self.beat = [BeatView(b, f.path, self._task_for_beat(b, f))
                     for f in self._sorted_files() for b in f.beat]
        self._sends: Dict[str, Tuple[List[DispatchView], List[BeatView]]] = {}
        for dispatch in self.dispatches:
            if dispatch.task is not None:
                self._sends.setdefault(dispatch.task.fact.qualname, ([], []))[0].append(dispatch)
        for entry in self.beat:
            if entry.task is not None:
                self._sends.setdefault(entry.task.fact.qualname, ([], []))[1].append(entry)

    def _implicit_apps(self) -> List[Tuple[AppFact, FileFacts]]:
        """Apps built in a way the extractor cannot follow (``app = make_app()``,
        ``app = celery_class(...)``) but configured with ``config_from_object``,
        which only Celery apps have: known by the module-level name they are bound to."""
        known = {app.qualname for f in self.files.values() for app in f.apps}
        found: Dict[str, Tuple[AppFact, FileFacts]] = {}
        for facts in self._sorted_files():
            for source in facts.config_sources:
                module, _, var = source.app.rpartition(".")
                if source.app in known or source.app in found or not module:
                    continue
                if self.modules.get(module) is not facts:
                    continue  # only where the app's own module configures it
                found[source.app] = (AppFact(var=var, qualname=source.app, main=None, loc=source.loc,
                                             cls=""), facts)
        return [found[name] for name in sorted(found)]

    def _sorted_files(self) -> List[FileFacts]:
        return [self.files[p] for p in sorted(self.files)]

    # -- symbols ---------------------------------------------------------------
    def resolve_symbol(self, qualname: str, hops: int = 0) -> str:
        """Follow re-exports: ``pkg.add`` -> ``pkg.tasks.add`` when pkg imports it."""
        if hops > 8 or not qualname:
            return qualname
        module, _, name = qualname.rpartition(".")
        facts = self.modules.get(module)
        if facts is None:
            return qualname
        for imp in facts.imports:
            if not imp.star and imp.local == name and imp.target != qualname:
                return self.resolve_symbol(imp.target, hops + 1)
        return qualname

    def function(self, path: str, name: str) -> Optional[FunctionFact]:
        facts = self.files.get(path)
        if facts is None or not name:
            return None
        for function in facts.functions:
            if function.name == name:
                return function
        return None

    def class_settings(self, qualname: str) -> Dict[str, SettingAssign]:
        module, _, name = qualname.rpartition(".")
        facts = self.modules.get(module)
        if facts is None:
            return {}
        return {s.key: s for s in facts.settings if s.kind == "class" and s.container == name}

    def class_bases(self, qualname: str) -> List[str]:
        module, _, name = qualname.rpartition(".")
        facts = self.modules.get(module)
        if facts is None:
            return []
        return [self.resolve_symbol(b) for b in facts.class_bases.get(name, [])]

    def base_chain(self, qualname: str) -> List[str]:
        """qualname and its project base classes, nearest first."""
        chain, todo = [], [self.resolve_symbol(qualname)]
        while todo and len(chain) < 32:
            current = todo.pop(0)
            if current in chain:
                continue
            chain.append(current)
            todo.extend(self.class_bases(current))
        return chain

    # -- apps and settings -----------------------------------------------------
    def _app_view(self, app: AppFact, facts: FileFacts) -> AppView:
        """Resolve an app's settings as its target Celery version does (celerylint.settings)."""
        view = AppView(app, facts.path, namespace=app.namespace, version=self.target_version)
        settings_table = view.table
        conf: Dict[str, Tuple[str, SettingAssign]] = {}
        for source in (s for f in self._sorted_files() for s in f.config_sources):
            if source.app != app.qualname:
                continue
            if source.namespace:  # Celery: ``self.namespace = namespace or self.namespace``
                view.namespace = source.namespace
            assigns = self._config_source_settings(source.target, source.target_kind, facts)
            if assigns is None:
                view.unresolved_sources.append(source.target)
                continue
            django = source.target in ("django.conf:settings", "django.conf.settings")
            for path, assign in assigns:
                if django and not assign.key.isupper():
                    continue  # Django keeps only uppercase names in its settings
                conf[assign.key] = (path, assign)
        changes: Dict[str, Tuple[str, SettingAssign]] = {}
        writes = [(SOURCE_RANK[a.kind], path, order, a) for path, f in sorted(self.files.items())
                  for order, a in enumerate(f.settings)
                  if a.app and a.app == app.qualname and a.kind != "module"]
        for _, path, _, assign in sorted(writes, key=lambda w: w[:3]):
            changes[assign.key] = (path, assign)
        auto = {a.key for _, _, _, a in writes if a.kind == "celery-kwarg"}
        resolution = resolve(list(changes), list(conf), auto, view.namespace, settings_table)
        maps = {"changes": changes, "conf": conf}
        for key, (map_name, raw) in resolution.values.items():
            path, assign = maps[map_name][raw]
            view.settings[key] = ResolvedSetting(key, assign.value, assign, path)
        # Celery reads only the last config object; with several, which one is last
        # (and so what is ignored or mixed) depends on run-time order: say nothing.
        one_source = len({s.target for f in self.files.values() for s in f.config_sources
                          if s.app == app.qualname}) <= 1
        view.mix_error = [conf[k] for k in resolution.mix_error] if one_source else []
        view.old_style = resolution.old_style
        if not resolution.mix_error:
            for map_name, keys in maps.items():
                for raw, (path, assign) in keys.items():
                    if (map_name, raw) in resolution.read:
                        continue
                    if map_name == "conf" and not (one_source and celery_like(raw, view.namespace,
                                                                               settings_table)):
                        continue
                    view.ignored.append(IgnoredKey(path, assign, map_name, shadowed=read_alone(
                        raw, map_name, auto, view.namespace, settings_table)))
        return view

    def _config_source_settings(self, target: str, kind: str, app_file: FileFacts
                                ) -> Optional[List[Tuple[str, SettingAssign]]]:
        if kind == "unknown":
            return None
        if target == "django.conf:settings" or target == "django.conf.settings":
            module = self._django_settings_module(app_file)
            return self.module_settings(module) if module else None
        module, _, obj = target.partition(":")
        if obj:
            return self._object_settings(f"{module}.{obj}")
        if module in self.modules:
            return self.module_settings(module)
        return self._object_settings(target)

    def _object_settings(self, qualname: str) -> Optional[List[Tuple[str, SettingAssign]]]:
        qualname = self.resolve_symbol(qualname)
        if qualname in self.modules:
            return self.module_settings(qualname)
        module, _, name = qualname.rpartition(".")
        facts = self.modules.get(module)
        if facts is None or name not in facts.class_bases:
            return None
        result: List[Tuple[str, SettingAssign]] = []
        for base in reversed(self.base_chain(qualname)):
            base_module = base.rpartition(".")[0]
            if base_module in self.modules:
                path = self.modules[base_module].path
                result.extend((path, s) for s in self.class_settings(base).values())
        return result

    def module_settings(self, module: str, seen: Optional[set] = None
                        ) -> Optional[List[Tuple[str, SettingAssign]]]:
        """Module-level assignments, star-imported bases first, in file order."""
        facts = self.modules.get(module)
        if facts is None:
            return None
        seen = seen if seen is not None else set()
        if module in seen:
            return []
        seen.add(module)
        result: List[Tuple[str, SettingAssign]] = []
        for imp in facts.imports:
            if imp.star:
                result.extend(self.module_settings(imp.target, seen) or [])
        result.extend((facts.path, s) for s in facts.settings if s.kind == "module")
        return result

    def _django_settings_module(self, app_file: FileFacts) -> Optional[str]:
        if app_file.django_settings_module:
            return app_file.django_settings_module
        candidates = sorted(self.files.values(), key=lambda f: (not f.path.endswith("manage.py"), f.path))
        for facts in candidates:
            if facts.django_settings_module:
                return facts.django_settings_module
        return None

    def app_for_qualname(self, qualname: str) -> Optional[AppView]:
        return self._apps_by_qualname.get(qualname) or self._apps_by_qualname.get(
            self.resolve_symbol(qualname))

    # -- tasks -----------------------------------------------------------------
    def _task_views(self, facts: FileFacts) -> Iterator[TaskView]:
        celery_imported = any(i.target.split(".")[0] == "celery" for i in facts.imports)
        for task in facts.tasks:
            apps = self._task_apps(task, celery_imported)
            if apps is None:
                continue
            yield TaskView(task, facts.path, task.name or task.qualname, apps)

    def _task_apps(self, task: TaskFact, celery_imported: bool) -> Optional[List[AppView]]:
        if task.decorator in ("shared_task", "periodic_task"):
            return list(self.apps)
        if task.decorator in ("app.task", "call"):
            app = self.app_for_qualname(task.app)
            if app is not None:
                return [app]
            last = task.app.rsplit(".", 1)[-1]
            if task.app.startswith("celery.") or (celery_imported and last in APP_NAMES):
                return list(self.apps)
            return None
        if task.decorator == "class":
            chain = self.base_chain(task.qualname)
            if any(base in TASK_BASE_CLASSES for base in chain):
                return list(self.apps)
        return None

    def task_option(self, task: TaskView, key: str) -> Optional[Tuple[Value, str]]:
        """A task option and where it is set: the decorator, or a base class attribute."""
        if key in task.fact.options:
            return task.fact.options[key], "decorator"
        for base in task.fact.bases:
            for klass in self.base_chain(base):
                found = self.class_settings(klass).get(key)
                if found is not None:
                    return found.value, klass
        return None

    def task_option_site(self, task: TaskView, key: str) -> Optional[Tuple[Value, str, Loc, str]]:
        """:meth:`task_option` with where it is written, for findings:
        (value, path, loc, "decorator" or the base class's qualified name)."""
        option = self.task_option(task, key)
        if option is None:
            return None
        value, where = option
        if where == "decorator":
            loc = task.fact.option_locs.get(key)
            return (value, task.path, loc, where) if loc is not None else None
        assign = self.class_settings(where).get(key)
        facts = self.modules.get(where.rpartition(".")[0])
        if assign is None or facts is None:
            return None
        return value, facts.path, assign.loc, where

    def task_setting(self, task: TaskView, key: str) -> Value:
        """The app setting that applies to a task; unknown when its apps disagree."""
        if not task.apps:
            return Value.unknown(f"{key} (no Celery app found)")
        values = [app.value(key) for app in task.apps]
        first = values[0]
        if all(v.known and first.known and v.value == first.value for v in values):
            return first
        return Value.unknown(f"{key} (differs between apps)")

    def task_annotation(self, task: TaskView, key: str) -> Optional[Value]:
        """``key`` as the ``task_annotations`` setting sets it for a task (it overrides
        the task's own options); None when not annotated, unknown when unreadable."""
        setting = self.task_setting(task, "task_annotations")
        if not setting.known:
            return Value.unknown(setting.source)
        tables = setting.value if isinstance(setting.value, list) else [setting.value]
        for table in tables:
            if table is None:
                continue
            if not isinstance(table, dict) or "$call" in table:
                return Value.unknown("task_annotations (not a literal dict)")
            for pattern in (task.name, "*"):
                entry = table.get(pattern)
                if entry is None:
                    continue
                if not isinstance(entry, dict) or "$call" in entry:
                    return Value.unknown("task_annotations (not a literal dict)")
                if key in entry:
                    return Value(True, entry[key])
        return None

    def task_for_dispatch(self, dispatch: Dispatch, facts: Optional[FileFacts] = None
                          ) -> Optional[TaskView]:
        if dispatch.receiver_qualname:
            qualname = self.resolve_symbol(dispatch.receiver_qualname)
            task = self._tasks_by_qualname.get(qualname)
            if task is not None:
                return task
        if dispatch.task_name:
            return self._tasks_by_name.get(dispatch.task_name)
        return None

    def _task_for_beat(self, entry: BeatEntry, facts: FileFacts) -> Optional[TaskView]:
        if entry.task_ref:
            task = self._tasks_by_qualname.get(self.resolve_symbol(entry.task_ref))
            if task is not None:
                return task
        if entry.task:
            return self._tasks_by_name.get(entry.task)
        return None

    def apps_for_dispatch(self, dispatch: DispatchView) -> List[AppView]:
        """The apps whose settings apply to a dispatch: its task's, the app a send_task is
        called on, or the project's only app; [] when that cannot be known."""
        if dispatch.task is not None:
            return dispatch.task.apps
        if dispatch.fact.method == "send_task":
            app = self.app_for_qualname(dispatch.fact.receiver_qualname)
            if app is not None:
                return [app]
        return list(self.apps) if len(self.apps) == 1 else []

    def sends_of(self, task: TaskView) -> Tuple[List[DispatchView], List[BeatView]]:
        """The dispatch sites and beat entries that send a task, in file order."""
        return self._sends.get(task.fact.qualname, ([], []))

    def task_by_name(self, name: str) -> Optional[TaskView]:
        return self._tasks_by_name.get(name)

    def task_by_qualname(self, qualname: str) -> Optional[TaskView]:
        """The task a dotted reference names (``proj.tasks.add``, or a re-export of it)."""
        return self._tasks_by_qualname.get(self.resolve_symbol(qualname))

    # -- routing ---------------------------------------------------------------
    def task_queue(self, task: TaskView) -> Optional[str]:
        """The queue a task is sent to by default, or None when it cannot be known."""
        option = self.task_option(task, "queue")
        if option is not None:
            value = option[0]
            return value.value if value.known and isinstance(value.value, str) else None
        routes = self.task_setting(task, "task_routes")
        if not routes.known:
            return None
        if routes.value:
            routed = _route(routes.value, task.name)
            if routed is _UNKNOWN:
                return None
            if routed is not None:
                return routed
        default = self.task_setting(task, "task_default_queue")
        return default.value if default.known and isinstance(default.value, str) else None


_UNKNOWN = object()


def _route(routes, name: str):
    """Queue from a task_routes value (dict, or list/tuple of dicts), read as Celery's
    MapRoute does: in each table an exact name first, then ``*`` globs in order.
    None means "the default queue"; _UNKNOWN for routers and routes without a queue."""
    tables = routes if isinstance(routes, list) else [routes]
    for table in tables:
        if not isinstance(table, dict) or "$call" in table:
            return _UNKNOWN
        if "*" not in name and name in table:
            return _route_queue(table[name])
        for pattern, route in table.items():
            if "*" in pattern and fnmatch.fnmatchcase(name, pattern):
                return _route_queue(route)
    return None


def _route_queue(route):
    if isinstance(route, str):
        return route
    if isinstance(route, dict) and "$call" not in route:
        if not route:
            return None  # an empty route: Celery falls back to the default queue
        if isinstance(route.get("queue"), str):
            return route["queue"]
    return _UNKNOWN  # a Queue object, or exchange/routing_key only: the broker decides
