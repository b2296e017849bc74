"""Benchmark celerylint against flake8, ruff and celery-audit, in one run on one machine.

    python benchmarks/run.py --work /tmp/celerylint-bench            # full run (< 25 min, 2 cores)
    python benchmarks/run.py --work /tmp/celerylint-bench --quick    # tiny trees, seconds

What it does (see benchmarks/README.md for the method and the latest results):

1. Tools.  ruff and celery-audit are installed from the package registry into their own
   virtual environments under ``WORK/venvs``; flake8 "without the plugin" runs from a third
   venv holding the same flake8, pyflakes, pycodestyle and mccabe versions as this
   interpreter, which has celerylint installed ("with the plugin").  A venv is the only
   honest way to compare: flake8 runs every installed plugin whatever ``--select`` says
   and only filters the codes it reports.
2. Trees under ``WORK/trees``: ``real`` (the Python files of the wheels of Celery-using
   projects and of Celery's own packages, pinned in REAL_TREE) and ``synth-N`` (made by
   benchmarks/synth.py).
3. Runs every command with the tree as the working directory, ``best of N`` wall-clock
   time (time.perf_counter around the child), and the peak memory of the child: the
   largest single process (``ru_maxrss`` from ``os.wait4``, which folds in the child's own
   children) and the sum over the whole process tree, sampled every 50 ms from /proc.
4. Writes a Markdown report (machine, versions, times, ratios, targets) to stdout and to
   ``--output`` (default benchmarks/results.md).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

RUFF_VERSION = "0.17.6"
CELERY_AUDIT_VERSION = "0.1.0"
FLAKE8_PACKAGES = ("flake8", "pyflakes", "pycodestyle", "mccabe")

# (distribution, version): the Python files of these wheels make the real tree.
REAL_TREE: Tuple[Tuple[str, str], ...] = (
    ("weblate", "5.14.3"),
    ("pretix", "2026.8.0"),
    ("apache-superset", "6.1.0"),
    ("celery", "5.7.0"),
    ("kombu", "5.7.0"),
    ("billiard", "4.3.2"),
    ("vine", "5.1.0"),
    ("amqp", "5.4.2"),
)
# celery-audit audits one configuration module; these are the trees' Django settings.
AUDIT_CONFIG = {"real": "pretix/pretix/settings.py", "synth": "proj/settings.py"}
# The file the "one file changed" run edits: a module that holds Celery tasks.
TOUCH_FILE = {"real": "weblate/weblate/trans/tasks.py", "synth": "app0/tasks0.py"}
CACHE_DIR = ".celerylint_cache"
DEFAULT_WHEEL_DIRS = ("/tmp/realworld/wheels",)


@dataclass
class Measurement:
    tree: str
    label: str
    command: List[str]
    seconds: List[float] = field(default_factory=list)
    max_rss_kb: int = 0          # largest single process
    tree_rss_kb: int = 0         # whole process tree, sampled
    exit_codes: List[int] = field(default_factory=list)
    timed_out: bool = False
    error: str = ""

    @property
    def best(self) -> Optional[float]:
        return min(self.seconds) if self.seconds and not self.timed_out else None


@dataclass
class Tree:
    name: str
    kind: str  # "real" or "synth"
    path: Path
    files: int = 0
    megabytes: float = 0.0
    description: str = ""
    engine_changed: bool = False  # celerylint's code was edited while this tree was measured


def engine_digest() -> str:
    """A digest of celerylint's code: its cache is keyed by the extractor's code, so an
    edit during a run turns the warm runs that follow into cold ones."""
    import hashlib

    digest = hashlib.blake2b(digest_size=8)
    for path in sorted([*(REPO / "celerylint").glob("*.py"), *(REPO / "rules").glob("*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


# ----------------------------------------------------------------------------- running

def _rss_of_group(pgid: int) -> int:
    """Sum of VmRSS (kB) of every process in process group ``pgid``."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
            fields = stat[stat.rindex(b")") + 2:].split()
            if int(fields[2]) != pgid:  # fields[0] is state, [1] ppid, [2] pgrp
                continue
            total += int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)  # rss in pages
        except (OSError, ValueError, IndexError):
            continue
    return total


