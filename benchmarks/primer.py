"""The primer: celerylint on pinned releases of real Celery projects, compared with a triage.

    python benchmarks/primer.py --work /tmp/primer                    # every project
    python benchmarks/primer.py --work /tmp/primer --projects pretix,lemur
    python benchmarks/primer.py --work /tmp/primer --write-triage     # add new findings, untriaged

Like mypy_primer and ruff's ecosystem check, for precision: every finding celerylint gives on
these projects is labelled in ``benchmarks/primer/triage.json`` (right / wrong / debatable,
with a one-line reason written after reading the project's code there), and each run is
compared with it.  Not part of CI: it needs the package registry and takes minutes.

What a run does, per project of PROJECTS:

1. ``pip download --no-deps`` the pinned archive (the sdist or the wheel, whichever holds the
   project's Python sources and settings; PROJECTS says which and why) into ``WORK/archives``,
   and checks its sha256.
2. Unpacks it afresh into ``WORK/src/NAME-VERSION`` (an sdist's single top folder is
   stripped), and makes that folder a celerylint project root: when it has no
   ``pyproject.toml``, one is written with an empty ``[tool.celerylint]`` table and, if the
   archive's metadata (METADATA or PKG-INFO) declares them, the project's ``requires-python``
   and its Celery requirements, copied verbatim (nothing is invented); a ``pyproject.toml``
   without the table gets the empty table appended.
3. Runs ``python -m celerylint check --format json --no-cache .`` there with the interpreter
   running this script (which must import celerylint from this checkout), and the view
   statistics (apps, settings resolved, unresolved config sources, tasks, dispatches and beat
   entries linked to a task), which show how much of the project the linter sees.
4. Identifies each finding by (project, path, code, fingerprint of the stripped text of the
   finding's line, occurrence among equal keys) -- not by line number, so labels survive
   unrelated edits -- and compares with the triage: per rule, findings / right / wrong /
   debatable / untriaged and the precision of the non-debatable ones, and which findings
   appeared or vanished since the triage was written.

The report (Markdown) is printed and written to ``--report`` (default ``WORK/report.md``);
benchmarks/real-world.md holds the latest one with notes on every wrong finding.
``--write-triage`` adds findings the triage lacks as ``untriaged`` entries; it never changes
a label or a reason, and keeps entries whose finding vanished (the report lists them).
"""
from __future__ import annotations

import argparse
import datetime
import email.parser
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from celerylint.files import read_source
from celerylint.fingerprint import fingerprint, line_text, occurrences

if sys.version_info >= (3, 11):
    import tomllib
else:  # celerylint's own dependency on Python < 3.11
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TRIAGE = HERE / "primer" / "triage.json"
LABELS = ("right", "wrong", "debatable", "untriaged")
SETTINGS_NAME_RULES = ("CEL201", "CEL202", "CEL203", "CEL204")
CHECK_TIMEOUT = 1800  # seconds per project and step


@dataclass(frozen=True)
class Pin:
    """One project of the primer: a release on PyPI and how it is taken."""
    name: str       # the distribution's name on PyPI
    version: str
    kind: str       # "sdist" or "wheel": the archive that holds the sources and settings
    python: str     # pip's --python-version: a version the release's Requires-Python allows
    sha256: str
    why: str        # why this archive (what the other one lacks or why it cannot be had)
    shape: str = ""  # the Celery set-up worth having in the sample (app factory, ...)

    @property
    def key(self) -> str:
        """The name the triage and the report use."""
        return self.name.lower()

    @property
    def folder(self) -> str:
        return f"{self.key}-{self.version}"


