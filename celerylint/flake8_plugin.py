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
"""
from __future__ import annotations

import dataclasses
import gc
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar

from celerylint import __version__
from celerylint.config import ConfigError
from celerylint.files import Source, decode_lines
from celerylint.report import escape_control

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

    @classmethod
    def parse_options(cls, *_: object) -> None:
        """flake8 calls this once per run in every process (workers included)."""
        _RUN[0] += 1

    def __init__(self, tree: object, filename: str, lines: Sequence[str]):
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        try:
            text = decode_lines(self.lines)
            if not mentions_celery(text):
                return
            findings, failures = check_text(self.filename, text)
        except Exception as exc:  # anything escaping here would abort flake8's whole run
            findings, failures = [], [_describe(exc)]
        for finding in findings:
            message = f"{finding.code} {escape_control(finding.message)}"  # as in text output
            yield finding.line, max(finding.column - 1, 0), message, type(self)
        if failures:
            reason = _shorten("; ".join(_one_line(failure) for failure in failures))
            yield 1, 0, f"{INTERNAL_ERROR_CODE} celerylint could not check this file: {reason}", \
                type(self)


def check_text(filename: str, text: str) -> Tuple[List["Finding"], List[str]]:
    """(findings for ``filename`` with ``text`` as its content, one-line failures).

    ``ConfigError`` (a broken ``[tool.celerylint]``) is raised, not returned.
    """
    load_engine()
    from celerylint.cache import text_digest
    from celerylint.engine import display_path

    # Not resolved through symlinks: the project is the one the path lies in as named.
    checked = Path(os.path.abspath(filename))
    config, paths, index = _files_of_run(checked)
    checked_index = _index_of(checked, paths, index)
    # The path the runner would read the file by: module names and display paths follow it.
    source_path = paths[checked_index] if checked_index is not None else checked
    relpath = display_path(source_path)

    disk = _project_from_disk(paths, config)
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


def _files_of_run(checked: Path) -> Tuple["Config", List[Path], Dict[str, int]]:
    """(configuration, project files, index by absolute path) for the checked file.

    Within one flake8 run (see ``_RUN``) the configuration is read once per directory
    and the files once per project: a snapshot taken when the run first needs it, as
    ``celerylint check`` takes one.  Outside a run (the plugin driven directly) both
    are read for every check."""
    from celerylint.engine import project_files

    config = _config_for(checked)
    # Within a run a root has one configuration (_config_for reads it once per root).
    paths, index = _remembered(("files", str(config.root), os.getcwd()),
                               lambda: _indexed(project_files(config, [])[0]))
    return config, paths, index


def _config_for(checked: Path) -> "Config":
    """The runner's configuration for the checked file: the project is found from the
    file, as ``celerylint check`` finds it (config.find_root), never from the current
    directory; read once per run and project."""
    from celerylint.config import find_root

    project = _remembered(("root", str(checked.parent)), lambda: find_root(checked))
    return _remembered(("config", str(project.directory), os.getcwd()),
                       lambda: _load_config(project))


def _load_config(project: "ProjectRoot") -> "Config":
    from celerylint.config import load_config
    from celerylint.rule import all_rules, option_specs

    config = load_config(project.directory, None, option_specs(),
                         known_codes=[rule.code for rule in all_rules()], project=project)
    # flake8 decides what is selected, ignored and excluded: run every rule.
    return dataclasses.replace(config, select=["CEL"], extend_select=[], ignore=[],
                               extend_ignore=[], per_file_ignores={})


def _indexed(paths: List[Path]) -> Tuple[List[Path], Dict[str, int]]:
    return paths, {os.path.abspath(path): i for i, path in enumerate(paths)}


def _remembered(key: Tuple, compute: Callable[[], T]) -> T:
    """``compute()``, kept for the rest of the current flake8 run."""
    if _RUN[0] and (_RUN[0],) + key in _RUN_MEMO:
        return _RUN_MEMO[(_RUN[0],) + key]
    value = compute()
    if _RUN[0]:
        if any(entry[0] != _RUN[0] for entry in _RUN_MEMO):
            _RUN_MEMO.clear()
        _RUN_MEMO[(_RUN[0],) + key] = value
    return value


def _index_of(checked: Path, paths: List[Path], index: Dict[str, int]) -> Optional[int]:
    """Where the checked file (an absolute path) is among the discovered ones."""
    if str(checked) in index:
        return index[str(checked)]
    real = os.path.realpath(checked)
    return next((i for i, path in enumerate(paths) if os.path.realpath(path) == real), None)


@dataclasses.dataclass
class _ProjectFindings:
    findings: Dict[str, List["Finding"]]  # by display path
    failures: List[str]  # rules that crashed
    files: Dict[str, "FileFacts"]
    extracted: List["Extracted"]  # per project file, as celerylint.engine.collect gives them


def _build(extracted: List["Extracted"], config: "Config") -> _ProjectFindings:
    from celerylint.engine import run_rules
    from celerylint.project import Project

    files = [item.facts for item in extracted]
    project = Project(files, config.target_version, config.options, config.python_version)
    findings, rule_failures = run_rules(project, config)
    by_path: Dict[str, List["Finding"]] = {}
    for finding in sorted(set(findings), key=lambda f: f.sort_key()):
        by_path.setdefault(finding.path, []).append(finding)
    return _ProjectFindings(by_path, [message for _, message in rule_failures],
                            {facts.path: facts for facts in files}, extracted)


def _failures(rule_failures: List[str], facts: Optional["FileFacts"]) -> List[str]:
    if facts is not None and facts.internal_error:
        return [f"internal error: {facts.internal_error}"] + rule_failures
    return list(rule_failures)


# -- loading the engine -----------------------------------------------------------------

@lru_cache(maxsize=None)
def load_engine() -> None:
    """Import the engine and the rules, never the checked project.

    Nothing the engine loads imports Celery or kombu (their tables are data shipped
    in the package), so a project's own ``celery.py`` on ``sys.path`` cannot shadow
    anything the plugin needs."""
    from celerylint.rule import all_rules

    all_rules()


# -- per-process memo ----------------------------------------------------------------
#
# The project built from disk is kept per root, keyed by the configuration and the
# ``os.stat`` stamp (size, mtime, ctime, inode, device) of every file, plus the working
# directory and the project settings that shape facts: editors run flake8 in one
# long-lived process, and any change on disk makes the next check build it again.  A
# stamp is taken before the file is read, so a change during the read leaves a stamp
# that no longer matches.  Building goes through the engine (prefilter, facts cache in
# ``.celerylint_cache``, shared with ``celerylint check``); files the prefilter rejects
# are not parsed, and CEL001 of other files is never shown here.

Stamp = Optional[Tuple]

# flake8 runs counted through ``CeleryLintPlugin.parse_options``; within one run the
# configuration, the file list and the project from disk are read once (0: no run seen,
# read for every check).
_RUN = [0]
_RUN_MEMO: Dict[Tuple, Any] = {}

_PROJECT: Dict[str, Tuple[Tuple, "Config", _ProjectFindings]] = {}  # one entry per root


def _stamp(path: Path, context: Tuple) -> Stamp:
    """os.stat's view of a file, with what else shapes its facts (cwd, root, src)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino,
            status.st_dev) + context


