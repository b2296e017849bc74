"""The facts' types say what a fact can hold, and mypy holds the code to them.

Kinds are closed ``Literal`` types, a value is :class:`Known` or :class:`Unknown` (only
a known one has data), and unreadable options are a field of :class:`Options`.  mypy
(run here on a probe and on the package) reports code that reads an unknown value's
data, compares a kind with a string outside its type, or builds a fact of a wrong kind.
"""
from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import typing
from pathlib import Path
from typing import List

import pytest

from celerylint.extract.names import BEAT_KEYS, CANVAS_FUNCS, DISPATCH_METHODS
from celerylint.facts import (BeatSource, DispatchMethod, Known, Options, SettingKind, Unknown,
                              from_data, to_data)
from celerylint.project.index import SOURCE_RANK
from conftest import REPO

MYPY_FLAGS = ["--strict-equality", "--check-untyped-defs", "--no-error-summary",
              "--hide-error-context", "--show-error-codes"]


def mypy(paths: List[str], cache: Path) -> List[str]:
    """mypy's error lines for `paths` (relative to the repository, or absolute)."""
    done = subprocess.run([sys.executable, "-m", "mypy", *MYPY_FLAGS, "--cache-dir", str(cache),
                           *paths], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MYPYPATH": str(REPO)})
    assert done.returncode in (0, 1), done.stderr
    return [line for line in done.stdout.splitlines() if ": error:" in line]


PROBE = '''
from celerylint.facts import NO_LOC, Dispatch, Known, Options, SettingAssign, Unknown, Value


def unnarrowed(value: Value) -> object:
    return value.value  # error: union-attr


def narrowed(value: Value) -> object:
    if not value.known:
        return value.source
    return value.value


def isinstance_narrowed(value: Value) -> object:
    return value.value if isinstance(value, Known) else None


def misspelt_kind(dispatch: Dispatch) -> bool:
    return dispatch.method == "dealy"  # error: comparison-overlap


def kind_outside_its_type() -> SettingAssign:
    return SettingAssign("k", Known(1), NO_LOC, "conf")  # error: arg-type


def unknown_holding_data() -> Value:
    return Unknown("x", 5)  # error: call-arg


def options_as_a_dict(options: Options) -> bool:
    return "$unknown" in options  # error: operator
'''


def test_mypy_reports_what_the_fact_types_forbid(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    errors = mypy([str(probe)], tmp_path / "cache")
    expected = [(number, line.rpartition("# error: ")[2])
                for number, line in enumerate(PROBE.splitlines(), start=1) if "# error: " in line]
    found = [(int(m.group(1)), m.group(2)) for m in
             (re.match(r"[^:]*probe\.py:(\d+): error: .*\[([a-z-]+)\]$", e) for e in errors) if m]
    assert found == expected, "\n".join(errors)


def test_the_package_reads_values_and_kinds_as_their_types_say(tmp_path):
    """No code reads an unknown value's data, compares a kind outside its type or treats
    Options as a dict (other, older mypy complaints about the package are not this test's)."""
    errors = mypy(["celerylint", "rules"], tmp_path / "cache")
    ours = [e for e in errors if re.search(r"\b(Known|Unknown|Options)\b|Literal\[", e)]
    assert ours == []


def test_an_unknown_value_holds_no_data_and_is_no_known_none():
    unknown = Unknown("os.environ['X']")
    assert not unknown.known and not hasattr(unknown, "value")
    assert Known(None) != Unknown() and Known(None).known is True
    with pytest.raises(TypeError):
        Known(1, known=False)  # type: ignore[call-arg]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Known(1).value = 2  # type: ignore[misc]


def test_options_may_set_a_key_they_could_not_read():
    read = Options({"queue": Known("q")})
    assert read.may_set("queue") and not read.may_set("expires")
    spread = Options({"queue": Known("q")}, "**options")
    assert spread.may_set("expires")
    later = Options({"queue": Known("r"), "expires": Known(5)})
    read.update(later)
    assert read == Options({"queue": Known("r"), "expires": Known(5)})
    read.update(Options({}, "**more"))
    assert read.unreadable == "**more" and read.values["queue"] == Known("r")
    read.update(Options({"priority": Known(1)}))
    assert read.unreadable == "**more"  # what could not be read stays unread


def test_the_names_the_extractor_stores_are_members_of_their_kinds():
    assert set(DISPATCH_METHODS.values()) | set(CANVAS_FUNCS.values()) | {"signature()"} == set(
        typing.get_args(DispatchMethod))
    assert set(BEAT_KEYS.values()) | {"add_periodic_task", "periodic_task"} == set(
        typing.get_args(BeatSource))
    assert set(SOURCE_RANK) == set(typing.get_args(SettingKind))


def test_every_kind_round_trips_through_the_cache_decoder():
    from celerylint.facts import Dispatch, NO_LOC, FileFacts

    for method in typing.get_args(DispatchMethod):
        facts = FileFacts("a.py", "a", dispatches=[Dispatch(NO_LOC, method, "t", "a.t")])
        assert from_data(to_data(facts)) == facts
