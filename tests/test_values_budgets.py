"""Constant evaluation has budgets: hostile constants finish fast in bounded memory and
their value is unknown; ordinary values stay known; what Python would not compute (or
would compute differently) is unknown, never an approximation.

The hostile cases run in a child process with a cap on its address space and a
timeout, so that a regression fails the test instead of taking the machine down."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any, Dict

import pytest

from celerylint import values
from celerylint.facts import to_data
from celerylint.parse import parse_and_extract

CHILD = r"""
import json, resource, sys, time
from celerylint.facts import to_data
from celerylint.parse import parse_and_extract

def vm_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0

parse_and_extract("x = 1\n", "warm.py", "warm", False)  # load the parser first
text = sys.stdin.read()
limit = vm_bytes() + 768 * 1024 * 1024
if limit > 768 * 1024 * 1024:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
facts = parse_and_extract(text, "settings.py", "settings", False)
elapsed = time.perf_counter() - start
grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
data = json.dumps(to_data(facts))
values = {}
for setting in facts.settings:
    held = setting.value.value if setting.value.known else None
    shown = held if len(json.dumps(held)) < 2000 else "<big>"
    values[setting.key] = [setting.value.known, shown]
print(json.dumps({"elapsed": elapsed, "grown_kb": grown_kb, "error": facts.error,
                  "internal": facts.internal_error, "facts_bytes": len(data), "values": values}))
