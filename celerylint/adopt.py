"""A run's findings as baseline keys, and which baseline entries a run can judge.

The glue between a run (:mod:`celerylint.engine`) and the baseline file
(:mod:`celerylint.baseline`): each finding's key comes from its project (the path
relative to that project's root) and from the text of the file as it was checked, never
from a later one (:func:`read_as_checked`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from celerylint.baseline import Entry, Key
from celerylint.cache import text_digest
from celerylint.engine import Planned, RunResult, display_path, is_enabled
from celerylint.files import decode_source
from celerylint.fingerprint import fingerprint, line_text, occurrences
from celerylint.rule import Finding, rule_by_code


@dataclass
class Checked:
    """A reported file as it was checked: its bytes and its decoded text."""

    data: bytes
    text: str


def read_as_checked(path: str, digest: Optional[str]) -> Optional[Checked]:
    """The file (a path as findings name it) if its text is still the one checked
    (``digest``); None when it changed since, or cannot be read or decoded now."""
    if digest is None:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    source = read_source_text(path, data)
    if source is None or text_digest(source) != digest:
        return None
    return Checked(data, source)


def read_source_text(path: str, data: bytes) -> Optional[str]:
    """The text of a file's bytes, decoded as the run decodes them."""
    return decode_source(Path(path), path, data).text


@dataclass
class RunKeys:
    """The key of each finding of a run (same order) and its project; the files whose
    text changed after they were checked (their findings' keys are unknown)."""

    keys: List[Optional[Key]] = field(default_factory=list)
    owners: List[Optional[Planned]] = field(default_factory=list)
    changed: List[str] = field(default_factory=list)


def finding_keys(findings: Sequence[Finding], result: RunResult,
                 planned: Sequence[Planned]) -> RunKeys:
    owner_of: Dict[str, Planned] = {}
    for item in planned:
        for path in item.selection.files:
            owner_of.setdefault(display_path(path), item)
    texts: Dict[str, Optional[str]] = {}
    changed: Set[str] = set()
    bases: List[Optional[Tuple[int, str, str, str]]] = []
    run = RunKeys()
    for finding in findings:
        owner = owner_of.get(finding.path)
        run.owners.append(owner)
        if owner is None:
            bases.append(None)
            continue
        text = _text_of(finding.path, result, texts, changed)
        if finding.path in changed:
            bases.append(None)
            continue
        relative = display_path(Path(finding.path), owner.config.root)
        bases.append((id(owner), relative, finding.code,
                      fingerprint(line_text(text, finding.line))))
    counts = occurrences(bases)
    for base, count in zip(bases, counts):
        run.keys.append(Key(base[1], base[2], base[3], count) if base is not None else None)
    run.changed = sorted(changed)
    return run


def _text_of(path: str, result: RunResult, texts: Dict[str, Optional[str]],
             changed: Set[str]) -> Optional[str]:
    if path not in texts:
        digest = result.digests.get(path)
        checked = read_as_checked(path, digest)
        if digest is not None and checked is None:
            changed.add(path)
        texts[path] = checked.text if checked is not None else None
    return texts[path]


def entries_of(findings: Sequence[Finding], keys: Sequence[Optional[Key]]) -> List[Entry]:
    return [Entry(key, finding.message) for finding, key in zip(findings, keys) if key is not None]


def judge(planned: Sequence[Planned], result: RunResult) -> Callable[[Key], bool]:
    """Whether the run can tell if an entry still matches: its file lies in a path
    given to a project of the run and was analysed there, and its code ran (or names
    no rule any more).  A file that could not be parsed is judged for CEL001 only."""
    unanalysed = {os.path.abspath(path) for path in result.unanalysed}
    unreadable = {os.path.abspath(path) for path, _ in result.unreadable}
    failed_rules = {name for name, _ in result.internal_errors if rule_by_code(name) is not None}
    unreadable |= {os.path.abspath(path) for path, _ in result.internal_errors
                   if path not in failed_rules}
    projects = [(os.path.abspath(item.config.root),
                 [os.path.abspath(path) for path in item.paths], item) for item in planned]

    def judged(key: Key) -> bool:
        for root, given, item in projects:
            absolute = os.path.normpath(os.path.join(root, key.path))
            if not any(absolute == path or absolute.startswith(os.path.join(path, ""))
                       for path in given):
                continue
            if absolute in unreadable or (absolute in unanalysed and key.code != "CEL001"):
                continue
            if key.code in failed_rules:
                continue
            rule = rule_by_code(key.code)
            if rule is None or is_enabled(rule, item.config):
                return True
        return False
    return judged
