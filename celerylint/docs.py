"""Generate docs/rules/CODE.md and docs/rules/README.md from the rule classes."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict

from celerylint.rule import all_rules


def rule_pages() -> Dict[str, str]:
    """File name -> content for every generated page."""
    pages = {f"{rule.code}.md": rule.page() for rule in all_rules()}
    index = ["# Rules", "", "Generated from the rule classes by `python -m celerylint.docs`.", "",
             "| code | name | severity |", "|---|---|---|"]
    index += [f"| [{r.code}]({r.code}.md) | {r.name} | {r.severity} |" for r in all_rules()]
    pages["README.md"] = "\n".join(index) + "\n"
    return pages


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in rule_pages().items():
        (directory / name).write_text(content, encoding="utf-8", newline="\n")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/rules"))