SDIST = "sdist: the wheel's sources plus the project's declarations (and tests, where shipped)"
PROJECTS: Tuple[Pin, ...] = (
    Pin("flower", "2.2.0", "sdist", "3.11",
        "c4f4751942ff8b5069e6604a136e073b860971b7658859bdc61da1dc17a4bb32",
        "sdist: the wheel has no tests (59 .py files against 26) and no requirements/ folder",
        "a Celery monitor, not an application: apps made from the command line"),
    Pin("weblate", "5.14.3", "wheel", "3.12",
        "0bc2c5a49ebc496758e89f08d5ec9d1b226e8aba2cff7744a18ab9f235dca816",
        "wheel: the sdist's build dependencies do not build here (maturin from source); "
        "the wheel has every module (the settings are written at install time either way)",
        "Django, `CELERY_` namespace, settings generated at install time"),
    Pin("pretix", "2026.8.0", "wheel", "3.12",
        "a78932e698778d873530d67f25a57c28d1c09b1bfb1a22ec817c00d90397db85",
        "wheel: pip cannot prepare the sdist (its build dependencies conflict with the "
        "backend's); the wheel holds every module and pretix/settings.py",
        "Django, `CELERY_` namespace, settings read from a config file"),
    Pin("mayan-edms", "4.12.2", "sdist", "3.12",
        "92c4cc44420742ed2caa1145dbfa68e8153d91d767bee6289cf6cba8208334a0",
        SDIST, "Django, split settings package, queues declared by apps at run time"),
    Pin("nautobot", "3.2.7", "sdist", "3.12",
        "d8d90b807c4cf647ed630fc86ec75e5e7fe039d952531a125a29a0aa90d83581",
        "sdist: the same modules as the wheel plus pyproject.toml (requires-python, Celery)",
        "a `Celery` subclass, a `shared_task` alias, settings generated at install time"),
    Pin("apache-superset", "6.1.0", "sdist", "3.11",
        "56976e5773864f906e30a689dec2641e554286e8be860ecc1e3d4ff5ff6b2e32",
        SDIST, "Flask app factory; class-based Celery config (`CeleryConfig`) in config.py"),
    Pin("sentry", "23.7.1", "wheel", "3.8",
        "fc3c91702b7c203d06a36f8506f85f4ff67685115fe050e4baf000d785ac0a00",
        "wheel: the last sentry release on PyPI, and PyPI has no sdist of it (py38 wheel)",
        "tasks through a project decorator around `app.task`; Django settings"),
    Pin("Misago", "0.39.6", "wheel", "3.12",
        "57152ffa4d5d567803594b49163a7b399e93fab438f99ab4a463459936eb9f00",
        "wheel: it holds devproject/ (the Celery app, settings and test settings), which "
        "the sdist lacks",
        "reusable Django forum app with a dev project: `CELERY_` namespace"),
    Pin("lemur", "1.9.3", "sdist", "3.11",
        "a02df46a166338a0b5b00a8ce01fd9078b03f37cfc26523cec6d0c0d216d6183",
        SDIST, "Flask: `make_celery(app)` factory, config from the Flask app"),
    Pin("Superdesk-Core", "2.5.3", "sdist", "3.10",
        "489887fb8aae018806bf012567e26ccdf7227b286e7ba92e7cdf657b5c6d9eb9",
        SDIST, "Flask/Eve: Celery configured from the app config, `CELERY` namespace"),
    Pin("indico", "3.2.9", "wheel", "3.11",
        "194d2e31ccaabd2b9af7809e67d60d942faee35a6b4de36f0c2c280a32ed84c3",
        "wheel: indico publishes no sdist of 3.x",
        "Flask: a `Celery` subclass and a decorator preset for tasks"),
    Pin("apache-airflow-providers-celery", "3.26.0", "sdist", "3.12",
        "eff3e4474f28efc101ebcb4fadb4536ef579514273c8ce753fef816bf1196890",
        "sdist: the wheel lacks the tests (33 .py files against 13)",
        "app factory (`create_celery_app`) with a computed default config"),
    Pin("pretalx", "2026.2.1", "sdist", "3.13",
        "0017e11e67f853cede833aeeba773e838968d2f7c5d010471c77e17a71c50a3b",
        "sdist: pretalx publishes sdists; it holds the settings and pyproject.toml",
        "Django, `CELERY_` namespace"),
    Pin("geonode", "5.1.1", "wheel", "3.12",
        "00edf4cdfdbca7eaaef9a2f36e383a95eb87fef96060b8577977987b9ef52194",
        "wheel: geonode publishes no sdist of 5.x; the wheel holds the settings modules",
        "Django, many queues and routes, beat schedule in settings"),
    Pin("saleor", "2.10.1", "sdist", "3.8",
        "252931a2e9ac7115de347165812819528fde9e55598994cb4dff341f1fec496b",
        SDIST, "Django, `celeryconf.py` app, Celery 4"),
    Pin("flaskbb", "2.2.0", "sdist", "3.12",
        "3a24ac17dabe6872ff6ccca4a6eb51fcf557974ffb90d7a24ceb730b311a608c",
        "sdist: the wheel lacks the tests and celery_worker.py (146 .py files against 103)",
        "Flask app factory configuring a module-level `Celery()`"),
    Pin("dagster-celery", "0.29.27", "sdist", "3.12",
        "f80e250b6cc961383ebc39f2a20a4d5e78702f95914bbd7a8c6c1ef92ccca75a",
        "sdist: the wheel lacks the tests and the example (31 .py files against 12)",
        "app factory (`make_app`) from run-time arguments"),
    Pin("swh-scheduler", "3.6.0", "sdist", "3.12",
        "9cab296f013ad4e7d6a837a1da56d65bf11d4d8532add5549d86e19ae19df3a7",
        SDIST, "a `Celery` subclass configured from a computed dict"),
    Pin("openwisp-monitoring", "1.3", "sdist", "3.12",
        "fd61c2d24b4f82c4ff45a71744148efa3a9750a16af5bd47fb492813260a8faa",
        SDIST, "reusable Django app: `shared_task`s, test project settings with beat"),
    Pin("girder-worker", "5.0.21", "sdist", "3.12",
        "bcc64152fe7ed97f67b981db289f9616dd04d6aa44a304afa1d1e9c4768ad103",
        SDIST, "a Task subclass as `task_cls`, config module, signal receivers"),
    Pin("arches", "8.1.5", "sdist", "3.12",
        "2060be779e09310907a8d0c524850d4f19aeba753e9ee5d901eac0b0e6ff06b5",
        "sdist: the same modules as the wheel plus pyproject.toml and setup.cfg",
        "Django, `CELERY_` namespace, tasks with `shared_task`"),
    Pin("galaxy-app", "26.1.2", "sdist", "3.12",
        "8b22b7302bf3100eaf9239ee9abdc76b1889bf2569696430dfaf1c2a8aa0ffb8",
        "sdist: the wheel lacks the tests (572 .py files against 436); src/ layout",
        "a `Celery` subclass built by a factory from the Galaxy config; a decorator "
        "preset for tasks"),
)


