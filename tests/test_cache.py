"""The facts cache: warm runs give the same bytes; damaged entries are rewritten."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

CACHE = ".celerylint_cache"


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "celerylint", "check", "--format", "json", *args],
                          cwd=root, capture_output=True, text=True, timeout=300)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "cli_project", root)
    return root


def entries(root: Path):
    return sorted((root / CACHE).glob("*.json"))


def age(root: Path) -> None:
    """Make every file look older than the cache's 'too recent to trust' window."""
    for path in root.rglob("*.py"):
        os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))


def test_warm_run_gives_identical_output(tree):
    age(tree)
    cold = run(tree)
    assert (tree / CACHE / "CACHEDIR.TAG").read_bytes().startswith(
        b"Signature: 8a477f597d28d172789f06886806bc55")
    assert (tree / CACHE / ".gitignore").read_text() == "*\n"
    assert entries(tree)
    warm = run(tree)
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        cold.returncode,
        cold.stdout,
        cold.stderr,
    )
    assert json.loads(cold.stdout)  # the tree has findings


def test_editing_a_file_invalidates_its_entry(tree):
    age(tree)
    before = run(tree)
    assert "proj/broken.py" in before.stdout
    (tree / "proj" / "broken.py").write_text("def fixed():\n    pass\n", encoding="utf-8")
    after = run(tree)
    assert "proj/broken.py" not in after.stdout
    assert after.stdout == run(tree, "--no-cache").stdout


def test_recently_modified_files_are_checked_by_content(tmp_path):
    """A modification time under two seconds old could hide a second write within the
    same tick: such an entry has no (size, mtime) fast path, only the text digest."""
    from celerylint.cache import FactsCache, text_digest
    from celerylint.facts import FileFacts

    path = tmp_path / "a.py"
    path.write_text("x = 1\n", encoding="utf-8")
    cache = FactsCache(tmp_path / CACHE)
    facts = FileFacts(path="a.py", module="a")
    cache.store(path, "ctx", path.stat(), text_digest("x = 1\n"), facts, True)
    assert cache.lookup_stat(path, "ctx", path.stat(), True) is None
    assert cache.lookup_text(path, "ctx", text_digest("x = 1\n"), True) == (
        facts, True, text_digest("x = 1\n"))
    assert cache.lookup_text(path, "ctx", text_digest("x = 2\n"), True) is None

    os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    cache.store(path, "ctx", path.stat(), text_digest("x = 1\n"), facts, True)
    assert cache.lookup_stat(path, "ctx", path.stat(), True) == (
        facts,
        True,
        text_digest("x = 1\n"),
    )
    assert cache.lookup_stat(path, "other ctx", path.stat(), True) is None


