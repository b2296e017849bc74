"""Lint every fixture tree for every supported target version and print the findings as JSON.

Run as a script under the interpreter whose installed Celery is to be tried
(tests/test_celery_beside.py runs it under two)::

    python tests/lint_every_version.py

Each tree is a project root as tests/conftest.py's ``lint`` makes it (a directory of
tests/fixtures with its own pyproject.toml, else a top-level fixture directory, and
examples/demo).  Its files are extracted once, then the rules run as ``celerylint
check`` runs them for each supported target version and for the version the tree's
configuration gives.  The output also names the Celery installed beside the linter
(read from its metadata, not imported) and every ``celery``/``kombu`` module the run
imported (there must be none).
"""
from __future__ import annotations

import json
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Dict, List

from celerylint.config import load_config
from celerylint.engine import (collect_facts, display_path, filter_findings, project_files,
                               run_rules)
from celerylint.project import Project
from celerylint.rule import option_specs
from celerylint.tables import SUPPORTED_VERSIONS

REPO = Path(__file__).resolve().parent.parent


def fixture_roots() -> List[Path]:
    fixtures = REPO / "tests" / "fixtures"
    roots = []
    for top in sorted(p for p in fixtures.iterdir() if p.is_dir()):
        nested = sorted(p.parent for p in top.rglob("pyproject.toml") if p.parent != top)
        roots.extend(nested if nested and not (top / "pyproject.toml").exists() else [top])
    return [*roots, REPO / "examples" / "demo"]


def lint_tree(root: Path) -> Dict[str, list]:
    old = os.getcwd()
    os.chdir(root)
    try:
        config = load_config(root, None, option_specs(), {})
        if config.root.resolve() != root.resolve():  # as tests/conftest.py's lint()
            config.root = root
            config.src = ["."] + (["src"] if (root / "src").is_dir() else [])
        paths, _, wanted = project_files(config, [Path(".")])
        facts = collect_facts(paths, config, 1, True, False)
        report = {display_path(p) for p in wanted}
        results = {}
        for version in [config.target_version, *SUPPORTED_VERSIONS]:
            project = Project(facts, version)
            findings, failures = run_rules(project, config)
            kept = filter_findings(findings, config, project.files, report)
            label = "{}.{}".format(*version) + (" (configured)" if not results else "")
            results[label] = [[f.path, f.line, f.column, f.code, f.message] for f in kept] + \
                [["failure", path, message] for path, message in failures]
        return results
    finally:
        os.chdir(old)


def main() -> None:
    try:
        celery = metadata.version("celery")
    except metadata.PackageNotFoundError:
        celery = None
    trees = {root.relative_to(REPO).as_posix(): lint_tree(root) for root in fixture_roots()}
    imported = sorted(m for m in sys.modules if m.split(".")[0] in ("celery", "kombu"))
    print(json.dumps({"celery": celery, "imported": imported, "trees": trees}, sort_keys=True))


if __name__ == "__main__":
    main()