# -- download and unpack ----------------------------------------------------------------

def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def archive_in(pin: Pin, directory: Path) -> Optional[Path]:
    """The pinned archive in ``directory``, if it is there (names differ in case and
    separators between sdists and wheels)."""
    if not directory.is_dir():
        return None
    for path in sorted(directory.iterdir()):
        name = path.name
        if pin.kind == "wheel" and name.endswith(".whl"):
            parts = name.split("-")
        elif pin.kind == "sdist" and name.endswith((".tar.gz", ".zip", ".tar.bz2")):
            parts = re.sub(r"\.(tar\.gz|tar\.bz2|zip)$", "", name).rsplit("-", 1)
        else:
            continue
        if len(parts) >= 2 and _normalised(parts[0]) == _normalised(pin.name) \
                and parts[1] == pin.version:
            return path
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(pin: Pin, directory: Path) -> Path:
    """The pinned archive, fetched with pip if it is not in ``directory`` yet; its sha256
    must be the pinned one."""
    found = archive_in(pin, directory)
    if found is None:
        binary = ["--no-binary", ":all:"] if pin.kind == "sdist" else ["--only-binary", ":all:"]
        command = [sys.executable, "-m", "pip", "download", "--no-deps", *binary,
                   "--python-version", pin.python, "--disable-pip-version-check", "--quiet",
                   "--dest", str(directory), f"{pin.name}=={pin.version}"]
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=CHECK_TIMEOUT)
        found = archive_in(pin, directory)
        if done.returncode != 0 or found is None:
            raise PrimerError(f"pip download {pin.name}=={pin.version} failed:\n{done.stdout}")
    digest = sha256_of(found)
    if digest != pin.sha256:
        raise PrimerError(f"{found.name}: sha256 {digest}, pinned {pin.sha256}")
    return found


class PrimerError(Exception):
    pass