def _project_from_disk(paths: List[Path], config: "Config") -> _ProjectFindings:
    """The project built from disk: within a flake8 run, once; across runs (an editor's
    long-lived process), again whenever a file's stat stamp changed."""
    return _remembered(("project", str(config.root), os.getcwd()),
                       lambda: _fresh_project(paths, config))


def _fresh_project(paths: List[Path], config: "Config") -> _ProjectFindings:
    from celerylint.engine import collect

    context = (os.getcwd(), str(config.root), tuple(config.src))
    stamps = [_stamp(path, context) for path in paths]
    key = tuple(zip((os.path.abspath(p) for p in paths), stamps))
    root = str(config.root)
    cached = _PROJECT.get(root)
    if cached is not None and None not in stamps and cached[0] == key and cached[1] == config:
        return cached[2]
    view = _build(collect(paths, config, jobs=1, use_cache=True), config)
    _PROJECT[root] = (key, config, view)
    # The view holds a few hundred thousand objects that live as long as the process; left
    # to the cyclic garbage collector, every full collection triggered by flake8's own
    # allocations walks them again (measured: +20-30% on a whole-project flake8 run).
    # They form no cycles and are freed by reference counting when a rebuild replaces them.
    gc.freeze()
    return view


def _project_with_text(paths: List[Path], index: Optional[int], source: Source, digest: str,
                       disk: _ProjectFindings, config: "Config") -> _ProjectFindings:
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


def _facts_through_disk_cache(source: Source, digest: str, config: "Config") -> "FileFacts":
    """The buffer's facts from the project's ``.celerylint_cache`` when an entry was made
    from the same text, else parsed and stored there."""
    from celerylint.engine import _cache, _file_context, facts_for_source

    if config.cache_dir is None:  # no project found, no cache named
        return facts_for_source(source, config.root, config.src)
    cache = _cache(str(config.cache_dir))
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
    _PROJECT.clear()
    _RUN_MEMO.clear()


# -- messages -------------------------------------------------------------------------

def _one_line(text: str) -> str:
    """A failure's reason on one line: whitespace runs as one space, other controls
    (from file names, values) escaped."""
    return escape_control(" ".join(str(text).split()))


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_REASON_LENGTH else text[: MAX_REASON_LENGTH - 3] + "..."


def _describe(exc: Exception) -> str:
    if isinstance(exc, ConfigError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"
