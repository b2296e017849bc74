"""celerylint.schedules: the period of a schedule value."""
from __future__ import annotations

import pytest

from celerylint.facts import NO_LOC, BeatEntry, Known, Unknown, Value
from celerylint.schedules import (beat_entry_label, describe_period, describe_seconds,
                                  period_seconds)


def crontab(*args, **kwargs) -> Value:
    return Known({"$call": "celery.schedules.crontab", "args": list(args), "kwargs": kwargs})


def schedule(*args, **kwargs) -> Value:
    return Known({"$call": "celery.schedules.schedule", "args": list(args), "kwargs": kwargs})


@pytest.mark.parametrize("value, seconds", [
    (Known(1), 1.0),
    (Known(0.5), 0.5),
    (Known({"$timedelta": 300.0}), 300.0),
    (schedule(run_every=3), 3.0),
    (schedule(run_every={"$timedelta": 90.0}), 90.0),
    (schedule(7), 7.0),
])
def test_intervals(value, seconds):
    assert period_seconds(value) == seconds


@pytest.mark.parametrize("kwargs, seconds", [
    ({}, 60),                                            # every minute
    ({"minute": "*/5"}, 300),
    ({"minute": "30"}, 3600),                            # hourly
    ({"hour": 4}, 60),                                   # every minute from 04:00 to 04:59
    ({"minute": 0, "hour": "*/3"}, 3 * 3600),
    ({"minute": 0, "hour": 0}, 86400),
    ({"minute": 0, "hour": "23,1"}, 2 * 3600),           # 23:00 -> 01:00 the next day
    ({"minute": 0, "hour": 0, "day_of_week": "mon"}, 7 * 86400),
    ({"minute": "0,30", "hour": "9-17", "day_of_week": "mon-fri"}, 1800),
    ({"minute": [0, 15]}, 900),
    ({"minute": 0, "hour": 12, "day_of_month": "1,2"}, 86400),
    ({"minute": 0, "hour": 0, "day_of_month": 1, "month_of_year": "*/3"}, 90 * 86400),
])
def test_crontab_minimum_gap(kwargs, seconds):
    assert period_seconds(crontab(**kwargs)) == seconds


def test_crontab_positional_fields():
    assert period_seconds(crontab("*/2")) == 120
    assert period_seconds(crontab("0", "*/6")) == 6 * 3600


@pytest.mark.parametrize("value", [
    Unknown("compute()"),
    Known(0),
    Known(-5),
    Known(True),
    Known("10"),
    Known(None),
    schedule(),
    schedule(run_every="soon"),
    Known({"$call": "celery.schedules.solar", "args": ["sunset", 1.0, 2.0], "kwargs": {}}),
    crontab(minute="*/0"),                               # Celery rejects it
    crontab(minute="abc"),
    crontab(minute=0, hour=0, day_of_month=31, month_of_year=2),  # never fires
    crontab("0", minute="5"),                            # a field given twice
    crontab(minute={"a": 1}),                            # a dict: Celery rejects it
    crontab(minute=[[0, 1]]),                            # a nested list: Celery rejects it
    crontab(minute=[0.5]),                               # not plain ints
    crontab(minute=0, month_of_year="jan"),              # Celery <= 5.3 rejects month names
])
def test_unknown_periods(value):
    assert period_seconds(value) is None


@pytest.mark.parametrize("seconds, text", [
    (1, "1 second"), (0.5, "0.5 seconds"), (10.0, "10 seconds"), (90, "90 seconds"),
    (60, "1 minute"), (300, "5 minutes"), (3600, "1 hour"), (7200, "2 hours"), (86400, "1 day"),
])
def test_describe_seconds(seconds, text):
    assert describe_seconds(seconds) == text


def entry(schedule_value: Value, **fields) -> BeatEntry:
    defaults = {
        "loc": NO_LOC,
        "name": None,
        "task": None,
        "task_ref": "",
        "schedule": schedule_value,
        "schedule_loc": NO_LOC,
        "setting": "beat_schedule",
    }
    defaults.update(fields)
    return BeatEntry(**defaults)


def test_describe_period_marks_crontabs_and_environment_defaults():
    assert describe_period(entry(Known(5)), 5) == "every 5 seconds"
    assert describe_period(entry(crontab(hour=4)), 60) == "as often as every 1 minute"
    overridable = Known(5, overridable=True)
    assert describe_period(entry(overridable), 5) == (
        "every 5 seconds (default of an environment variable)")


def test_beat_entry_label():
    assert beat_entry_label(entry(Known(1), name="poll")) == 'beat entry "poll"'
    assert beat_entry_label(entry(Known(1), task_ref="proj.tasks.poll")) == (
        "periodic task proj.tasks.poll")
    assert beat_entry_label(entry(Known(1), name="proj.legacy.poll",
                                  setting="periodic_task")) == "periodic task proj.legacy.poll"
    assert beat_entry_label(entry(Known(1))) == "periodic task"


@pytest.mark.parametrize("field, spec, numbers", [
    ("minute", "*/15", {0, 15, 30, 45}),
    ("hour", "22-2", {22, 23, 0, 1, 2}),                 # a range wraps around
    ("day_of_week", "fri-mon", {5, 6, 0, 1}),
    ("day_of_week", "Monday", {1}),
    ("day_of_month", "*/10", {1, 11, 21, 31}),
    ("month_of_year", "2-12/5", {2, 7, 12}),
    ("minute", "1-5 and more", {1, 2, 3, 4, 5}),         # Celery ignores text after a match
    ("minute", [0, 0, 30], {0, 30}),
    ("minute", 7, {7}),
])
def test_crontab_fields_expand_as_celery_does(field, spec, numbers):
    from celerylint.schedules import FIELD_RANGES, expand_cronspec

    assert expand_cronspec(spec, *FIELD_RANGES[field]) == numbers