def _safe_member(name: str) -> Optional[PurePosixPath]:
    """The member's path if it stays inside the folder it is unpacked into, else None."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return path


def _write_member(root: Path, relative: PurePosixPath, data: bytes) -> None:
    target = root.joinpath(*relative.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def unpack(pin: Pin, archive: Path, destination: Path) -> Path:
    """Unpack ``archive`` afresh into ``destination`` and return it: regular files only
    (links and devices are skipped), never outside it; an sdist's top folder is dropped."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    members: List[Tuple[PurePosixPath, Any]] = []
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as opened:
            for info in opened.infolist():
                relative = _safe_member(info.filename)
                if relative is not None and not info.is_dir():
                    members.append((relative, opened.read(info)))
    else:
        with tarfile.open(archive) as opened:
            for member in opened.getmembers():
                relative = _safe_member(member.name)
                if relative is None or not member.isfile():
                    continue
                stream = opened.extractfile(member)
                if stream is not None:
                    members.append((relative, stream.read()))
    if pin.kind == "sdist":
        tops = {relative.parts[0] for relative, _ in members}
        if len(tops) == 1:
            members = [(PurePosixPath(*relative.parts[1:]), data) for relative, data in members
                       if len(relative.parts) > 1]
    for relative, data in members:
        _write_member(destination, relative, data)
    return destination


def package_metadata(root: Path) -> Dict[str, Any]:
    """Requires-Python and the Celery requirements from the unpacked archive's METADATA
    (wheel) or top-level PKG-INFO (sdist); empty when it declares none."""
    candidates = [root / "PKG-INFO", *sorted(root.glob("*.dist-info/METADATA"))]
    for path in candidates:
        if path.is_file():
            message = email.parser.Parser().parsestr(path.read_text(encoding="utf-8",
                                                                    errors="replace"))
            celery = [line for line in message.get_all("Requires-Dist") or []
                      if re.match(r"celery\b(?![-_.])", line.strip(), re.IGNORECASE)]
            found: Dict[str, Any] = {"from": path.relative_to(root).as_posix()}
            if message.get("Requires-Python"):
                found["requires-python"] = message["Requires-Python"].strip()
            if celery:
                found["celery"] = celery
            return found
    return {}


def _toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of printable text is a TOML basic string


def has_celerylint_table(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_bytes().decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and isinstance(tool.get("celerylint"), dict)


def make_project_root(root: Path) -> str:
    """Make ``root`` a celerylint project root; say what was done (for the report)."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        if has_celerylint_table(pyproject):
            return "own [tool.celerylint]"
        text = pyproject.read_bytes().decode("utf-8-sig", errors="replace")
        pyproject.write_text(text.rstrip("\n") + "\n\n[tool.celerylint]\n", encoding="utf-8")
        return "own pyproject.toml + empty table"
    metadata = package_metadata(root)
    lines = ["# Written by benchmarks/primer.py: this folder is one celerylint project.", ""]
    declared = []
    if "requires-python" in metadata or "celery" in metadata:
        lines.append(f"# [project]: copied from {metadata['from']}")
        lines.append("[project]")
        if "requires-python" in metadata:
            lines.append(f"requires-python = {_toml_string(metadata['requires-python'])}")
            declared.append("requires-python")
        if "celery" in metadata:
            items = ", ".join(_toml_string(line) for line in metadata["celery"])
            lines.append(f"dependencies = [{items}]")
            declared.append("Celery requirement")
        lines.append("")
    lines.append("[tool.celerylint]")
    pyproject.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "written" + (f" ({' and '.join(declared)} from {metadata['from']})" if declared else "")


# -- running celerylint ----------------------------------------------------------------

@dataclass
class ProjectRun:
    pin: Pin
    root_note: str = ""
    python_files: int = 0
    findings: List[Dict[str, Any]] = field(default_factory=list)
    exit_code: int = 0
    stderr: str = ""
    seconds: float = 0.0
    stats: Dict[str, Any] = field(default_factory=dict)
    error: str = ""


def celerylint_location() -> str:
    """Where the interpreter running this script imports celerylint from."""
    done = subprocess.run([sys.executable, "-c", "import celerylint, os; "
                           "print(os.path.dirname(os.path.abspath(celerylint.__file__)))"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, cwd=str(Path.home()))
    return done.stdout.strip()


def run_check(root: Path, jobs: Optional[int]) -> Tuple[List[Dict[str, Any]], int, str, float]:
    """celerylint's findings on the project at ``root`` (paths relative to it)."""
    command = [sys.executable, "-m", "celerylint", "check", "--format", "json", "--no-cache"]
    if jobs:
        command += ["-j", str(jobs)]
    start = time.perf_counter()
    done = subprocess.run([*command, "."], cwd=str(root), capture_output=True,
                          text=True, timeout=CHECK_TIMEOUT)
    seconds = time.perf_counter() - start
    try:
        findings = json.loads(done.stdout) if done.stdout.strip() else []
    except ValueError:
        findings = []
    return findings, done.returncode, done.stderr, seconds


def run_stats(root: Path, jobs: Optional[int]) -> Dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--view-stats", str(root)]
    if jobs:
        command += ["--jobs", str(jobs)]
    done = subprocess.run(command, cwd=str(root), capture_output=True,
                          text=True, timeout=CHECK_TIMEOUT)
    try:
        return dict(json.loads(done.stdout))
    except ValueError:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}


