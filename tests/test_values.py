"""Static evaluation of setting values (celerylint.values), seen through the
module-level settings facts of small sources."""
from __future__ import annotations

import textwrap
from typing import Dict

import pytest

from celerylint.facts import Unknown, Value
from celerylint.parse import parse_and_extract
from celerylint.facts import as_seconds

PRELUDE = """
import os
from datetime import timedelta
import datetime
from celery.schedules import crontab, schedule, solar
from kombu import Exchange, Queue
import environ
env = environ.Env()
ONCE = 30
TWICE = 1
TWICE = 2
NAME = "redis"
"""


def evaluate(expression: str, extra: str = "") -> Value:
    """The Value of `result = <expression>` after the prelude."""
    text = PRELUDE + textwrap.dedent(extra) + f"result = {expression}\n"
    facts = parse_and_extract(text, "settings.py", "settings", False)
    assert facts.error is None and facts.internal_error is None
    [value] = [s.value for s in facts.settings if s.key == "result"]
    return value


def settings(text: str) -> Dict[str, Value]:
    facts = parse_and_extract(textwrap.dedent(text), "settings.py", "settings", False)
    return {s.key: s.value for s in facts.settings}  # the last write of each key


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("5", 5),
        ("0x10", 16),
        ("1_000", 1000),
        ("2.5", 2.5),
        ("'text'", "text"),
        ("'con' 'cat'", "concat"),
        ("f'plain'", "plain"),
        ("True", True),
        ("None", None),
        ("[1, 'a', None]", [1, "a", None]),
        ("(1, 2)", [1, 2]),
        ("{'a': 1, 'b': (2, 3)}", {"a": 1, "b": [2, 3]}),
        ("{**{'a': 1}, 'b': 2}", {"a": 1, "b": 2}),
        ("dict(a=1, b='x')", {"a": 1, "b": "x"}),
        ("ONCE", 30),
        ("ONCE * 2 + 1", 61),
        ("-ONCE", -30),
        ("10 / 4", 2.5),
        ("7 // 2", 3),
        ("7 % 4", 3),
        ("'redis://' + NAME + ':6379'", "redis://redis:6379"),
        ("not True", False),
        ("timedelta(minutes=5, seconds=30)", {"$timedelta": 330.0}),
        ("timedelta(1)", {"$timedelta": 86400.0}),
        ("datetime.timedelta(hours=ONCE)", {"$timedelta": 108000.0}),
        (
            "crontab(minute='*/5', hour='9-17')",
            {
                "$call": "celery.schedules.crontab",
                "args": [],
                "kwargs": {"minute": "*/5", "hour": "9-17"},
            },
        ),
        ("crontab()", {"$call": "celery.schedules.crontab", "args": [], "kwargs": {}}),
        (
            "schedule(run_every=ONCE)",
            {"$call": "celery.schedules.schedule", "args": [], "kwargs": {"run_every": 30}},
        ),
        (
            "Queue('q', Exchange('x'), routing_key='k')",
            {
                "$call": "kombu.Queue",
                "args": ["q", {"$call": "kombu.Exchange", "args": ["x"], "kwargs": {}}],
                "kwargs": {"routing_key": "k"},
            },
        ),
        ("int('5')", 5),
        ("bool('false')", True),  # the builtin: any non-empty string is true
        ("str(ONCE)", "30"),
    ],
)
def test_known_values(expression, expected):
    value = evaluate(expression)
    assert (value.known, value.value, value.overridable) == (True, expected, False)


@pytest.mark.parametrize("expression, expected", [
    ("os.environ.get('BROKER', 'redis://default')", "redis://default"),
    ("os.getenv('X', 'd')", "d"),
    ("os.environ.setdefault('X', 'set')", "set"),
    ("env('X', default='e')", "e"),
    ("env.int('X', default='5')", 5),
    ("env.bool('DEBUG', default='false')", False),  # the reader parses the text
    ("env.float('RATE', default=1)", 1.0),
    ("int(os.environ.get('X', '5'))", 5),
    ("float(os.getenv('X', '2.5'))", 2.5),
    ("int(os.getenv('N', '2')) * 60", 120),
    ("os.environ.get('HOST', 'h') + ':6379'", "h:6379"),
    ("[os.getenv('Q', 'default')]", ["default"]),
    ("timedelta(seconds=int(os.getenv('S', '30')))", {"$timedelta": 30.0}),
])
def test_environment_defaults_are_known_but_overridable(expression, expected):
    value = evaluate(expression)
    assert (value.known, value.value, value.overridable) == (True, expected, True)


@pytest.mark.parametrize("expression", [
    "os.environ.get('BROKER')",
    "os.environ['X']",
    "os.getenv('X')",
    "env('X')",
    "env.int('X', default='five')",  # the default itself cannot be read as an int
    "int(os.environ.get('X', 'five'))",
    "compute()",
    "settings.FOO",
    "TWICE",  # bound twice: which one holds depends on the code path
    "UNDEFINED",
    "f'redis://{NAME}'",
    "[1, *rest]",
    "{**other, 'a': 1}",
    "{NAME_LOOKUP: 1}",
    "'a' + 1",
    "1 / 0",
    "True + 1",
    "timedelta(minutes=compute())",
    "timedelta(fortnights=1)",
    "crontab(minute=compute())",
    "os.environ.get('X') or 'd'",
    "1 if ONCE else 2",
    "lambda: 1",
])
def test_unknown_values(expression):
    value = evaluate(expression)
    assert isinstance(value, Unknown) and not hasattr(value, "value")
    assert value.source == " ".join(expression.split())


def test_unknown_values_keep_a_short_source():
    long_call = "compute(" + ", ".join(str(i) for i in range(40)) + ")"
    value = evaluate(long_call)
    assert not value.known and len(value.source) == 80 and value.source.endswith("...")


def test_names_bound_once_are_followed_through_other_names():
    values = settings("""
        BASE = 10
        DOUBLE = BASE * 2
        result = DOUBLE + 1
    """)
    assert values["result"].value == 21


def test_names_bound_twice_or_augmented_are_not_followed():
    values = settings("""
        A = 1
        A = 2
        B = 1
        B += 1
        C = 1
        def C(): pass
        result_a = A
        result_b = B
        result_c = C
    """)
    assert not values["result_a"].known
    assert not values["result_b"].known
    assert not values["result_c"].known


def test_names_bound_once_in_a_function_are_not_module_constants():
    values = settings("""
        def f():
            LOCAL = 1
        result = LOCAL
    """)
    assert not values["result"].known


def test_self_reference_does_not_loop():
    values = settings("""
        A = A + 1
    """)
    assert not values["A"].known


@pytest.mark.parametrize("value, seconds", [
    (5, 5.0), (2.5, 2.5), ({"$timedelta": 60.0}, 60.0), (True, None), ("5", None),
    ({"$call": "celery.schedules.crontab", "args": [], "kwargs": {}}, None),
])
def test_as_seconds(value, seconds):
    assert as_seconds(value) == seconds