@pytest.mark.slow
@pytest.mark.parametrize("damage", [
    lambda data: b"\x00\xff garbage",
    lambda data: data[: len(data) // 2],
    lambda data: data.replace(b'"format":1', b'"format":99'),
    lambda data: data.replace(b"celerylint ", b"celerylint 0.0.0-other "),
    lambda data: json.dumps({"format": 1, "facts": []}).encode(),
], ids=["garbage", "truncated", "format", "version", "shape"])
def test_damaged_entries_are_ignored_and_rewritten(tree, damage):
    age(tree)
    expected = run(tree)
    for entry in entries(tree):
        entry.write_bytes(damage(entry.read_bytes()))
    again = run(tree)
    assert (again.stdout, again.stderr) == (expected.stdout, expected.stderr)
    for entry in entries(tree):
        json.loads(entry.read_bytes())  # every entry is readable again
    assert run(tree).stdout == expected.stdout


@pytest.mark.slow
def test_no_cache_writes_nothing(tree):
    result = run(tree, "--no-cache")
    assert result.returncode == 1
    assert not (tree / CACHE).exists()


@pytest.mark.slow
def test_concurrent_runs_leave_a_readable_cache(tree):
    age(tree)
    expected = run(tree, "--no-cache").stdout
    processes = [subprocess.Popen([sys.executable, "-m", "celerylint", "check", "--format", "json",
                                   "-j", "2"], cwd=tree, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, universal_newlines=True)
                 for _ in range(3)]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert outputs == [expected] * 3
    assert not list((tree / CACHE).glob(".tmp-*"))
    for entry in entries(tree):
        json.loads(entry.read_bytes())
    assert run(tree).stdout == expected


@pytest.mark.slow
def test_read_only_project_runs_without_cache(tree):
    if os.geteuid() == 0:
        pytest.skip("root writes to read-only directories")
    expected = run(tree, "--no-cache")
    modes = {}
    for directory in [tree] + [p for p in tree.rglob("*") if p.is_dir()]:
        modes[directory] = directory.stat().st_mode
        directory.chmod(0o555)
    try:
        result = run(tree)
    finally:
        for directory, mode in modes.items():
            directory.chmod(mode)
    assert (result.returncode, result.stdout, result.stderr) == (
        expected.returncode, expected.stdout, expected.stderr)
    assert not (tree / CACHE).exists()


@pytest.mark.slow
def test_unwritable_cache_directory_is_not_an_error(tree):
    (tree / CACHE).write_text("not a directory", encoding="utf-8")
    expected = run(tree, "--no-cache")
    result = run(tree)
    assert (result.returncode, result.stdout, result.stderr) == (
        expected.returncode, expected.stdout, expected.stderr)


PROBE = ("import sys; from celerylint.cli import main; code = main(sys.argv[1:]); "
         "sys.stderr.write('LIBCST_IMPORTED=%s\\n' % ('libcst' in sys.modules)); sys.exit(code)")


def imports_libcst(root: Path, *args: str) -> bool:
    # -j 1: extraction in this process, where sys.modules can tell
    done = subprocess.run([sys.executable, "-c", PROBE, "check", "-j", "1", *args],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    flags = [line for line in done.stderr.splitlines() if line.startswith("LIBCST_IMPORTED=")]
    return flags == ["LIBCST_IMPORTED=True"]


@pytest.mark.slow
def test_libcst_is_imported_only_when_a_file_must_be_parsed(tree, tmp_path):
    age(tree)
    assert imports_libcst(tree)  # cold: the Celery files are parsed
    assert not imports_libcst(tree)  # warm: every fact comes from the cache
    assert imports_libcst(tree, "--no-cache")

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "pyproject.toml").write_text("[tool.celerylint]\n", encoding="utf-8")
    (plain / "util.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    (plain / "broken.py").write_text("def broken(:\n", encoding="utf-8")
    assert not imports_libcst(plain, "--no-cache")  # nothing Celery-related: no libcst, no check


# ------------------------------------------------------------------ where it is safe to write


def test_refusals(tmp_path):
    from celerylint.cache import cache_refusal

    assert cache_refusal(str(tmp_path / "missing")) is None
    (tmp_path / "empty").mkdir()
    assert cache_refusal(str(tmp_path / "empty")) is None
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "notes.txt").write_text("x", encoding="utf-8")
    assert "no CACHEDIR.TAG written by celerylint" in cache_refusal(str(tmp_path / "theirs"))
    (tmp_path / "link").symlink_to(tmp_path / "empty", target_is_directory=True)
    assert cache_refusal(str(tmp_path / "link")) == "it is a symbolic link"
    (tmp_path / "theirs" / "CACHEDIR.TAG").write_bytes(
        b"Signature: 8a477f597d28d172789f06886806bc55\n"
    )
    assert cache_refusal(str(tmp_path / "theirs")) is not None  # another tool's tag


def test_a_refused_directory_is_never_written(tmp_path):
    from celerylint.cache import FactsCache, text_digest
    from celerylint.facts import FileFacts

    source = tmp_path / "a.py"
    source.write_text("x = 1\n", encoding="utf-8")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("x", encoding="utf-8")
    for directory in (theirs, tmp_path / "link"):
        if directory.name == "link":
            directory.symlink_to(tmp_path / "target", target_is_directory=True)
            (tmp_path / "target").mkdir()
        cache = FactsCache(directory)
        cache.store(
            source,
            "ctx",
            source.stat(),
            text_digest("x = 1\n"),
            FileFacts(path="a.py", module="a"),
            True,
        )
        assert cache.directory is None  # switched off
    assert [p.name for p in theirs.iterdir()] == ["notes.txt"]
    assert list((tmp_path / "target").iterdir()) == []


@pytest.mark.slow
def test_remove_cache_removes_only_what_celerylint_writes(tree):
    from celerylint.cache import remove_cache

    age(tree)
    run(tree)
    cache = tree / CACHE
    assert entries(tree)
    (cache / "mine.txt").write_text("a file celerylint did not write", encoding="utf-8")
    assert remove_cache(str(cache)) == "left in place: it holds files celerylint did not write"
    assert sorted(p.name for p in cache.iterdir()) == ["CACHEDIR.TAG", "mine.txt"]
    assert remove_cache(str(cache)) is not None  # still marked as ours: the same answer
    (cache / "mine.txt").unlink()
    assert remove_cache(str(cache)) is None
    assert not cache.exists()
    assert remove_cache(str(cache)) is None  # nothing to remove


def test_the_cache_key_covers_every_module_that_shapes_facts():
    """An edited extractor must not read facts an older one wrote: every module of the
    extract package, and the modules extraction uses, are in the fingerprint."""
    from celerylint import cache

    package = Path(cache.__file__).parent
    fingerprinted = {path.relative_to(package).as_posix() for path in cache.fingerprinted_files()}
    extract = {f"extract/{p.name}" for p in (package / "extract").glob("*.py")}
    assert len(extract) > 5 and extract <= fingerprinted
    assert {"features.py", "modules.py", "syntax.py", "values.py", "facts.py"} <= fingerprinted
