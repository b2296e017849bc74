"""`# noqa` follows flake8's semantics in the runner, proven against real flake8."""
import json
import subprocess
import sys

from celerylint.parse import noqa_lines

CONTINUED = (
    'from celery import Celery\n'
    'app = Celery("p")\n'
    'app.conf.beat_schedule = {"x": {"task": "t", "schedule": 1.0, \\\n'
    '    "options": {}}}  # noqa: CEL104\n'
)


def test_lines_of_one_token_range_share_the_noqa_comment():
    text = 'a = 1  # noqa: CEL104\nb = """x\ny"""  # NOQA\nc = (1,\n     2)  # noqa\n'
    assert noqa_lines(text) == {1: ["CEL104"], 2: [], 3: [], 5: []}


def test_codes_are_full_codes_not_a_bare_noqa():
    assert noqa_lines("x = 1  # noqa:CEL101,CEL102\n") == {1: ["CEL101", "CEL102"]}


def test_untokenizable_text_falls_back_to_physical_lines():
    assert noqa_lines('x = """never closed  # noqa\n') == {1: []}


def _runner(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "celerylint", "check", "--format", "json", "app.py"],
                          cwd=tmp_path, capture_output=True, text=True)
    return sorted((f["line"], f["column"], f["code"]) for f in json.loads(proc.stdout))


def _flake8(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "CEL", "app.py"],
                          cwd=tmp_path, capture_output=True, text=True)
    found = []
    for line in proc.stdout.splitlines():
        _, number, column, rest = line.split(":", 3)
        found.append((int(number), int(column), rest.split()[0]))
    return sorted(found)


def test_runner_and_flake8_suppress_the_same_findings(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.celerylint]\n")
    (tmp_path / "app.py").write_text(CONTINUED.replace("  # noqa: CEL104", ""))
    unsuppressed = _runner(tmp_path)
    assert unsuppressed == _flake8(tmp_path) == [(3, 58, "CEL104")]
    (tmp_path / "app.py").write_text(CONTINUED)
    assert _runner(tmp_path) == _flake8(tmp_path) == []
