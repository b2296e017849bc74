"""One road for every entry point: read -> facts -> project view -> rules -> filter."""
from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import (Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Set,
                    Tuple, Type)

from celerylint.config import Config, ProjectRoot, RootFinder
from celerylint.facts import FileFacts, Loc
from celerylint.cache import FactsCache, context_key, text_digest
from celerylint.files import (Discovery, Source, _display_path, _sorted_unique, decode_source,
                              find_files, read_source, unreadable_source)
from celerylint.gitignore import GitIgnore, work_tree_top
from celerylint.parse import add_noqa_facts, parse_and_extract
from celerylint.prefilter import (Skipped, bound_names, files_to_parse, may_hold_facts,
                                  referenced_names, skipped_to_parse)
from celerylint.project import Project
from celerylint.rule import Finding, Rule, all_rules


@dataclass
class RunResult:
    findings: List[Finding] = field(default_factory=list)
    internal_errors: List[Tuple[str, str]] = field(default_factory=list)
    unreadable: List[Tuple[str, str]] = field(default_factory=list)
    # files outside the paths asked for that could not be analysed: findings that depend
    # on them may be missing (path, reason)
    incomplete: List[Tuple[str, str]] = field(default_factory=list)
    # the digest of the text each reported file was checked in (None: it could not be
    # read or decoded), so that what is written back (--add-noqa) or fingerprinted
    # (baselines) is that text, not a later one
    digests: Dict[str, Optional[str]] = field(default_factory=dict)
    # reported files that could not be read, decoded or parsed: which findings they
    # would have is unknown
    unanalysed: List[str] = field(default_factory=list)


def display_path(path: Path, base: Optional[Path] = None) -> str:
    """A path as reports show it; the same function names each file's facts
    (read_source), so reported paths and the paths asked for always match."""
    return _display_path(path, base)


def module_name(path: Path, root: Path, src: Sequence[str]) -> Tuple[str, bool]:
    """Dotted module name of a file under the deepest matching source root."""
    absolute = os.path.abspath(path)
    folded = os.path.normcase(absolute)
    best: Optional[str] = None
    for base in _source_roots(os.path.abspath(root), tuple(src)):
        if folded.startswith(os.path.normcase(base)) and (
            best is None or len(absolute) - len(base) < len(best)
        ):
            best = absolute[len(base):]
    parts = best.split(os.sep) if best is not None else [os.path.basename(absolute)]
    parts[-1] = parts[-1][:-3] if parts[-1].endswith(".py") else parts[-1]
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    if not all(p.isidentifier() for p in parts):
        return "", is_package
    return ".".join(parts), is_package


# Module-level memo: a pure function of its arguments once `root` is absolute (a relative
# root would make the answer depend on the current directory); a few projects per process.
@lru_cache(maxsize=64)
def _source_roots(root: str, src: Tuple[str, ...]) -> List[str]:
    """Absolute source roots, each ending with a separator (`root` is absolute)."""
    return [os.path.join(os.path.abspath(os.path.join(root, entry)), "") for entry in src]


def facts_for_source(source: Source, root: Path, src: Sequence[str]) -> FileFacts:
    module, is_package = module_name(source.path, root, src)
    if source.text is None:
        facts = FileFacts(path=source.relpath, module=module)
        facts.error = source.error or "cannot read file"
        facts.error_loc = Loc(
            source.error_line, source.error_col, source.error_line, source.error_col
        )
        return facts
    return parse_and_extract(source.text, source.relpath, module, is_package)


def facts_for_path(path: str, root: str, src: Sequence[str]) -> FileFacts:
    return facts_for_source(read_source(Path(path)), Path(root), src)


POOL_THRESHOLD = 8  # fewer files to extract than this: a process pool costs more than it saves


class Extracted(NamedTuple):
    facts: FileFacts
    full: bool  # False when only the syntax was checked: the prefilter found nothing in it
    digest: Optional[str]  # of the decoded text (None when it could not be read)


def collect_facts(paths: Sequence[Path], config: Config, jobs: int = 1, prefilter: bool = True,
                  use_cache: bool = False) -> List[FileFacts]:
    """Facts of every file, in the order given, extracted in up to `jobs` processes.

    With `prefilter`, files the byte scan rejects are not parsed; the files
    that parsed files point to (config modules, settings modules and their bases,
    modules of dispatched tasks and task bases), and the rejected files that point
    back at parsed facts (subclasses of task classes, reads of settings), are then
    parsed, until no new one turns up (see celerylint.prefilter).  The findings do
    not depend on it.
    """
    return [item.facts for item in collect(paths, config, jobs, prefilter, use_cache)]


