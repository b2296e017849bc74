"""The flake8 adapter: flake8 shows, for the file it checks, what ``celerylint check`` reports.

Registered under the ``flake8.extension`` entry point with the prefix ``CEL``.

What the plugin does for each file flake8 checks:

- It takes the file's text from flake8 (``lines``), never from disk, so ``flake8 -
  --stdin-display-name path/to/file.py`` (what editors run) lints the unsaved buffer.
- It finds the project the file belongs to from the file, as ``celerylint check`` does
  (``config.find_root``: the nearest ``pyproject.toml`` with ``[tool.celerylint]``, else
  the nearest ``pyproject.toml``, else the top of the git work tree; the current
  directory plays no part, and symlinks in the file's path are not resolved).  It reads
  every other file of the project from disk, uses flake8's text for the checked file,
  builds the project view and runs every rule.  Findings in other files are dropped;
  cross-file findings in this file (a task flagged because of settings in another
  module) are kept.  Module names and findings are the runner's: ``celerylint check``
  reports the same findings for the file.  Without a project, the file is checked on
  its own (the runner checks the paths it is given as one project).
- Rule options and ``target-version`` come from ``[tool.celerylint]``.  Selection
  (``--select``, ``--ignore``, ``--extend-ignore``, ``--per-file-ignores``), ``exclude``
  and ``# noqa`` follow flake8's own settings: celerylint's ``select``, ``ignore``,
  ``per-file-ignores`` and ``exclude`` do not apply to the file flake8 checks (the
  project's other files are still discovered with celerylint's ``exclude``).
- Columns: celerylint counts characters (code points) from 1.  flake8 prints the
  plugin's offset plus one, so the plugin yields ``column - 1`` and flake8 shows the
  same column as ``celerylint check``.  On lines with non-ASCII text flake8's own
  pyflakes checks (``F`` codes) count UTF-8 bytes, so their columns are further right
  than ours; pycodestyle's (``E``/``W``) count characters, as we do.
- Files that mention nothing Celery-related (see :func:`mentions_celery`) are skipped
  without building the project: such a file cannot hold a fact a rule reports on.
- Syntax errors: flake8 reports E999 for a file the running Python cannot parse and
  runs no plugin on it (keep E999 selected: ``--select CEL`` alone shows nothing for
  such a file).  CEL001 appears for what that Python accepts and the project's Python
  does not (``match`` in a project whose requires-python allows 3.9), as under
  ``celerylint check``, in files that can hold Celery facts.
- ``CEL000 celerylint could not check this file: <reason>``: an exception escaping a
  plugin aborts the whole flake8 run, so every failure (a broken ``[tool.celerylint]``
  table, a crash of the linter on this file, a failing rule) becomes this single
  finding on line 1, next to whatever findings could still be computed.  CEL000 is not
  a rule: ``celerylint check`` reports the same failures on stderr with exit code 2.

Editors run flake8 in one long-lived process, so nothing kept in memory outlives a change
to the file it came from (see the memo section below).  The project is built from disk
once per process and configuration, through the runner's prefilter and facts cache
(``.celerylint_cache``, shared with ``celerylint check``), and kept while no file's
``os.stat`` stamp changes.  When flake8's text is the text that build read (flake8
checking files, not an editor buffer: same digest), the file's findings come from that
build, so a whole-project ``flake8`` costs one project build per process; otherwise the
project is built again with the buffer in place of the file on disk.

State of the process the plugin touches (it shares the process with flake8 and other
plugins): memos of its own, each bounded and keyed so that it cannot answer for another
state of the disk (see below); the garbage collector frozen at most once per process
(:func:`_freeze_once` says when and why); nothing else (the recursion limit is raised
only while a parse runs, celerylint.parse).
"""
from __future__ import annotations

import dataclasses
import gc
import os
import re
import weakref
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
)

from celerylint import __version__
from celerylint.config import ConfigError
from celerylint.files import Source, decode_lines
from celerylint.report import escape_control, one_line

if TYPE_CHECKING:  # the engine (and Celery's tables) load only for files that need them
    from celerylint.config import Config, ProjectRoot
    from celerylint.engine import Extracted
    from celerylint.facts import FileFacts
    from celerylint.rule import Finding