def view_stats(root: Path, jobs: int) -> Dict[str, Any]:
    """How much of the project the view resolves: apps (settings resolved, config sources
    not resolved), tasks kept / task facts extracted, dispatches and beat entries found /
    linked to a project task, and the target versions in force."""
    from celerylint.config import load_config
    from celerylint.engine import collect_facts, project_files
    from celerylint.project import Project
    from celerylint.rule import option_specs

    os.chdir(root)
    config = load_config(root, None, option_specs(), {})
    paths, _, _ = project_files(config, [Path(".")])
    facts = collect_facts(paths, config, jobs=jobs)
    project = Project(facts, config.target_version, python_version=config.python_version)
    return {
        "files": len(facts),
        "target_version": ".".join(map(str, config.target_version)),
        "target_source": config.target_version_source,
        "python_version": ".".join(map(str, config.python_version)) if config.python_version
        else None,
        "apps": [{"qualname": app.fact.qualname, "path": app.path,
                  "settings": len(app.settings), "unresolved": list(app.unresolved_sources)}
                 for app in project.apps],
        "tasks": len(project.tasks),
        # decorations by a name that may be a task preset count when they make a task
        "task_facts": sum(1 for f in facts for t in f.tasks if t.decorator != "preset")
        + sum(1 for t in project.tasks if t.fact.preset),
        "dispatches": len(project.dispatches),
        "dispatches_linked": sum(1 for d in project.dispatches if d.task is not None),
        "beat": len(project.beat),
        "beat_linked": sum(1 for b in project.beat if b.task is not None),
    }


def prepare(pin: Pin, work: Path) -> Path:
    archive = download(pin, work / "archives")
    return unpack(pin, archive, work / "src" / pin.folder)


def run_project(pin: Pin, work: Path, jobs: Optional[int]) -> ProjectRun:
    run = ProjectRun(pin)
    try:
        root = prepare(pin, work)
    except (PrimerError, OSError, subprocess.SubprocessError, tarfile.TarError,
            zipfile.BadZipFile) as error:
        run.error = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return run
    run.root_note = make_project_root(root)
    run.python_files = sum(1 for _ in root.rglob("*.py"))
    try:
        run.findings, run.exit_code, run.stderr, run.seconds = run_check(root, jobs)
        run.stats = run_stats(root, jobs)
    except subprocess.TimeoutExpired:
        run.error = f"timed out after {CHECK_TIMEOUT} s"
    for finding in run.findings:
        finding["fingerprint"] = fingerprint(source_line(root, finding["path"], finding["line"]))
    return run


# -- triage ----------------------------------------------------------------------------

def source_line(root: Path, path: str, line: int) -> str:
    """The text of ``line`` (1-based) of ``path`` under ``root``, read and split as
    celerylint reads it; "" when absent.  With :func:`fingerprint` (celerylint's, which
    baselines use too), what identifies a finding's place across releases: its line's
    text, stripped and with runs of whitespace made one space, hashed (so no project
    code is stored)."""
    return line_text(read_source(root / path).text, line)


