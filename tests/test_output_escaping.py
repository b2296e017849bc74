"""No value from the linted code can start a new line or an escape sequence in the output.

A fixture project whose beat entry name, task name and file name hold newlines,
carriage returns, ANSI escapes, a GitHub ``::error`` workflow command, Unicode line
separators and bidi overrides is checked in every format and through real flake8:
each finding is exactly one line, no escape byte reaches stdout, GitHub property
values are escaped as GitHub's toolkit does, and JSON/SARIF keep the exact text.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest

from celerylint.report import escape_control, format_github, format_text
from celerylint.rule import Finding

FORGED = "::error file=x.py,line=1::forged finding"
EVIL = f"a\nb\rc\x1b[31md{FORGED}\u2028e\u2029f\u202eg\x85h\x00i\x7fj\tk\ud800l"
EVIL_FILE = "evil\n::error file=x::y\x1b[31m\r\u2028.py"  # no NUL in file names
LINE_BREAKS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def write_project(root: Path, file_names: bool = True) -> None:
    files = {
        "pyproject.toml": "[tool.celerylint]\n",
        "proj/__init__.py": "",
        "proj/celery.py": f"""
            from celery import Celery

            app = Celery("proj")
            app.conf.result_backend = "redis://localhost:6379/0"
            app.conf.beat_schedule = {{
                {EVIL!r}: {{"task": "proj.tasks.add", "schedule": 1.0}},
            }}
            """,
        "proj/tasks.py": f"""
            from proj.celery import app


            @app.task(name={EVIL!r})
            def add(x, y):
                return x + y
            """,
        "proj/views.py": """
            from proj.tasks import add


            def view():
                add.delay(1, 2)
            """,
    }
    if file_names:
        files[f"proj/{EVIL_FILE}"] = "from celery import shared_task\ndef f(:\n"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            textwrap.dedent(text).lstrip("\n"), encoding="utf-8", errors="surrogatepass"
        )


def check(root: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "celerylint", "check", "--no-cache", "-j", "1",
                           *args], cwd=root, capture_output=True, timeout=120)
    assert done.returncode == 1, done.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in done.stderr, done.stderr.decode("utf-8", "replace")
    return done


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("escaping")
    write_project(root)
    return root


@pytest.fixture(scope="module")
def expected(project) -> List[dict]:
    """The findings as JSON gives them: the exact text, every character kept."""
    done = check(project, "--format", "json")
    assert all(byte >= 0x20 or byte == 0x0A for byte in done.stdout)  # only indentation breaks
    assert b"\xe2\x80\xa8" not in done.stdout and b"\xc2\x85" not in done.stdout
    findings = json.loads(done.stdout)
    quoted = [f for f in findings if EVIL in f["message"]]
    assert {f["code"] for f in quoted} >= {"CEL102", "CEL104"}, findings
    assert any(f["path"] == f"proj/{EVIL_FILE}" for f in findings)
    return findings


def assert_no_forgery(stdout: bytes) -> None:
    assert b"\x1b" not in stdout and b"\r" not in stdout and b"\x00" not in stdout
    assert b"\xe2\x80\xa8" not in stdout and b"\xe2\x80\xae" not in stdout  # U+2028, U+202E
    assert b"\xc2\x85" not in stdout and b"\x7f" not in stdout  # NEL, DEL


def test_text_format_one_line_per_finding(project, expected):
    done = check(project, "--format", "text")
    assert_no_forgery(done.stdout)
    lines = done.stdout.decode("utf-8").split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert len(lines) == len(expected)
    for line in lines:
        assert re.match(r"^.+:\d+:\d+: CEL\d{3} ", line), line
        assert not line.startswith("::")


@pytest.mark.slow
def test_github_format_one_command_per_finding(project, expected):
    done = check(project, "--format", "github")
    assert_no_forgery(done.stdout)
    lines = done.stdout.decode("utf-8").split("\n")[:-1]
    assert len(lines) == len(expected)
    for line in lines:
        match = re.match(r"^::(error|warning|notice) (?P<properties>[^:]*)::(?P<data>.*)$", line)
        assert match, line
        properties = dict(item.split("=", 1) for item in match.group("properties").split(","))
        assert set(properties) == {"title", "file", "line", "col", "endLine", "endColumn"}
        # harmless inside a line: the newline before it is escaped
        if FORGED in match.group("data"):
            assert "%0A" in match.group("data").split(FORGED)[0]
    assert "file=proj/evil%0A%3A%3Aerror file=x%3A%3Ay\\x1b[31m%0D\\u2028.py," in lines[0] or any(
        "file=proj/evil%0A%3A%3Aerror file=x%3A%3Ay\\x1b[31m%0D\\u2028.py," in line
        for line in lines
    )


@pytest.mark.slow
def test_sarif_keeps_the_text_and_no_raw_control_characters(project, expected):
    done = check(project, "--format", "sarif")
    assert all(byte >= 0x20 or byte == 0x0A for byte in done.stdout)
    results = json.loads(done.stdout)["runs"][0]["results"]
    assert sorted(r["message"]["text"] for r in results) == sorted(f["message"] for f in expected)


@pytest.mark.slow
def test_flake8_one_line_per_finding(tmp_path):
    """flake8 prints file names itself; the plugin's messages carry the hostile names."""
    write_project(tmp_path, file_names=False)
    done = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "CEL",
                           "proj"], cwd=tmp_path, capture_output=True, timeout=120)
    assert b"Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    assert_no_forgery(done.stdout)
    lines = done.stdout.decode("utf-8").split("\n")[:-1]
    runner = json.loads(check(tmp_path, "--format", "json").stdout)
    assert len(lines) == len(runner)
    for line in lines:
        assert re.match(r"^proj/\w+\.py:\d+:\d+: CEL\d{3} ", line), line
    assert sum("\\x1b[31m" in line for line in lines) == sum(EVIL in f["message"] for f in runner)