T = TypeVar("T")
INTERNAL_ERROR_CODE = "CEL000"
MAX_REASON_LENGTH = 300

# Words whose absence means a file cannot hold anything a rule reports on: apps, tasks
# (decorators, Task classes), dispatches, beat entries, and settings, whose every name
# (new and old style, as Celery's own table lists them; tests check that) contains one of
# these.  Compared case-insensitively: CELERY_/BROKER_ settings and Celery/Task classes
# match.  Kept as words rather than read from Celery so that a file without them costs
# flake8 no import of Celery.
CELERY_WORDS = (
    "celery", "task", "beat", "schedule", "broker", "backend", "delay", "apply_async",
    "send_task", "signature", "config_from_object",
    # setting families and names not caught above
    "worker_", "result_", "event_", "control_", "security_", "database_", "redis_",
    "cassandra_", "azureblockblob_", "cosmosdbsql_", "elasticsearch_", "s3_", "gcs_",
    "accept_content", "enable_utc", "imports", "include", "timezone",
)
# Dispatch shortcuts (``add.s(1)``, ``add.si(1)``) and class-based tasks whose Task base
# class is defined in another module (``class Sync(BaseJob): def run(self): ...``).
CELERY_PATTERNS = re.compile(r"\.\s*si?\s*\(|\bdef\s+run\b")


def mentions_celery(text: str) -> bool:
    """False only when the text cannot hold anything a celerylint rule reports on."""
    lowered = text.lower()
    return any(word in lowered for word in CELERY_WORDS) or bool(CELERY_PATTERNS.search(text))


class CeleryLintPlugin:
    """flake8 entry point ``CEL``.

    flake8 classifies a plugin by its parameters and only runs plugins that take
    ``tree``, ``logical_line`` or ``physical_line``; ``tree`` (flake8's own ``ast``) is
    requested for that reason and is not used.
    """

    name = "celerylint"
    version = __version__

    def __init__(self, tree: object, filename: str, lines: Sequence[str],
                 options: object = None):
        self.filename = filename
        self.lines = lines
        # flake8's options: one object per run (and per worker process), handed to every
        # check of that run; it tells the checks of one run from those of the next.
        self.options = options

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        try:
            text = decode_lines(self.lines)
            if not mentions_celery(text):
                return
            findings, failures = check_text(self.filename, text, _memo_of_run(self.options))
        except Exception as exc:  # anything escaping here would abort flake8's whole run
            findings, failures = [], [_describe(exc)]
        for finding in findings:
            message = f"{finding.code} {escape_control(finding.message)}"  # as in text output
            yield finding.line, max(finding.column - 1, 0), message, type(self)
        if failures:
            reason = _shorten("; ".join(_one_line(failure) for failure in failures))
            yield 1, 0, f"{INTERNAL_ERROR_CODE} celerylint could not check this file: {reason}", \
                type(self)


def check_text(filename: str, text: str, memo: Optional[RunMemo] = None
               ) -> Tuple[List[Finding], List[str]]:
    """(findings for ``filename`` with ``text`` as its content, one-line failures).

    ``memo``: what the current flake8 run has read (:func:`_memo_of_run`); without it,
    configuration and files are read for this check.  ``ConfigError`` (a broken
    ``[tool.celerylint]``) is raised, not returned.
    """
    load_engine()
    from celerylint.cache import text_digest
    from celerylint.engine import display_path

    # Not resolved through symlinks: the project is the one the path lies in as named.
    checked = Path(os.path.abspath(filename))
    config, paths, index = _files_of_run(checked, memo)
    checked_index = _index_of(checked, paths, index)
    # The path the runner would read the file by: module names and display paths follow it.
    source_path = paths[checked_index] if checked_index is not None else checked
    relpath = display_path(source_path)

    disk = _project_from_disk(paths, config, memo)
    digest = text_digest(text)
    if checked_index is not None and disk.extracted[checked_index].digest == digest:
        # flake8's text is what is on disk (flake8 checking files rather than an editor
        # buffer): every file of this run sees the same project, built once.
        view = disk
    elif not mentions_celery(text):
        return [], _failures(disk.failures, None)
    else:
        view = _project_with_text(paths, checked_index, Source(source_path, relpath, text, None),
                                  digest, disk, config)
    from celerylint.engine import is_file_suppressed

    facts = view.files.get(relpath)
    findings = [f for f in view.findings.get(relpath, []) if not is_file_suppressed(f, facts)]
    return findings, _failures(view.failures, facts)


