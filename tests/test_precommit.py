"""The pre-commit hook, run for real with ``pre-commit try-repo``.

pre-commit installs the hook from a git repository into its own virtualenv
(dependencies come from the package registry).  ``try-repo`` on a path with
uncommitted changes only carries over tracked files, so the hook repository is
a fresh git repo holding a copy of the current working tree: the test checks
what is on disk, committed or not.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from conftest import REPO, write_tree
from celerylint.rule import rule_by_code

pytestmark = pytest.mark.slow

GIT_IDENTITY = ["-c", "user.name=celerylint tests", "-c", "user.email=tests@example.invalid",
                "-c", "commit.gpgsign=false"]
HOOK_REPO_FILES = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml",
                   "celerylint", "rules")

BEAT_EVERY_SECOND = '''
    from celery import Celery

    app = Celery("proj", broker="redis://localhost:6379/0")
    app.conf.beat_schedule = {"x": {"task": "t", "schedule": 1.0}}
'''
CLEAN_TASKS = '''
    from celery import shared_task


    @shared_task
    def add(x, y):
        return x + y
'''


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *GIT_IDENTITY, *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def git_repo(path: Path, files: Dict[str, str]) -> Path:
    path.mkdir(parents=True)
    write_tree(path, files)
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> Path:
    """A committed copy of the working tree's hook files and package."""
    repo = tmp_path_factory.mktemp("hook") / "celerylint"
    repo.mkdir()
    for name in HOOK_REPO_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, repo / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.is_file():
            shutil.copy2(source, repo / name)
    assert (repo / ".pre-commit-hooks.yaml").is_file()
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hook")
    return repo


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    """One pre-commit store for the module: the hook's environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(hook_repo: Path, target: Path, home: Path, *files: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    env.pop("PRE_COMMIT", None)
    selection: List[str] = ["--files", *files] if files else ["--all-files"]
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "celerylint",
         *selection, "--color", "never"],
        cwd=target, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=900)


def test_hook_definition_matches_the_cli():
    import yaml  # pre-commit depends on PyYAML

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "celerylint"
    assert hook["entry"] == "celerylint check --force-exclude"
    assert hook["language"] == "python"
    assert hook["types"] == ["python"]
    assert hook["require_serial"] is True


def test_hook_fails_with_findings(tmp_path, hook_repo, pre_commit_home):
    files = {
        "proj/__init__.py": "",
        "proj/broken.py": "def broken(:\n    pass\nadd.delay(1)\n",
        "proj/tasks.py": CLEAN_TASKS,
    }
    has_cel104 = rule_by_code("CEL104") is not None
    if has_cel104:
        files["proj/celeryapp.py"] = BEAT_EVERY_SECOND
    target = git_repo(tmp_path / "target", files)

    result = try_repo(hook_repo, target, pre_commit_home)

    assert result.returncode == 1, result.stdout
    assert "proj/broken.py:1:11: CEL001 " in result.stdout
    if has_cel104:
        assert "proj/celeryapp.py:4:58: CEL104 " in result.stdout
    assert "proj/tasks.py" not in result.stdout
    assert "Traceback" not in result.stdout


def test_hook_reports_only_on_the_files_it_is_given(tmp_path, hook_repo, pre_commit_home):
    target = git_repo(tmp_path / "target", {
        "proj/__init__.py": "",
        "proj/celeryapp.py": BEAT_EVERY_SECOND,  # findings of its own, not reported here
        "proj/broken.py": "def broken(:\n    pass\n",  # nothing Celery-related: not ours
        "proj/tasks.py": CLEAN_TASKS,
    })

    result = try_repo(hook_repo, target, pre_commit_home, "proj/tasks.py")

    assert result.returncode == 0, result.stdout
    assert "CEL" not in result.stdout


def test_hook_names_a_broken_file_the_given_ones_may_depend_on(
    tmp_path, hook_repo, pre_commit_home
):
    """Never silent: findings in the given files may depend on a file that cannot be parsed."""
    target = git_repo(tmp_path / "target", {
        "proj/__init__.py": "",
        "proj/broken.py": "def broken(:\n    pass\nadd.delay(1)\n",
        "proj/tasks.py": CLEAN_TASKS,
    })

    result = try_repo(hook_repo, target, pre_commit_home, "proj/tasks.py")

    assert result.returncode == 1, result.stdout  # pre-commit's own code for a failed hook
    assert "exit code: 2" in result.stdout
    assert ("celerylint: proj/broken.py: cannot analyse ('(' was never closed); "
            "findings that depend on it may be missing") in result.stdout


def test_hook_keeps_excluded_files_excluded(tmp_path, hook_repo, pre_commit_home):
    target = git_repo(tmp_path / "target", {
        "pyproject.toml": '[tool.celerylint]\nextend-exclude = ["generated"]\n',
        "generated/broken.py": "def broken(:\n    pass\nadd.delay(1)\n",
        "proj/broken.py": "def broken(:\n    pass\nadd.delay(1)\n",
    })

    result = try_repo(hook_repo, target, pre_commit_home)

    assert result.returncode == 1, result.stdout
    assert "proj/broken.py:1:11: CEL001 " in result.stdout
    assert "generated/" not in result.stdout


def test_hook_passes_on_a_clean_repo(tmp_path, hook_repo, pre_commit_home):
    target = git_repo(tmp_path / "target", {
        "proj/__init__.py": "",
        "proj/tasks.py": CLEAN_TASKS,
        "proj/celeryapp.py": '''
            from celery import Celery

            app = Celery("proj", broker="redis://localhost:6379/0")
            app.conf.beat_schedule = {
                "x": {"task": "proj.tasks.add", "schedule": 300.0, "args": (1, 2),
                      "options": {"expires": 300}},
            }
        ''',
    })

    result = try_repo(hook_repo, target, pre_commit_home)

    assert result.returncode == 0, result.stdout
    assert "Passed" in result.stdout


NEW_ENTRY = '''
    app.conf.beat_schedule["y"] = {"task": "t", "schedule": 2.0}
'''


def _baselined_repo(path: Path, config: str) -> Path:
    """A repository with a CEL104 finding in proj/celeryapp.py that its baseline
    (written by this checkout's CLI) records."""
    target = git_repo(path, {
        "pyproject.toml": "[tool.celerylint]\n" + config,
        "proj/__init__.py": "",
        "proj/celeryapp.py": BEAT_EVERY_SECOND,
        "proj/tasks.py": CLEAN_TASKS,
    })
    subprocess.run([sys.executable, "-m", "celerylint", "check", "--write-baseline",
                    "baseline.json"], cwd=target, check=True, capture_output=True)
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "baseline")
    return target


