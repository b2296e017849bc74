"""Hostile input through the CLI: every run ends with the right exit code, a CEL001
finding or a one-line message, and never a traceback or a crashed process.

CEL001 concerns the files celerylint needs (those that can hold Celery facts), so
each hostile file carries a dispatch (TRIGGER); the same damage in a file without one
is not reported.  libcst's native parser crashes the whole process on very deep
nesting, so those cases assert a normal exit code (a negative one is a signal).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

CONFIG = b"[tool.celerylint]\n"
TRIGGER = b"\nadd.delay(1)  # a dispatch: celerylint needs this file\n"


def run_check(root: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "celerylint", "check", "--format", "json", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode in (0, 1, 2), (
        f"crashed with {result.returncode}: {result.stderr[-2000:]}"
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def project(tmp_path: Path, name: str, data: bytes) -> Path:
    (tmp_path / "pyproject.toml").write_bytes(CONFIG)
    (tmp_path / name).write_bytes(data)
    return tmp_path


def findings(result: subprocess.CompletedProcess) -> List[Tuple[str, int, int, str, str]]:
    return [(f["path"], f["line"], f["column"], f["code"], f["message"])
            for f in json.loads(result.stdout)]


def only_cel001(tmp_path: Path, name: str, data: bytes) -> Tuple[int, int, str]:
    """Lint one file; it must give exactly one CEL001 finding: (line, column, message)."""
    result = run_check(project(tmp_path, name, data))
    assert result.returncode == 1, result.stderr
    ((path, line, column, code, message),) = findings(result)
    assert (path, code) == (name, "CEL001")
    return line, column, message


def assert_clean(tmp_path: Path, name: str, data: bytes) -> None:
    result = run_check(project(tmp_path, name, data))
    assert (result.returncode, findings(result), result.stderr) == (0, [], "")


def test_syntax_error(tmp_path):
    assert only_cel001(tmp_path, "x.py", b"x = 1\nif x\n    pass\n" + TRIGGER) == (
        2, 5, "syntax error for Python 3.14: invalid syntax")


@pytest.mark.slow
@pytest.mark.parametrize("data", [
    b"x = 1\nif x\n    pass\n", bytes(range(256)) * 8, b"x = 1\ny = '\xff'\n",
    b"x = " + b"(" * 3000 + b"1" + b")" * 3000 + b"\n"])
def test_damage_in_a_file_without_celery_facts_is_not_reported(tmp_path, data):
    """Whether such a file parses is flake8's (E999) or ruff's business, not ours."""
    assert_clean(tmp_path, "x.py", data)


@pytest.mark.slow
@pytest.mark.parametrize("celery_words", [b"", b"from celery import shared_task\n"])
def test_python_warnings_as_errors_do_not_become_syntax_errors(tmp_path, monkeypatch, celery_words):
    # CI jobs often run with PYTHONWARNINGS=error; an invalid escape warns, it is not invalid
    monkeypatch.setenv("PYTHONWARNINGS", "error")
    root = project(
        tmp_path, "escapes.py", celery_words + b'PATTERN = "\\d+"\nassert (PATTERN, 1)\n'
    )
    result = run_check(root, "--no-cache", "-j", "1")
    assert (result.returncode, findings(result)) == (0, [])


def test_binary_file_named_py(tmp_path):
    line, column, message = only_cel001(tmp_path, "x.py", bytes(range(256)) * 8 + TRIGGER)
    assert (line, column) == (1, 1)
    assert "binary" in message


def test_nul_byte(tmp_path):
    _line, _column, message = only_cel001(tmp_path, "x.py", b"x = 1\ny = '\x00'\n" + TRIGGER)
    assert "binary" in message


def test_latin1_file_with_a_coding_cookie(tmp_path):
    assert_clean(tmp_path, "x.py", "# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1"))


def test_invalid_utf8_byte_is_reported_at_its_position(tmp_path):
    line, column, message = only_cel001(
        tmp_path, "x.py", "x = 1\ny = 'é".encode() + b"\xff'\n" + TRIGGER
    )
    assert (line, column) == (2, 7)
    assert "0xff" in message


def test_unknown_encoding_in_the_cookie(tmp_path):
    line, _column, message = only_cel001(tmp_path, "x.py", b"# coding: klingon\nx = 1\n" + TRIGGER)
    assert line == 1 and "klingon" in message


def test_empty_file(tmp_path):
    assert_clean(tmp_path, "x.py", b"")


def test_twenty_thousand_lines(tmp_path):
    text = "".join(f"value_{n} = {n}\n" for n in range(20_000))
    assert_clean(tmp_path, "x.py", text.encode("ascii"))


@pytest.mark.slow
def test_deeply_nested_parentheses(tmp_path):
    line, column, message = only_cel001(
        tmp_path, "x.py", b"x = " + b"(" * 3000 + b"1" + b")" * 3000 + b"\n" + TRIGGER
    )
    assert (line, column, message) == (
        1, 205, "syntax error for Python 3.14: too many nested parentheses (more than 200 levels)")


@pytest.mark.slow
@pytest.mark.parametrize("chain", [
    b"x = " + b"+".join([b"1"] * 50_000) + b"\n",
    b"x = (" + b" +\n".join([b"a"] * 10_000) + b")\n",  # split over lines: once 128 s
    b"x = a" + b".b" * 10_000 + b"\n",
    b"x = f" + b"()" * 10_000 + b"\n"])
def test_long_chains_are_refused_at_once(tmp_path, chain):
    line, _column, message = only_cel001(tmp_path, "x.py", chain + TRIGGER)
    assert (line, message) == (
        1,
        "expression too long to analyse (more than 1000 chained operations)",
    )


@pytest.mark.slow
def test_moderately_nested_code_still_parses(tmp_path):
    assert_clean(tmp_path, "x.py", b"x = " + b"[" * 90 + b"1" + b"]" * 90 + b"\n"
                 + b"y = " + b"+".join([b"1"] * 500) + b"\n" + TRIGGER)


@pytest.mark.slow
def test_crlf_line_endings_and_a_form_feed(tmp_path):
    assert_clean(tmp_path, "ok.py", b"x = 1\r\n\x0c\r\ndef f():\r\n    return x\r\n" + TRIGGER)
    assert only_cel001(
        tmp_path, "x.py", b"x = 1\r\n\x0c\r\ny = 2\r\ndef f(:\r\n    pass\r\n" + TRIGGER
    )[:2] == (4, 6)


@pytest.mark.slow
def test_byte_order_mark(tmp_path):
    assert_clean(tmp_path, "ok.py", b"\xef\xbb\xbfx = 1\n" + TRIGGER)
    assert only_cel001(tmp_path, "x.py", b"\xef\xbb\xbfx = 1\ndef f(:\n" + TRIGGER)[:2] == (2, 6)


@pytest.mark.slow
def test_two_byte_order_marks(tmp_path):
    """The first is the encoding's mark; Python refuses the second as a character."""
    assert only_cel001(tmp_path, "x.py", b"\xef\xbb\xbf\xef\xbb\xbfx = 1\n" + TRIGGER) == (
        1, 1, "syntax error for Python 3.14: invalid non-printable character U+FEFF")


