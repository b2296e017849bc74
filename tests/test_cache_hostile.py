"""Nothing a cache entry holds can crash, hang or change a run.

Every entry of a warm cache is replaced by a hostile one (deeply nested JSON, wrong
types at several depths, extra or missing keys, a symlink to /dev/zero, a FIFO, a
directory, a huge file, invalid UTF-8); the next run, through ``celerylint check`` and
through real flake8, gives the same bytes and exit code as with a clean cache, and
leaves every entry rewritten as a regular file of the right shape.  The cache directory
and its CACHEDIR.TAG / .gitignore are damaged the same way: no write follows a symlink
out of the cache directory, nothing blocks.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from celerylint.facts import from_data, to_data
from conftest import FIXTURES

CACHE = ".celerylint_cache"
TIMEOUT = 60
OLD = 1_600_000_000_000_000_000

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and symlinks: POSIX")


def age(root: Path) -> None:
    """Older than the cache's 'too recent to trust' window: the (size, mtime) fast path."""
    for path in root.rglob("*.py"):
        os.utime(path, ns=(OLD, OLD))


def check(root: Path) -> Tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "celerylint", "check", "--format", "json",
                           "-j", "1"], cwd=root, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


def flake8(root: Path) -> Tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "CEL",
                           "--jobs", "1", "proj"], cwd=root, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert "Traceback" not in done.stderr and "CEL000" not in done.stdout, done.stdout + done.stderr
    return done.returncode, done.stdout, done.stderr


def entries(root: Path) -> List[Path]:
    return sorted((root / CACHE).glob("*.json"))


def assert_entries_rewritten(root: Path) -> None:
    found = entries(root)
    assert found
    for entry in found:
        status = os.lstat(entry)
        assert stat.S_ISREG(status.st_mode), entry
        data = json.loads(entry.read_bytes().decode("utf-8"))
        assert data["format"] == 1
        from_data(data["facts"])  # the strict decoder accepts what was written


# -- hostile entries ------------------------------------------------------------------

