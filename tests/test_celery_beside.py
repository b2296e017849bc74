"""Findings do not depend on the Celery installed beside the linter.

CELERYLINT_BESIDE_PYTHON names the interpreter of another environment, where this
checkout is installed (``pip install -e .``) beside another Celery than this
environment's (.ci/run makes one with Celery 5.3); unset, the test is skipped.  Both
run tests/lint_every_version.py: every fixture tree, for every supported target
version and the configured one, must give the same findings byte for byte.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

# Every fixture tree under every target version, in two environments.
pytestmark = pytest.mark.slow

OTHER = os.environ.get("CELERYLINT_BESIDE_PYTHON")
DRIVER = Path(__file__).parent / "lint_every_version.py"


def lint_everything(python: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "LANG")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run([python, str(DRIVER)], cwd=str(REPO), env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def where_celerylint(python: str) -> Path:
    done = subprocess.run([python, "-c", "import celerylint; print(celerylint.__file__)"],
                          cwd=str(REPO.parent), stdout=subprocess.PIPE, text=True,
                          check=True)
    return Path(done.stdout.strip()).resolve()


@pytest.mark.skipif(not OTHER, reason="CELERYLINT_BESIDE_PYTHON names no other environment")
def test_findings_are_the_same_whatever_celery_is_installed_beside_the_linter():
    assert where_celerylint(OTHER) == where_celerylint(sys.executable)  # this checkout, both
    here, there = lint_everything(sys.executable), lint_everything(OTHER)
    assert here["celery"] and there["celery"] and here["celery"] != there["celery"], \
        (here["celery"], there["celery"])
    assert here["imported"] == there["imported"] == []
    assert sorted(here["trees"]) == sorted(there["trees"])
    assert sum(len(found) for tree in here["trees"].values() for found in tree.values()) > 1000
    for tree in sorted(here["trees"]):
        assert here["trees"][tree] == there["trees"][tree], \
            f"{tree}: findings differ with Celery {there['celery']} beside the linter"