def test_hook_reports_only_what_the_baseline_of_the_configuration_lacks(
        tmp_path, hook_repo, pre_commit_home):
    target = _baselined_repo(tmp_path / "target", 'baseline = "baseline.json"\n')

    assert try_repo(hook_repo, target, pre_commit_home).returncode == 0
    with open(target / "proj" / "celeryapp.py", "a", encoding="utf-8") as app:
        app.write(NEW_ENTRY.lstrip("\n").replace("    ", "", 1))
    git(target, "add", "-A")

    result = try_repo(hook_repo, target, pre_commit_home, "proj/celeryapp.py")

    assert result.returncode == 1, result.stdout
    assert "proj/celeryapp.py:5:" in result.stdout and "CEL104" in result.stdout
    assert "proj/celeryapp.py:4:" not in result.stdout  # the baselined one


def test_hook_with_baseline_arguments_lists_no_stale_entry_of_files_not_given(tmp_path):
    """Arguments of the hook (here: this checkout's CLI as a local hook): a commit that
    touches other files must not call the baseline's entries stale."""
    target = _baselined_repo(tmp_path / "target", "")
    entry = f"{sys.executable} -m celerylint check --force-exclude"
    (target / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: local\n  hooks:\n  - id: celerylint\n    name: celerylint\n"
        f"    entry: {entry}\n    language: system\n    types: [python]\n"
        "    require_serial: true\n"
        "    args: [--baseline, baseline.json, --show-stale-baseline]\n", encoding="utf-8")
    git(target, "add", "-A")
    env = dict(os.environ, PRE_COMMIT_COLOR="never")
    env.pop("PRE_COMMIT", None)

    def pre_commit(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--verbose", *args],
                              cwd=target, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=300)

    some = pre_commit("--files", "proj/tasks.py")
    assert some.returncode == 0, some.stdout
    assert "stale" not in some.stdout
    (target / "proj" / "celeryapp.py").write_text(
        (target / "proj" / "celeryapp.py").read_text().replace("1.0", "600.0"))
    everything = pre_commit("--all-files")
    assert everything.returncode == 0, everything.stdout
    assert "baseline.json: stale entry: proj/celeryapp.py: CEL104" in everything.stdout