def _files_of_run(checked: Path, memo: Optional[RunMemo]
                  ) -> Tuple[Config, List[Path], Dict[str, int]]:
    """(configuration, project files, index by absolute path) for the checked file.

    Within one flake8 run (``memo``) the configuration is read once per directory
    and the files once per project: a snapshot taken when the run first needs it, as
    ``celerylint check`` takes one.  Outside a run (the plugin driven directly) both
    are read for every check."""
    from celerylint.engine import project_files

    config = _config_for(checked, memo)
    # Within a run a root has one configuration (_config_for reads it once per root).
    paths, index = _remembered(memo, ("files", str(config.root), os.getcwd()),
                               lambda: _indexed(project_files(config, [])[0]))
    return config, paths, index


def _config_for(checked: Path, memo: Optional[RunMemo]) -> Config:
    """The runner's configuration for the checked file: the project is found from the
    file, as ``celerylint check`` finds it (config.find_root), never from the current
    directory; read once per run and project."""
    from celerylint.config import find_root

    project = _remembered(memo, ("root", str(checked.parent)), lambda: find_root(checked))
    return _remembered(memo, ("config", str(project.directory), os.getcwd()),
                       lambda: _load_config(project))


def _load_config(project: ProjectRoot) -> Config:
    from celerylint.config import load_config
    from celerylint.rule import all_rules, option_specs

    config = load_config(project.directory, None, option_specs(),
                         known_codes=[rule.code for rule in all_rules()], project=project)
    # flake8 decides what is selected, ignored and excluded: run every rule.
    return dataclasses.replace(config, select=["CEL"], extend_select=[], ignore=[],
                               extend_ignore=[], per_file_ignores={})


def _indexed(paths: List[Path]) -> Tuple[List[Path], Dict[str, int]]:
    return paths, {os.path.abspath(path): i for i, path in enumerate(paths)}


def _remembered(memo: Optional[RunMemo], key: MemoKey, compute: Callable[[], T]) -> T:
    """``compute()``, kept in ``memo`` for the rest of the flake8 run it belongs to."""
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    found: T = memo[key]
    return found


def _index_of(checked: Path, paths: List[Path], index: Dict[str, int]) -> Optional[int]:
    """Where the checked file (an absolute path) is among the discovered ones."""
    if str(checked) in index:
        return index[str(checked)]
    real = os.path.realpath(checked)
    return next((i for i, path in enumerate(paths) if os.path.realpath(path) == real), None)


@dataclasses.dataclass
class _ProjectFindings:
    findings: Dict[str, List[Finding]]  # by display path
    failures: List[str]  # rules that crashed
    files: Dict[str, FileFacts]
    extracted: List[Extracted]  # per project file, as celerylint.engine.collect gives them


def _build(extracted: List[Extracted], config: Config) -> _ProjectFindings:
    from celerylint.engine import run_rules
    from celerylint.project import Project

    files = [item.facts for item in extracted]
    project = Project(files, config.target_version, python_version=config.python_version)
    findings, rule_failures = run_rules(project, config)
    by_path: Dict[str, List[Finding]] = {}
    for finding in sorted(set(findings), key=lambda f: f.sort_key()):
        by_path.setdefault(finding.path, []).append(finding)
    return _ProjectFindings(by_path, [message for _, message in rule_failures],
                            {facts.path: facts for facts in files}, extracted)


def _failures(rule_failures: List[str], facts: Optional[FileFacts]) -> List[str]:
    if facts is not None and facts.internal_error:
        return [f"internal error: {facts.internal_error}", *rule_failures]
    return list(rule_failures)


# -- loading the engine -----------------------------------------------------------------