Key = Tuple[str, str, str, str, int]  # project, path, code, fingerprint, occurrence


def keyed(project: str, findings: Iterable[Dict[str, Any]]) -> Dict[Key, Dict[str, Any]]:
    """Findings by key; ``occurrence`` tells apart equal (path, code, fingerprint)s in
    line order."""
    ordered = sorted(findings, key=lambda f: (f["path"], f["line"], f["column"], f["code"]))
    bases = [(project, f["path"], f["code"], f["fingerprint"]) for f in ordered]
    return {(*base, count): finding
            for base, count, finding in zip(bases, occurrences(bases), ordered)}


def entry_key(entry: Dict[str, Any]) -> Key:
    return (entry["project"], entry["path"], entry["code"], entry["fingerprint"],
            int(entry.get("occurrence", 0)))


def load_triage(path: Path) -> List[Dict[str, Any]]:
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    entries = data.get("findings", [])
    for entry in entries:
        if entry.get("label") not in LABELS:
            raise PrimerError(f"{path}: {entry_key(entry)}: label {entry.get('label')!r} is not "
                              f"one of {', '.join(LABELS)}")
    return list(entries)


def dump_triage(entries: List[Dict[str, Any]]) -> str:
    ordered = sorted(entries, key=lambda e: (e["project"], e["path"], e.get("line", 0),
                                             entry_key(e)))
    fields = ("project", "path", "line", "code", "fingerprint", "occurrence", "message", "label",
              "reason")
    tidy = [{name: entry[name] for name in fields if name in entry} for entry in ordered]
    return json.dumps({"format": 1, "findings": tidy}, indent=1, ensure_ascii=False) + "\n"


@dataclass
class Comparison:
    """A run against the triage: labelled findings, and what changed since the triage."""
    labelled: List[Tuple[Key, Dict[str, Any], str, str]] = field(default_factory=list)
    appeared: List[Tuple[Key, Dict[str, Any]]] = field(default_factory=list)
    vanished: List[Dict[str, Any]] = field(default_factory=list)

    def per_rule(self) -> Dict[str, Counter]:
        table: Dict[str, Counter] = {}
        for key, _, label, _ in self.labelled:
            table.setdefault(key[2], Counter())[label] += 1
        return dict(sorted(table.items()))

    def per_project(self) -> Dict[str, Counter]:
        table: Dict[str, Counter] = {}
        for key, _, label, _ in self.labelled:
            table.setdefault(key[0], Counter())[label] += 1
        return table


def compare(found: Dict[str, List[Dict[str, Any]]], triage: List[Dict[str, Any]]) -> Comparison:
    """``found``: the findings of each project run (with fingerprints).  Entries of
    projects that were not run are neither compared nor counted as vanished."""
    by_key = {entry_key(entry): entry for entry in triage}
    result = Comparison()
    current: Dict[Key, Dict[str, Any]] = {}
    for project, findings in found.items():
        current.update(keyed(project, findings))
    for key in sorted(current):
        entry = by_key.get(key)
        if entry is None:
            result.appeared.append((key, current[key]))
            result.labelled.append((key, current[key], "untriaged", ""))
        else:
            result.labelled.append((key, current[key], entry["label"], entry.get("reason", "")))
    result.vanished = [entry for key, entry in sorted(by_key.items())
                       if key[0] in found and key not in current]
    return result


def updated_triage(found: Dict[str, List[Dict[str, Any]]], triage: List[Dict[str, Any]]
                   ) -> List[Dict[str, Any]]:
    """The triage with every finding of the run in it: new ones untriaged; known ones keep
    their label and reason (their line and message are refreshed); vanished ones stay."""
    by_key = {entry_key(entry): dict(entry) for entry in triage}
    for project, findings in found.items():
        for key, finding in keyed(project, findings).items():
            entry = by_key.setdefault(key, {"label": "untriaged", "reason": ""})
            entry.update(project=key[0], path=key[1], code=key[2], fingerprint=key[3],
                         line=finding["line"], message=finding["message"])
            if key[4]:
                entry["occurrence"] = key[4]
    return list(by_key.values())


# -- report ----------------------------------------------------------------------------