def walk(data: Any) -> Iterator[Any]:
    """Every dict and list in JSON data, parents first."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            yield item
            stack.extend(reversed(list(item.values() if isinstance(item, dict) else item)))


def first(data: Any, keys: set) -> Optional[Dict[str, Any]]:
    return next((d for d in walk(data) if isinstance(d, dict) and keys <= d.keys()), None)


LOC = {"line", "col", "end_line", "end_col"}
VALUE = {"known", "value", "source", "overridable"}
SETTING = {"key", "value", "kind", "container"}
DISPATCH = {"method", "receiver", "result_use", "options"}
CALL = {"shape", "qualname", "loc", "keywords"}
FUNCTION = {"name", "loc", "calls", "early_return_line"}


def set_in(keys: set, name: str, value: Any) -> Callable[[Dict[str, Any]], bool]:
    def mutate(entry: Dict[str, Any]) -> bool:
        target = first(entry["facts"], keys)
        if target is None:
            return False
        target[name] = value
        return True
    return mutate


def drop_in(keys: set, name: str) -> Callable[[Dict[str, Any]], bool]:
    def mutate(entry: Dict[str, Any]) -> bool:
        target = first(entry["facts"], keys)
        if target is None:
            return False
        del target[name]
        return True
    return mutate


def set_fact(name: str, value: Any) -> Callable[[Dict[str, Any]], bool]:
    def mutate(entry: Dict[str, Any]) -> bool:
        entry["facts"][name] = value
        return True
    return mutate


def set_entry(name: str, value: Any) -> Callable[[Dict[str, Any]], bool]:
    def mutate(entry: Dict[str, Any]) -> bool:
        entry[name] = value
        return True
    return mutate


def deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def old_unknown(entry: Dict[str, Any]) -> bool:
    """A known value turned into an unknown one of the old shape, which held a None."""
    target = first(entry["facts"], VALUE)
    if target is None:
        return False
    target.update(known=False, value=None)
    return True


def known_value(entry: Dict[str, Any]) -> bool:
    target = next((d for d in walk(entry["facts"])
                   if isinstance(d, dict) and VALUE <= d.keys() and d["known"] is True), None)
    if target is None:
        return False
    target["value"] = deep(600)
    return True


JSON_DAMAGE: Dict[str, Callable[[Dict[str, Any]], bool]] = {
    "line as a string": set_in(LOC, "line", "10"),
    "line as a float": set_in(LOC, "line", 10.0),
    "column as a bool": set_in(LOC, "col", True),
    "line zero": set_in(LOC, "line", 0),
    "negative end line": set_in(LOC, "end_line", -3),
    "known as an int": set_in(VALUE, "known", 1),
    "value nested 600 deep": known_value,
    "source as a list": set_in(VALUE, "source", ["x"]),
    "path as an int": set_fact("path", 5),
    "module as null": set_fact("module", None),
    "tasks as a dict": set_fact("tasks", {}),
    "setting_reads as a string": set_fact("setting_reads", "CELERY"),
    "setting_reads holding an int": set_fact("setting_reads", [1]),
    "noqa as a list": set_fact("noqa", []),
    "noqa key not a line": set_fact("noqa", {"ten": []}),
    "noqa key with spaces": set_fact("noqa", {" 10": []}),
    "noqa codes not strings": set_fact("noqa", {"10": [None]}),
    "version as a string": set_fact("version", "2"),
    "extra key in the facts": set_fact("surprise", 1),
    "extra key in a location": set_in(LOC, "extra", 1),
    "missing key with a default": drop_in(VALUE, "overridable"),
    "missing required key": drop_in(LOC, "end_col"),
    "null where a location is required": set_in({"loc", "keyword", "expr"}, "loc", None),
    # facts of the shape before FACTS_VERSION 5, or kinds outside their Literal types
    "setting kind outside its type": set_in(SETTING, "kind", "conf"),
    "dispatch method outside its type": set_in(DISPATCH, "method", "dealy"),
    "result use outside its type": set_in(DISPATCH, "result_use", "with"),
    "options as a dict holding $unknown": set_in(DISPATCH, "options", {"$unknown": {
        "known": False, "value": None, "source": "**kw", "overridable": False}}),
    "an unknown value holding None": old_unknown,
    "a call with in_with": set_in(CALL, "in_with", False),
    "a function with augmented_attrs": set_in(FUNCTION, "augmented_attrs", []),
    "full as a string": set_entry("full", "yes"),
    "digest as a number": set_entry("digest", 5),
    "stamp of strings": set_entry("stamp", ["1", "2"]),
}


def json_damage(entry_path: Path, mutate: Callable[[Dict[str, Any]], bool]) -> bool:
    entry = json.loads(entry_path.read_bytes())
    if not mutate(entry):
        return False
    entry_path.write_bytes(json.dumps(entry).encode())
    return True


def raw(make: Callable[[bytes], bytes]) -> Callable[[Path], bool]:
    def damage(entry_path: Path) -> bool:
        entry_path.write_bytes(make(entry_path.read_bytes()))
        return True
    return damage


def nested_inside(data: bytes) -> bytes:
    """A real entry whose facts hold a list nested past the JSON parser's recursion."""
    return data.replace(
        b'"facts":{', b'"facts":{"deep":' + b"[" * 100_000 + b"]" * 100_000 + b",", 1
    )


def replace_with(make: Callable[[Path], None]) -> Callable[[Path], bool]:
    def damage(entry_path: Path) -> bool:
        entry_path.unlink()
        make(entry_path)
        return True
    return damage


def huge(path: Path) -> None:
    with open(path, "wb") as out:
        out.truncate(3 * 1024 ** 3)  # sparse: no disk, but reading it would take 3 GB


def symlink_to_valid_copy(path: Path) -> None:
    outside = path.parent.parent / ("outside-" + path.name)
    os.symlink(outside, path)


