"""How often a beat schedule fires, from its statically evaluated value.

A schedule :class:`~celerylint.facts.Value` is a number of seconds, a
``{"$timedelta": seconds}``, or a tagged call to ``celery.schedules.schedule``,
``crontab`` or ``solar``.  :func:`period_seconds` gives the shortest time
between two runs, or None when it cannot be known statically.

Crontab fields are parsed by Celery's own ``celery.schedules.crontab`` (it only
parses its arguments); this module only walks the expanded sets to find the
smallest gap between consecutive firing times.
"""
from __future__ import annotations

import datetime
from functools import lru_cache
from typing import Any, FrozenSet, Optional, Tuple

from celerylint.facts import BeatEntry, Value, as_seconds

CRONTAB = "celery.schedules.crontab"
SCHEDULE = "celery.schedules.schedule"
CRONTAB_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")
MINUTES_PER_DAY = 24 * 60
# The Gregorian calendar repeats every 28 years between 1901 and 2099, so these
# years hold every combination of weekday, day of month, month and leap day;
# one extra year covers the gap from the end of a cycle into the next one.
CALENDAR_START = datetime.date(2000, 1, 1)
CALENDAR_END = datetime.date(2029, 1, 1)
ALL_WEEKDAYS = frozenset(range(7))
ALL_MONTH_DAYS = frozenset(range(1, 32))
ALL_MONTHS = frozenset(range(1, 13))


def period_seconds(value: Value) -> Optional[float]:
    """Shortest time in seconds between two runs of a schedule, or None when unknown.

    Numbers and timedeltas are the period itself; ``schedule(run_every=...)``
    its ``run_every``; a crontab the smallest gap between consecutive firing
    times (``crontab(hour=4)`` fires every minute from 04:00 to 04:59: 60
    seconds).  Solar schedules, unknown values and schedules that never fire
    are None.
    """
    if not value.known:
        return None
    schedule = value.value
    if isinstance(schedule, dict) and "$call" in schedule:
        if schedule["$call"] == SCHEDULE:
            return _positive(as_seconds(_run_every(schedule)))
        if schedule["$call"] == CRONTAB:
            return crontab_min_gap(schedule.get("args", []), schedule.get("kwargs", {}))
        return None
    return _positive(as_seconds(schedule))


def is_crontab(value: Value) -> bool:
    return value.known and isinstance(value.value, dict) and value.value.get("$call") == CRONTAB


def _positive(seconds: Optional[float]) -> Optional[float]:
    return seconds if seconds is not None and seconds > 0 else None


def _run_every(schedule: dict) -> Any:
    kwargs = schedule.get("kwargs", {})
    if "run_every" in kwargs:
        return kwargs["run_every"]
    args = schedule.get("args", [])
    return args[0] if args else None


def crontab_min_gap(args: list, kwargs: dict) -> Optional[float]:
    """Smallest gap in seconds between consecutive runs of ``crontab(*args, **kwargs)``."""
    fields = dict(zip(CRONTAB_FIELDS, args))
    for key, spec in kwargs.items():
        if key in CRONTAB_FIELDS:
            if key in fields:
                return None  # given twice: crontab() itself would raise
            fields[key] = spec
    expanded = _expand(tuple(sorted((k, _hashable(v)) for k, v in fields.items())))
    if expanded is None:
        return None
    minutes = _min_gap_minutes(*expanded)
    return None if minutes is None else minutes * 60.0


def _hashable(spec: Any) -> Any:
    return tuple(spec) if isinstance(spec, list) else spec


@lru_cache(maxsize=256)
def _expand(fields: Tuple[Tuple[str, Any], ...]) -> Optional[Tuple[FrozenSet[int], ...]]:
    """Celery's expansion of each crontab field, or None when Celery rejects it."""
    try:
        from celery.schedules import crontab

        parsed = crontab(**{k: (list(v) if isinstance(v, tuple) else v) for k, v in fields})
        sets = tuple(frozenset(getattr(parsed, name)) for name in CRONTAB_FIELDS)
    except Exception:  # any spec Celery cannot parse: the schedule is unknown
        return None
    if not all(s and all(isinstance(x, int) and not isinstance(x, bool) for x in s) for s in sets):
        return None
    return sets


@lru_cache(maxsize=256)
def _min_gap_minutes(minute: FrozenSet[int], hour: FrozenSet[int], day_of_week: FrozenSet[int],
                     day_of_month: FrozenSet[int], month_of_year: FrozenSet[int]) -> Optional[int]:
    times = sorted(h * 60 + m for h in hour for m in minute)
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    if not times:
        return None
    if day_of_week == ALL_WEEKDAYS and day_of_month == ALL_MONTH_DAYS and month_of_year == ALL_MONTHS:
        return min(gaps + [MINUTES_PER_DAY + times[0] - times[-1]])
    # Celery runs on a date only when month, day of month AND weekday all match.
    days = []
    day = CALENDAR_START
    while day < CALENDAR_END:
        if (day.month in month_of_year and day.day in day_of_month
                and day.isoweekday() % 7 in day_of_week):
            days.append(day.toordinal())
        day += datetime.timedelta(days=1)
    if not days:
        return None
    if len(days) > 1:
        closest_days = min(later - earlier for earlier, later in zip(days, days[1:]))
        gaps.append(closest_days * MINUTES_PER_DAY + times[0] - times[-1])
    return min(gaps) if gaps else None


def describe_seconds(seconds: float) -> str:
    """``1 second``, ``30 seconds``, ``5 minutes``, ``3 hours``, ``2.5 seconds``."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            return _plural(seconds / size, unit)
    return _plural(seconds, "second")


def _plural(amount: float, unit: str) -> str:
    text = format_number(amount)
    return f"{text} {unit}" if text == "1" else f"{text} {unit}s"


def format_number(amount: float) -> str:
    """``10`` for 10.0, ``2.5`` for 2.5: how a number of seconds reads in code."""
    if float(amount).is_integer():
        return str(int(amount))
    return f"{amount:.3f}".rstrip("0").rstrip(".")


def beat_entry_label(entry: BeatEntry) -> str:
    """How a message names a beat entry: ``beat entry "refresh"``, ``periodic task tasks.sync``."""
    if entry.setting == "periodic_task":
        return f"periodic task {entry.name}"
    if entry.name:
        return f'beat entry "{entry.name}"'
    target = entry.task or entry.task_ref
    return f"periodic task {target}" if target else "periodic task"


def describe_period(entry: BeatEntry, seconds: float) -> str:
    """``every 5 seconds``; ``as often as every 1 minute`` for a crontab; notes an env default."""
    text = f"every {describe_seconds(seconds)}"
    if is_crontab(entry.schedule):
        text = "as often as " + text
    if entry.schedule.overridable:
        text += " (default of an environment variable)"
    return text
