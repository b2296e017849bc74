"""``--add-noqa``: a ``# noqa: CODE`` comment for every finding reported, as ruff adds them.

The comment goes where flake8 and celerylint read it (:func:`celerylint.parse.noqa_lines`):
the finding's line, or, when that line is part of a multi-line string or a
backslash-continued line, the last line of that group (a comment cannot follow a
continuation backslash, and one on the group's last line covers all of its lines).  A
line that already has a ``# noqa: CODES`` comment gets the new codes added to its list;
a bare ``# noqa`` covers everything already.  The line's other comments stay.

Only the text of those lines changes: every other byte of the file is kept (the byte
order mark, the line endings, the encoding the coding cookie names).  A file is written
only if its text is still the one that was checked, the result decodes to the intended
text, covers every finding, and parses whenever the original parsed.
"""
from __future__ import annotations

import bisect
import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

from celerylint.files import FileChanged, decode_source, replace_file, source_encoding
from celerylint.parse import NOQA_RE, noqa_lines, split_codes
from celerylint.report import one_line
from celerylint.rule import Finding
from celerylint.syntax import comment_spans, line_groups, physical_lines

NOT_ADDED = frozenset({"CEL002"})  # a noqa that silences "unused noqa" helps nobody
_BYTE_LINE_RE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@dataclass
class Edited:
    """A file's new text, how many codes were added, and the lines left alone (why)."""

    text: str
    added: int = 0
    skipped: List[Tuple[int, str]] = field(default_factory=list)


def with_noqa(text: str, wanted: Dict[int, Set[str]]) -> Edited:
    """``text`` with each line's codes (``wanted``: line -> codes) suppressed by a noqa
    comment."""
    lines = physical_lines(text)
    spans = comment_spans(text)
    if spans is None:
        return Edited(text, 0, [(line, "a string in the file is never closed")
                                for line in sorted(wanted)])
    group_of: Dict[int, Tuple[int, int]] = {}
    for first, last in line_groups(text):
        for number in range(first, last + 1):
            group_of[number] = (first, last)
    by_group: Dict[Tuple[int, int], Set[str]] = {}
    result = Edited(text)
    for line, codes in sorted(wanted.items()):
        group = group_of.get(line)
        if group is None:
            result.skipped.append((line, "the file has no such line"))
        else:
            by_group.setdefault(group, set()).update(codes)
    starts = [0]
    for physical in lines:
        starts.append(starts[-1] + len(physical))
    span_starts = [begin for begin, _ in spans]
    new_lines = list(lines)
    for (first, last), codes in sorted(by_group.items()):
        match = NOQA_RE.search("".join(lines[first - 1:last]))
        if match is None:
            body, end = _split_break(new_lines[last - 1])
            added = sorted(codes)
            new_lines[last - 1] = body.rstrip(" \t") + f"  # noqa: {', '.join(added)}{end}"
            result.added += len(added)
            continue
        start = starts[first - 1] + match.start()
        index = bisect.bisect_right(span_starts, start) - 1
        if index < 0 or start >= spans[index][1]:
            result.skipped.append((first, "a string on the line holds the `# noqa` flake8 reads"))
            continue
        present = match.group("codes")
        if present is None:
            continue  # a bare noqa: every code is suppressed already
        known = split_codes(present)
        added = sorted(code for code in codes if not any(code.startswith(k) for k in known))
        if not added:
            continue
        line = bisect.bisect_right(starts, start)
        at = starts[first - 1] + match.end("codes") - starts[line - 1]
        old = new_lines[line - 1]
        new_lines[line - 1] = f"{old[:at]}, {', '.join(added)}{old[at:]}"
        result.added += len(added)
    result.text = "".join(new_lines)
    return result


def _split_break(line: str) -> Tuple[str, str]:
    body = line.rstrip("\r\n")
    return body, line[len(body):]


