"""The linter's Celery knowledge against a real Celery release.

tests/celery_probe.py asks a real Celery in a subprocess, under the interpreter named
by CELERYLINT_PROBE_PYTHON (default: this one), and the tests assert that:

- the shipped table of that release (celerylint/data/celery.json, through
  celerylint.tables) is exactly Celery's own: setting names, old<->new maps, old
  keys, defaults (old and new), types and deprecations; that the generator
  (scripts/celery_tables.py) makes the same table from that release's
  celery/app/defaults.py; and that kombu's transport aliases and visibility
  timeouts agree with the shipped kombu facts; that the settings the click command
  line reads by computed names (``worker_pidfile``) are the shipped ``cli_settings``;
- each project under tests/fixtures/settings/, loaded into a real ``Celery`` app:
  every setting the linter resolves from a source is exactly the one Celery takes
  from a source, from the same key, with the same value; the keys the linter reports
  as ignored are exactly those Celery never reads; when Celery refuses the settings
  (old and new names mixed), the linter names the same keys;
- crontab fields expand as Celery's ``crontab`` expands them, over many specs.

The target version is the probed Celery's (CELERYLINT_TARGET_VERSION, when set,
must agree with it: .ci/run sets both for each Celery it installs).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Dict, Set, Tuple

import pytest

from celerylint.engine import facts_for_path
from celerylint.project import AppView, Project
from celerylint.schedules import FIELD_RANGES, MONTH_NAMES, expand_cronspec
from celerylint.tables import DEFAULT_VISIBILITY_TIMEOUT, TRANSPORT_KINDS, _data, table

from conftest import REPO

FIXTURES = Path(__file__).parent / "fixtures" / "settings"
PROBE = Path(__file__).parent / "celery_probe.py"
PROBE_PYTHON = os.environ.get("CELERYLINT_PROBE_PYTHON") or sys.executable
sys.path.insert(0, str(REPO / "scripts"))
import celery_tables  # noqa: E402  (the generator: scripts/celery_tables.py)

# Compared with real Celery releases (.ci/run runs this file against several of them).
pytestmark = pytest.mark.slow


def fixture_names():
    return sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def run_probe(root: Path, *args: str):
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "HOME", "SYSTEMROOT", "TMPDIR", "LANG")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run([PROBE_PYTHON, str(PROBE), *args], env=env, cwd=str(root),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@cache
def real_tables() -> dict:
    return run_probe(FIXTURES, "tables")


def probed_version() -> Tuple[int, int]:
    found = real_tables()["version"]
    version = tuple(int(p) for p in found.split(".")[:2])
    wanted = os.environ.get("CELERYLINT_TARGET_VERSION")
    if wanted:
        assert tuple(int(p) for p in wanted.split(".")[:2]) == version, found
    return version


def linter_app(root: Path, version) -> AppView:
    old = os.getcwd()
    os.chdir(root)
    try:
        files = [facts_for_path(str(p.relative_to(root)), str(root), ["."])
                 for p in sorted(root.rglob("*.py"))]
    finally:
        os.chdir(old)
    project = Project(files, version)
    apps = [a for a in project.apps if a.fact.qualname]
    assert len(apps) == 1, [a.fact.qualname for a in apps]
    return apps[0]


def source_of(kind: str) -> str:
    return "conf" if kind in ("module", "class") else "changes"


def same_key(hit, old_to_new) -> Tuple[str, str]:
    """Celery renames the keys written on the app to the style of the config
    object (detect_settings' ``preconf``); compare those by the setting they name."""
    source, key = hit
    return (source, old_to_new.get(key, key)) if source == "changes" else (source, key)


def mix_error_keys(message: str) -> Set[str]:
    return {line.split("->")[0].strip() for line in message.splitlines() if "->" in line}


@pytest.mark.parametrize("name", fixture_names())
def test_linter_resolves_settings_as_celery_does(name):
    root = FIXTURES / name
    main = linter_app(root, (5, 7)).fact.qualname
    module, _, var = main.rpartition(".")
    celery = run_probe(root, root.as_posix(), f"{module}:{var}")
    version = probed_version()
    assert celery["version"] == real_tables()["version"]
    app = linter_app(root, version)
    old_to_new = table(version).old_to_new

    if celery["error"]:
        assert {a.key for _, a in app.mix_error} == mix_error_keys(celery["error"])
        return
    assert not app.mix_error

    resolved: Dict[str, Tuple[str, str]] = {
        key: same_key((source_of(s.assign.kind), s.assign.key), old_to_new)
        for key, s in app.settings.items()}
    assert resolved == {key: same_key(hit, old_to_new) for key, hit in celery["provided"].items()}
    for key, setting in app.settings.items():
        assert setting.value.known, (key, setting.value)
        assert setting.value.value == celery["values"][key], key

    read = {same_key(hit, old_to_new) for hit in celery["read"]}
    ignored = {same_key((i.source, i.assign.key), old_to_new) for i in app.ignored}
    considered = ignored | set(resolved.values())
    assert ignored == {key for key in considered if key not in read}


def test_fixtures_cover_every_kind_of_source():
    kinds = set()
    for name in fixture_names():
        app = linter_app(FIXTURES / name, (5, 7))
        kinds |= {s.assign.kind for s in app.settings.values()}
        kinds |= {i.assign.kind for i in app.ignored}
    assert {"module", "class", "celery-kwarg", "conf-update", "conf-attr", "conf-item"} <= kinds


# -- the shipped tables ------------------------------------------------------------------

def test_shipped_setting_table_is_the_probed_celerys():
    real = real_tables()
    shipped = table(probed_version())
    assert shipped.version == probed_version(), f"no table for Celery {real['version']}"
    assert shipped.new_keys == set(real["setting_keys"])
    assert dict(shipped.old_to_new) == real["to_new"]
    assert dict(shipped.new_to_old) == real["to_old"]
    assert shipped.old_keys == set(real["old_keys"])
    assert shipped.old_default_keys == set(real["old_defaults"])
    assert dict(shipped.types) == real["types"]
    for key, value in real["defaults"].items():
        default = shipped.default(key)
        if "$not_plain" in json.dumps(value):
            assert not default.known, key  # unknown, never taken for a value
        else:
            assert default.known and default.value == value, key
    for old, value in real["old_defaults"].items():
        assert value == real["defaults"][real["to_new"][old]], old
    settings = _data()["celery"]["{}.{}".format(*shipped.version)]["settings"]
    for key, deprecation in real["deprecation"].items():
        assert {a: settings[key][a] for a in deprecation} == deprecation
        assert not ({"deprecate_by", "remove_by", "alt"} - set(deprecation)) & set(settings[key])


def test_generator_makes_the_shipped_table_from_the_probed_release():
    """scripts/celery_tables.py, run on the installed release's own celery/app/defaults.py
    (executed alone, with its stand-ins), reproduces the shipped table."""
    real = real_tables()
    source = Path(real["defaults_file"]).read_text(encoding="utf-8")
    lowercase, settings = celery_tables.settings_from_module(
        celery_tables.run_defaults_module(source))
    shipped = _data()["celery"]["{}.{}".format(*probed_version())]
    assert lowercase == shipped["lowercase_names"]
    assert settings == shipped["settings"]


def test_cli_settings_are_what_the_probed_command_line_reads():
    """The names the ``celery`` command line reads from app.conf although no setting
    declares them (``worker_pidfile``, 5.4 on) are the shipped ``cli_settings``, and the
    generator finds the same in the release's own celery/bin sources."""
    cli = real_tables()["cli"]
    shipped = _data()["celery"]["{}.{}".format(*probed_version())]
    if cli is None:
        assert shipped["cli_settings"] == []  # no click command line: argparse's reads none
        return
    settings = shipped["settings"]
    declared = set(settings) | {entry["old"] for entry in settings.values()}
    assert sorted(set(cli["reads"]) - declared) == shipped["cli_settings"]
    sources = {path.name: path.read_text(encoding="utf-8")
               for path in sorted(Path(cli["bin_dir"]).glob("*.py"))}
    assert celery_tables.cli_settings(sources, declared) == shipped["cli_settings"]


def test_kombu_facts_are_the_probed_kombus():
    kombu = real_tables()["kombu"]
    for alias, path in kombu["transport_aliases"].items():
        assert TRANSPORT_KINDS[alias.lower()] == celery_tables.transport_kind(path), alias
    sources = kombu["transport_sources"]
    for kind, module, attribute in celery_tables.VISIBILITY_TIMEOUTS:
        text = Path(sources[module]).read_text(encoding="utf-8")
        assert celery_tables.channel_attribute(text, attribute) == DEFAULT_VISIBILITY_TIMEOUT[kind]


# -- crontab --------------------------------------------------------------------------------

CRON_SPECS = [
    -1, 0, 1, 5, 6, 7, 12, 13, 23, 24, 31, 32, 59, 60, True, False, None, 1.5,
    "*", "*/1", "*/5", "*/7", "*/15", "*/0", "*/", "*/x", "*/-1", "**", "", ",", "1,", ",1",
    "0", "5", "59", "60", "1-5", "5-1", "23-1", "6-0", "1-5/2", "0-59/15", "2-12/2", "1-5/0",
    "1-5/", "3-3", "1--5", "1-5-7", "-1", "-", "1-", "-5", "5-*", "*-5", "1/2", "1-5/2/3",
    "mon", "MON", "monday", "Mon-Fri", "fri-mon", "sun", "sat", "sun,sat", "mon-fri/2",
    "mon/2", "funday", "abc", "x-y", "mar", "jan", "jan-mar", "dec", "jan,feb", "mayday",
    "1-5 x", " 5", "5 ", "+5", "1_0", "\u0663", "*/5,10", "1,2,3", "0-23/4", "*/15 ",
    "*/5junk", "0x10", "1e1",
    [], [0], [0, 15], [0, 0], [1, 2, 100], ["1"], [1.5], [True], [None], [[1]], [0, -1],
]


def uses_month_name(spec) -> bool:
    """A spec some supported releases read as a month name and others reject."""
    return isinstance(spec, str) and any(
        word[0:3].lower() in MONTH_NAMES for word in re.findall(r"\w+", spec))


def celery_answer(numbers):
    """What the linter must say of Celery's expansion: None where Celery raised or made
    something that is not a non-empty set of plain ints."""
    if not numbers or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        return None
    return frozenset(numbers)


def test_crontab_fields_expand_as_celerys(tmp_path):
    cases = [[field, spec] for field in FIELD_RANGES for spec in CRON_SPECS]
    specs = tmp_path / "specs.json"
    specs.write_text(json.dumps(cases), encoding="utf-8")
    expanded = run_probe(tmp_path, "crontab", str(specs))
    assert len(expanded) == len(cases)
    known = 0
    for (field, spec), numbers in zip(cases, expanded):
        ours = expand_cronspec(spec, *FIELD_RANGES[field])
        if uses_month_name(spec):
            assert ours is None, (field, spec)  # unknown: the releases disagree
            continue
        assert ours == celery_answer(numbers), (field, spec, numbers)
        known += ours is not None
    assert known > 100  # the comparison is not all "unknown"
