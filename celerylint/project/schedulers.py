"""Which beat scheduler runs a beat entry: django-celery-beat's ``DatabaseScheduler``
copies ``beat_schedule`` entries into its database and keeps, of their options, only
``queue``, ``exchange``, ``routing_key``, ``priority``, ``headers`` and
``expire_seconds`` (``ModelEntry._unpack_options``): an entry's ``expires`` is dropped.

The scheduler is the ``beat_scheduler`` setting of the apps that read the entry (``-S``
on a beat command line is not read: deployment files are not parsed yet)."""
from __future__ import annotations

from typing import List, Optional

from celerylint.project.index import ProjectIndex
from celerylint.project.views import AppView, BeatView

DATABASE_SCHEDULER = "django_celery_beat.schedulers.DatabaseScheduler"
# How a beat_scheduler setting names it: module:attribute, dotted, or the alias that
# django-celery-beat registers in the celery.beat_schedulers entry points.
DATABASE_SCHEDULER_NAMES = frozenset({"django_celery_beat.schedulers:DatabaseScheduler",
                                      DATABASE_SCHEDULER, "django"})
SCHEDULE_SETTINGS = ("beat_schedule", "CELERYBEAT_SCHEDULE", "CELERY_BEAT_SCHEDULE")


def database_scheduler(index: ProjectIndex, view: BeatView, apps: List[AppView]
                       ) -> Optional[bool]:
    """Whether DatabaseScheduler runs a ``beat_schedule`` or ``add_periodic_task`` entry:
    True when it is every reading app's scheduler, False when it is none's, None when
    that cannot be known (no app known to read the entry, a scheduler not resolved,
    apps that disagree) or for ``@periodic_task`` entries."""
    entry = view.fact
    if entry.setting == "periodic_task":
        return None
    readers = _readers(view, apps)
    answers = set()
    for app in readers:
        scheduler = app.value("beat_scheduler")
        if not scheduler.known or not isinstance(scheduler.value, str):
            return None
        answers.add(_is_database_scheduler(index, scheduler.value))
    return answers.pop() if len(answers) == 1 else None


def _readers(view: BeatView, apps: List[AppView]) -> List[AppView]:
    """The apps that read an entry: the app it is written on (for ``add_periodic_task``
    on a receiver that names no app, ``sender`` in an ``on_after_configure`` handler:
    the one app of the entry's file), else the apps whose schedule setting comes from
    the entry's file."""
    entry = view.fact
    if entry.app:
        named = [app for app in apps if app.fact.qualname == entry.app]
        if named or entry.setting != "add_periodic_task":
            return named
        same_file = [app for app in apps if app.path == view.path]
        return same_file if len(same_file) == 1 else []
    found = []
    for app in apps:
        schedule = app.get("beat_schedule")
        if schedule is not None and schedule.path == view.path:
            found.append(app)
    return found


def _is_database_scheduler(index: ProjectIndex, name: str) -> bool:
    if name in DATABASE_SCHEDULER_NAMES:
        return True
    return DATABASE_SCHEDULER in index.base_chain(name.replace(":", "."))