OTHER_DAMAGE: Dict[str, Callable[[Path], bool]] = {
    "nested 200000 deep": raw(lambda data: b"[" * 200_000 + b"]" * 200_000),
    "nested past the parser inside an entry": raw(nested_inside),
    "invalid UTF-8": raw(lambda data: data.replace(b'"facts"', b'"f\xffacts"', 1)),
    "truncated": raw(lambda data: data[: len(data) // 2]),
    "symlink to /dev/zero": replace_with(lambda path: os.symlink("/dev/zero", path)),
    "symlink to a valid entry outside": replace_with(symlink_to_valid_copy),
    "FIFO": replace_with(lambda path: os.mkfifo(path)),
    "directory": replace_with(lambda path: (path.mkdir(), (path / "x").write_text("x"))),
    "huge file": replace_with(huge),
}

ALL_DAMAGE = sorted(JSON_DAMAGE) + sorted(OTHER_DAMAGE)


def applies(kind: str, entry: Path) -> bool:
    """Damage `entry` with `kind`; False (entry untouched) when the kind does not fit it."""
    if kind in JSON_DAMAGE:
        return json_damage(entry, JSON_DAMAGE[kind])
    if kind == "symlink to a valid entry outside":
        shutil.copyfile(entry, entry.parent.parent / ("outside-" + entry.name))
    return OTHER_DAMAGE[kind](entry)


def damage_some(root: Path, kinds: List[str]) -> Dict[str, str]:
    """Each kind on its own entry, as many as there are entries that fit: {entry: kind}."""
    free = entries(root)
    placed: Dict[str, str] = {}
    for kind in kinds:
        for entry in free:
            if applies(kind, entry):
                placed[entry.name] = kind
                free.remove(entry)
                break
    return placed


class WarmTree:
    """A fixture tree with a warm cache, restored before each run at the same absolute
    path (entries are named after it) with the same stamps."""

    def __init__(self, base: Path, fixture: str, run: Callable[[Path], Tuple[int, str, str]]):
        self.root = base / fixture
        self.pristine = base / "pristine"
        self.run = run
        shutil.copytree(FIXTURES / fixture, self.root)
        age(self.root)
        self.run(self.root)
        self.expected = self.run(self.root)
        assert self.expected[0] == 1 and "CEL" in self.expected[1]
        shutil.copytree(self.root, self.pristine, symlinks=True)

    def restore(self) -> Path:
        shutil.rmtree(self.root)
        shutil.copytree(self.pristine, self.root, symlinks=True)
        return self.root

    def assert_entries_as_pristine(self, placed: Dict[str, str]) -> None:
        """Every damaged entry was refused and written again: a damaged entry still in
        place was believed."""
        for name, kind in placed.items():
            now = self.root / CACHE / name
            assert stat.S_ISREG(os.lstat(now).st_mode), kind
            assert now.read_bytes() == (self.pristine / CACHE / name).read_bytes(), kind


def assert_every_kind_changes_nothing(tree: WarmTree) -> None:
    pending = list(ALL_DAMAGE)
    while pending:
        root = tree.restore()
        placed = damage_some(root, pending)
        assert placed, f"no entry fits {pending}"
        assert tree.run(root) == tree.expected, f"damaged entries: {placed}"
        assert_entries_rewritten(root)
        tree.assert_entries_as_pristine(placed)
        pending = [kind for kind in pending if kind not in placed.values()]


@pytest.fixture(scope="module")
def cli_tree(tmp_path_factory) -> WarmTree:
    return WarmTree(tmp_path_factory.mktemp("cli"), "cli_project", check)


@pytest.mark.slow
def test_hostile_entries_through_the_cli(cli_tree):
    assert_every_kind_changes_nothing(cli_tree)


@pytest.mark.slow
def test_hostile_entries_through_flake8(tmp_path_factory):
    assert_every_kind_changes_nothing(WarmTree(tmp_path_factory.mktemp("flake8"),
                                               "flake8_project", flake8))


def test_a_damaged_entry_is_really_read(cli_tree):
    """The runs above would prove nothing if damaged entries were never looked at: a
    forged entry of the right shape is believed (hence the damage must be caught by
    its shape, not by chance)."""
    root = cli_tree.restore()
    for entry in entries(root):
        data = json.loads(entry.read_bytes())
        if data["facts"]["path"] == "proj/broken.py":
            data["facts"]["error"] = "forged"
            entry.write_bytes(json.dumps(data).encode())
    assert "forged" in check(root)[1]


# -- the cache directory and its marker files ------------------------------------------

@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "cli_project", root)
    age(root)
    return root


@pytest.fixture
def cli_expected(cli_tree) -> Tuple[int, str, str]:
    return cli_tree.expected


def refused_as_a_symlink(tree: Path, expected: Tuple[int, str, str]) -> Tuple[int, str, str]:
    """The clean run's result, with the CLI's one-line warning that the cache is not used."""
    warning = (f"celerylint: warning: not using the cache in {tree / CACHE}: "
               "it is a symbolic link\n")
    return expected[0], expected[1], warning + expected[2]


@pytest.mark.slow
def test_cache_directory_as_a_symlink_is_not_followed(tree, tmp_path, cli_expected):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tree / CACHE).symlink_to(elsewhere, target_is_directory=True)

    assert check(tree) == refused_as_a_symlink(tree, cli_expected)
    assert check(tree) == refused_as_a_symlink(tree, cli_expected)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.slow