def run_once(
    command: Sequence[str], cwd: Path, timeout: float, log: Path
) -> Tuple[float, int, int, int, bool]:
    """(seconds, exit code, max single-process RSS kB, peak process-tree RSS kB, timed out)."""
    with open(log, "wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command),
            cwd=str(cwd),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], _rss_of_group(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(timeout, lambda: os.killpg(process.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            elapsed = time.perf_counter() - start
            timer.cancel()
            done.set()
            sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    timed_out = elapsed >= timeout and process.returncode < 0
    return (
        elapsed,
        process.returncode,
        int(usage.ru_maxrss),
        max(peak[0], int(usage.ru_maxrss)),
        timed_out,
    )


@dataclass
class Step:
    key: str
    label: str
    command: List[str]
    ok_codes: Tuple[int, ...] = (0,)
    before: Optional[Callable[[int], None]] = None
    after: Optional[Callable[[int], None]] = None
    needs: str = ""  # key of a step whose kill (timeout) makes this one pointless


def measure_steps(
    tree: Tree, steps: Sequence[Step], repeat: int, timeout: float, logs: Path
) -> Dict[str, Measurement]:
    """Run every step ``repeat`` times, interleaved (all steps, then all steps again), so a
    change in the machine's load during the run hits every tool alike; keep the best time."""
    results = {step.key: Measurement(tree.name, step.label, list(step.command)) for step in steps}
    for attempt in range(repeat):
        for step in steps:
            result = results[step.key]
            if result.timed_out:
                continue
            if step.needs and results[step.needs].timed_out:
                result.timed_out = True
                result.error = f"skipped: {results[step.needs].label} was killed"
                continue
            if step.before is not None:
                step.before(attempt)
            log = logs / f"{tree.name}--{step.key}--{attempt}.log"
            try:
                seconds, code, rss, tree_rss, timed_out = run_once(
                    step.command, tree.path, timeout, log
                )
            finally:
                if step.after is not None:
                    step.after(attempt)
            result.seconds.append(seconds)
            result.exit_codes.append(code)
            result.max_rss_kb = max(result.max_rss_kb, rss)
            result.tree_rss_kb = max(result.tree_rss_kb, tree_rss)
            if timed_out:
                result.timed_out = True
                result.error = f"killed after {timeout:.0f} s"
            elif code not in step.ok_codes and not result.error:
                # Kept, not dropped: the note in the report says why the time may mislead
                # (celerylint exits 2 when it reports an internal error on some file).
                result.error = f"exit code {code}; see logs/{log.name}"
            print(f"  {tree.name:<12} {step.label:<34} run {attempt + 1}: {seconds:8.2f} s "
                  f"{rss / 1024:6.0f} MB  {result.error or 'ok'}", file=sys.stderr, flush=True)
    return results


# ----------------------------------------------------------------------------- tools

@dataclass
class Tools:
    celerylint: List[str]
    flake8_with: Optional[List[str]] = None
    flake8_without: Optional[List[str]] = None
    ruff: Optional[List[str]] = None
    celery_audit: Optional[List[str]] = None
    versions: Dict[str, str] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)


def _venv(path: Path, requirements: Sequence[str], problems: List[str]) -> Optional[Path]:
    """A venv at ``path`` holding exactly ``requirements`` (reused when they match)."""
    marker = path / "bench-requirements.txt"
    wanted = "\n".join(requirements) + "\n"
    if marker.exists() and marker.read_text() == wanted:
        return path / "bin"
    shutil.rmtree(path, ignore_errors=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True)
        subprocess.run(
            [str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", *requirements],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as error:
        problems.append(
            f"could not install {' '.join(requirements)}: {(error.stderr or '')[-500:]}"
        )
        return None
    marker.write_text(wanted)
    return path / "bin"


def _version_of(command: Sequence[str]) -> str:
    try:
        out = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unavailable ({error})"
    return " ".join((out.stdout or out.stderr).split())


def _installed_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return ""


def setup_tools(work: Path, wanted: Sequence[str]) -> Tools:
    venvs = work / "venvs"
    venvs.mkdir(parents=True, exist_ok=True)
    tools = Tools(celerylint=[sys.executable, "-m", "celerylint"])
    tools.versions["celerylint"] = _version_of(tools.celerylint) + f" ({_git_state()})"
    if "flake8" in wanted:
        pins = [f"{name}=={_installed_version(name)}" for name in FLAKE8_PACKAGES]
        tools.flake8_with = [sys.executable, "-m", "flake8"]
        with_version = _version_of(tools.flake8_with)
        if "celerylint" not in with_version:
            tools.problems.append(
                f"celerylint is not a flake8 plugin of {sys.executable}: {with_version}"
            )
        tools.versions["flake8 (with plugin)"] = with_version
        bin_dir = _venv(venvs / "flake8-plain", pins, tools.problems)
        if bin_dir is not None:
            tools.flake8_without = [str(bin_dir / "flake8")]
            tools.versions["flake8 (without)"] = _version_of(tools.flake8_without)
    if "ruff" in wanted:
        bin_dir = _venv(venvs / "ruff", [f"ruff=={RUFF_VERSION}"], tools.problems)
        if bin_dir is not None:
            tools.ruff = [str(bin_dir / "ruff")]
            tools.versions["ruff"] = _version_of(tools.ruff)
    if "celery-audit" in wanted:
        bin_dir = _venv(
            venvs / "celery-audit", [f"celery-audit=={CELERY_AUDIT_VERSION}"], tools.problems
        )
        if bin_dir is not None:
            tools.celery_audit = [str(bin_dir / "celery-audit")]
            tools.versions["celery-audit"] = CELERY_AUDIT_VERSION  # it has no --version
    return tools


def _git_state() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "celerylint", "rules"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "not a git checkout"
    return f"git {head}{' + uncommitted engine changes' if dirty else ''}"


# ----------------------------------------------------------------------------- trees

def _find_wheel(dist: str, version: str, wheel_dirs: Sequence[Path], download: Path) -> Path:
    stem = dist.replace("-", "_").lower()
    for directory in [*wheel_dirs, download]:
        if directory.is_dir():
            for candidate in sorted(directory.glob("*.whl")):
                name, _, rest = candidate.name.partition("-")
                if name.lower() == stem and rest.startswith(version + "-"):
                    return candidate
    download.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-d",
            str(download),
            f"{dist}=={version}",
        ],
        check=True,
    )
    return (
        _find_wheel(dist, version, (), download)
        if download.is_dir() and any(download.glob("*.whl"))
        else _missing(dist, version)
    )


def _missing(dist: str, version: str) -> Path:
    raise SystemExit(f"benchmark: no wheel for {dist}=={version}")


def build_real_tree(work: Path, wheel_dirs: Sequence[Path]) -> Tree:
    path = work / "trees" / "real"
    marker = path / ".bench-tree.json"
    spec = [list(item) for item in REAL_TREE]
    if not (marker.exists() and json.loads(marker.read_text()) == spec):
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        for dist, version in REAL_TREE:
            wheel = _find_wheel(dist, version, wheel_dirs, work / "wheels")
            target = path / dist.replace("-", "_")
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if (
                        member.endswith(".py")
                        and ".data/" not in member
                        and ".dist-info/" not in member
                    ):
                        archive.extract(member, target)
        _make_project_root(path)
        marker.write_text(json.dumps(spec))
    tree = Tree("real", "real", path)
    tree.description = ", ".join(f"{dist} {version}" for dist, version in REAL_TREE)
    return _measure_tree(tree)


def build_synth_tree(work: Path, files: int) -> Tree:
    path = work / "trees" / f"synth-{files}"
    marker = path / ".bench-tree.json"
    spec = {"files": files, "seed": 1, "generator": (HERE / "synth.py").read_text()}
    if not (marker.exists() and json.loads(marker.read_text()) == spec):
        synth.generate(path, files, seed=1)
        _make_project_root(path)
        marker.write_text(json.dumps(spec))
    tree = Tree(f"synth-{files}", "synth", path)
    tree.description = f"benchmarks/synth.py --files {files} --seed 1"
    return _measure_tree(tree)


def _make_project_root(path: Path) -> None:
    # Each tree is its own project: without this, celerylint (and its flake8 plugin) would
    # walk up to whatever pyproject.toml sits above the work directory.
    (path / "pyproject.toml").write_text("[tool.celerylint]\n")


def _measure_tree(tree: Tree) -> Tree:
    sizes = [p.stat().st_size for p in tree.path.rglob("*.py") if CACHE_DIR not in p.parts]
    tree.files, tree.megabytes = len(sizes), sum(sizes) / 1e6
    return tree


# ----------------------------------------------------------------------------- the runs

def bench_tree(tree: Tree, tools: Tools, repeat: int, timeout: float, logs: Path, jobs: int,
               with_flake8: bool) -> Dict[str, Measurement]:
    cache = tree.path / CACHE_DIR
    check = [*tools.celerylint, "check", "--exit-zero", "-j", str(jobs), "."]
    no_cache = [*tools.celerylint, "check", "--no-cache", "--exit-zero", "-j", str(jobs), "."]
    touched = tree.path / TOUCH_FILE[tree.kind]
    original = touched.read_bytes()

    def clear_cache(_attempt: int) -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def edit(attempt: int) -> None:
        touched.write_bytes(original + f"# benchmark edit {attempt} {time.time()}\n".encode())

    def restore(_attempt: int) -> None:
        touched.write_bytes(original)

    steps = [
        Step("cold", "celerylint cold --no-cache", no_cache, before=clear_cache),
        Step("cold-fill", "celerylint cold, cache on", check, before=clear_cache, needs="cold"),
        Step("warm", "celerylint warm", check, needs="cold-fill"),
        Step(
            "touched",
            "celerylint 1 file changed",
            check,
            before=edit,
            after=restore,
            needs="cold-fill",
        ),
    ]
    if tools.ruff:
        steps.append(Step("ruff", "ruff check --no-cache",
                          [*tools.ruff, "check", "--no-cache", "--isolated", "--exit-zero", "."]))
    if tools.celery_audit:
        steps.append(Step("celery-audit", "celery-audit",
                          [*tools.celery_audit, ".", "--config", AUDIT_CONFIG[tree.kind],
                           "--settings-namespace", "CELERY"], ok_codes=(0, 1)))
    if with_flake8 and tools.flake8_without:
        steps.append(
            Step(
                "flake8",
                "flake8 (without plugin)",
                [*tools.flake8_without, "--isolated", "--exit-zero", "-j", str(jobs), "."],
            )
        )
    if with_flake8 and tools.flake8_with:
        with_plugin = [*tools.flake8_with, "--isolated", "--exit-zero", "-j", str(jobs), "."]
        steps.append(
            Step("flake8+cel", "flake8 + plugin, no cache yet", with_plugin, before=clear_cache)
        )
        steps.append(
            Step("flake8+cel-warm", "flake8 + plugin, cache warm", with_plugin, needs="flake8+cel")
        )
    before_runs = engine_digest()
    try:
        return measure_steps(tree, steps, repeat, timeout, logs)
    finally:
        tree.engine_changed = engine_digest() != before_runs
        restore(0)
        clear_cache(0)


def profile_cold(tree: Tree, logs: Path, top: int = 25) -> str:
    """cProfile of a single-process cold run (``-j 1``): where the time goes."""
    import pstats

    out = logs / f"profile-{tree.name}.prof"
    shutil.rmtree(tree.path / CACHE_DIR, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(out),
            "-m",
            "celerylint",
            "check",
            "--no-cache",
            "--exit-zero",
            "-j",
            "1",
            ".",
        ],
        cwd=tree.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    import io

    buffer = io.StringIO()
    stats = pstats.Stats(str(out), stream=buffer)
    stats.sort_stats("tottime").print_stats(top)
    lines = [line for line in buffer.getvalue().splitlines() if line.strip()]
    start_at = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    body = "\n".join(lines[start_at:start_at + top + 1])
    return (f"cProfile of `celerylint check --no-cache -j 1` on {tree.name} ({tree.files} files, "
            f"{elapsed:.1f} s under the profiler), top {top} by own time:\n\n```\n{body}\n```\n")


# ----------------------------------------------------------------------------- report

def _fmt_s(value: Optional[float]) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def _ratio(a: Optional[Measurement], b: Optional[Measurement]) -> Optional[float]:
    if a is None or b is None or a.best is None or b.best is None or b.best == 0:
        return None
    return a.best / b.best


def _fmt_ratio(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


LOAD_AT_START = _loadavg()


def machine() -> List[str]:
    cpu = "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return [
        f"- CPUs (`nproc`): {os.cpu_count()} × {cpu}",
        f"- memory: {memory}",
        f"- load average (1, 5, 15 min) at start: {LOAD_AT_START}; at end: {_loadavg()} "
        "(other work on the machine inflates every time; interleaved runs spread it over all "
        "tools)",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_version()} ({sys.executable})",
    ]


def report(
    trees: List[Tree],
    results: Dict[str, Dict[str, Measurement]],
    tools: Tools,
    args: argparse.Namespace,
    profile: str,
    total_seconds: float,
) -> str:
    out: List[str] = ["# celerylint benchmark results", ""]
    out.append(
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {total_seconds / 60:.1f} min "
        "in all; "
        f"`{' '.join(['python', 'benchmarks/run.py', *args.argv])}`."
    )
    out += ["", "## Machine", "", *machine(), "", "## Tools", ""]
    out += [f"- {name}: {value}" for name, value in tools.versions.items()]
    out += [f"- problem: {problem}" for problem in tools.problems]
    out += ["", "## Trees", "", "| tree | files | MB of Python | contents |", "|---|---:|---:|---|"]
    out += [f"| {t.name} | {t.files} | {t.megabytes:.1f} | {t.description} |" for t in trees]
    out += [
        "",
        f"## Times (best of {args.repeat} on trees under 10,000 files, best of {args.repeat_large} "
        "above; "
        f"`-j {args.jobs}` for celerylint and flake8)",
        "",
        "Peak memory: the largest single process (`ru_maxrss`) / the sum over the whole process "
        "tree "
        "(sampled every 50 ms).",
        "",
        "| tree | command | wall time | × ruff | × flake8 | peak RSS: process / tree | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for tree in trees:
        runs = results[tree.name]
        for key, run in runs.items():
            note = run.error or ""
            shown = (
                f"> {max(run.seconds):.0f} s" if run.timed_out and run.seconds else _fmt_s(run.best)
            )
            if tree.engine_changed and key in ("warm", "touched", "flake8+cel-warm"):
                note = (
                    note + "; " if note else ""
                ) + "celerylint's code changed during the run: may not have hit the cache"
            out.append(
                f"| {tree.name} | {run.label} | {shown} | "
                f"{_fmt_ratio(_ratio(run, runs.get('ruff')))} "
                f"| {_fmt_ratio(_ratio(run, runs.get('flake8')))} | {run.max_rss_kb / 1024:.0f} / "
                f"{run.tree_rss_kb / 1024:.0f} MB | {note} |"
            )
    synth_trees = [t for t in trees if t.kind == "synth"]
    if synth_trees:
        out += [
            "",
            "## Growth with size (synthetic trees, ~10% Celery files)",
            "",
            "| tree | files | cold | ms / file | warm | 1 file changed | ruff | peak RSS cold: "
            "process / tree |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for tree in synth_trees:
            runs = results[tree.name]
            cold = runs["cold"].best
            per_file = f"{1000 * cold / tree.files:.2f}" if cold else "n/a"
            ruff = _fmt_s(runs["ruff"].best) if "ruff" in runs else "n/a"
            out.append(
                f"| {tree.name} | {tree.files} | {_fmt_s(cold)} | {per_file} | "
                f"{_fmt_s(runs['warm'].best)} "
                f"| {_fmt_s(runs['touched'].best)} | {ruff} | {runs['cold'].max_rss_kb / 1024:.0f} "
                "/ "
                f"{runs['cold'].tree_rss_kb / 1024:.0f} MB |"
            )
    out += ["", "## Targets (issue 5)", "", "| target | measured | verdict |", "|---|---:|---|"]
    out += [_target_row(*row) for row in targets(trees, results)]
    if profile:
        out += ["", "## Profile", "", profile]
    return "\n".join(out) + "\n"


def targets(trees: List[Tree], results: Dict[str, Dict[str, Measurement]]
            ) -> List[Tuple[str, Optional[float], float, Optional[float]]]:
    """(description, measured ratio or value, limit, lower bound when killed): met when
    measured <= limit."""
    rows: List[Tuple[str, Optional[float], float, Optional[float]]] = []
    real = next((t for t in trees if t.kind == "real"), None) or max(
        trees, key=lambda t: t.files, default=None
    )
    if real is not None:
        runs = results[real.name]
        for description, a, b, limit in (
            ("cold ≤ 0.10 × flake8 (default plugins)", "cold", "flake8", 0.10),
            ("cold ≤ 0.30 × celery-audit", "cold", "celery-audit", 0.30),
            ("warm ≤ 2 × ruff --no-cache", "warm", "ruff", 2.0),
            ("one file changed ≤ 3 × ruff --no-cache", "touched", "ruff", 3.0),
            ("flake8 with plugin ≤ 1.15 × without (no cache yet)", "flake8+cel", "flake8", 1.15),
            ("flake8 with plugin ≤ 1.15 × without (cache warm)", "flake8+cel-warm", "flake8", 1.15),
        ):
            rows.append((f"{description}, {real.name}", _ratio(runs.get(a), runs.get(b)), limit,
                         _killed_ratio(runs.get(a), runs.get(b))))
    synth_trees = sorted((t for t in trees if t.kind == "synth"), key=lambda t: t.files)
    if len(synth_trees) >= 2:
        small, large = synth_trees[0], synth_trees[-1]
        a, b = results[small.name]["cold"].best, results[large.name]["cold"].best
        growth = (b / large.files) / (a / small.files) if a and b else None
        rows.append(
            (
                f"time per file {large.name} / {small.name} ≤ 1 (no worse than linear)",
                growth,
                1.0,
                None,
            )
        )
        rows.append((f"peak memory at {large.name}, MB (whole process tree, cold)",
                     results[large.name]["cold"].tree_rss_kb / 1024, 300.0, None))
    return rows


def _killed_ratio(a: Optional[Measurement], b: Optional[Measurement]) -> Optional[float]:
    """A lower bound of a / b when ``a`` was killed at the timeout."""
    if a is None or b is None or not a.timed_out or not a.seconds or b.best is None:
        return None
    return max(a.seconds) / b.best


def _target_row(description: str, measured: Optional[float], limit: float,
                lower_bound: Optional[float] = None) -> str:
    if measured is None and lower_bound is not None:
        return (f"| {description} | > {lower_bound:.2f} (killed at the timeout) | **missed** "
                f"by more than {lower_bound / limit:.1f}× |")
    if measured is None:
        return f"| {description} | n/a | not measured |"
    shown = f"{measured:.0f}" if "MB" in description else f"{measured:.2f}"
    if measured <= limit:
        return f"| {description} | {shown} | met |"
    return f"| {description} | {shown} | **missed** by {measured / limit:.1f}× |"


# ----------------------------------------------------------------------------- main

def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        description="Benchmark celerylint against flake8, ruff and celery-audit."
    )
    parser.add_argument(
        "--work", type=Path, required=True, help="work directory for venvs, trees and logs"
    )
    parser.add_argument("--quick", action="store_true",
                        help="tiny synthetic trees (60 and 200 files), no real tree, one run each")
    parser.add_argument("--sizes", default="1000,5000,20000", help="synthetic tree sizes (files)")
    parser.add_argument("--no-real", action="store_true", help="skip the real-code tree")
    parser.add_argument("--tools", default="flake8,ruff,celery-audit",
                        help="comparison tools to run (celerylint always runs); '' for none")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per command on small trees (best is kept)"
    )
    parser.add_argument("--repeat-large", type=int, default=1,
                        help="runs per command on the real tree and trees of 10,000+ files")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="-j for celerylint and flake8"
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds before a command is killed"
    )
    parser.add_argument("--flake8-on-synth", action="store_true",
                        help="also run flake8 on the synthetic trees (slow at 20k files)")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="",
        default=None,
        metavar="TREE",
        help="cProfile a -j 1 cold run on TREE (a tree name such as real or synth-1000; "
        "default: the smallest synthetic tree)",
    )
    parser.add_argument("--wheel-dir", type=Path, action="append", default=None,
                        help=f"where to look for the real tree's wheels before downloading "
                             f"(default: {', '.join(DEFAULT_WHEEL_DIRS)})")
    parser.add_argument("--output", type=Path, default=HERE / "results.md", help="Markdown report")
    args = parser.parse_args(argv)
    args.argv = argv
    if args.quick:
        args.sizes, args.no_real, args.repeat, args.repeat_large = "60,200", True, 1, 1
    work = args.work.resolve()
    if REPO in work.parents or work == REPO:
        parser.error(
            "--work must be outside the celerylint checkout (its pyproject.toml would configure "
            "the trees)"
        )
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    global LOAD_AT_START
    LOAD_AT_START = _loadavg()
    wanted = [name for name in args.tools.split(",") if name]
    print("setting up tools ...", file=sys.stderr, flush=True)
    tools = setup_tools(work, wanted)
    for problem in tools.problems:
        print(f"  problem: {problem}", file=sys.stderr)
    trees: List[Tree] = []
    if not args.no_real:
        trees.append(build_real_tree(work, args.wheel_dir or [Path(d) for d in DEFAULT_WHEEL_DIRS]))
    for size in sorted(int(s) for s in args.sizes.split(",") if s):
        trees.append(build_synth_tree(work, size))
    results: Dict[str, Dict[str, Measurement]] = {}
    for tree in trees:
        print(
            f"{tree.name}: {tree.files} files, {tree.megabytes:.1f} MB", file=sys.stderr, flush=True
        )
        repeat = args.repeat_large if tree.kind == "real" or tree.files >= 10000 else args.repeat
        results[tree.name] = bench_tree(
            tree,
            tools,
            repeat,
            args.timeout,
            logs,
            args.jobs,
            with_flake8=tree.kind == "real" or args.flake8_on_synth or args.quick,
        )
    profile = ""
    if args.profile is not None and trees:
        chosen = next((t for t in trees if t.name == args.profile), None) or \
            min((t for t in trees if t.kind == "synth"), key=lambda t: t.files, default=trees[0])
        profile = profile_cold(chosen, logs)
    text = report(trees, results, tools, args, profile, time.perf_counter() - started)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
