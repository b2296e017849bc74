"""One road for every entry point: read -> facts -> project view -> rules -> filter."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from celerylint.config import Config
from celerylint.facts import FileFacts, Loc
from celerylint.files import Source, _display_path, discover, read_source
from celerylint.parse import parse_and_extract
from celerylint.project import Project
from celerylint.rule import Finding, all_rules


@dataclass
class RunResult:
    findings: List[Finding] = field(default_factory=list)
    internal_errors: List[Tuple[str, str]] = field(default_factory=list)
    unreadable: List[Tuple[str, str]] = field(default_factory=list)
    files_checked: int = 0


def display_path(path: Path, base: Optional[Path] = None) -> str:
    """A path as reports show it; the same function names each file's facts
    (read_source), so reported paths and the paths asked for always match."""
    return _display_path(path, base)


def module_name(path: Path, root: Path, src: Sequence[str]) -> Tuple[str, bool]:
    """Dotted module name of a file under the deepest matching source root."""
    absolute = Path(os.path.abspath(path))
    best: Optional[Tuple[str, ...]] = None
    for entry in src:
        base = Path(os.path.abspath(root / entry))
        try:
            parts = absolute.relative_to(base).parts
        except ValueError:
            continue
        if best is None or len(parts) < len(best):
            best = parts
    if best is None:
        best = (absolute.name,)
    parts = list(best)
    parts[-1] = parts[-1][:-3] if parts[-1].endswith(".py") else parts[-1]
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    if not all(p.isidentifier() for p in parts):
        return "", is_package
    return ".".join(parts), is_package


def facts_for_source(source: Source, root: Path, src: Sequence[str]) -> FileFacts:
    module, is_package = module_name(source.path, root, src)
    if source.text is None:
        facts = FileFacts(path=source.relpath, module=module)
        facts.error = source.error or "cannot read file"
        facts.error_loc = Loc(source.error_line, source.error_col, source.error_line, source.error_col)
        return facts
    return parse_and_extract(source.text, source.relpath, module, is_package)


def facts_for_path(path: str, root: str, src: Sequence[str]) -> FileFacts:
    return facts_for_source(read_source(Path(path)), Path(root), src)


def collect_facts(paths: Sequence[Path], config: Config, jobs: int = 1) -> List[FileFacts]:
    """Facts of every file, in the order given, extracted in `jobs` processes."""
    args = [str(p) for p in paths]
    if jobs <= 1 or len(args) < 2:
        return [facts_for_path(p, str(config.root), config.src) for p in args]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        count = len(args)
        return list(pool.map(facts_for_path, args, [str(config.root)] * count,
                             [list(config.src)] * count, chunksize=max(1, count // (jobs * 8))))


def run_rules(project: Project, config: Config) -> Tuple[List[Finding], List[Tuple[str, str]]]:
    findings: List[Finding] = []
    failures: List[Tuple[str, str]] = []
    for rule_class in all_rules():
        if not config.is_selected(rule_class.code):
            continue
        rule = rule_class(config.options)
        try:
            findings.extend(rule.check(project))
        except Exception as exc:  # one broken rule must not hide the others
            failures.append((rule_class.code, f"rule {rule_class.code} failed: {type(exc).__name__}: {exc}"))
    return findings, failures


def is_suppressed(finding: Finding, facts: Optional[FileFacts]) -> bool:
    """flake8's noqa semantics: bare noqa hides all, codes hide by prefix."""
    if facts is None:
        return False
    codes = facts.noqa.get(finding.line)
    if codes is None:
        return False
    return not codes or any(finding.code.startswith(code) for code in codes)


def filter_findings(findings: Iterable[Finding], config: Config, files: Dict[str, FileFacts],
                    report_paths: Optional[set] = None, use_noqa: bool = True) -> List[Finding]:
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


def project_files(config: Config, paths: Sequence[Path]) -> Tuple[List[Path], List[Tuple[Path, str]], List[Path]]:
    """(every file of the project, unreadable paths, the files to report on).

    The project view needs the whole project (settings and tasks live in
    other files than the ones pre-commit passes), so the project root is read
    too; findings are reported only for the given paths.
    """
    wanted, problems = discover(paths, config.exclude, config.extend_exclude, config.root)
    everything, _ = discover([config.root], config.exclude, config.extend_exclude, config.root)
    seen = {os.path.abspath(p) for p in everything}
    extra = [p for p in wanted if os.path.abspath(p) not in seen]
    return everything + extra, problems, wanted


def check(paths: Sequence[Path], config: Config, jobs: int = 1) -> RunResult:
    all_paths, problems, wanted = project_files(config, paths)
    facts = collect_facts(all_paths, config, jobs)
    result = RunResult(unreadable=[(display_path(p), reason) for p, reason in problems])
    report_paths = {display_path(p) for p in wanted}
    result.files_checked = len(report_paths)
    project = Project(facts, config.target_version, config.options)
    findings, failures = run_rules(project, config)
    result.findings = filter_findings(findings, config, project.files, report_paths)
    result.internal_errors = sorted(
        [(f.path, f.internal_error) for f in facts if f.internal_error and f.path in report_paths]
        + failures)
    return result