def test_cache_directory_as_a_dangling_symlink_is_not_followed(tree, tmp_path, cli_expected):
    (tree / CACHE).symlink_to(tmp_path / "not-yet")

    assert check(tree) == refused_as_a_symlink(tree, cli_expected)
    assert not (tmp_path / "not-yet").exists()


@pytest.mark.slow
def test_cache_directory_as_a_fifo(tree, cli_expected):
    os.mkfifo(tree / CACHE)
    assert check(tree) == cli_expected
    assert stat.S_ISFIFO(os.lstat(tree / CACHE).st_mode)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["symlink outside", "dangling symlink outside",
                                  "symlink to /dev/zero", "FIFO", "directory"])
def test_marker_files_never_lead_outside(tree, tmp_path, cli_expected, kind):
    cache = tree / CACHE
    cache.mkdir()
    for name in ("CACHEDIR.TAG", ".gitignore"):
        outside = tmp_path / ("outside-" + name)
        marker = cache / name
        if kind == "symlink outside":
            outside.write_bytes(b"precious\n")
            marker.symlink_to(outside)
        elif kind == "dangling symlink outside":
            marker.symlink_to(outside)
        elif kind == "symlink to /dev/zero":
            marker.symlink_to("/dev/zero")
        elif kind == "FIFO":
            os.mkfifo(marker)
        else:
            marker.mkdir()

    # A directory without celerylint's own CACHEDIR.TAG may be someone else's: not used.
    code, stdout, stderr = check(tree)
    assert (code, stdout) == cli_expected[:2]
    assert stderr == (f"celerylint: warning: not using the cache in {cache}: it holds other "
                      "files and no CACHEDIR.TAG written by celerylint\n") + cli_expected[2]

    for name in ("CACHEDIR.TAG", ".gitignore"):
        outside = tmp_path / ("outside-" + name)
        if kind == "symlink outside":
            assert outside.read_bytes() == b"precious\n"
        else:
            assert not outside.exists()
    assert not entries(tree)  # nothing written there


@pytest.mark.slow
def test_an_entry_symlinked_outside_is_replaced_not_written_through(tree, tmp_path, cli_expected):
    check(tree)
    outside = tmp_path / "outside.json"
    outside.write_bytes(b"precious\n")
    for entry in entries(tree):
        entry.unlink()
        entry.symlink_to(outside)
    for path in tree.rglob("*.py"):
        os.utime(path, ns=(OLD + 10**9, OLD + 10**9))  # stale stamps: entries are stored again

    assert check(tree) == cli_expected
    assert outside.read_bytes() == b"precious\n"
    assert_entries_rewritten(tree)


def test_entries_larger_than_the_cap_are_not_written(tmp_path, monkeypatch):
    from celerylint import cache as cache_module
    from celerylint.cache import FactsCache, text_digest
    from celerylint.facts import FileFacts

    monkeypatch.setattr(cache_module, "MAX_ENTRY_BYTES", 2000)
    path = tmp_path / "a.py"
    path.write_text("x = 1\n", encoding="utf-8")
    os.utime(path, ns=(OLD, OLD))
    cache = FactsCache(tmp_path / ".celerylint_cache")
    small = FileFacts(path="a.py", module="a")
    big = FileFacts(path="a.py", module="a", setting_reads=["X" * 5000])
    cache.store(path, "ctx", path.stat(), text_digest("x = 1\n"), big, True)
    assert cache.lookup_stat(path, "ctx", path.stat(), True) is None
    cache.store(path, "ctx", path.stat(), text_digest("x = 1\n"), small, True)
    assert cache.lookup_stat(path, "ctx", path.stat(), True) == (
        small,
        True,
        text_digest("x = 1\n"),
    )