def collect(paths: Sequence[Path], config: Config, jobs: int = 1, prefilter: bool = True,
            use_cache: bool = False, known: Optional[Dict[int, Extracted]] = None
            ) -> List[Extracted]:
    """:func:`collect_facts` with the digests, for the flake8 plugin: `known` holds what
    is already at hand (another process's facts, an editor buffer's).

    Without `prefilter` every file is parsed, and the files the prefilter would not have
    parsed lose what only parsing tells (syntax errors, constructs of newer Pythons), so
    that the findings are the same either way."""
    root, src = str(config.root), list(config.src)
    # One cache object per run: what it learns about its directory (made, ours, unusable)
    # must not outlive the run, which a process (an editor's flake8) may follow with others.
    cache = new_cache(config) if use_cache else None
    names_of = [module_name(path, config.root, src) for path in paths]
    modules: Dict[str, List[int]] = {}
    for index, (name, _) in enumerate(names_of):
        modules.setdefault(name, []).append(index)
    results: Dict[int, Extracted] = dict(known or {})
    parsed: Dict[int, FileFacts] = {i: item.facts for i, item in results.items() if item.full}
    summaries: Dict[int, Optional[Skipped]] = {}
    todo, need_full = [i for i in range(len(paths)) if i not in results], not prefilter
    while True:
        extracted = _extract_many([str(paths[i]) for i in todo], root, src, need_full, cache, jobs)
        for index, item in zip(todo, extracted):
            results[index] = item
            if item.full:
                parsed[index] = item.facts
        if not prefilter:
            break
        todo = sorted(_followed(paths, names_of, modules, parsed, results, summaries))
        need_full = True
        if not todo:
            break
    if not prefilter:
        needed = _needed(paths, names_of, modules, results)
        for index, item in results.items():
            if index not in needed:
                results[index] = Extracted(_unparsed(item.facts), False, item.digest)
    return [results[i] for i in range(len(paths))]


def _followed(paths: Sequence[Path], names_of: Sequence[Tuple[str, bool]],
              modules: Dict[str, List[int]], parsed: Dict[int, FileFacts],
              results: Dict[int, Extracted], summaries: Dict[int, Optional[Skipped]]) -> Set[int]:
    """Files not parsed yet that the parsed ones point to, or that point back at them."""
    names: Set[str] = set()
    for file_facts in parsed.values():
        names.update(referenced_names(file_facts))
    names.update(bound_names(parsed.values()))
    skipped = [i for i in results if i not in parsed]
    return (files_to_parse(names, modules, parsed)
            | skipped_to_parse(paths, names_of, skipped, parsed, summaries))


def _needed(paths: Sequence[Path], names_of: Sequence[Tuple[str, bool]],
            modules: Dict[str, List[int]], results: Dict[int, Extracted]) -> Set[int]:
    """The files the prefilter would have parsed: those its scan accepts (or cannot
    read), then those reached by following, given every file's full facts."""
    needed = set()
    for index in results:
        try:
            data = Path(paths[index]).read_bytes()
        except OSError:
            needed.add(index)
            continue
        if may_hold_facts(data):
            needed.add(index)
    summaries: Dict[int, Optional[Skipped]] = {}
    while True:
        parsed = {i: results[i].facts for i in needed}
        more = _followed(paths, names_of, modules, parsed, results, summaries) - needed
        if not more:
            return needed
        needed |= more


def _unparsed(facts: FileFacts) -> FileFacts:
    """The facts of a file as the prefilter leaves them when it does not parse it."""
    return dataclasses.replace(facts, error=None, error_loc=None, error_kind="", syntax=[])


