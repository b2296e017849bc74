"""The project view: every file's facts merged and resolved across files.

Rules read the project only through this view: apps with their resolved
settings, tasks with their app, options and queue, dispatches and beat
entries with the task they name, and the questions rules ask about them
("does this task ack late?"), each answered in one place:

- :mod:`~celerylint.project.index`: the facts indexed once (modules, functions,
  classes, imports, each app's configuration sources);
- :mod:`~celerylint.project.apps`: apps and their settings;
- :mod:`~celerylint.project.tasks`: tasks, their options and settings;
- :mod:`~celerylint.project.routing`: the queue of a task or a message;
- :mod:`~celerylint.project.dispatch` and :mod:`~celerylint.project.beat`: what
  sends each task;
- :mod:`~celerylint.project.schedulers`: which beat scheduler runs an entry.
"""
from __future__ import annotations

from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple

from celerylint.facts import (Call, CallSwitch, CrontabFact, FileFacts, FunctionFact, ImportFact,
                              Loc, Unknown, Value)
from celerylint.project import apps as _apps
from celerylint.project import dispatch as _dispatch
from celerylint.project import routing as _routing
from celerylint.project import schedulers as _schedulers
from celerylint.project import tasks as _tasks
from celerylint.project.beat import link_beat
from celerylint.project.index import ProjectIndex, body_calls
from celerylint.project.tasks import TASK_BASE_CLASSES, TaskLookup
from celerylint.project.views import (AppView, BeatView, DispatchView, IgnoredKey, OptionSource,
                                      ResolvedSetting, TaskView)
from celerylint.settings import lookup_keys, namespace_prefix
from celerylint.tables import NEWEST_KNOWN, table as release_table

__all__ = [
    "TASK_BASE_CLASSES",
    "AppView",
    "BeatView",
    "DispatchView",
    "IgnoredKey",
    "OptionSource",
    "Project",
    "ResolvedSetting",
    "TaskView",
    "body_calls",
]


