"""Beat entries (``beat_schedule``, ``add_periodic_task``, ``@periodic_task``, a scheduling
preset's) linked to the task they run."""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

from celerylint.facts import BeatEntry
from celerylint.project.index import ProjectIndex
from celerylint.project.tasks import TaskLookup
from celerylint.project.views import BeatView, TaskView


def link_beat(index: ProjectIndex, tasks: TaskLookup) -> List[BeatView]:
    """Every beat entry with the task it runs (None when unknown), in file order."""
    made: Dict[str, List[BeatEntry]] = {}
    for made_by in tasks.tasks:
        if made_by.beat is not None:
            made.setdefault(made_by.path, []).append(made_by.beat)
    views = []
    for facts in index.sorted_files:
        for entry in facts.beat:
            task = task_for_beat(tasks, entry)
            if entry.setting == "periodic_task" and task is None:
                continue  # an old @periodic_task the target release does not have
            views.append(BeatView(_with_imported_schedule(index, entry), facts.path, task))
        for entry in made.get(facts.path, []):
            views.append(BeatView(_with_imported_schedule(index, entry), facts.path,
                                  task_for_beat(tasks, entry)))
    return views


def _with_imported_schedule(index: ProjectIndex, entry: BeatEntry) -> BeatEntry:
    """An entry whose schedule is a constant of another module, with that constant's value
    when the module assigns it once, unconditionally."""
    if entry.schedule.known or not entry.schedule_ref:
        return entry
    module, _, name = index.resolve_symbol(entry.schedule_ref).rpartition(".")
    written = [assign for _, assign in index.module_settings(module) or [] if assign.key == name]
    if len(written) != 1 or not written[0].value.known:
        return entry
    return dataclasses.replace(entry, schedule=written[0].value)


def task_for_beat(tasks: TaskLookup, entry: BeatEntry) -> Optional[TaskView]:
    """The task an entry runs: by the task object it names, else by the task's name."""
    if entry.task_ref:
        task = tasks.reference(entry.task_ref)
        if task is not None:
            return task
    if entry.task:
        return tasks.by_name.get(entry.task)
    return None
