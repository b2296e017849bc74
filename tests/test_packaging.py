"""The wheel ships the rules inside ``celerylint.rules``, and the code stays Python
3.9-compatible."""

from __future__ import annotations

import ast
import configparser
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path
from typing import List

import pytest

from conftest import REPO

SOURCE_DIRS = ("celerylint", "rules")
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE")


def python_sources() -> List[Path]:
    return sorted(path for top in SOURCE_DIRS for path in (REPO / top).rglob("*.py"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the working tree (the build writes build/ and egg-info)."""
    workdir = tmp_path_factory.mktemp("wheel")
    source = workdir / "src"
    source.mkdir()
    for name in PROJECT_FILES:
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, source / name)
    for name in SOURCE_DIRS:
        shutil.copytree(REPO / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = workdir / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    (built,) = out.glob("celerylint-*.whl")
    return built


@pytest.mark.slow
def test_wheel_ships_rules_inside_the_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()

    assert "celerylint/rules/__init__.py" in names
    assert "celerylint/rules/cel001_syntax_error.py" in names
    shipped_rules = {
        name.rsplit("/", 1)[1] for name in names if name.startswith("celerylint/rules/")
    }
    assert shipped_rules == {path.name for path in (REPO / "rules").glob("*.py")}
    top_level = {name.split("/", 1)[0] for name in names}
    assert "rules" not in top_level
    assert not any(name.startswith("rules/") or name == "rules.py" for name in names)
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"celerylint"}


@pytest.mark.slow
def test_wheel_ships_every_module_of_the_package(wheel):
    """Subpackages (celerylint/extract/) are listed one by one in pyproject.toml."""
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {path.relative_to(REPO).as_posix() for path in (REPO / "celerylint").rglob("*.py")}
    assert "celerylint/extract/__init__.py" in sources
    assert sources <= names


@pytest.mark.slow
def test_wheel_ships_the_celery_tables(wheel):
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("celerylint/data/celery.json")
        requires = [line for name in archive.namelist() if name.endswith(".dist-info/METADATA")
                    for line in archive.read(name).decode("utf-8").splitlines()
                    if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert shipped == (REPO / "celerylint" / "data" / "celery.json").read_bytes()
    assert not [line for line in requires if "celery" in line or "kombu" in line], requires


@pytest.mark.slow
def test_wheel_declares_entry_points(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (entry_points_file,) = [
            n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")
        ]
        text = archive.read(entry_points_file).decode("utf-8")
    entry_points = configparser.ConfigParser()
    entry_points.read_string(text)

    assert entry_points["console_scripts"]["celerylint"] == "celerylint.cli:main"
    plugin = entry_points["flake8.extension"]["CEL"]
    assert plugin.startswith("celerylint.")


@pytest.mark.slow
def test_installed_wheel_lists_rules_from_its_own_copy(wheel, tmp_path):
    """Install the wheel into a fresh venv and run the console script from there.

    The venv reuses this interpreter's installed packages (pip and the
    dependencies) through a .pth file, which adds their directories to sys.path
    after the venv's own site-packages without running their .pth files, so an
    editable install of the checkout cannot stand in for the wheel."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder().create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout.strip()
    outer = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(site_packages, "outer-site-packages.pth").write_text(
        "\n".join(sorted(outer)) + "\n", encoding="utf-8"
    )
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index",
                              "--disable-pip-version-check", "--quiet", str(wheel)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert install.returncode == 0, install.stdout

    # the venv's copy, not an editable install of the checkout, is what runs
    where = subprocess.run([str(python), "-c", "import celerylint.rules as r; print(r.__file__)"],
                           cwd=tmp_path, stdout=subprocess.PIPE, text=True, check=True)
    installed = Path(where.stdout.strip()).resolve()
    assert str(installed).startswith(str(env_dir.resolve())), installed

    listed = subprocess.run([str(bin_dir / "celerylint"), "rules"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    codes = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    assert "CEL001" in codes
    expected = sorted(
        path.stem.split("_", 1)[0].upper() for path in (REPO / "rules").glob("cel*.py")
    )
    assert codes == expected


@pytest.mark.slow
def test_wheel_ships_the_license(wheel):
    """pyproject.toml says MIT; the wheel carries the text with its copyright line."""
    with zipfile.ZipFile(wheel) as archive:
        licenses = [name for name in archive.namelist()
                    if ".dist-info/" in name and name.rsplit("/", 1)[1] == "LICENSE"]
        assert licenses, archive.namelist()
        text = archive.read(licenses[0]).decode("utf-8")
    assert text == (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and "Copyright (c) 2026 the celerylint authors" in text


def _requirement(name: str) -> str:
    import re

    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    found = re.findall(rf'^\s*"({re.escape(name)}[<>=!~ ].*?)",?\s*$', text, re.MULTILINE)
    assert len(found) == 1, found
    return found[0]


def test_libcst_range_is_the_tested_one():
    """Extraction uses libcst internals: the range is bounded above, and .ci/run runs the
    extraction tests against its oldest release (read from pyproject.toml) and its
    newest (pip's eager upgrade within the range)."""
    from packaging.requirements import Requirement

    specifier = Requirement(_requirement("libcst")).specifier
    operators = sorted(spec.operator for spec in specifier)
    assert operators == ["<", ">="], str(specifier)
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert '"libcst==$libcst_oldest"' in ci and "--upgrade-strategy eager" in ci
    lower = next(spec.version for spec in specifier if spec.operator == ">=")
    extracted = subprocess.run(
        ["sed", "-n", r's/^ *"libcst>=\([0-9.]*\),<[0-9.]*",$/\1/p', "pyproject.toml"],
        cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    assert extracted == lower  # what .ci/run reads is the lower bound


def test_the_repository_pre_commit_configuration_is_valid():
    result = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config",
                             ".pre-commit-config.yaml"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_vermin_finds_nothing_newer_than_python_3_9():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from vermin.main import main; sys.exit(main())",
            "--target=3.9-",
            "--no-tips",
            "--violations",
            *SOURCE_DIRS,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_sources_parse_with_python_3_9_grammar():
    """Catches syntax vermin may miss (parenthesised context managers, match, except*)."""
    for path in python_sources():
        source = path.read_text(encoding="utf-8")
        try:
            ast.parse(source, filename=str(path), feature_version=(3, 9))
        except SyntaxError as error:
            pytest.fail(
                f"{path.relative_to(REPO)}:{error.lineno}: not Python 3.9 syntax: {error.msg}"
            )


def _runtime_annotations(tree: ast.Module):
    """Annotations Python evaluates at definition time (no postponed evaluation)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            for arg in arguments.posonlyargs + arguments.args + arguments.kwonlyargs:
                yield arg.annotation
            yield arguments.vararg.annotation if arguments.vararg else None
            yield arguments.kwarg.annotation if arguments.kwarg else None
            yield node.returns
        elif isinstance(node, ast.AnnAssign):
            yield node.annotation


def test_no_union_operator_in_evaluated_annotations():
    """`X | None` in an annotation fails on Python 3.9 unless annotations are postponed."""
    offenders = []
    for path in python_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        postponed = any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
                        and any(alias.name == "annotations" for alias in node.names)
                        for node in tree.body)
        if postponed:
            continue
        for annotation in _runtime_annotations(tree):
            if annotation is not None and any(
                isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr)
                for n in ast.walk(annotation)
            ):
                offenders.append(f"{path.relative_to(REPO)}:{annotation.lineno}")
    assert not offenders, (
        "add `from __future__ import annotations` or use Optional/Union: " + ", ".join(offenders)
    )
