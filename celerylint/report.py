"""Output formats.  Every format is byte-identical for the same findings.

Paths and messages hold text from the linted code (file names, task names, beat entry
names): in the line-based formats every character that could end a line, start a
terminal escape sequence, reorder text (bidi controls) or hide it is escaped, so one
finding is always one line (see :func:`escape_control`).  JSON and SARIF escape it
through ``json.dumps`` and keep the exact text.
"""
from __future__ import annotations

import json
import re
from urllib.parse import quote
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable, Dict, List

if TYPE_CHECKING:
    from celerylint.rule import Finding

# A fixed list rather than unicodedata, whose tables change with the host Python: the
# same text must give the same bytes everywhere.  C0 and C1 controls and DEL; the soft
# hyphen; Arabic letter mark; Mongolian vowel separator; zero-width and direction marks;
# line and paragraph separators; bidi embeddings, overrides and isolates; invisible
# operators; byte order mark; interlinear annotation; surrogates (not even encodable);
# tag characters.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e"
                     "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
                     "\U000e0000-\U000e007f]")
NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_one(match: re.Match[str]) -> str:
    character = match.group()
    named = NAMED_ESCAPES.get(character)
    if named is not None:
        return named
    code = ord(character)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def one_line(text: object) -> str:
    """Text on one line: every run of whitespace, line breaks included, as one space."""
    return " ".join(str(text).split())


def escape_control(text: str) -> str:
    """`text` with every control, format and separator character written as a Python-style
    escape (``\\n``, ``\\x1b``, ``\\u2028``): printable text on one line."""
    return CONTROL.sub(_escape_one, text)


def format_text(findings: List[Finding]) -> str:
    return "".join(f"{escape_control(f.path)}:{f.line}:{f.column}: {f.code} "
                   f"{escape_control(f.message)}\n" for f in findings)


def finding_data(finding: Finding) -> Dict[str, Any]:
    return {"code": finding.code, "name": finding.name, "message": finding.message,
            "path": finding.path, "line": finding.line, "column": finding.column,
            "end_line": finding.end_line, "end_column": finding.end_column,
            "severity": finding.severity, "fix": finding.fix}


def format_json(findings: List[Finding]) -> str:
    return json.dumps([finding_data(f) for f in findings], indent=2, sort_keys=True) + "\n"


def _escape_github_data(text: str) -> str:
    """As GitHub's toolkit escapes a command's message; other controls as in text."""
    return escape_control(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _escape_github_property(text: str) -> str:
    """As GitHub's toolkit escapes a property value (``:`` and ``,`` end one)."""
    return _escape_github_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: List[Finding]) -> str:
    """GitHub Actions workflow commands: annotations on the pull request."""
    level = {"error": "error", "warning": "warning", "info": "notice"}
    return "".join(
        f"::{level[f.severity]} title={_escape_github_property(f.code + ' ' + f.name)},"
        f"file={_escape_github_property(f.path)},line={f.line},"
        f"col={f.column},endLine={f.end_line},endColumn={f.end_column}::"
        f"{_escape_github_data(f.code + ' ' + f.message)}\n" for f in findings)


def sarif_uri(path: str) -> str:
    """A relative path as the URI reference SARIF wants: every byte outside RFC 3986's
    unreserved characters and "/" percent-encoded (UTF-8), so that spaces, "%", "#",
    "?", controls and non-ASCII names all survive a consumer's URI parser."""
    return quote(path, safe="/")


def format_sarif(findings: List[Finding]) -> str:
    from celerylint import __version__
    from celerylint.rule import all_rules

    rules = [{"id": r.code, "name": r.name, "shortDescription": {"text": r.name},
              "helpUri": f"https://github.com/celerylint/celerylint/blob/main/docs/rules/{r.code}.md"}
             for r in all_rules()]
    level = {"error": "error", "warning": "warning", "info": "note"}
    results = [{"ruleId": f.code, "level": level[f.severity], "message": {"text": f.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": sarif_uri(f.path)},
                    "region": {"startLine": f.line, "startColumn": f.column,
                               "endLine": f.end_line, "endColumn": f.end_column}}}]}
               for f in findings]
    document = {"version": "2.1.0",
                "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
                "runs": [{"tool": {"driver": {"name": "celerylint", "version": __version__,
                                              "rules": rules}},
                          "columnKind": "unicodeCodePoints", "results": results}]}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


FORMATS: Dict[str, Callable[[List[Finding]], str]] = {
    "text": format_text, "json": format_json, "github": format_github, "sarif": format_sarif}


def format_statistics(findings: List[Finding]) -> str:
    counts = Counter((f.code, f.name) for f in findings)
    return "".join(f"{count:<5} {code} {name}\n" for (code, name), count in sorted(counts.items()))
