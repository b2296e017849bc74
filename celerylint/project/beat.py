"""Beat entries (``beat_schedule``, ``add_periodic_task``, ``@periodic_task``) linked
to the task they run."""
from __future__ import annotations

from typing import List, Optional

from celerylint.facts import BeatEntry
from celerylint.project.index import ProjectIndex
from celerylint.project.tasks import TaskLookup
from celerylint.project.views import BeatView, TaskView


def link_beat(index: ProjectIndex, tasks: TaskLookup) -> List[BeatView]:
    """Every beat entry with the task it runs (None when unknown), in file order."""
    return [BeatView(entry, facts.path, task_for_beat(tasks, entry))
            for facts in index.sorted_files for entry in facts.beat]


def task_for_beat(tasks: TaskLookup, entry: BeatEntry) -> Optional[TaskView]:
    """The task an entry runs: by the task object it names, else by the task's name."""
    if entry.task_ref:
        task = tasks.reference(entry.task_ref)
        if task is not None:
            return task
    if entry.task:
        return tasks.by_name.get(entry.task)
    return None
