"""The rule interface: a rule is one class in one module of ``celerylint.rules``.

A rule declares its code, name, severity and options; its docstring is its
documentation page (Markdown, with the sections of DESIGN.md section 7); its
``check`` reads the project view and yields findings.  Adding a rule means
adding one module there: :func:`all_rules` finds it.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from typing import (AbstractSet, Any, ClassVar, Dict, Iterable, Iterator, List, Optional,
                    Sequence, Tuple, Type)

from celerylint.config import OptionSpec
from celerylint.facts import Loc
from celerylint.project import Project


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    message: str
    severity: str
    fix: Optional[Dict[str, Any]] = None

    def sort_key(self) -> Tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.code, self.message)


class Rule:
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[str] = "warning"
    options: ClassVar[Sequence[OptionSpec]] = ()
    # False: the rule runs only when its full code is selected (select, extend-select)
    default_enabled: ClassVar[bool] = True

    def __init__(self, settings: Optional[Dict[str, Any]] = None):
        self.settings = {spec.name: spec.default for spec in self.options}
        self.settings.update({k: v for k, v in (settings or {}).items() if k in self.settings})

    def option(self, name: str) -> Any:
        return self.settings[name]

    def check(self, project: Project) -> Iterator[Finding]:
        raise NotImplementedError

    def check_findings(self, project: Project, findings: Sequence[Finding],
                       ran: AbstractSet[str]) -> Iterator[Finding]:
        """Findings about the other rules' findings (``findings``, before any
        suppression, from the rules whose codes are ``ran``): run after every rule's
        ``check``.  Most rules have none."""
        return iter(())

    def finding(self, path: str, loc: Loc, message: str,
                fix: Optional[Dict[str, Any]] = None) -> Finding:
        return Finding(path, loc.line, loc.col, loc.end_line, loc.end_col, self.code, self.name,
                       message, self.severity, fix)

    @classmethod
    def page(cls) -> str:
        """The rule's documentation page, generated from its docstring and options."""
        lines = [f"# {cls.code}: {cls.name}", "", f"Severity: {cls.severity}", ""]
        if not cls.default_enabled:
            lines += [f"Off by default: select it by its code (`--extend-select {cls.code}`).", ""]
        lines += [inspect.cleandoc(cls.__doc__ or "").strip(), ""]
        lines += ["## Options", ""]
        if cls.options:
            lines += ["| option | type | default | meaning |", "|---|---|---|---|"]
            for spec in cls.options:
                valid = f" (must be {spec.range_text()})" if spec.range_text() else ""
                lines.append(f"| `{spec.name}` | {spec.type.__name__} | `{spec.default!r}` | "
                             f"{spec.help}{valid} |")
        else:
            lines.append("None.")
        return "\n".join(lines).rstrip() + "\n"


def first_per_location(findings: Iterable[Finding]) -> Iterator[Finding]:
    """Drop later findings at a place already reported (apps sharing one config)."""
    seen = set()
    for finding in findings:
        where = (finding.path, finding.line, finding.column)
        if where not in seen:
            seen.add(where)
            yield finding


_RULES: Optional[List[Type[Rule]]] = None


def all_rules() -> List[Type[Rule]]:
    """Every rule class in ``celerylint.rules``, sorted by code."""
    global _RULES
    if _RULES is None:
        import celerylint.rules as package

        found: Dict[str, Type[Rule]] = {}
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for value in vars(module).values():
                if (inspect.isclass(value) and issubclass(value, Rule) and value is not Rule
                        and value.code and value.__module__ == module.__name__):
                    if value.code in found:
                        raise RuntimeError(f"rule code {value.code} defined twice")
                    found[value.code] = value
        _RULES = [found[code] for code in sorted(found)]
    return _RULES


def rule_by_code(code: str) -> Optional[Type[Rule]]:
    code = code.upper()
    return next((rule for rule in all_rules() if rule.code == code), None)


def option_specs() -> List[OptionSpec]:
    """Every rule option, for configuration validation (names are shared by rules)."""
    specs: Dict[str, OptionSpec] = {}
    for rule in all_rules():
        for spec in rule.options:
            specs.setdefault(spec.name, spec)
    return [specs[name] for name in sorted(specs)]
