"""What identifies a finding's place without its line number.

A baseline entry (``--baseline``) and a label of the primer (benchmarks/primer.py) must
survive edits elsewhere in the file, so they name a finding by its code, its file and a
fingerprint of the finding's own line: the line's text with its indentation and runs of
whitespace made one space, hashed (no project code is stored).  Equal keys in one file
(the same line written twice) are told apart by their occurrence, counted in line order.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from typing import Hashable, Iterable, List, Optional

from celerylint.syntax import physical_lines


def fingerprint(line_text: str) -> str:
    """The fingerprint of a line's text: indentation, spacing and the line break do not
    count, every other character does."""
    normal = " ".join(line_text.split())
    return hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def line_text(text: Optional[str], line: int) -> str:
    """Line ``line`` (1-based) of ``text`` as libcst and the findings count lines (CR, LF
    and CRLF end a line, nothing else); "" when there is no such line or no text."""
    if not text:
        return ""
    lines = physical_lines(text)
    return lines[line - 1] if 1 <= line <= len(lines) else ""


def occurrences(keys: Iterable[Hashable]) -> List[int]:
    """For each key, in the order given, how many equal keys came before it."""
    seen: Counter[Hashable] = Counter()
    counts = []
    for key in keys:
        counts.append(seen[key])
        seen[key] += 1
    return counts