def precision(counts: Counter) -> str:
    judged = counts["right"] + counts["wrong"]
    return f"{100 * counts['right'] / judged:.0f} %" if judged else "–"


def rule_table(comparison: Comparison) -> List[str]:
    lines = ["| rule | findings | right | wrong | debatable | untriaged | precision (right / "
             "(right + wrong)) |", "|---|---:|---:|---:|---:|---:|---:|"]
    total: Counter = Counter()
    for code, counts in comparison.per_rule().items():
        total.update(counts)
        lines.append(f"| {code} | {sum(counts.values())} | {counts['right']} | "
                     f"{counts['wrong']} | {counts['debatable']} | {counts['untriaged']} | "
                     f"{precision(counts)} |")
    lines.append(f"| **all** | {sum(total.values())} | {total['right']} | {total['wrong']} | "
                 f"{total['debatable']} | {total['untriaged']} | {precision(total)} |")
    return lines


def settings_name_share(comparison: Comparison) -> str:
    total = len(comparison.labelled)
    names = sum(1 for key, *_ in comparison.labelled if key[2] in SETTINGS_NAME_RULES)
    if not total:
        return "No findings."
    return (f"Findings from the settings-name rules ({', '.join(SETTINGS_NAME_RULES)}): {names} "
            f"of {total}; from the other rules: {total - names} "
            f"({100 * (total - names) / total:.0f} %).")


def _apps_text(stats: Dict[str, Any]) -> str:
    apps = stats.get("apps")
    if apps is None:
        return stats.get("error", "?")
    if not apps:
        return "0"
    parts = []
    for app in apps[:3]:
        unresolved = "; " + ", ".join(f"`{_short(u)}`" for u in app["unresolved"]) \
            if app["unresolved"] else ""
        parts.append(f"{app['settings']}{unresolved}")
    more = f" / {len(apps) - 3} more" if len(apps) > 3 else ""
    return f"{len(apps)} ({' / '.join(parts)}{more})"


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split()).replace("`", "'").replace("|", "\\|")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def project_table(runs: Sequence[ProjectRun], comparison: Comparison) -> List[str]:
    lines = ["| project | version | archive | .py files | target Celery (from) | findings "
             "(R/W/D/U) | check time | apps (settings; unresolved sources) | tasks / task "
             "facts | dispatches linked / found | beat linked / found |",
             "|---|---|---|---:|---|---|---:|---|---|---|---|"]
    per_project = comparison.per_project()
    for run in runs:
        pin, stats = run.pin, run.stats
        if run.error:
            lines.append(f"| {pin.name} | {pin.version} | {pin.kind} | – | – | error: "
                         f"{run.error} | – | – | – | – | – |")
            continue
        counts = per_project.get(pin.key, Counter())
        verdicts = "/".join(str(counts[label]) for label in LABELS)
        target = f"{stats.get('target_version', '?')} ({stats.get('target_source', '?')})"
        lines.append(
            f"| {pin.name} | {pin.version} | {pin.kind} | {run.python_files} | {target} | "
            f"{len(run.findings)} ({verdicts}) | {run.seconds:.1f} s | {_apps_text(stats)} | "
            f"{stats.get('tasks', '?')} / {stats.get('task_facts', '?')} | "
            f"{stats.get('dispatches_linked', '?')} / {stats.get('dispatches', '?')} | "
            f"{stats.get('beat_linked', '?')} / {stats.get('beat', '?')} |")
    return lines


def _finding_line(key: Key, finding: Dict[str, Any]) -> str:
    return f"- {key[0]}: `{key[1]}:{finding['line']}` {key[2]} {finding['message']}"