@cache
def load_engine() -> None:
    """Import the engine and the rules, never the checked project.

    Nothing the engine loads imports Celery or kombu (their tables are data shipped
    in the package), so a project's own ``celery.py`` on ``sys.path`` cannot shadow
    anything the plugin needs."""
    from celerylint.rule import all_rules

    all_rules()


# -- memos ---------------------------------------------------------------------------
#
# Two memos, both module-level because flake8 creates the plugin anew for every file:
#
# - The run memo: configuration (per directory), file list and project (per root) as
#   the current flake8 run first read them, the snapshot ``celerylint check`` takes once
#   per run.  A run is known by flake8's options object, which flake8 hands to every
#   check of one run (one per worker process, too); the memo holds only a weak reference
#   to it and is dropped when flake8 drops the options, so it never outlives its run and
#   never serves another (a new run is a new options object; a plugin driven without
#   options reads everything for every check).  No run counter: nothing counts calls of
#   flake8's hooks.
#
# - The project memo (``_PROJECT``): the project built from disk, kept between runs for
#   editors that run flake8 again and again in one process, per root and for at most
#   MAX_PROJECTS roots (the most recently used).  It is keyed by the configuration and
#   the ``os.stat`` stamp (size, mtime, ctime, inode, device) of every file, plus the
#   working directory and the project settings that shape facts, so any change on disk
#   makes the next check build it again.  A stamp is taken before the file is read, so
#   a change during the read leaves a stamp that no longer matches.  Building goes
#   through the engine (prefilter, facts cache in ``.celerylint_cache``, shared with
#   ``celerylint check``); files the prefilter rejects are not parsed, and CEL001 of
#   other files is never shown here.

Stamp = Optional[Tuple[object, ...]]
MemoKey = Tuple[object, ...]
RunMemo = Dict[MemoKey, Any]
MAX_PROJECTS = 2  # built projects kept between runs: a project can hold 100+ MB of facts


@dataclasses.dataclass
class _CurrentRun:
    options: Optional[weakref.ref[object]] = None  # the run's flake8 options
    values: Optional[RunMemo] = None


_CURRENT_RUN = _CurrentRun()
_PROJECT: OrderedDict[str, Tuple[Tuple[Stamp, ...], Config, _ProjectFindings]] = OrderedDict()
_FROZEN = [False]  # see _freeze_once


def _memo_of_run(options: object) -> Optional[RunMemo]:
    """The memo of the flake8 run whose options object is ``options`` (None: no run)."""
    if options is None:
        return None
    current = _CURRENT_RUN.options() if _CURRENT_RUN.options is not None else None
    if current is options and _CURRENT_RUN.values is not None:
        return _CURRENT_RUN.values
    try:
        reference = weakref.ref(options, _run_ended)
    except TypeError:  # an options object that cannot be referenced weakly: no memo
        return None
    _CURRENT_RUN.options, _CURRENT_RUN.values = reference, {}
    return _CURRENT_RUN.values


def _run_ended(reference: weakref.ref[object]) -> None:
    if _CURRENT_RUN.options is reference:
        _CURRENT_RUN.options = _CURRENT_RUN.values = None


def _stamp(path: Path, context: Tuple[object, ...]) -> Stamp:
    """os.stat's view of a file, with what else shapes its facts (cwd, root, src)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
        status.st_ino,
        status.st_dev,
        *context,
    )


def _project_from_disk(paths: List[Path], config: Config, memo: Optional[RunMemo]
                       ) -> _ProjectFindings:
    """The project built from disk: within a flake8 run, once; across runs (an editor's
    long-lived process), again whenever a file's stat stamp changed."""
    key = ("project", str(config.root), os.getcwd())
    if memo is not None and key in memo:
        view: _ProjectFindings = memo[key]
        _freeze_once()
    else:
        view, built = _fresh_project(paths, config)
        if not built:
            _freeze_once()
        if memo is not None:
            memo[key] = view
    return view