@pytest.mark.slow
def test_non_ascii_columns_count_characters(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert only_cel001(tmp_path / "a", "x.py", "s = ('ééé' +\n".encode() + TRIGGER)[:2] == (1, 5)
    assert only_cel001(tmp_path / "b", "x.py", "s = 'ééé' + 'x\n".encode() + TRIGGER)[:2] == (1, 13)


def test_unreadable_file(tmp_path):
    path = project(tmp_path, "secret.py", b"x = 1\n") / "secret.py"
    (tmp_path / "ok.py").write_bytes(b"def f(:\n" + TRIGGER)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("chmod 000 does not stop this user from reading (root?)")
        result = run_check(tmp_path)
    finally:
        path.chmod(0o644)
    reported = findings(result)
    assert ("ok.py", 1, 6, "CEL001") in [r[:4] for r in reported]
    assert result.returncode in (1, 2)
    assert "secret.py" in result.stdout + result.stderr


@pytest.mark.slow
def test_symlink_loop_directories(tmp_path):
    project(tmp_path, "bad.py", b"def f(:\n" + TRIGGER)
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "self").symlink_to(".", target_is_directory=True)
    (loop / "a").symlink_to("b")
    (loop / "b").symlink_to("a")
    (loop / "c.py").symlink_to("c.py")

    result = run_check(tmp_path)

    assert [r[:4] for r in findings(result)] == [("bad.py", 1, 6, "CEL001")]


def test_symlink_loop_given_explicitly(tmp_path):
    project(tmp_path, "ok.py", b"x = 1\n")
    (tmp_path / "a.py").symlink_to("b.py")
    (tmp_path / "b.py").symlink_to("a.py")

    result = run_check(tmp_path, "a.py", "ok.py")

    assert result.returncode == 2
    assert "a.py" in result.stderr
    assert findings(result) == []


def test_non_utf8_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.celerylint]\nselect = [\"CEL\"] # \xff\n")
    (tmp_path / "x.py").write_bytes(b"x = 1\n")

    result = run_check(tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "pyproject.toml" in result.stderr and "UTF-8" in result.stderr


@pytest.mark.slow
def test_many_hostile_files_in_one_run(tmp_path):
    """One bad file never hides the findings of the others, with several processes."""
    files = {
        "binary.py": bytes(range(256)) + TRIGGER,
        "parens.py": b"x = " + b"(" * 3000 + b"1" + b")" * 3000 + b"\n" + TRIGGER,
        "latin.py": "# coding: latin-1\nx = 'é'\n".encode("latin-1") + TRIGGER,
        "empty.py": b"",
        "broken.py": b"def f(:\n" + TRIGGER,
        "unneeded.py": b"def f(:\n",
    }
    (tmp_path / "pyproject.toml").write_bytes(CONFIG)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    result = run_check(tmp_path, "-j", "2")

    assert result.returncode == 1
    assert [r[0] for r in findings(result)] == ["binary.py", "broken.py", "parens.py"]


def test_parsing_leaves_the_recursion_limit_as_it_found_it():
    """The limit is the process's (a flake8 process runs other plugins too): parsing
    raises it for its own thread only while that thread runs."""
    import sys

    from celerylint.parse import parse_and_extract

    before = sys.getrecursionlimit()
    sys.setrecursionlimit(3000)
    try:
        facts = parse_and_extract("x = " + "(" * 150 + "1" + ")" * 150 + "\nadd.delay(1)\n",
                                  "m.py", "m", False)
        assert facts.error is None and facts.dispatches
        assert sys.getrecursionlimit() == 3000
    finally:
        sys.setrecursionlimit(before)
