"""Baselines: the findings a project has accepted for now, so that only new ones fail.

``celerylint check --write-baseline FILE`` records every current finding; ``--baseline
FILE`` (or ``baseline`` in ``[tool.celerylint]``) then reports only the findings that are
not recorded.  An entry names a finding by its code, its file (relative to the project
root, ``/`` separators) and the fingerprint of its own line's text with its occurrence
among equal keys (:mod:`celerylint.fingerprint`), never by line number: inserting or
removing lines elsewhere leaves every entry matching.  The ``message`` stored beside is
for the reader; matching ignores it.

A run judges only the entries it can: those of files it checked and analysed, with a
code that ran (a pre-commit run passes only the changed files; ``--select`` runs some
rules).  Among them, those that match no finding are stale; the others are left alone,
and ``--write-baseline`` keeps them as they are.

The file is JSON, sorted, with a version::

    {"entries": [{"code": ..., "fingerprint": ..., "message": ..., "occurrence": 0,
                  "path": ...}, ...], "version": 1}
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

from celerylint.config import CODE_RE
from celerylint.files import replace_file
from celerylint.report import one_line

VERSION = 1
ENTRY_FIELDS = ("code", "path", "fingerprint", "occurrence")


class BaselineError(Exception):
    """A baseline that cannot be read or written: one line naming the file (exit 2)."""


@dataclass(frozen=True, order=True)
class Key:
    """What an entry and a finding are matched on."""

    path: str  # relative to the project root, "/" separators
    code: str
    fingerprint: str
    occurrence: int


@dataclass(frozen=True)
class Entry:
    key: Key
    message: str = ""


def shown(path: Path) -> str:
    """A baseline file's name as messages show it: relative to the current directory
    when it lies below it."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):
        return str(path)


def load(path: Path) -> List[Entry]:
    """The entries of a baseline file; BaselineError when it is missing, unreadable or
    not a baseline of a version this celerylint reads."""
    name = shown(path)
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise BaselineError(f"{name}: cannot read the baseline: {exc.strerror or one_line(exc)}"
                            ) from None
    except UnicodeDecodeError:
        raise BaselineError(f"{name}: the baseline is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise BaselineError(f"{name}: the baseline is not valid JSON ({one_line(exc)})") from None
    return _entries(data, name)


def _entries(data: Any, name: str) -> List[Entry]:
    if not isinstance(data, dict) or "version" not in data:
        raise BaselineError(f"{name}: not a celerylint baseline (no \"version\"; "
                            "write one with --write-baseline)")
    version = data["version"]
    if version != VERSION or isinstance(version, bool):
        raise BaselineError(f"{name}: baseline version {_short(version)} is not one this "
                            f"celerylint reads ({VERSION})")
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise BaselineError(f"{name}: \"entries\" must be a list")
    return [_entry(item, index, name) for index, item in enumerate(entries)]


def _entry(item: Any, index: int, name: str) -> Entry:
    where = f"{name}: entry {index + 1}"
    if not isinstance(item, dict):
        raise BaselineError(f"{where} is not an object")
    for field in ENTRY_FIELDS:
        if field not in item:
            raise BaselineError(f"{where} has no \"{field}\"")
    code, path, fingerprint = item["code"], item["path"], item["fingerprint"]
    occurrence, message = item["occurrence"], item.get("message", "")
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        raise BaselineError(f"{where}: \"code\" must be a code such as CEL104, got {_short(code)}")
    if not isinstance(path, str) or not path:
        raise BaselineError(f"{where}: \"path\" must be a non-empty string, got {_short(path)}")
    if not isinstance(fingerprint, str):
        raise BaselineError(f"{where}: \"fingerprint\" must be a string, got {_short(fingerprint)}")
    if not isinstance(occurrence, int) or isinstance(occurrence, bool) or occurrence < 0:
        raise BaselineError(f"{where}: \"occurrence\" must be a whole number >= 0, "
                            f"got {_short(occurrence)}")
    if not isinstance(message, str):
        raise BaselineError(f"{where}: \"message\" must be a string, got {_short(message)}")
    return Entry(Key(path, code, fingerprint, occurrence), message)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True) if _plain(value) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def dump(entries: Iterable[Entry]) -> str:
    """The file's text: entries sorted by their key, each once; the same bytes for the
    same entries."""
    unique: Dict[Key, Entry] = {}
    for entry in sorted(entries, key=lambda e: (e.key, e.message)):
        unique.setdefault(entry.key, entry)
    items = [{"path": e.key.path, "code": e.key.code, "fingerprint": e.key.fingerprint,
              "occurrence": e.key.occurrence, "message": e.message} for e in unique.values()]
    return json.dumps({"version": VERSION, "entries": items}, indent=2, sort_keys=True,
                      ensure_ascii=True) + "\n"


def write(path: Path, entries: Iterable[Entry]) -> None:
    """Replace the file (an interrupted write leaves the old baseline whole)."""
    try:
        replace_file(path, dump(entries).encode("ascii"))
    except OSError as exc:
        raise BaselineError(f"{shown(path)}: cannot write the baseline: "
                            f"{exc.strerror or one_line(exc)}") from None


@dataclass
class Matched:
    """A run's findings (by index) that the baseline does not hold, and its entries
    that no longer match anything (among those the run judges)."""

    new: List[int]
    stale: List[Entry]


def match(keys: List[Key], entries: List[Entry], judged: Callable[[Key], bool]) -> Matched:
    """``keys``: the key of each finding of the run, in order."""
    recorded = {entry.key for entry in entries}
    current = set(keys)
    new = [index for index, key in enumerate(keys) if key not in recorded]
    stale = sorted((entry for entry in entries
                    if entry.key not in current and judged(entry.key)),
                   key=lambda e: e.key)
    return Matched(new, stale)


def merged(entries: List[Entry], current: List[Entry], judged: Callable[[Key], bool]
           ) -> List[Entry]:
    """What --write-baseline writes: the run's findings, and the old entries the run
    does not judge (other files, rules that did not run)."""
    return [entry for entry in entries if not judged(entry.key)] + list(current)


def existing(path: Path) -> Optional[List[Entry]]:
    """The entries of a baseline about to be rewritten (None: there is no such file);
    BaselineError when it exists and is not one: it is not overwritten."""
    if not os.path.lexists(path):
        return None
    return load(path)