# -- the strict decoder ---------------------------------------------------------------

FIXTURE_FILES = sorted(FIXTURES.rglob("*.py"))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_the_decoder_accepts_every_entry_the_extractor_writes(path):
    """A refused entry of our own would be a silent cache miss on every run."""
    from celerylint.parse import parse_and_extract

    text = path.read_bytes().decode("utf-8", "replace")
    facts = parse_and_extract(text, "x.py", "x", False)
    assert from_data(json.loads(json.dumps(to_data(facts)))) == facts


def filled_facts():
    """Facts with every field holding something (every kind of value, options read and not)."""
    from celerylint.facts import (AppBinding, AppFact, Arg, BeatEntry, Call, CallSwitch,
                                  ConfigSource, CrontabFact, Dispatch, Expr, FileFacts,
                                  FunctionFact, ImportFact, Known, Loc, NoqaComment, Options,
                                  SettingAssign, SettingsInclude, TaskFact, TaskPreset, Unknown)

    loc = Loc(1, 2, 3, 4)
    known = Known({"$call": "kombu.Queue", "args": ["q", 1.5, None, True],
                   "kwargs": {"x": {"$timedelta": 3.0}, "y": [[1]]}}, "", True)
    facts = FileFacts(
        path="p.py",
        module="p",
        error="e",
        error_loc=loc,
        internal_error=None,
        imports=[ImportFact("a", "b.a", True, 3)],
        apps=[AppFact("app", "p.app", None, loc, "celery.Celery", "CELERY", True)],
        config_sources=[ConfigSource("p.app", "s", "string", None, loc)],
        settings=[SettingAssign("k", known, loc, "module", "p.app", "C", False, True)],
        class_bases={"C": ["object"]},
        tasks=[
            TaskFact(
                "f",
                "p.f",
                loc,
                "shared_task",
                "",
                "n",
                Options({"o": Unknown("x")}),
                {"o": loc},
                ["b"],
                True,
                "f",
                "celery.shared_task",
                "p.preset",
                True,
                [Known(1), Unknown("x")],
                [loc, loc],
            )
        ],
        presets=[
            TaskPreset("preset", loc, "both", "p.app.task", "app.task", "p.app",
                       Options({"acks_late": Known(True)}, "kw.update(...)"), {"acks_late": loc},
                       {"ignore_result": Known(True)}, ["p.Base"], ["name"], {"name": "name"},
                       True, ["run_every"], "run_every")
        ],
        functions=[
            FunctionFact(
                "f", loc, [Call("a()", "a", loc, ["k"], CallSwitch("DELAY", Known(0)))], 3, ["w"]
            )
        ],
        dispatches=[
            Dispatch(
                loc,
                "delay",
                "f",
                "p.f",
                "n",
                [Arg(loc, "k", Expr("s", "q", "src", 10, "v", 2))],
                Options({"countdown": Known(5)}, "**kw"),
                "discarded",
                "g",
            )
        ],
        beat=[
            BeatEntry(
                loc,
                "b",
                "t",
                "p.t",
                Known(1.0),
                loc,
                "beat_schedule",
                Options({}, "OPTIONS"),
                "p.app",
                "p.const.EVERY",
            )
        ],
        django_settings_module="s",
        setting_reads=["CELERY_X"],
        noqa={1: [], 12: ["CEL101"]},
        conf_reads=["x"],
        crontabs=[CrontabFact(loc, "CrontabSchedule", {"hour": Known("4")}, True)],
        django_configuration="Dev",
        bindings=[AppBinding("p.f.app", "p.f", "param", 3, 1, "app")],
        includes=[SettingsInclude("split", "p.parts.*", True, 4, "optional('parts/*.py')")],
        noqa_comments=[NoqaComment(loc, ["E501", "CEL101"], 11, 12)],
    )
    return facts


def test_the_decoder_accepts_every_field_filled():
    facts = filled_facts()
    assert from_data(json.loads(json.dumps(to_data(facts)))) == facts