@pytest.mark.parametrize(
    "character",
    [
        *LINE_BREAKS,
        "\x1b",
        "\x00",
        "\x7f",
        "\x9b",
        "\u202e",
        "\u2066",
        "\u200f",
        "\ufeff",
        "\udcff",
        "\U000e0041",
    ],
)
def test_escape_control_leaves_nothing_that_breaks_or_moves_text(character):
    escaped = escape_control(f"a{character}b")
    assert escaped.startswith("a\\") and escaped.endswith("b")
    assert escaped.isprintable() and escaped.isascii()
    assert len(escaped.splitlines()) == 1
    escaped.encode("utf-8")  # a lone surrogate would fail here


@pytest.mark.parametrize("text", ["plain", "café ü 東京", "tab-free", "a\\nb", "100%", "x:y,z"])
def test_escape_control_keeps_printable_text(text):
    assert escape_control(text) == text


def finding(path: str, message: str) -> Finding:
    return Finding(code="CEL104", name="beat-interval-too-short", message=message, path=path,
                   line=3, column=5, end_line=3, end_column=9, severity="warning")


def test_text_and_github_formats_escape_each_field():
    found = [finding(f"a{EVIL}.py", f"beat entry {EVIL!s}")]
    text = format_text(found)
    assert text.count("\n") == 1 and text.endswith("\n")
    github = format_github(found)
    assert github.count("\n") == 1
    properties = github.split("::")[1]
    assert properties.count(",") == 5  # the six properties, none from the path
    assert "%0A" in properties and "%0D" in properties and "%3A" in properties
    data = github.rstrip("\n").split("::", 2)[2]
    assert "%0A" in data and "\\x1b" in data and "%25" not in data
    assert format_github([finding("100%.py", "50% of it")]).count("%25") == 2


def test_sarif_uris_are_percent_encoded(project):
    done = check(project, "--format", "sarif")
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(done.stdout)["runs"][0]["results"]}
    assert "proj/evil%0A%3A%3Aerror%20file%3Dx%3A%3Ay%1B%5B31m%0D%E2%80%A8.py" in uris
    assert all(
        set(uri) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/%")
        for uri in uris
    )


def test_sarif_uri_of_ordinary_and_awkward_names():
    from celerylint.report import sarif_uri

    assert sarif_uri("proj/tasks.py") == "proj/tasks.py"
    assert sarif_uri("my proj/100%/#1?.py") == "my%20proj/100%25/%231%3F.py"
    assert sarif_uri("café/tâches.py") == "caf%C3%A9/t%C3%A2ches.py"
    assert sarif_uri("../other/x.py") == "../other/x.py"
