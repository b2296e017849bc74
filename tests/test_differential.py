"""The linter's settings resolution against a real Celery app.

Each project under tests/fixtures/settings/ is loaded into a real ``Celery`` app
by tests/celery_probe.py in a subprocess, under the interpreter named by
CELERYLINT_PROBE_PYTHON (default: this one), and the test asserts that:

- every setting the linter resolves from a source is exactly the one Celery
  takes from a source, from the same key, with the same value;
- the keys the linter reports as ignored are exactly those Celery never reads;
- when Celery refuses the settings (old and new names mixed), the linter names
  the same keys.

The target version is the probed Celery's (CELERYLINT_TARGET_VERSION, when set,
must agree with it: .ci/run sets both for each Celery it installs).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Set, Tuple

import pytest

from celerylint.engine import facts_for_path
from celerylint.project import AppView, Project
from celerylint.settings import OLD_TO_NEW
from celerylint.versions import setting_keys

FIXTURES = Path(__file__).parent / "fixtures" / "settings"
PROBE = Path(__file__).parent / "celery_probe.py"
PROBE_PYTHON = os.environ.get("CELERYLINT_PROBE_PYTHON") or sys.executable


def fixture_names():
    return sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def run_probe(root: Path, app: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "HOME", "SYSTEMROOT", "TMPDIR", "LANG")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run([PROBE_PYTHON, str(PROBE), str(root), app], env=env, cwd=str(root),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


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


def same_key(hit) -> Tuple[str, str]:
    """Celery renames the keys written on the app to the style of the config
    object (detect_settings' ``preconf``); compare those by the setting they name."""
    source, key = hit
    return (source, OLD_TO_NEW.get(key, key)) if source == "changes" else (source, key)


def mix_error_keys(message: str) -> Set[str]:
    return {line.split("->")[0].strip() for line in message.splitlines() if "->" in line}


@pytest.mark.parametrize("name", fixture_names())
def test_linter_resolves_settings_as_celery_does(name):
    root = FIXTURES / name
    main = linter_app(root, (5, 7)).fact.qualname
    module, _, var = main.rpartition(".")
    celery = run_probe(root, f"{module}:{var}")
    version = tuple(int(p) for p in celery["version"].split(".")[:2])
    wanted = os.environ.get("CELERYLINT_TARGET_VERSION")
    if wanted:
        assert tuple(int(p) for p in wanted.split(".")[:2]) == version, celery["version"]
    assert set(setting_keys(version)) == set(celery["setting_keys"]), "fix celerylint/versions.py"
    app = linter_app(root, version)

    if celery["error"]:
        assert {a.key for _, a in app.mix_error} == mix_error_keys(celery["error"])
        return
    assert not app.mix_error

    resolved: Dict[str, Tuple[str, str]] = {
        key: same_key((source_of(s.assign.kind), s.assign.key)) for key, s in app.settings.items()}
    assert resolved == {key: same_key(hit) for key, hit in celery["provided"].items()}
    for key, setting in app.settings.items():
        assert setting.value.known, (key, setting.value)
        assert setting.value.value == celery["values"][key], key

    read = {same_key(hit) for hit in celery["read"]}
    ignored = {same_key((i.source, i.assign.key)) for i in app.ignored}
    considered = ignored | set(resolved.values())
    assert ignored == {key for key in considered if key not in read}


def test_fixtures_cover_every_kind_of_source():
    kinds = set()
    for name in fixture_names():
        app = linter_app(FIXTURES / name, (5, 7))
        kinds |= {s.assign.kind for s in app.settings.values()}
        kinds |= {i.assign.kind for i in app.ignored}
    assert {"module", "class", "celery-kwarg", "conf-update", "conf-attr", "conf-item"} <= kinds
