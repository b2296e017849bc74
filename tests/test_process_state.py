"""What celerylint keeps in memory between runs of one process (an editor's flake8, a
tool calling the engine again and again): nothing that can answer for a state of the
disk or of the working directory that no longer holds."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from celerylint.config import load_config, project_at
from celerylint.engine import check, module_name
from conftest import write_tree

TASKS = """
    from celery import shared_task


    @shared_task
    def add(x, y):
        return x + y


    add.delay(1, 2)
"""


def test_module_names_follow_the_working_directory_of_each_call(tmp_path, monkeypatch):
    """A relative project root means the current directory of the call: the source roots
    worked out for one directory must not answer in another."""
    write_tree(tmp_path, {"x/a/b.py": "", "x/a/__init__.py": "", "x/__init__.py": ""})
    monkeypatch.chdir(tmp_path)
    assert module_name(Path("x/a/b.py"), Path("."), ["."]) == ("x.a.b", False)
    monkeypatch.chdir(tmp_path / "x")
    assert module_name(Path("a/b.py"), Path("."), ["."]) == ("a.b", False)


def _check_with_cache(root: Path) -> None:
    config = load_config(root, project=project_at(root))
    result = check([root], config, use_cache=True)
    assert not result.internal_errors, result.internal_errors


def test_each_run_looks_at_the_cache_directory_afresh(tmp_path, monkeypatch):
    """What a run learned about its cache directory (that it exists, is ours, is not a
    symlink, or is unusable) is not trusted by the next run of the same process: the
    directory may have been cleaned, replaced by a symlink, or fixed in between."""
    root = tmp_path / "project"
    write_tree(root, {"pyproject.toml": "[tool.celerylint]\n", "tasks.py": TASKS})
    monkeypatch.chdir(root)
    cache = root / ".celerylint_cache"
    _check_with_cache(root)
    assert list(cache.glob("*.json"))

    # Cleaned, then a symlink put in its place: never written through.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for entry in cache.iterdir():
        entry.unlink()
    cache.rmdir()
    cache.symlink_to(elsewhere, target_is_directory=True)
    _check_with_cache(root)
    assert list(elsewhere.iterdir()) == []

    # A regular file in its place switches the cache off for that run only.
    cache.unlink()
    cache.write_text("not a directory\n", encoding="utf-8")
    _check_with_cache(root)
    cache.unlink()
    _check_with_cache(root)
    assert list(cache.glob("*.json"))


FINGERPRINT_PROBE = """
import json, sys
from celerylint import cache
from celerylint.parse import parse_and_extract

parse_and_extract("from celery import shared_task\\n@shared_task\\ndef f():\\n    pass\\n"
                  "f.delay()\\nmatch x:\\n    case 1: pass\\n", "m.py", "m", False)
loaded = sorted(m.__file__ for name, m in list(sys.modules.items())
                if (name == "celerylint" or name.startswith("celerylint."))
                and getattr(m, "__file__", None))
print(json.dumps([loaded, [str(p) for p in cache.fingerprinted_files()]]))
"""


def test_cache_entries_are_keyed_by_every_module_extraction_runs():
    """Entries are named by a digest of the code that made them (besides the version):
    every module of the package that extraction loads is part of it, so an edited
    module (a development checkout, a patched install) never reads stale facts."""
    done = subprocess.run([sys.executable, "-c", FINGERPRINT_PROBE], capture_output=True,
                          text=True, cwd=os.path.dirname(__file__))
    assert done.returncode == 0, done.stderr
    loaded, fingerprinted = json.loads(done.stdout)
    assert loaded and set(loaded) <= set(fingerprinted), sorted(set(loaded) - set(fingerprinted))
