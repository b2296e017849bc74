"""How often a beat schedule fires, from its statically evaluated value.

A schedule :class:`~celerylint.facts.Value` is a number of seconds, a
``{"$timedelta": seconds}``, or a tagged call to ``celery.schedules.schedule``,
``crontab`` or ``solar``.  :func:`period_seconds` gives the shortest time
between two runs, or None when it cannot be known statically.

Crontab fields are expanded here as ``celery.schedules.crontab`` expands them in
every supported Celery release (``crontab_parser`` and ``crontab._expand_cronspec``,
unchanged from 3.1 to 5.7 but for month names; tests/test_schedules.py and
tests/test_differential.py compare the two over many specs); then the expanded sets
are walked to find the smallest gap between consecutive firing times.
"""
from __future__ import annotations

import datetime
import re
from functools import lru_cache
from typing import (Any, Callable, Dict, FrozenSet, List, Mapping, Optional, Sequence, Set, Tuple,
                    cast)

from celerylint.facts import BeatEntry, Known, Value, as_seconds

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
# (max_, min_) of each field, as crontab.__init__ passes them to _expand_cronspec.
FIELD_RANGES = {"minute": (60, 0), "hour": (24, 0), "day_of_week": (7, 0),
                "day_of_month": (31, 1), "month_of_year": (12, 1)}
# celery/utils/time.py: the names weekday() knows; month names (yearmonth()) are read
# only by releases after 5.3, so a spec using one has no answer common to every release.
WEEKDAYS = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu",
                                                        "fri", "sat"))}
MONTH_NAMES = frozenset(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                         "nov", "dec"))


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


# The crontab fields that restrict when it runs while ``minute`` stays ``*``.
HOUR_AND_DAY_FIELDS = ("hour", "day_of_week", "day_of_month", "month_of_year")


def every_minute_of(fields: Mapping[str, Value], unreadable: bool = False) -> List[str]:
    """The fields a crontab restricts (``hour`` and the day fields) while it leaves
    ``minute`` out, so that it fires every minute of the hours or days they name
    (``crontab(hour=4)``: 60 runs from 04:00 to 04:59).  Empty when ``minute`` is
    given, may be given (``unreadable`` arguments), or no such field restricts: a field
    restricts unless its value is known to cover every hour or day (``hour="*"``); a
    value that cannot be known still names some hours, as its author meant it to."""
    if unreadable or "minute" in fields:
        return []
    restricting = []
    for name in HOUR_AND_DAY_FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        full = FIELD_RANGES[name]
        if value.known and expand_cronspec(_hashable(value.value), *full) == \
                frozenset(range(full[1], full[0] + full[1])):
            continue
        restricting.append(name)
    return restricting


def crontab_fields(value: Value) -> Optional[Dict[str, Value]]:
    """The fields of a known ``crontab(...)`` schedule value, by name; None for
    other schedules."""
    if not is_crontab(value):
        return None
    assert value.known
    schedule = value.value
    fields: Dict[str, Value] = {name: Known(spec) for name, spec in
                                zip(CRONTAB_FIELDS, schedule.get("args", []))}
    fields.update((name, Known(spec)) for name, spec in schedule.get("kwargs", {}).items()
                  if name in CRONTAB_FIELDS)
    return fields


def is_crontab(value: Value) -> bool:
    return value.known and isinstance(value.value, dict) and value.value.get("$call") == CRONTAB


def _positive(seconds: Optional[float]) -> Optional[float]:
    return seconds if seconds is not None and seconds > 0 else None


def _run_every(schedule: Dict[str, Any]) -> Any:
    kwargs = schedule.get("kwargs", {})
    if "run_every" in kwargs:
        return kwargs["run_every"]
    args = schedule.get("args", [])
    return args[0] if args else None


def crontab_min_gap(args: List[Any], kwargs: Dict[str, Any]) -> Optional[float]:
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
    """A field value as a cache key: lists as tuples, and a dict (which Celery rejects,
    its keys being strings) as None, which Celery rejects too."""
    if isinstance(spec, list):
        return tuple(_hashable(item) for item in spec)
    return None if isinstance(spec, dict) else spec


@lru_cache(maxsize=256)
def _expand(fields: Tuple[Tuple[str, Any], ...]) -> Optional[Tuple[FrozenSet[int], ...]]:
    """Celery's expansion of each crontab field (``*`` for a field not given), or None
    when Celery rejects it or the releases disagree on it."""
    given = dict(fields)
    sets = []
    for name in CRONTAB_FIELDS:
        expanded = expand_cronspec(given.get(name, "*"), *FIELD_RANGES[name])
        if expanded is None:
            return None
        sets.append(expanded)
    return tuple(sets)


class _Rejected(Exception):
    """A crontab field Celery refuses, or one the supported releases read differently."""