def _fresh_project(paths: List[Path], config: Config) -> Tuple[_ProjectFindings, bool]:
    """(the project from disk, whether it was built now rather than kept from before)."""
    from celerylint.engine import collect

    context = (os.getcwd(), str(config.root), tuple(config.src))
    stamps = [_stamp(path, context) for path in paths]
    key = tuple(zip((os.path.abspath(p) for p in paths), stamps))
    root = str(config.root)
    cached = _PROJECT.get(root)
    if cached is not None and None not in stamps and cached[0] == key and cached[1] == config:
        _PROJECT.move_to_end(root)
        return cached[2], False
    _PROJECT.pop(root, None)  # the old build goes before the new one is made
    view = _build(collect(paths, config, jobs=1, use_cache=True), config)
    _PROJECT[root] = (key, config, view)
    while len(_PROJECT) > MAX_PROJECTS:
        _PROJECT.popitem(last=False)
    return view, True


def _freeze_once() -> None:
    """Move every object the garbage collector tracks into its permanent generation,
    once per process at most: called when a check is served from a project built
    before, so only a process checking several files pays for it.

    ``gc.freeze`` is process-wide (flake8's and other plugins' objects are frozen too),
    so no narrower form exists.  It stays because a built project is some 200,000
    objects (facts of a 3,200-file tree with 220 Celery files) that the process keeps,
    and every full collection set off by flake8's own allocations walks them again:
    flake8 -j 2 over that tree with a warm cache used about 15% more CPU without it
    (74 s against 63-65 s, measured on 2026-11-29).  A process checking one file (editors
    often run flake8 per file) gains nothing and is left as it was.  A full collection
    first, so that garbage is freed rather than frozen; nothing when the host turned
    the collector off; never undone (``gc.unfreeze`` would release what the host froze
    too).  Frozen objects are still freed by reference counting when a rebuild
    replaces the project: its objects form no cycles."""
    if _FROZEN[0] or not gc.isenabled():
        return
    _FROZEN[0] = True
    gc.collect()
    gc.freeze()


def _project_with_text(paths: List[Path], index: Optional[int], source: Source, digest: str,
                       disk: _ProjectFindings, config: Config) -> _ProjectFindings:
    """The project with ``source`` (an editor buffer, stdin) in place of its file on disk.

    Every other file keeps what the disk build extracted; the buffer is parsed in full
    (the prefilter only decides what may be skipped, so parsing more never changes a
    finding), and files it newly points to are parsed as ``celerylint check`` would."""
    from celerylint.engine import Extracted, collect

    known = dict(enumerate(disk.extracted))
    all_paths = list(paths)
    if index is None:  # not among the project's files (stdin, an excluded file)
        index = len(all_paths)
        all_paths.append(source.path)
    known[index] = Extracted(_facts_through_disk_cache(source, digest, config), True, digest)
    return _build(collect(all_paths, config, jobs=1, use_cache=True, known=known), config)


def _facts_through_disk_cache(source: Source, digest: str, config: Config) -> FileFacts:
    """The buffer's facts from the project's ``.celerylint_cache`` when an entry was made
    from the same text, else parsed and stored there."""
    from celerylint.engine import _file_context, facts_for_source, new_cache

    cache = new_cache(config)
    if cache is None:  # no project found, no cache named
        return facts_for_source(source, config.root, config.src)
    context = _file_context(source.path, str(config.root), config.src)[3]
    hit = cache.lookup_text(source.path, context, digest, need_full=True)
    if hit is not None:
        return hit[0]
    facts = facts_for_source(source, config.root, config.src)
    if facts.internal_error is None:
        # No stat stamp: only the text digest is known to match the entry.
        cache.store(source.path, context, None, digest, facts, True)
    return facts


def clear_memo() -> None:
    """Forget every project built and the current run's memo (tests start afresh)."""
    _PROJECT.clear()
    _CURRENT_RUN.options = _CURRENT_RUN.values = None


# -- messages -------------------------------------------------------------------------

def _one_line(text: str) -> str:
    """A failure's reason on one line: whitespace runs as one space, other controls
    (from file names, values) escaped."""
    return escape_control(one_line(text))


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_REASON_LENGTH else text[: MAX_REASON_LENGTH - 3] + "..."


def _describe(exc: Exception) -> str:
    if isinstance(exc, ConfigError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"