def test_values_round_trip_known_and_unknown_apart():
    """A known None and an unknown value are different data, each decoded as what it was."""
    from celerylint.facts import Known, Unknown

    facts = filled_facts()
    facts.settings[0].value = Known(None, "None")
    facts.settings.append(dataclasses.replace(facts.settings[0], value=Unknown("None")))
    data = json.loads(json.dumps(to_data(facts)))
    assert [s["value"] for s in data["settings"]] == [
        {"known": True, "value": None, "source": "None", "overridable": False},
        {"known": False, "source": "None"}]
    decoded = from_data(data)
    assert [type(s.value) for s in decoded.settings] == [Known, Unknown]
    assert decoded == facts


OLD_UNKNOWN = {"known": False, "value": None, "source": "**kw", "overridable": False}


@pytest.mark.parametrize("damage", [
    lambda d: d["settings"][0].update(kind="conf"),
    lambda d: d["settings"][0].update(kind=None),
    lambda d: d["config_sources"][0].update(target_kind="str"),
    lambda d: d["tasks"][0].update(decorator="task"),
    lambda d: d["dispatches"][0].update(method="dealy"),
    lambda d: d["dispatches"][0].update(method=["delay"]),
    lambda d: d["dispatches"][0].update(result_use="with"),
    lambda d: d["beat"][0].update(setting=""),
    lambda d: d.update(error_kind="decode"),
    lambda d: d["dispatches"][0].update(options={"$unknown": OLD_UNKNOWN}),
    lambda d: d["beat"][0].update(options={}),
    lambda d: d["tasks"][0]["options"].update(unreadable=5),
    lambda d: d["tasks"][0]["options"]["values"].update(o=OLD_UNKNOWN),
    lambda d: d["tasks"][0]["options"]["values"]["o"].update(known=True),
    lambda d: d["settings"][0]["value"].update(known=False),
    lambda d: d["functions"][0]["calls"][0].update(in_with=False),
    lambda d: d["functions"][0].update(augmented_attrs=["x.y"]),
], ids=["setting kind", "setting kind null", "target kind", "decorator", "method",
        "method as a list", "result use", "beat setting empty", "error kind",
        "options as a dict holding $unknown", "options as an empty dict", "unreadable as an int",
        "unknown value holding None", "known value without its data", "known false with data",
        "in_with", "augmented_attrs"])
def test_the_decoder_refuses_the_old_shape_and_kinds_outside_their_types(damage):
    from celerylint.facts import InvalidFacts

    facts = filled_facts()
    data = json.loads(json.dumps(to_data(facts)))
    assert from_data(data) == facts
    damage(data)
    with pytest.raises(InvalidFacts):
        from_data(data)




@pytest.mark.parametrize("damage", [
    lambda d: d.update(version=True),
    lambda d: d["noqa"].update({"01": []}),
    lambda d: d["error_loc"].update(line=2 ** 70),
    lambda d: d["settings"][0]["value"].update(value={"$timedelta": "5"}),
    lambda d: d["settings"][0]["value"].update(value={"$call": "x", "args": []}),
    lambda d: d["settings"][0]["value"].update(known=False),  # an unknown value holding data
    lambda d: d["settings"][0]["value"].update(value={1, 2}),  # not JSON data
    lambda d: d["imports"][0].update(line=-1),
    lambda d: d["class_bases"].update(C="object"),
], ids=["bool version", "padded line key", "huge line", "timedelta of a string",
        "call without kwargs", "unknown with data", "a set", "negative line", "str for a list"])
def test_the_decoder_refuses(damage):
    from celerylint.facts import FileFacts, ImportFact, InvalidFacts, Known, Loc, SettingAssign

    facts = FileFacts(path="p.py", module="p", error_loc=Loc(1, 1, 1, 1),
                      imports=[ImportFact("a", "b", False, 1)],
                      settings=[SettingAssign("k", Known([1]), Loc(1, 1, 1, 1), "module")],
                      class_bases={"C": ["object"]})
    data = to_data(facts)
    assert from_data(data) == facts
    damage(data)
    with pytest.raises(InvalidFacts):
        from_data(data)