def _extract_many(paths: List[str], root: str, src: List[str], need_full: bool,
                  cache: Optional[FactsCache], jobs: int) -> List[Extracted]:
    results: List[Optional[Extracted]] = [None] * len(paths)
    if cache is not None:
        for index, path in enumerate(paths):
            results[index] = _cached_by_stat(path, root, src, need_full, cache)
    missing = [i for i, result in enumerate(results) if result is None]
    args = [paths[i] for i in missing]
    count = len(args)
    if jobs <= 1 or count < POOL_THRESHOLD:
        fresh = [extract_file(p, root, src, need_full, cache) for p in args]
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, count)) as pool:
            fresh = list(pool.map(extract_file, args, [root] * count, [src] * count,
                                  [need_full] * count, [cache] * count,
                                  chunksize=max(1, count // (jobs * 8))))
    for index, result in zip(missing, fresh):
        results[index] = result
    return [result for result in results if result is not None]


def _file_context(path: Path, root: str, src: Sequence[str]) -> Tuple[str, str, bool, str]:
    relpath = display_path(path)
    module, is_package = module_name(path, Path(root), src)
    return relpath, module, is_package, context_key(relpath, module, is_package)


def _cached_by_stat(path_text: str, root: str, src: List[str], need_full: bool,
                    cache: FactsCache) -> Optional[Extracted]:
    path = Path(path_text)
    try:
        status = os.stat(path)
    except OSError:
        return None
    context = _file_context(path, root, src)[3]
    hit = cache.lookup_stat(path, context, status, need_full)
    return Extracted(*hit) if hit is not None else None


def extract_file(path_text: str, root: str, src: List[str], need_full: bool = True,
                 cache: Optional[FactsCache] = None) -> Extracted:
    """The facts of one file on disk.  Without `need_full`, a file in which the prefilter
    finds nothing Celery-related is not parsed at all (its facts are empty, ``full`` is
    False): whether it is valid Python is not celerylint's business (flake8's E999 and
    ruff say so)."""
    path = Path(path_text)
    relpath, module, is_package, context = _file_context(path, root, src)
    try:
        status: Optional[os.stat_result] = os.stat(path)
        data = path.read_bytes()
    except OSError as exc:  # not even the scan can tell whether it matters: it does
        return Extracted(facts_for_source(unreadable_source(path, relpath, exc), Path(root), src),
                         True, None)
    wanted = need_full or may_hold_facts(data)
    source = decode_source(path, relpath, data)
    text = source.text
    if text is None:
        if not wanted:
            return Extracted(FileFacts(path=relpath, module=module), False, None)
        return Extracted(facts_for_source(source, Path(root), src), True, None)
    digest = text_digest(text)
    if cache is not None:
        hit = cache.lookup_text(path, context, digest, need_full)
        if hit is not None:
            cache.store(path, context, status, digest, hit[0], hit[1])  # refresh the stamp
            return Extracted(*hit)
    if wanted:
        facts, full = parse_and_extract(text, relpath, module, is_package), True
    else:
        facts, full = FileFacts(path=relpath, module=module), False
        add_noqa_facts(facts, text)  # an unused noqa comment (CEL002) is in such a file too
    if cache is not None and facts.internal_error is None:
        cache.store(path, context, status, digest, facts, full)
    return Extracted(facts, full, digest)


def new_cache(config: Config) -> Optional[FactsCache]:
    """The facts cache of one run in the configuration's cache directory (None: no
    cache).  A run makes its own: the object remembers what it found its directory to
    be (made, a symlink, unwritable), which only holds for the run."""
    return FactsCache(Path(config.cache_dir)) if config.cache_dir is not None else None


def is_enabled(rule_class: Type[Rule], config: Config) -> bool:
    """Whether a rule runs: selected, and named by its full code (``select`` or
    ``extend-select``) when it is off by default."""
    code = rule_class.code
    if not config.is_selected(code):
        return False
    return rule_class.default_enabled or code in config.select + config.extend_select


def run_rules(project: Project, config: Config) -> Tuple[List[Finding], List[Tuple[str, str]]]:
    """The findings of every enabled rule, before suppression; then what the rules that
    judge those findings (CEL002) say about them."""
    findings: List[Finding] = []
    failures: List[Tuple[str, str]] = []
    rules = [rule_class(config.options) for rule_class in all_rules()
             if is_enabled(rule_class, config)]
    for rule in rules:
        try:
            findings.extend(rule.check(project))
        except Exception as exc:  # one broken rule must not hide the others
            failures.append((rule.code, f"rule {rule.code} failed: {type(exc).__name__}: {exc}"))
    ran = frozenset(rule.code for rule in rules)
    for rule in rules:
        try:
            judged = list(rule.check_findings(project, findings, ran))
        except Exception as exc:
            failures.append((rule.code, f"rule {rule.code} failed: {type(exc).__name__}: {exc}"))
            continue
        findings.extend(judged)
    return findings, failures


def is_suppressed(finding: Finding, facts: Optional[FileFacts]) -> bool:
    """flake8's noqa semantics: bare noqa hides all, codes hide by prefix; a whole-file
    noqa comment (see :func:`is_file_suppressed`) hides the file's findings."""
    if facts is None:
        return False
    if is_file_suppressed(finding, facts):
        return True
    codes = facts.noqa.get(finding.line)
    if codes is None:
        return False
    return not codes or any(finding.code.startswith(code) for code in codes)


def is_file_suppressed(finding: Finding, facts: Optional[FileFacts]) -> bool:
    """``# flake8: noqa`` or ``# celerylint: noqa[: codes]`` anywhere in the file."""
    codes = facts.file_noqa if facts is not None else None
    if codes is None:
        return False
    return not codes or any(finding.code.startswith(code) for code in codes)


def filter_findings(findings: Iterable[Finding], config: Config, files: Dict[str, FileFacts],
                    report_paths: Optional[Set[str]] = None, use_noqa: bool = True
                    ) -> List[Finding]:
    kept = []
    for finding in findings:
        if report_paths is not None and finding.path not in report_paths:
            continue
        if not config.is_selected(finding.code):
            continue
        facts = files.get(finding.path)
        root_relative = _root_relative(finding.path, config.root)
        if config.is_ignored_for_path(finding.code, root_relative):
            continue
        if use_noqa and is_suppressed(finding, facts):
            continue
        kept.append(finding)
    return sorted(set(kept), key=Finding.sort_key)


def _root_relative(path: str, root: Path) -> str:
    return display_path(Path(path), root)


def select_files(config: Config, paths: Sequence[Path], finder: Optional[RootFinder] = None,
                 on_large: Optional[Callable[[Path], None]] = None) -> Discovery:
    """The files to report on for the given paths, with the configuration's exclusions,
    ``.gitignore`` (when respected, inside a git work tree) and the roots of other
    projects met below the given directories (in ``nested``)."""
    finder = finder or RootFinder()
    marker = config.marker
    return find_files(paths, config.exclude, config.extend_exclude, config.root,
                      force_exclude=config.force_exclude, gitignore=_gitignore(config),
                      starts_project=lambda directory, names: finder.starts_project(
                          directory, names, marker),
                      on_large=on_large)


def _gitignore(config: Config) -> Optional[GitIgnore]:
    if not config.respect_gitignore:
        return None
    top = work_tree_top(os.path.abspath(config.root))
    return GitIgnore(top) if top is not None else None


def project_files(config: Config, paths: Sequence[Path], selection: Optional[Discovery] = None,
                  on_large: Optional[Callable[[Path], None]] = None
                  ) -> Tuple[List[Path], List[Tuple[Path, str]], List[Path]]:
    """(every file of the project, unreadable paths, the files to report on).

    The project view needs the whole project (settings and tasks live in other files
    than the ones pre-commit passes), so the project root is read too; findings are
    reported only for the given paths (``selection``, when the caller has it already).
    Without a project (config.marker "none") the given paths are the whole project.
    """
    if selection is None:
        selection = select_files(config, paths, on_large=on_large)
    wanted, problems = selection.files, selection.problems
    root = os.path.abspath(config.root)
    if config.marker == "none" or any(os.path.abspath(p) == root for p in paths):
        return wanted, problems, wanted  # the given paths cover the whole project
    everything = select_files(dataclasses.replace(config, force_exclude=False), [config.root],
                              on_large=on_large).files
    seen = {os.path.abspath(p) for p in everything}
    extra = [p for p in wanted if os.path.abspath(p) not in seen]
    return everything + extra, problems, wanted


def check(paths: Sequence[Path], config: Config, jobs: int = 1, prefilter: bool = True,
          use_cache: bool = False, selection: Optional[Discovery] = None,
          on_large: Optional[Callable[[Path], None]] = None) -> RunResult:
    """Lint `paths` as part of the project at config.root.

    `use_cache` reads and writes the facts cache in config.cache_dir (the CLI turns it
    on unless --no-cache); `prefilter=False` parses every file (tests compare both)."""
    all_paths, problems, wanted = project_files(config, paths, selection, on_large)
    extracted = collect(all_paths, config, jobs, prefilter, use_cache)
    facts = [item.facts for item in extracted]
    result = RunResult(unreadable=[(display_path(p), reason) for p, reason in problems])
    report_paths = {display_path(p) for p in wanted}
    result.digests = {item.facts.path: item.digest for item in extracted
                      if item.facts.path in report_paths}
    result.unanalysed = sorted(f.path for f in facts if f.path in report_paths
                               and (f.error is not None or f.internal_error is not None))
    project = Project(facts, config.target_version, python_version=config.python_version)
    findings, failures = run_rules(project, config)
    result.findings = filter_findings(findings, config, project.files, report_paths)
    result.internal_errors = sorted(
        [(f.path, f.internal_error) for f in facts if f.internal_error and f.path in report_paths]
        + failures)
    result.incomplete = sorted(
        (f.path, f.internal_error or f.error or "")
        for f in facts
        if f.path not in report_paths
        and (f.internal_error or (f.error and not _syntax_error_ignored(f, config)))
    )
    return result


def _syntax_error_ignored(facts: FileFacts, config: Config) -> bool:
    """Whether the user silenced CEL001 for this file (ignore lists, per-file-ignores,
    noqa): then it is known to be broken, and not worth a warning on every run."""
    code = "CEL001"
    if any(code.startswith(prefix) for prefix in config.ignore + config.extend_ignore):
        return True
    if config.is_ignored_for_path(code, _root_relative(facts.path, config.root)):
        return True
    loc = facts.error_loc or Loc(1, 1, 1, 1)
    return is_suppressed(Finding(facts.path, loc.line, loc.col, loc.end_line, loc.end_col, code,
                                 "syntax-error", "", "error"), facts)


# -- runs over several projects ---------------------------------------------------------


@dataclass
class Planned:
    """One project of a run: its configuration, the paths given in it, and its files."""
    config: Config
    paths: List[Path]
    selection: Discovery


def plan(paths: Sequence[Path], config_for: Callable[[ProjectRoot], Config],
         on_large: Optional[Callable[[Path], None]] = None) -> List[Planned]:
    """The projects the given paths belong to, sorted by root, each with its
    configuration (``config_for``, which may raise ConfigError) and the files to report
    on.  Each path's project comes from the path (config.find_root); a directory met in
    a walk that is the root of another project is checked as part of that project."""
    finder = RootFinder()
    planned: Dict[str, Planned] = {}
    pending = list(paths)
    while pending:
        by_root: Dict[str, Tuple[ProjectRoot, List[Path]]] = {}
        for path in pending:
            project = finder.find(path)
            by_root.setdefault(str(project.directory), (project, []))[1].append(Path(path))
        pending = []
        for key, (project, given) in by_root.items():
            known = planned.get(key)
            config = known.config if known is not None else config_for(project)
            selection = select_files(config, given, finder, on_large)
            pending.extend(selection.nested)
            if known is None:
                planned[key] = Planned(config, given, selection)
            else:
                known.paths.extend(given)
                known.selection.files = _sorted_unique(known.selection.files + selection.files)
                known.selection.problems.extend(selection.problems)
    return [planned[key] for key in sorted(planned)]


def check_planned(planned: Sequence[Planned], jobs: int = 1, use_cache: bool = False,
                  on_large: Optional[Callable[[Path], None]] = None) -> RunResult:
    """Check each planned project with its own configuration; findings merged and
    sorted as one run's."""
    merged = RunResult()
    for item in planned:
        result = check(item.paths, item.config, jobs, use_cache=use_cache,
                       selection=item.selection, on_large=on_large)
        merged.findings.extend(result.findings)
        merged.internal_errors.extend(result.internal_errors)
        merged.unreadable.extend(result.unreadable)
        merged.incomplete.extend(result.incomplete)
        merged.digests.update(result.digests)
        merged.unanalysed.extend(result.unanalysed)
    merged.findings = sorted(set(merged.findings), key=Finding.sort_key)
    merged.internal_errors.sort()
    merged.unreadable.sort()
    merged.incomplete.sort()
    merged.unanalysed.sort()
    return merged
