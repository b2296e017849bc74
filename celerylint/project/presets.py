"""Tasks made by task presets (see :mod:`celerylint.extract.presets`): the decorator a
function names is resolved across files to the preset, and the task gets the options
Celery would give it: the preset's own, the decorator call's (as the preset passes them
on), then the preset's defaults.  A decorator that is no preset of the project makes no
task; a preset whose options cannot all be read leaves them unreadable, never unset.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from celerylint.facts import BeatEntry, Known, Loc, Options, TaskFact, TaskPreset, Unknown, Value
from celerylint.project.index import ProjectIndex
from celerylint.project.views import AppView

AppLookup = Callable[[str], Optional[AppView]]
Site = Tuple[Value, str, Loc]  # an option's value, the file and the place it is written
Found = Tuple[str, TaskPreset, str]  # (path of the preset, the preset, the receiving app)


@dataclass
class PresetTask:
    """A task as its preset makes it: the fact with the preset's options merged in, the
    files options written outside the task's own file come from, and its beat entry."""

    fact: TaskFact
    option_paths: Dict[str, str]
    beat: Optional[BeatEntry]


class Presets:
    def __init__(self, index: ProjectIndex):
        self.index = index
        self.by_qualname: Dict[str, Tuple[str, TaskPreset]] = {}
        self.methods: Dict[str, List[Tuple[str, TaskPreset]]] = {}  # method name -> presets
        for facts in index.sorted_files:
            for preset in facts.presets:
                qualname = f"{facts.module}.{preset.name}" if facts.module else preset.name
                self.by_qualname.setdefault(qualname, (facts.path, preset))
                if "." in preset.name:
                    method = preset.name.rpartition(".")[2]
                    self.methods.setdefault(method, []).append((facts.path, preset))

    def find(self, reference: str, app_for: AppLookup) -> Optional[Found]:
        """The preset a decorator names: a module-level one (through re-exports), else a
        method of the app's class (``@celery.periodic_task``); when the app is not known,
        the one method of that name that a Celery subclass of the project defines."""
        found = self.by_qualname.get(reference) or self.by_qualname.get(
            self.index.resolve_symbol(reference))
        if found is not None:
            return found[0], found[1], ""
        owner, _, method = reference.rpartition(".")
        if not owner:
            return None
        app = app_for(owner)
        if app is not None:
            for klass in self.index.base_chain(app.fact.cls):
                found = self.by_qualname.get(f"{klass}.{method}")
                if found is not None:
                    return found[0], found[1], app.fact.qualname
            return None
        candidates = self.methods.get(method, [])
        return (candidates[0][0], candidates[0][1], owner) if len(candidates) == 1 else None

    def task(self, task: TaskFact, path: str, app_for: AppLookup) -> Optional[PresetTask]:
        """The task a preset makes of a decorated function; None when the decorator is no
        preset, or is one used the way it makes no task (``@preset`` of a factory)."""
        found = self.find(task.preset, app_for)
        if found is None:
            return None
        preset_path, preset, receiver = found
        if preset.use != "both" and preset.use != ("called" if task.preset_called else "bare"):
            return None
        sites, unreadable = _options(task, path, preset, preset_path)
        options = Options({key: site[0] for key, site in sites.items()}, unreadable)
        name = options.values.get("name")
        bind = options.values.get("bind")
        fact = dataclasses.replace(
            task, decorator=preset.decorator, app=receiver if preset.app == "self" else preset.app,
            name=name.value if name is not None and name.known and isinstance(name.value, str)
            else None,
            bind=bind is not None and bind.known and bind.value is True,
            bases=list(task.bases) + list(preset.bases), options=options,
            celery_decorator=preset.target if preset.decorator != "app.task" else "",
            option_locs={key: site[2] for key, site in sites.items()})
        paths = {key: site[1] for key, site in sites.items() if site[1] != path}
        return PresetTask(fact, paths, _beat_entry(fact, task, preset))


def _options(task: TaskFact, path: str, preset: TaskPreset, preset_path: str
             ) -> Tuple[Dict[str, Site], Optional[str]]:
    """The options the preset gives a task: its own, the call's as it passes them on,
    then its defaults for what is still unset; and the source of unreadable ones."""
    sites: Dict[str, Site] = {key: (value, preset_path, preset.option_locs.get(key, preset.loc))
                              for key, value in preset.options.values.items()}
    unreadable = preset.options.unreadable
    for position, value in enumerate(task.preset_args):
        param = preset.params[position] if position < len(preset.params) else ""
        if param in preset.param_options:
            sites[preset.param_options[param]] = (value, path, task.preset_arg_locs[position])
    for key, value in task.options.values.items():
        loc = task.option_locs.get(key, task.loc)
        if key in preset.param_options:
            sites[preset.param_options[key]] = (value, path, loc)
        elif preset.forwards and key not in preset.params and key not in preset.dropped:
            # a wrapper that changes its **kwargs in a way that cannot be read may change these
            forwarded = value if unreadable is None else Unknown(unreadable)
            sites[key] = (forwarded, path, loc)
    if task.options.unreadable is not None and preset.forwards:
        unreadable = task.options.unreadable
    for key, value in preset.defaults.items():
        if key not in sites:
            default = value if task.options.unreadable is None else Unknown(task.options.unreadable)
            sites[key] = (default, preset_path, preset.loc)
    return sites, unreadable


def _beat_entry(fact: TaskFact, task: TaskFact, preset: TaskPreset) -> Optional[BeatEntry]:
    """The entry a scheduling preset adds (``@celery.periodic_task(run_every=...)``)."""
    schedule = task.options.values.get(preset.schedule) if preset.schedule else None
    if schedule is None:
        return None
    options = Options()
    given = task.options.values.get("options")
    if given is not None:
        if given.known and isinstance(given.value, dict) and "$call" not in given.value:
            options.values = {key: Known(value) for key, value in given.value.items()}
        else:
            options.unreadable = given.source or "options"
    if task.options.unreadable is not None:
        options.unreadable = task.options.unreadable
    return BeatEntry(loc=task.loc, name=fact.name or fact.qualname, task=fact.name,
                     task_ref=fact.qualname, schedule=schedule,
                     schedule_loc=task.option_locs.get(preset.schedule, task.loc),
                     setting="periodic_task", options=options, app=fact.app)
