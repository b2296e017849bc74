"""What the project view hands rules: apps with resolved settings, tasks, dispatches
and beat entries linked to their task, and where a task option comes from."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from celerylint.facts import AppFact, BeatEntry, Dispatch, SettingAssign, TaskFact, Unknown, Value
from celerylint.tables import NEWEST_KNOWN, SettingTable, table as release_table


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
    ignored: List[IgnoredKey] = field(default_factory=list)
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
            return Unknown(f"{key} (config source {self.unresolved_sources[0]} not resolved)")
        return self.table.default(key)


@dataclass
class TaskView:
    fact: TaskFact
    path: str
    name: str
    apps: List[AppView]
    # options written in another file than the task's (a preset's): key -> that file
    option_paths: Dict[str, str] = field(default_factory=dict)
    beat: Optional[BeatEntry] = None  # the entry a scheduling preset adds for the task


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


@dataclass(frozen=True)
class OptionSource:
    """A task option's value and where Celery takes it from.

    ``where`` is ``decorator`` (the task's own options), ``class`` (a base class
    attribute: ``name`` is the class's qualified name), ``task_annotations``, or
    ``setting`` (the app setting: ``name`` is its key as written)."""

    value: Value
    where: str
    name: str = ""