"""


def evaluate_bounded(source: str) -> Dict[str, Any]:
    """Extract a settings module in a child process: its values, time and memory."""
    if not sys.platform.startswith("linux"):
        pytest.skip("measures memory through /proc")
    done = subprocess.run([sys.executable, "-c", CHILD], input=textwrap.dedent(source),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["error"] is None and result["internal"] is None, result
    return result


def chain(template: str, count: int, first: str) -> str:
    """``first`` then ``count`` lines of ``template`` with {n} and {p} (previous)."""
    lines = [first]
    for n in range(1, count + 1):
        lines.append(template.format(n=n, p=n - 1))
    return "\n".join(lines) + "\n"


HOSTILE = {
    "string doubling 23 deep": (
        chain("a{n} = a{p} + a{p}", 23, 'a0 = "ab"'),
        "a23",
        ("a5", "ab" * 32),
    ),
    "list doubling 23 deep": (chain("a{n} = a{p} + a{p}", 23, "a0 = [1]"), "a23", ("a3", [1] * 8)),
    "nested list doubling 30 deep": (
        chain("a{n} = [a{p}, a{p}]", 30, "a0 = 1"),
        "a30",
        ("a1", [1, 1]),
    ),
    "string times three billion": ("big = 'a' * 3000000000\nok = 'a' * 3\n", "big", ("ok", "aaa")),
    "int times string": ("big = 3000000000 * 'ab'\n", "big", None),
    "list times three billion": ("big = [0] * 3000000000\nok = [0] * 2\n", "big", ("ok", [0, 0])),
    "list of lists multiplied": ("inner = [0] * 1000\nbig = [inner] * 10000000\n", "big", None),
    "repeated squaring": (chain("n{n} = n{p} * n{p}", 40, "n0 = 2"), "n40", ("n5", 2**32)),
    "nested dicts": (
        chain("d{n} = {{'a': d{p}, 'b': d{p}}}", 30, "d0 = {'k': 'v'}"),
        "d30",
        ("d1", {"a": {"k": "v"}, "b": {"k": "v"}}),
    ),
    "dicts spread and nested": (
        chain("d{n} = {{**d{p}, 'x{n}': d{p}, 'y{n}': d{p}}}", 30, "d0 = {'k': 'v'}"),
        "d30",
        None,
    ),
    "tuple doubling": (chain("t{n} = t{p} + t{p}", 30, "t0 = (1, 'x')"), "t30", None),
    "huge format width": ("big = '%0999999999d' % 1\nstar = '%*d' % (999999999, 1)\n", "big", None),
    "huge int literals": ("big = 0x" + "f" * 200_000 + "\nbig = " + "9" * 4000 + "\n", "big", None),
    "huge timedelta": (
        "from datetime import timedelta\nbig = timedelta(days=10 ** 10)\n"
        "big = timedelta(weeks=1e300 * 1e300)\n",
        "big",
        None,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_constants_are_unknown_fast_and_small(name):
    source, unknown_key, known = HOSTILE[name]
    result = evaluate_bounded(source)
    assert result["elapsed"] < 1.0, result["elapsed"]
    assert result["grown_kb"] < 100 * 1024, result["grown_kb"]
    assert result["values"][unknown_key] == [False, None]
    if known is not None:
        key, value = known
        assert result["values"][key] == [True, value]


@pytest.mark.slow
def test_one_big_value_named_many_times_does_not_blow_up_the_facts():
    """Each reference shares the evaluated value in memory, but the facts (and the cache
    entry) hold a copy per setting: their total is bounded per file."""
    source = "BIG = 'x' * 90000\n" + "".join(f"A{n} = BIG\n" for n in range(2000))
    source += "BROKER_URL = 'redis://h'\n"
    result = evaluate_bounded(source)
    assert result["elapsed"] < 2.0
    assert result["facts_bytes"] < 20_000_000
    assert result["values"]["A1"][0] is True
    assert result["values"]["A1999"] == [False, None]
    assert result["values"]["BROKER_URL"] == [True, "redis://h"]  # small values still fit


@pytest.mark.slow
def test_many_big_values_built_from_one_constant_are_bounded():
    source = "BIG = 'x' * 90000\n" + "".join(f"C{n} = [BIG + '{n}']\n" for n in range(3000))
    result = evaluate_bounded(source)
    assert result["elapsed"] < 2.0
    assert result["grown_kb"] < 200 * 1024
    assert result["values"]["C2999"] == [False, None]


def evaluate(expression: str, prelude: str = "") -> values.Value:
    text = textwrap.dedent(prelude) + f"result = {expression}\n"
    facts = parse_and_extract(text, "settings.py", "settings", False)
    assert facts.error is None and facts.internal_error is None
    [value] = [s.value for s in facts.settings if s.key == "result"]
    return value


PRELUDE = """
from datetime import timedelta
HOST = "broker.internal"
PORT = 5672
USER = "guest"
"""


@pytest.mark.parametrize("expression, expected", [
    ("60 * 60 * 24", 86400),
    ("7 * 24 * 60 * 60 * 1000", 604800000),
    ("timedelta(days=1, seconds=60 * 60)", {"$timedelta": 90000.0}),
    ("timedelta(minutes=PORT // 1000)", {"$timedelta": 300.0}),
    ("'amqp://' + USER + '@' + HOST + ':' + str(PORT) + '//'", "amqp://guest@broker.internal:5672//"),
    ("'amqp://%s@%s:%d//' % (USER, HOST, PORT)", "amqp://guest@broker.internal:5672//"),
    ("'redis://%s' % HOST", "redis://broker.internal"),
    ("'%5.2f%%' % 1.5", " 1.50%"),
    ("[HOST] * 3", ["broker.internal"] * 3),
    ("(1, 2) + (3,)", [1, 2, 3]),
    ("{'json', 'yaml'}", ["json", "yaml"]),
    ("1024 * 1024 * 1024 * 1024", 2 ** 40),
    ("not []", True),
    ("bool('')", False),
], ids=lambda v: str(v)[:40])
def test_ordinary_values_stay_known(expression, expected):
    value = evaluate(expression, PRELUDE)
    assert (value.known, value.value) == (True, expected)


@pytest.mark.parametrize("expression", [
    "(1,) + [2]",  # TypeError in Python
    "{1} + {2}",
    "{1, 2} * 2",
    "{1, 1}",  # a set of one element, not the list [1, 1]
    "{'a', ['b']}",  # unhashable
    "b'a' + 'b'",
    "str(b'x')",  # "b'x'"
    "str((1, 2))",  # "(1, 2)", not "[1, 2]"
    "str(timedelta(1))",
    "not timedelta(0)",  # timedelta(0) is false
    "bool(timedelta(0))",
    "{**timedelta(1)}",
    "'%s' % (1, 2)",  # TypeError in Python
    "'%s' % [1, 2]",  # '[1, 2]' in Python: the list is one argument
    "'%s' % {'a': 1}",
    "b'%s' % (b'x',)",
    "{'$timedelta': 5}",  # would read as a timedelta
    "{'$call': 'x', 'args': [], 'kwargs': {}}",
    "int('9' * 5000)",  # an int of 5000 digits is past the budget
    "2 ** 10",  # not evaluated at all
])
def test_values_python_would_not_give_are_unknown(expression):
    value = evaluate(expression, PRELUDE)
    assert not value.known, value


def test_step_budget_makes_the_rest_of_the_file_unknown(monkeypatch):
    monkeypatch.setattr(values, "MAX_STEPS", 40)
    source = "".join(f"S{n} = [1, 2, 3]\n" for n in range(20))
    facts = parse_and_extract(source, "settings.py", "settings", False)
    known = [s.value.known for s in facts.settings]
    assert known[0] and not known[-1]
    assert known == sorted(known, reverse=True)  # once spent, nothing more is evaluated


def test_constants_are_evaluated_once(monkeypatch):
    """Memoised: a name used a thousand times costs one evaluation."""
    calls = []
    real = values.Evaluator._eval_sequence

    def counting(self, node):
        calls.append(node)
        return real(self, node)

    monkeypatch.setattr(values.Evaluator, "_eval_sequence", counting)
    source = "BASE = [1, 2]\n" + "".join(f"A{n} = BASE\n" for n in range(1000))
    facts = parse_and_extract(source, "settings.py", "settings", False)
    assert all(s.value.value == [1, 2] for s in facts.settings)
    assert len(calls) <= 2  # BASE's own setting, and BASE through the name


def test_long_name_chains_are_unknown():
    # the longest chain first: nothing memoised yet shortens it
    source = "".join(f"a{n} = a{n - 1}\n" for n in range(2999, 0, -1)) + "a0 = 1\n"
    facts = parse_and_extract(source, "settings.py", "settings", False)
    assert facts.internal_error is None
    by_key = {s.key: s.value for s in facts.settings}
    assert by_key["a1"].known and by_key["a1"].value == 1
    assert not by_key["a2999"].known


def test_evaluated_values_serialise():
    facts = parse_and_extract(
        chain("a{n} = [a{p}]", 200, "a0 = 1"), "settings.py", "settings", False
    )
    json.dumps(to_data(facts))  # no value deeper than the JSON encoder's recursion
    deepest = {s.key: s.value for s in facts.settings}["a200"]
    assert not deepest.known