def covered(text: str, wanted: Dict[int, Set[str]]) -> bool:
    """Whether every line's codes are suppressed by the text's noqa comments."""
    suppressed = noqa_lines(text)
    for line, codes in wanted.items():
        named = suppressed.get(line)
        if named is None:
            return False
        if named and not all(any(code.startswith(n) for n in named) for code in codes):
            return False
    return True


def encoded(data: bytes, old_text: str, new_text: str) -> Optional[bytes]:
    """The file's bytes with the changed lines re-encoded and every other byte kept;
    None when that does not decode to ``new_text`` (an encoding that cannot hold it)."""
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    body = data[len(bom):]
    byte_lines = _BYTE_LINE_RE.findall(body)
    old_lines, new_lines = physical_lines(old_text), physical_lines(new_text)
    if len(byte_lines) != len(old_lines) or len(new_lines) != len(old_lines):
        return None
    encoding = source_encoding(data)
    try:
        for index, (old, new) in enumerate(zip(old_lines, new_lines)):
            if old != new:
                byte_lines[index] = new.encode(encoding)
    except (UnicodeError, LookupError):
        return None
    result = bom + b"".join(byte_lines)
    if decode_source(Path("-"), "-", result).text != new_text:
        return None
    return result


def parses(text: str) -> bool:
    """Whether libcst parses the text (as the run would)."""
    import libcst as cst

    from celerylint.parse import run_with_big_stack
    from celerylint.syntax import guard

    if guard(text) is not None:
        return False
    try:
        run_with_big_stack(lambda: cst.parse_module(text))
    except Exception:  # a parser error or a limit of the parser: not parseable here
        return False
    return True


@dataclass
class Outcome:
    """What --add-noqa did: findings now suppressed, files written, and notes (path,
    line, reason)."""

    findings: int = 0
    files: int = 0
    notes: List[Tuple[str, int, str]] = field(default_factory=list)


def add_noqa(findings: Sequence[Finding], digests: Dict[str, Optional[str]]) -> Outcome:
    """Add noqa comments for ``findings`` (paths as findings name them), in the text each
    file was checked in (``digests``)."""
    from celerylint.adopt import read_as_checked

    by_path: Dict[str, Dict[int, Set[str]]] = {}
    counts: Dict[Tuple[str, int], int] = {}
    for finding in findings:
        if finding.code not in NOT_ADDED:
            by_path.setdefault(finding.path, {}).setdefault(finding.line, set()).add(finding.code)
            counts[finding.path, finding.line] = counts.get((finding.path, finding.line), 0) + 1
    outcome = Outcome()
    for path in sorted(by_path):
        wanted = by_path[path]
        first = min(wanted)
        digest = digests.get(path)
        checked = read_as_checked(path, digest)
        if checked is None:
            reason = ("the file cannot be read as text" if digest is None
                      else "the file changed after it was checked")
            outcome.notes.append((path, first, reason))
            continue
        edited = with_noqa(checked.text, wanted)
        outcome.notes.extend((path, line, reason) for line, reason in edited.skipped)
        if not edited.added:
            continue
        done = {line: codes for line, codes in wanted.items()
                if line not in {skipped for skipped, _ in edited.skipped}}
        problem = _problem(checked.text, edited.text, done)
        data = encoded(checked.data, checked.text, edited.text) if problem is None else None
        if problem is None and data is None:
            problem = "the file's encoding cannot hold the comment"
        if problem is not None or data is None:
            outcome.notes.append((path, first, problem or "cannot add the comments"))
            continue
        try:
            replace_file(Path(path), data, expected=checked.data)
        except FileChanged:
            outcome.notes.append((path, first, "the file changed after it was checked"))
            continue
        except OSError as exc:
            outcome.notes.append((path, first, f"cannot write: {exc.strerror or one_line(exc)}"))
            continue
        outcome.findings += sum(counts[path, line] for line in done)
        outcome.files += 1
    return outcome


def _problem(old: str, new: str, wanted: Dict[int, Set[str]]) -> Optional[str]:
    if not covered(new, wanted):
        return "the comments would not cover every finding"
    if parses(old) and not parses(new):
        return "the file would no longer parse"
    return None
