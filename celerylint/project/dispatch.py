"""Dispatch sites (``delay``, ``apply_async``, ``send_task``, signatures) linked to the
task they send and to the apps whose settings apply to the message."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple

from celerylint.facts import Dispatch
from celerylint.project.index import ProjectIndex
from celerylint.project.tasks import TaskLookup
from celerylint.project.views import AppView, BeatView, DispatchView, TaskView

Sends = Tuple[List[DispatchView], List[BeatView]]


def link_dispatches(index: ProjectIndex, tasks: TaskLookup) -> List[DispatchView]:
    """Every dispatch site with the task it sends (None when unknown), in file order."""
    return [DispatchView(d, facts.path, task_for_dispatch(tasks, d))
            for facts in index.sorted_files for d in facts.dispatches]


def task_for_dispatch(tasks: TaskLookup, dispatch: Dispatch) -> Optional[TaskView]:
    """The task a dispatch sends: by the object it is called on, else by the name."""
    if dispatch.receiver_qualname:
        task = tasks.reference(dispatch.receiver_qualname)
        if task is not None:
            return task
    if dispatch.task_name:
        return tasks.by_name.get(dispatch.task_name)
    return None


def apps_for_dispatch(dispatch: DispatchView, apps: List[AppView],
                      app_for: Callable[[str], Optional[AppView]]) -> List[AppView]:
    """The apps whose settings apply to a dispatch: its task's, the app a send_task is
    called on, or the project's only app; [] when that cannot be known."""
    if dispatch.task is not None:
        return dispatch.task.apps
    if dispatch.fact.method == "send_task":
        app = app_for(dispatch.fact.receiver_qualname)
        if app is not None:
            return [app]
    return list(apps) if len(apps) == 1 else []


def sends_by_task(dispatches: List[DispatchView], beat: List[BeatView]) -> Dict[str, Sends]:
    """Task qualified name -> (dispatch sites, beat entries) that send it, in file order."""
    sends: Dict[str, Sends] = {}
    for dispatch in dispatches:
        if dispatch.task is not None:
            sends.setdefault(dispatch.task.fact.qualname, ([], []))[0].append(dispatch)
    for entry in beat:
        if entry.task is not None:
            sends.setdefault(entry.task.fact.qualname, ([], []))[1].append(entry)
    return sends
