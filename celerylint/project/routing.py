"""The queue a task or a message goes to, read as Celery's router reads it."""
from __future__ import annotations

import fnmatch
from typing import Optional, Union

from celerylint.facts import Value
from celerylint.project.index import ProjectIndex
from celerylint.project.tasks import task_option, task_setting
from celerylint.project.views import DispatchView, TaskView



class _Unknown:
    """A route that cannot be read statically (a router, a Queue object, no queue)."""


_UNKNOWN = _Unknown()


def task_queue(index: ProjectIndex, task: TaskView) -> Optional[str]:
    """The queue a task is sent to by default, or None when it cannot be known."""
    option = task_option(index, task, "queue")
    if option is not None:
        return queue_name(option[0])
    routes = task_setting(task, "task_routes")
    if not routes.known:
        return None
    if routes.value:
        routed = _route(routes.value, task.name)
        if isinstance(routed, _Unknown):
            return None
        if routed is not None:
            return routed
    return queue_name(task_setting(task, "task_default_queue"))


def dispatch_queue(index: ProjectIndex, dispatch: DispatchView) -> Optional[str]:
    """The queue a message is sent to: its ``queue=`` option, else its task's queue;
    None when it cannot be known."""
    queue = dispatch.fact.options.values.get("queue")
    if queue is not None:
        return queue_name(queue)
    return task_queue(index, dispatch.task) if dispatch.task is not None else None


def queue_name(value: Value) -> Optional[str]:
    """A queue option's value when it is a queue's name."""
    return value.value if value.known and isinstance(value.value, str) else None


def _route(routes: object, name: str) -> Union[str, _Unknown, None]:
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


def _route_queue(route: object) -> Union[str, _Unknown, None]:
    if isinstance(route, str):
        return route
    if isinstance(route, dict) and "$call" not in route:
        if not route:
            return None  # an empty route: Celery falls back to the default queue
        queue = route.get("queue")
        if isinstance(queue, str):
            return queue
    return _UNKNOWN  # a Queue object, or exchange/routing_key only: the broker decides