def expand_cronspec(spec: Any, max_: int, min_: int = 0) -> Optional[FrozenSet[int]]:
    """crontab._expand_cronspec: the numbers a field fires on, or None when unknown.

    ``spec`` is a field's statically evaluated value: an int, a string, or a list
    (tuples and sets evaluate to lists; Celery turns any iterable into a set).  None
    stands for every spec that Celery rejects (it raises), that holds something other
    than plain ints, that expands to nothing, or that uses a month name."""
    try:
        if isinstance(spec, int):  # bool is an int to Celery too
            result = {spec}
        elif isinstance(spec, str):
            result = _CrontabParser(max_, min_).parse(spec)
        elif isinstance(spec, (list, tuple)):
            if not all(isinstance(item, (int, float)) for item in spec):
                return None  # strings and others make Celery's range check raise
            result = set(spec)
        else:
            return None
        if any(number >= max_ + min_ or number < min_ for number in result):
            return None
    except (_Rejected, ValueError, TypeError):
        return None
    if not result or not all(isinstance(x, int) and not isinstance(x, bool) for x in result):
        return None
    return frozenset(result)


class _CrontabParser:
    """celery.schedules.crontab_parser: ``groups :: expr (',' expr)*`` where
    ``expr :: ('*' | number ('-' number)?) ('/' steps)?``, matched as Celery matches it
    (each pattern from the start of a part only, so text after a match is ignored)."""

    _range = r"(\w+?)-(\w+)"
    _steps = r"/(\w+)?"
    _star = r"\*"

    def __init__(self, max_: int, min_: int) -> None:
        self.max_, self.min_ = max_, min_
        self.patterns: Sequence[Tuple[re.Pattern[str], Callable[[Sequence[Any]], List[int]]]] = (
            (re.compile(self._range + self._steps), self._range_steps),
            (re.compile(self._range), self._expand_range),
            (re.compile(self._star + self._steps), self._star_steps),
            (re.compile("^" + self._star + "$"), self._expand_star),
        )

    def parse(self, spec: str) -> Set[int]:
        numbers: Set[int] = set()
        for part in spec.split(","):
            if not part:
                raise _Rejected("empty part")
            numbers |= set(self._parse_part(part))
        return numbers

    def _parse_part(self, part: str) -> List[int]:
        for pattern, handler in self.patterns:
            found = pattern.match(part)
            if found:
                return handler(found.groups())
        return self._expand_range((part,))

    def _expand_range(self, tokens: Sequence[str]) -> List[int]:
        start = self._expand_number(tokens[0])
        if len(tokens) > 1:
            end = self._expand_number(tokens[1])
            if end < start:  # wraps around the end of the field
                return list(range(start, self.min_ + self.max_)) + list(range(self.min_, end + 1))
            return list(range(start, end + 1))
        return [start]

    def _range_steps(self, tokens: Sequence[Optional[str]]) -> List[int]:
        if len(tokens) != 3 or not tokens[2]:
            raise _Rejected("empty filter")
        return self._expand_range(cast(Sequence[str], tokens[:2]))[::int(tokens[2])]

    def _star_steps(self, tokens: Sequence[Optional[str]]) -> List[int]:
        if not tokens or not tokens[0]:
            raise _Rejected("empty filter")
        return self._expand_star()[::int(tokens[0])]

    def _expand_star(self, *args: Any) -> List[int]:
        return list(range(self.min_, self.max_ + self.min_))

    def _expand_number(self, text: str) -> int:
        if text[0] == "-":
            raise _Rejected("negative numbers not supported")
        try:
            number = int(text)
        except ValueError:
            abbreviation = text[0:3].lower()
            if abbreviation in MONTH_NAMES:
                raise _Rejected("month names are read by some releases only") from None
            if abbreviation not in WEEKDAYS:
                raise
            number = WEEKDAYS[abbreviation]
        if number > self.min_ + self.max_ - 1 or number < self.min_:
            raise _Rejected("out of range")
        return number


@lru_cache(maxsize=256)
def _min_gap_minutes(minute: FrozenSet[int], hour: FrozenSet[int], day_of_week: FrozenSet[int],
                     day_of_month: FrozenSet[int], month_of_year: FrozenSet[int]) -> Optional[int]:
    times = sorted(h * 60 + m for h in hour for m in minute)
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    if not times:
        return None
    if (
        day_of_week == ALL_WEEKDAYS
        and day_of_month == ALL_MONTH_DAYS
        and month_of_year == ALL_MONTHS
    ):
        return min([*gaps, MINUTES_PER_DAY + times[0] - times[-1]])
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
    if entry.schedule.known and entry.schedule.overridable:
        text += " (default of an environment variable)"
    return text