def report(runs: Sequence[ProjectRun], comparison: Comparison, header: Dict[str, str]) -> str:
    out = ["# celerylint primer run", ""]
    out += [f"- {name}: {value}" for name, value in header.items()]
    out += ["", "## Per rule", "", *rule_table(comparison)]
    out += ["", settings_name_share(comparison), "", "## Per project", ""]
    out += project_table(runs, comparison)
    problems = [run for run in runs if run.error or run.exit_code not in (0, 1) or run.stderr]
    if problems:
        out += ["", "## Errors and warnings", ""]
        for run in problems:
            text = run.error or " ".join(run.stderr.split())[:300]
            out.append(f"- {run.pin.name}: exit {run.exit_code}: {text}")
    out += ["", f"## Appeared since the triage was written ({len(comparison.appeared)})", ""]
    out += [_finding_line(key, finding) for key, finding in comparison.appeared] or ["None."]
    out += ["", f"## Vanished since the triage was written ({len(comparison.vanished)})", ""]
    out += [f"- {e['project']}: `{e['path']}:{e.get('line', '?')}` {e['code']} ({e['label']}) "
            f"{e.get('message', '')}" for e in comparison.vanished] or ["None."]
    wrong = [(key, finding, reason) for key, finding, label, reason in comparison.labelled
             if label == "wrong"]
    out += ["", f"## Wrong findings ({len(wrong)})", ""]
    out += [_finding_line(key, finding) + f" -- {reason}" for key, finding, reason in wrong] \
        or ["None."]
    return "\n".join(out) + "\n"


def git_commit() -> str:
    done = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty",
                           "--abbrev=10"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True)
    return done.stdout.strip() or "unknown"


# -- command line ----------------------------------------------------------------------

def selected(names: Optional[str]) -> List[Pin]:
    if not names:
        return list(PROJECTS)
    wanted = [name.strip().lower() for name in names.split(",") if name.strip()]
    known = {pin.key: pin for pin in PROJECTS}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise PrimerError(f"unknown project(s): {', '.join(unknown)}; known: "
                          f"{', '.join(sorted(known))}")
    return [known[name] for name in wanted]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="work folder (outside this checkout)")
    parser.add_argument("--projects", help="comma-separated names (default: all)")
    parser.add_argument("--triage", type=Path, default=TRIAGE)
    parser.add_argument("--write-triage", action="store_true",
                        help="add the run's new findings to the triage as untriaged")
    parser.add_argument("--report", type=Path, help="default: WORK/report.md")
    parser.add_argument("--jobs", type=int, default=None, help="-j for celerylint")
    parser.add_argument("--view-stats", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.view_stats is not None:
        print(json.dumps(view_stats(args.view_stats.resolve(), args.jobs or os.cpu_count() or 1),
                         sort_keys=True))
        return 0
    if args.work is None:
        parser.error("--work is required")
    work = args.work.resolve()
    if work == REPO or REPO in work.parents:
        parser.error("--work must be outside this checkout (its pyproject.toml would "
                     "configure the projects)")
    try:
        pins = selected(args.projects)
        triage = load_triage(args.triage)
    except PrimerError as error:
        parser.error(str(error))
    location = celerylint_location()
    if Path(location) != REPO / "celerylint":
        print(f"primer: {sys.executable} imports celerylint from {location!r}, not from this "
              f"checkout; run `pip install -e .` here first", file=sys.stderr)
        return 2
    (work / "archives").mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    runs = []
    for pin in pins:
        print(f"primer: {pin.name} {pin.version} ...", file=sys.stderr, flush=True)
        run = run_project(pin, work, args.jobs)
        print(f"primer: {pin.name}: {len(run.findings)} findings, {run.seconds:.1f} s"
              + (f", {run.error}" if run.error else ""), file=sys.stderr, flush=True)
        runs.append(run)
    elapsed = time.perf_counter() - started

    found = {run.pin.key: run.findings for run in runs if not run.error}
    comparison = compare(found, triage)
    header = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "celerylint commit": git_commit(),
        "python": f"{platform.python_version()} ({sys.executable})",
        "machine": f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "projects": f"{len(runs)} ({sum(1 for r in runs if r.error)} failed)",
        "wall time": f"{elapsed:.0f} s (downloads, unpacking, checks and view statistics)",
        "triage": f"{args.triage} ({len(triage)} entries)",
    }
    text = report(runs, comparison, header)
    report_path = args.report or work / "report.md"
    report_path.write_text(text, encoding="utf-8")
    (work / "findings.json").write_text(json.dumps(found, indent=1, sort_keys=True) + "\n",
                                        encoding="utf-8")
    print(text)
    if args.write_triage:
        args.triage.parent.mkdir(parents=True, exist_ok=True)
        args.triage.write_text(dump_triage(updated_triage(found, triage)), encoding="utf-8")
    return 1 if any(run.error for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
