"""CEL001: syntax judged against the project's Python, never the interpreter running the linter.

Each construct a newer Python introduced fires in a project whose requires-python allows
an older one, and is silent in a project for its own version (and with no requires-python:
the newest grammar).  Only files celerylint needs (that can hold Celery facts) are judged.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from celerylint.config import detect_python_version
from celerylint.engine import check
from celerylint.config import load_config
from celerylint.parse import parse_and_extract
from celerylint.syntax import guard
from conftest import FIXTURES, lint_files, positions, write_tree

TRIGGER = "\nadd.delay(1)  # a dispatch: celerylint needs this file\n"

# (construct, source, the Python that introduced it, line, column of the finding)
CONSTRUCTS = [
    ("async def", "async def f():\n    pass\n", (3, 5), 1, 1),
    ("the @ operator", "x = a @ b\n", (3, 5), 1, 5),
    ("f-strings", "x = f'{a}'\n", (3, 6), 1, 5),
    ("variable annotations", "x: int = 1\n", (3, 6), 1, 1),
    ("underscores in numbers", "x = 1_000\n", (3, 6), 1, 5),
    ("assignment expressions", "if (y := 1):\n    pass\n", (3, 8), 1, 5),
    ("positional-only parameters", "def f(a, /):\n    pass\n", (3, 8), 1, 7),
    ("self-documenting f-string expressions", "x = f'{a=}'\n", (3, 8), 1, 7),
    ("decorator expressions", "@buttons[0].clicked.connect\ndef f():\n    pass\n", (3, 9), 1, 1),
    (
        "parenthesized context managers",
        "with (open(a) as f, open(b) as g):\n    pass\n",
        (3, 9),
        1,
        1,
    ),
    ("match statements", "match x:\n    case 1:\n        pass\n", (3, 10), 1, 1),
    ("except*", "try:\n    pass\nexcept* ValueError:\n    pass\n", (3, 11), 1, 1),
    ("starred subscripts", "x = a[*b]\n", (3, 11), 1, 7),
    ("type statements", "type X = int\n", (3, 12), 1, 1),
    ("type parameters", "def f[T](x: T) -> T:\n    return x\n", (3, 12), 1, 6),
    ("type parameters", "class Box[T]:\n    pass\n", (3, 12), 1, 10),
    ("f-string expressions (PEP 701)", 'x = f"{"same quotes"}"\n', (3, 12), 1, 7),
    ("f-string expressions (PEP 701)", "x = f'{\"\\n\".join(a)}'\n", (3, 12), 1, 7),
    ("f-string expressions (PEP 701)", "x = f'''{a  # a comment\n}'''\n", (3, 12), 1, 9),
    ("f-string expressions (PEP 701)", "x = f'{f'{f'{a}'}'}'\n", (3, 12), 1, 7),
    ("type parameter defaults", "def f[T = int]():\n    pass\n", (3, 13), 1, 7),
    (
        "except without parentheses",
        "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
        (3, 14),
        3,
        1,
    ),
    ("template strings", "x = t'{a}'\n", (3, 14), 1, 5),
]
IDS = [f"{name}-{number}" for number, (name, *_) in enumerate(CONSTRUCTS)]
# Constructs written the way older Pythons accept them: no finding for that Python.
LOOK_ALIKES = [
    ("3.11", "x = f'{a[\"b\"]}' + f\"{a['b']}\" + f'''{\"x\"}''' + f'{a!r:>{width}}'\n"),
    ("3.0", "with (a, b):\n    pass\n"),  # a tuple: valid in every Python 3
    ("3.0", "with open(p) as f:\n    pass\n"),  # the primer: 40 false CEL001 on sentry, saleor
    ("3.0", "with open(p) as f, open(q) as g:\n    pass\n"),
    ("3.0", "with lock(\n    name,\n    timeout=1,\n) as held:\n    pass\n"),
    ("3.0", "with (open(p)) as f:\n    pass\n"),  # a parenthesized expression, not items
    ("3.0", "try:\n    pass\nexcept (ValueError, TypeError):\n    pass\n"),
    ("3.0", "@a.b(c)\ndef f():\n    pass\n"),
    ("3.0", "x = a[b, c]\n"),
    ("3.0", "def f(a, *, b):\n    pass\n"),
]


def pyproject(python: str) -> str:
    return f'[project]\nname = "p"\nrequires-python = "{python}"\n[tool.celerylint]\n'


@pytest.mark.parametrize("name,source,version,line,column", CONSTRUCTS, ids=IDS)
def test_fires_for_a_python_before_the_construct(tmp_path, name, source, version, line, column):
    older = f"{version[0]}.{version[1] - 1}"
    findings = lint_files(tmp_path, {"pyproject.toml": pyproject(f">={older}"),
                                     "m.py": source + TRIGGER}, select="CEL001")
    assert positions(findings) == [("m.py", line, column, "CEL001")]
    assert findings[0].message == (f"syntax error for Python {older}: {name} came in "
                                   f"Python {version[0]}.{version[1]}")


@pytest.mark.parametrize("name,source,version,line,column", CONSTRUCTS, ids=IDS)
def test_silent_for_the_python_that_has_it(tmp_path, name, source, version, line, column):
    findings = lint_files(tmp_path, {"pyproject.toml": pyproject(f">={version[0]}.{version[1]}"),
                                     "m.py": source + TRIGGER}, select="CEL001")
    assert findings == []


def test_no_requires_python_means_the_newest_grammar(tmp_path):
    files = {f"m{number}.py": source + TRIGGER for number, (_, source, *_) in enumerate(CONSTRUCTS)}
    files["pyproject.toml"] = "[tool.celerylint]\n"
    assert lint_files(tmp_path, files, select="CEL001") == []


@pytest.mark.parametrize("python,source", LOOK_ALIKES)
def test_look_alikes_are_valid_in_older_pythons(tmp_path, python, source):
    findings = lint_files(tmp_path, {"pyproject.toml": pyproject(f">={python}"),
                                     "m.py": source + TRIGGER}, select="CEL001")
    assert findings == []


def test_a_file_without_celery_facts_is_never_judged(tmp_path):
    files = {"pyproject.toml": pyproject(">=3.9"),
             "new.py": "type X = int\n",  # too new for 3.9, but nothing Celery-related
             "broken.py": "def f(:\n"}
    assert lint_files(tmp_path, files, select="CEL001") == []


def test_the_first_construct_of_the_file_is_reported(tmp_path):
    source = "x = 1\nmatch x:\n    case 1:\n        y: int = 2\ntype T = int\n" + TRIGGER
    findings = lint_files(tmp_path, {"pyproject.toml": pyproject(">=3.9"), "m.py": source},
                          select="CEL001")
    assert [(f.line, f.column, f.message) for f in findings] == [
        (2, 1, "syntax error for Python 3.9: match statements came in Python 3.10")]


def test_syntax_errors_name_the_grammar(tmp_path):
    findings = lint_files(tmp_path, {"pyproject.toml": pyproject("~=3.11"),
                                     "m.py": "x = (1,\n" + TRIGGER}, select="CEL001")
    assert [(f.line, f.column, f.message) for f in findings] == [
        (1, 5, "syntax error for Python 3.11: '(' was never closed")]


@pytest.mark.parametrize("files,expected", [
    ({"pyproject.toml": pyproject(">=3.10,<4")}, (3, 10)),
    ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\n'}, (3, 11)),
    ({"setup.cfg": "[options]\npython_requires = >=3.8\n"}, (3, 8)),
    ({"pyproject.toml": '[project]\nrequires-python = "<3.13"\n'}, None),  # no lower bound
    ({"pyproject.toml": "[project\n"}, None),  # malformed: skipped
    ({}, None),
])
def test_the_projects_python_comes_from_its_declarations(tmp_path, files, expected):
    write_tree(tmp_path, files)
    assert detect_python_version(tmp_path) == expected


# -- valid code libcst cannot read: not a syntax error --------------------------------

@pytest.mark.parametrize("source", [
    "def f():\n  \\\n    x = 1\n",  # a continuation line opening a block
    "x = " + " ".join(['"a"'] * 5000) + "\n",  # 5,000 adjacent string literals
])
def test_valid_python_the_parser_cannot_read_is_named_not_reported(tmp_path, source):
    facts = parse_and_extract(source + TRIGGER, "m.py", "m", False)
    assert facts.error is None
    assert facts.internal_error.startswith("the parser cannot read this file, which Python accepts")
    write_tree(tmp_path, {"pyproject.toml": "[tool.celerylint]\n", "m.py": source + TRIGGER})
    result = subprocess.run([sys.executable, "-m", "celerylint", "check"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("celerylint: internal error on m.py: the parser cannot read")


# -- the guard: quick, lexical, the same everywhere ------------------------------------

def test_long_chains_are_refused_in_well_under_a_second():
    text = "x = (" + " +\n".join(["a"] * 10_000) + ")\n"
    started = time.perf_counter()
    found = guard(text)
    assert time.perf_counter() - started < 1.0
    assert found == ("expression too long to analyse (more than 1000 chained operations)", 1, 8, "")
    started = time.perf_counter()
    facts = parse_and_extract(text + TRIGGER, "m.py", "m", False)
    assert time.perf_counter() - started < 1.0
    assert facts.error_loc.line == 1


@pytest.mark.parametrize("text", [
    "x = '" + "(" * 300 + "'\n",  # brackets inside strings
    "# " + "[" * 300 + "\n",  # and comments
    'x = f"{a["' + "(" * 300 + '"]}"\n',  # a PEP 701 string inside an f-string field
    "x = [" + ", ".join(["a + b"] * 2000) + "]\n",  # many short chains, not one long one
    "x = (a and\n" + " and\n".join(["b"] * 5000) + ")\n",  # boolean chains are flat
    "if a:\n    pass\n" + "elif a:\n    pass\n" * 3000,
])
def test_the_guard_lets_valid_code_through(text):
    assert guard(text) is None


def test_prefilter_on_and_off_give_the_same_findings(tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": pyproject(">=3.9"),
        "broken_unneeded.py": "def f(:\n",
        "new_unneeded.py": "match x:\n    case 1:\n        pass\n",
        "broken.py": "def f(:\n" + TRIGGER,
        "new.py": "type X = int\n" + TRIGGER,
    })
    config = load_config(tmp_path)
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        with_prefilter = check([Path(".")], config, prefilter=True)
        without = check([Path(".")], config, prefilter=False)
    finally:
        os.chdir(old)
    assert with_prefilter.findings == without.findings
    assert positions(with_prefilter.findings) == [("broken.py", 1, 6, "CEL001"),
                                                  ("new.py", 1, 1, "CEL001")]


# -- the interpreter running the linter plays no part ----------------------------------

OTHER_PYTHONS = [p for p in os.environ.get("CELERYLINT_OTHER_PYTHONS", "").split(os.pathsep) if p]


def _constructs_tree(root: Path) -> Path:
    files = {f"m{number:02d}.py": source + TRIGGER
             for number, (_, source, *_) in enumerate(CONSTRUCTS)}
    files["broken.py"] = "def f(:\n" + TRIGGER
    files["pyproject.toml"] = pyproject(">=3.9")
    write_tree(root, files)
    return root


def _run(python: str, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "celerylint", "check", "--no-cache"], cwd=root,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(not OTHER_PYTHONS, reason="CELERYLINT_OTHER_PYTHONS names no interpreter "
                                              "(.ci/run sets it to the oldest and newest CI has)")
@pytest.mark.parametrize("python", OTHER_PYTHONS)
def test_same_output_under_other_interpreters(tmp_path, python):
    root = _constructs_tree(tmp_path)
    here, there = _run(sys.executable, root), _run(python, root)
    assert (there.returncode, there.stdout, there.stderr) == (
        here.returncode,
        here.stdout,
        here.stderr,
    )
    too_new = sum(1 for _, _, version, _, _ in CONSTRUCTS if version > (3, 9))
    assert here.returncode == 1 and here.stdout.count("CEL001") == too_new + 1  # + broken.py


def test_fixture_tree():
    """The rule's fixture tree: every `# expect:` marker fires, nothing else does."""
    from conftest import assert_fixture_tree

    assert (FIXTURES / "CEL001" / "pyproject.toml").is_file()
    assert_fixture_tree("CEL001", "CEL001")


@pytest.mark.skipif(not OTHER_PYTHONS, reason="CELERYLINT_OTHER_PYTHONS names no interpreter")
@pytest.mark.parametrize("python", OTHER_PYTHONS)
def test_every_fixture_tree_gives_the_same_output_under_other_interpreters(python):
    """Nothing in the engine (tokenizing for noqa, decoding, evaluating values) may differ."""
    trees = sorted(p.parent for p in FIXTURES.glob("*/pyproject.toml"))
    assert len(trees) > 10
    for root in trees:
        here, there = _run(sys.executable, root), _run(python, root)
        assert (there.returncode, there.stdout, there.stderr) == (
            here.returncode, here.stdout, here.stderr), root.name
