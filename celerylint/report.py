"""Output formats.  Every format is byte-identical for the same findings."""
from __future__ import annotations

import json
from collections import Counter
from typing import Callable, Dict, List

from celerylint.rule import Finding


def format_text(findings: List[Finding]) -> str:
    return "".join(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}\n" for f in findings)


def finding_data(finding: Finding) -> Dict:
    return {"code": finding.code, "name": finding.name, "message": finding.message,
            "path": finding.path, "line": finding.line, "column": finding.column,
            "end_line": finding.end_line, "end_column": finding.end_column,
            "severity": finding.severity, "fix": finding.fix}


def format_json(findings: List[Finding]) -> str:
    return json.dumps([finding_data(f) for f in findings], indent=2, sort_keys=True) + "\n"


def _escape_github(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def format_github(findings: List[Finding]) -> str:
    """GitHub Actions workflow commands: annotations on the pull request."""
    level = {"error": "error", "warning": "warning", "info": "notice"}
    return "".join(
        f"::{level[f.severity]} title={f.code} {f.name},file={f.path},line={f.line},"
        f"col={f.column},endLine={f.end_line},endColumn={f.end_column}::"
        f"{_escape_github(f.code + ' ' + f.message)}\n" for f in findings)


def format_sarif(findings: List[Finding]) -> str:
    from celerylint import __version__
    from celerylint.rule import all_rules

    rules = [{"id": r.code, "name": r.name, "shortDescription": {"text": r.name},
              "helpUri": f"https://github.com/celerylint/celerylint/blob/main/docs/rules/{r.code}.md"}
             for r in all_rules()]
    level = {"error": "error", "warning": "warning", "info": "note"}
    results = [{"ruleId": f.code, "level": level[f.severity], "message": {"text": f.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.path},
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
