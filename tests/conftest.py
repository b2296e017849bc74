"""Shared helpers: lint a small project written into a temporary directory."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest

from celerylint.config import load_config, project_at
from celerylint.engine import check, collect_facts, project_files
from celerylint.facts import FileFacts
from celerylint.rule import Finding, option_specs

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent


def write_tree(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def collect_tree_facts(root: Path) -> List[FileFacts]:
    """Facts of every file of a project tree with its own pyproject.toml, as the runner sees
    them."""
    old = os.getcwd()
    os.chdir(root)
    try:
        config = load_config(root)
        assert config.root == root
        paths, problems, _ = project_files(config, [Path(".")])
        assert not problems
        return collect_facts(paths, config)
    finally:
        os.chdir(old)


def lint(root: Path, paths: Optional[Sequence[str]] = None, select: str = "CEL",
         **settings) -> List[Finding]:
    """Run the engine on `root` (as the project root) and return the findings.

    `settings` are extra [tool.celerylint] keys with '_' for '-'.  The tree is its own
    project whatever lies above it (a fixture tree without a pyproject.toml, or with one
    that has no [tool.celerylint], would otherwise belong to the repository's)."""
    overrides = {"select": select}
    old = os.getcwd()
    os.chdir(root)
    try:
        config = load_config(root, None, option_specs(), overrides, project=project_at(root))
        assert config.root == root
        for key, value in settings.items():
            config.options[key.replace("_", "-")] = value
        if "target_version" in settings:
            config.target_version = settings["target_version"]
        result = check([Path(p) for p in (paths or ["."])], config, jobs=1)
    finally:
        os.chdir(old)
    assert not result.internal_errors, result.internal_errors
    return result.findings


def lint_files(
    tmp_path: Path, files: Dict[str, str], select: str = "CEL", **settings
) -> List[Finding]:
    write_tree(tmp_path, files)
    return lint(tmp_path, select=select, **settings)


def positions(findings: List[Finding], code: Optional[str] = None):
    """(path, line, column, code) of each finding, for exact assertions."""
    return [(f.path, f.line, f.column, f.code) for f in findings if code is None or f.code == code]


@pytest.fixture
def project(tmp_path):
    """Write files and lint them: project({"a.py": "..."}, select="CEL104")."""
    def run(files: Dict[str, str], select: str = "CEL", **settings):
        return lint_files(tmp_path, files, select=select, **settings)
    return run


EXPECT_RE = __import__("re").compile(r"#\s*expect:\s*((?:CEL\d{3}:\d+[,\s]*)+)")


def expected_markers(root: Path, code: str):
    """(path, line, column, code) for every `# expect: CODE:COL` marker in a tree."""
    import re
    found = set()
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".py", ".toml", ".cfg", ".txt") or not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = EXPECT_RE.search(line)
            if match:
                for item in re.findall(r"(CEL\d{3}):(\d+)", match.group(1)):
                    if item[0] == code:
                        found.add((rel, number, int(item[1]), item[0]))
    return found


def assert_fixture_tree(name: str, code: str, **settings):
    """Lint tests/fixtures/<name> and compare `code` findings with its markers exactly."""
    root = FIXTURES / name
    findings = lint(root, select=code, **settings)
    actual = set(positions(findings, code))
    expected = expected_markers(root, code)
    assert expected, f"fixture {name} has no `# expect: {code}:COL` marker"
    missing, extra = expected - actual, actual - expected
    assert not missing and not extra, f"missing: {sorted(missing)}\nunexpected: {sorted(extra)}"
    return findings