class Project:
    def __init__(self, files: Iterable[FileFacts], target_version: Tuple[int, int] = NEWEST_KNOWN,
                 *, python_version: Optional[Tuple[int, int]] = None):
        self.index = ProjectIndex(files)
        self.files: Dict[str, FileFacts] = self.index.files
        self.target_version = target_version
        self.settings_table = release_table(target_version)  # the target release's settings
        self.python_version = python_version  # the project's lowest Python, None: not declared
        self.apps: List[AppView] = _apps.build_apps(self.index, target_version)
        self._apps_by_qualname = {a.fact.qualname: a for a in self.apps if a.fact.qualname}
        self.tasks: List[TaskView] = _tasks.build_tasks(self.index, self.apps,
                                                        self.app_for_qualname, target_version)
        self._tasks = TaskLookup(self.index, self.tasks)
        self.dispatches: List[DispatchView] = _dispatch.link_dispatches(self.index, self._tasks)
        self.beat: List[BeatView] = link_beat(self.index, self._tasks)
        self._sends = _dispatch.sends_by_task(self.dispatches, self.beat)
        self._dispatches_by_path: Dict[str, List[DispatchView]] = {}
        self._setting_reads = self.index.setting_reads()
        self._conf_read_keys: Dict[Optional[str], Set[str]] = {}
        for dispatch in self.dispatches:
            self._dispatches_by_path.setdefault(dispatch.path, []).append(dispatch)

    # -- files and symbols -----------------------------------------------------
    def each_file(self) -> List[FileFacts]:
        """Every file's facts in path order, for rules about the files themselves (CEL001)."""
        return list(self.index.sorted_files)

    def function(self, path: str, name: str) -> Optional[FunctionFact]:
        return self.index.function(path, name)

    def task_body(self, task: TaskView) -> Optional[FunctionFact]:
        """The function a task runs (its decorated function, or its ``run`` method)."""
        return self.index.function(task.path, task.fact.function)

    def imports(self, path: str) -> List[ImportFact]:
        """What a file imports (nothing for a file the project does not hold)."""
        return self.index.imports(path)

    def calls(self) -> Iterator[Call]:
        """Every call in every function of the project, in file order."""
        return self.index.calls()

    def setting_reads(self) -> Set[str]:
        """Names the project's code reads from a settings object (``settings.KEY``)."""
        return self.index.setting_reads()

    def reads_back(self, app: AppView, key: str) -> bool:
        """Whether the project's code reads a key of the app's settings sources back:
        ``settings.KEY`` as written, or ``<app>.conf.name`` (``["name"]``, ``.get("name")``)
        looked up as Celery looks it up under the app's namespace
        (``CELERY_WORKER_PIDFILE`` for ``worker_pidfile`` under ``namespace="CELERY"``).
        Reads through any ``.conf`` count for every app: who reads may not be known."""
        if key in self._setting_reads:
            return True
        found = self._conf_read_keys.get(app.namespace)
        if found is None:
            prefix = namespace_prefix(app.namespace)
            found = self._conf_read_keys[app.namespace] = {
                raw for name in self.index.conf_reads()
                for raw in lookup_keys(name, prefix, app.table)}
        return key in found

    def django_setting(self, name: str) -> Optional[Value]:
        """The value the project's Django settings module (``DJANGO_SETTINGS_MODULE``)
        gives ``name``: its last assignment there or in a module it star-imports.  None
        when the module is read and does not set it; unknown when there is no module
        to read (or it is set where it may not apply, under an ``if``)."""
        module = self.index.django_settings_module
        written = self.index.module_settings(module) if module else None
        if written is None:
            return Unknown(f"{name} (no Django settings module to read)")
        found = [assign.value for _, assign in written if assign.key == name]
        return found[-1] if found else None

    def switched_on(self, switch: CallSwitch) -> Optional[bool]:
        """Whether the setting that switches a call (``if settings.SLOW:``,
        ``time.sleep(settings.DELAY)``) is on as the project is configured: None when
        that cannot be known."""
        value = self.django_setting(switch.name)
        if value is None:
            value = switch.default
        return bool(value.value) if value.known else None

    def resolve_symbol(self, qualname: str) -> str:
        return self.index.resolve_symbol(qualname)

    def base_chain(self, qualname: str) -> List[str]:
        """qualname and its project base classes, nearest first."""
        return self.index.base_chain(qualname)

    # -- apps ------------------------------------------------------------------
    def app_for_qualname(self, qualname: str) -> Optional[AppView]:
        return self._apps_by_qualname.get(qualname) or self._apps_by_qualname.get(
            self.index.resolve_symbol(qualname))

    def app_acks_late(self, app: AppView) -> bool:
        return _tasks.app_acks_late(app)

    # -- tasks -----------------------------------------------------------------
    def task_by_name(self, name: str) -> Optional[TaskView]:
        return self._tasks.by_name.get(name)

    def task_by_qualname(self, qualname: str) -> Optional[TaskView]:
        """The task a dotted reference names (``proj.tasks.add``, or a re-export of it)."""
        return self._tasks.reference(qualname)

    def task_option(self, task: TaskView, key: str) -> Optional[Tuple[Value, str]]:
        return _tasks.task_option(self.index, task, key)

    def task_option_site(self, task: TaskView, key: str) -> Optional[Tuple[Value, str, Loc, str]]:
        return _tasks.task_option_site(self.index, task, key)

    def task_setting(self, task: TaskView, key: str) -> Value:
        return _tasks.task_setting(task, key)

    def task_annotation(self, task: TaskView, key: str) -> Optional[Value]:
        return _tasks.task_annotation(task, key)

    def written_annotation(self, task: TaskView, key: str) -> Optional[Value]:
        """``key`` as the annotations the project writes set it (unresolved sources aside)."""
        return _tasks.written_annotation(task, key)

    def acks_late(self, task: TaskView) -> Optional[OptionSource]:
        return _tasks.acks_late(self.index, task)

    def task_queue(self, task: TaskView) -> Optional[str]:
        return _routing.task_queue(self.index, task)

    # -- what sends each task --------------------------------------------------
    def sends_of(self, task: TaskView) -> Tuple[List[DispatchView], List[BeatView]]:
        """The dispatch sites and beat entries that send a task, in file order."""
        return self._sends.get(task.fact.qualname, ([], []))

    def dispatches_in(self, path: str) -> List[DispatchView]:
        """The dispatch sites of one file, in file order."""
        return self._dispatches_by_path.get(path, [])

    def apps_for_dispatch(self, dispatch: DispatchView) -> List[AppView]:
        return _dispatch.apps_for_dispatch(dispatch, self.apps, self.app_for_qualname)

    def dispatch_queue(self, dispatch: DispatchView) -> Optional[str]:
        return _routing.dispatch_queue(self.index, dispatch)

    # -- schedules -------------------------------------------------------------
    def crontabs(self) -> List[Tuple[str, CrontabFact]]:
        """Every crontab made in code (``crontab(...)``, django-celery-beat's
        ``CrontabSchedule``), with its file, in file order."""
        return [(facts.path, crontab) for facts in self.index.sorted_files
                for crontab in facts.crontabs]

    def database_scheduler(self, view: BeatView) -> Optional[bool]:
        """Whether django-celery-beat's DatabaseScheduler runs a beat entry (and so keeps
        ``expire_seconds`` of its options but drops ``expires``); None when unknown."""
        return _schedulers.database_scheduler(self.index, view, self.apps)
