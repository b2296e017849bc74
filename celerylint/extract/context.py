"""What every extraction visitor of one file shares: :class:`FileContext`.

It holds the facts being built, the node positions, the file's imports and
module-level constants, the scopes the walk is in, and the evaluator.  Names are
resolved through the file's own imports and module-level aliases (a cheap table of
our own instead of libcst's qualified-name provider); anything that needs other
files is left for the project view.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Literal, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from celerylint.extract.names import OTHER_TASK_LIBRARIES
from celerylint.extract.tree import Span
from celerylint.facts import (Arg, CallSwitch, Dispatch, FileFacts, FunctionFact, ImportFact, Loc,
                              Value)
from celerylint.modules import absolute_module
from celerylint.values import Evaluator, dotted_name


# How a local is bound: assigned a value, the target of a ``for``, augmented (``x += 1``).
BindingKind = Literal["value", "iter", "aug"]


@dataclass(frozen=True)
class Stored:
    """A call's result assigned to a local of the function being walked (``r = t.delay()``):
    the result is used when the function reads the local again."""

    local: str


# What the statement around a call does with its result (calls not recorded: they use it).
CallResult = Union[Literal["discarded"], Stored]


class FunctionScope:
    """A function being walked: its fact and what the dispatch rules need of its body."""

    def __init__(self, fact: FunctionFact, params: Set[str]):
        self.fact = fact
        self.params = params
        # local name -> (how, assigned node, line) of each binding
        self.assigns: Dict[str, List[Tuple[BindingKind, cst.CSTNode, int]]] = {}
        self.name_counts: Counter[str] = Counter()
        self.pending_args: List[Tuple[Arg, cst.CSTNode]] = []  # to follow to their locals
        self.stored: List[Tuple[Dispatch, str]] = []  # dispatches assigned to a local
        # (first line, last line, setting) of the bodies of ``if settings.X:`` blocks
        self.switched: List[Tuple[int, int, CallSwitch]] = []

    def switch_at(self, line: int) -> Optional[CallSwitch]:
        """The setting tested by the innermost ``if settings.X:`` whose body holds ``line``."""
        inside = [switch for start, end, switch in self.switched if start <= line <= end]
        return inside[-1] if inside else None


class FileContext:
    """One file's extraction state, shared by the visitors of one walk."""

    def __init__(self, module_node: cst.Module, positions: Dict[int, Span], path: str,
                 module: str, is_package: bool):
        self.module_node = module_node
        self.positions = positions
        self.module = module
        self.is_package = is_package
        self.facts = FileFacts(path=path, module=module)
        self.imports: Dict[str, str] = {}  # local name -> qualified name
        self.module_defs: Set[str] = set()
        self.constants: Dict[str, cst.BaseExpression] = {}  # module-level names bound once
        self._prescan(module_node)
        self.evaluator: Optional[Evaluator] = Evaluator(module_node, self.resolve, self.constants)
        self.functions: List[FunctionScope] = []
        self.classes: List[str] = []
        self.conditional = 0  # depth of module-level if/except blocks: settings there may not apply
        self.result_use: Dict[int, CallResult] = {}  # id(Call) -> what is done with its result
        self.assign_target: Dict[int, str] = {}  # id(Call) -> the name it is assigned to
        self.app_vars: Dict[str, str] = {}  # variable -> qualified name of the Celery app
        self.celery_subclasses: Set[str] = set()
        self.task_calls: List[Tuple[str, str, cst.Call]] = []  # app.task(func): made at the end
        self.not_variables: Set[int] = set()  # ids of Names that are attributes or keywords

    def _prescan(self, module: cst.Module) -> None:
        """Imports, definitions and constants of the module's top level (also inside
        if/try/with blocks), known before the walk so that names used above their
        definition resolve."""
        assigned: Counter[str] = Counter()
        for stmt in statements(module.body):
            if isinstance(stmt, (cst.Import, cst.ImportFrom)):
                self.add_imports(stmt)
            elif isinstance(stmt, cst.AugAssign) and isinstance(stmt.target, cst.Name):
                assigned[stmt.target.value] += 2  # not a constant
            for name, value in _bindings(stmt):
                self.module_defs.add(name)
                assigned[name] += 1 if value is not None else 2  # a def is not a constant
                if value is not None:
                    self.constants[name] = value
        for name, count in assigned.items():
            if count != 1:
                self.constants.pop(name, None)

    def evaluate(self, node: cst.CSTNode) -> Value:
        """The value of an expression, evaluated statically (during the walk only)."""
        assert self.evaluator is not None, "evaluated after the walk"
        return self.evaluator.evaluate(node)

    # -- positions -----------------------------------------------------------
    def line(self, node: cst.CSTNode) -> int:
        span = self.positions.get(id(node))
        return span[0] if span is not None else 0

    def loc(self, node: cst.CSTNode) -> Loc:
        line, col, end_line, end_col = self.positions[id(node)]
        return Loc(line, col + 1, end_line, end_col + 1)

    # -- scopes --------------------------------------------------------------
    def current(self) -> Optional[FunctionScope]:
        return self.functions[-1] if self.functions else None

    def at_module_level(self) -> bool:
        return not self.functions and not self.classes

    def def_at_module_level(self) -> bool:
        """Whether the def or class being visited (or left) is at module level: its own
        scope, entered by the ScopeVisitor, is the only one."""
        return len(self.functions) + len(self.classes) == 1

    # -- names ---------------------------------------------------------------
    def add_imports(self, node: cst.CSTNode) -> None:
        for fact in import_facts(node, self.module, self.is_package):
            fact.line = self.line(node)
            self.facts.imports.append(fact)
            if not fact.star:
                self.imports[fact.local] = fact.target

    def resolve(self, dotted: str) -> str:
        """Qualified name of a dotted name: through imports, module definitions, or as is."""
        return self.resolve_strict(dotted) or dotted

    def resolve_strict(self, dotted: str) -> str:
        """Like resolve, but "" for names that are neither imported nor module-level.

        A module-level alias (``Base = tasks.MyTask``) is followed once per name, so
        aliases that refer to each other (``A = B.x``, ``B = A.y``) end where they loop."""
        if not dotted:
            return ""
        seen = set()
        while True:
            parts = dotted.split(".")
            imported = self._through_imports(parts)
            if imported is not None:
                return imported
            if parts[0] not in self.module_defs:
                return ""
            alias = self.constants.get(parts[0])
            aliased = dotted_name(alias) if alias is not None else None
            if not aliased or aliased.split(".")[0] == parts[0] or parts[0] in seen:
                return ".".join([self.module, dotted]) if self.module else dotted
            seen.add(parts[0])
            dotted = ".".join([aliased, *parts[1:]])

    def _through_imports(self, parts: List[str]) -> Optional[str]:
        """The name with its longest imported head replaced by the import's target."""
        for cut in range(len(parts), 0, -1):
            head = ".".join(parts[:cut])
            if head in self.imports:
                return ".".join([self.imports[head], *parts[cut:]])
        return None

    def follow_constant(self, node: cst.CSTNode) -> cst.CSTNode:
        """The value a module-level constant is bound to (through up to 10 names)."""
        seen = 0
        while isinstance(node, cst.Name) and node.value in self.constants and seen < 10:
            node = self.constants[node.value]
            seen += 1
        return node

    # -- apps ----------------------------------------------------------------
    def is_app_reference(self, node: cst.CSTNode) -> bool:
        """Whether node may name a Celery app (not another task queue's object)."""
        dotted = dotted_name(node)
        if not dotted:
            return False
        if dotted in self.app_vars:
            return True
        resolved = self.resolve_strict(dotted)
        if not resolved or resolved.split(".")[0] in OTHER_TASK_LIBRARIES:
            return False
        bound = self.constants.get(dotted)
        if isinstance(bound, cst.Call):  # `app = RedisHuey()`: not a Celery app
            made_by = self.resolve(dotted_name(bound.func) or "")
            return made_by.split(".")[0] not in OTHER_TASK_LIBRARIES
        return True

    def app_qualname(self, node: cst.CSTNode) -> str:
        dotted = dotted_name(node) or ""
        if dotted in self.app_vars:
            return self.app_vars[dotted]
        return self.resolve_strict(dotted) or dotted

    def conf_receiver(self, node: cst.CSTNode) -> Optional[str]:
        """The app's qualified name when node is ``<app>.conf``."""
        if isinstance(node, cst.Attribute) and node.attr.value == "conf":
            return self.app_qualname(node.value)
        return None


def positional(call: cst.Call) -> List[cst.Arg]:
    """The plain positional arguments of a call (not ``*args``)."""
    return [a for a in call.args if a.keyword is None and not a.star]


def string(node: cst.CSTNode) -> Optional[str]:
    """The value of a string literal (implicitly concatenated too); None for bytes or else."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = string(node.left), string(node.right)
        return None if left is None or right is None else left + right
    return None


def statements(body: Sequence[cst.CSTNode]) -> List[cst.CSTNode]:
    """Top-level small and compound statements of a module or block, looking
    into if/try/with blocks that run at import time."""
    out: List[cst.CSTNode] = []
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
        elif isinstance(stmt, (cst.If, cst.Try, cst.With)):
            out.extend(_block_statements(stmt))
        else:
            out.append(stmt)
    return out


def _block_statements(stmt: Union[cst.If, cst.Try, cst.With]) -> List[cst.CSTNode]:
    """statements() of an if/try/with's body, its else branches and its handlers."""
    out = statements(stmt.body.body)
    orelse = getattr(stmt, "orelse", None)
    while orelse is not None:
        out.extend(statements(orelse.body.body))
        orelse = getattr(orelse, "orelse", None)
    for handler in getattr(stmt, "handlers", ()):
        out.extend(statements(handler.body.body))
    return out


def _bindings(stmt: cst.CSTNode) -> List[Tuple[str, Optional[cst.BaseExpression]]]:
    """Names a module-level statement binds, each with the value assigned (None for a
    def or a class)."""
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
        return [(stmt.name.value, None)]
    if isinstance(stmt, cst.Assign):
        return [(target.target.value, stmt.value) for target in stmt.targets
                if isinstance(target.target, cst.Name)]
    if isinstance(stmt, cst.AnnAssign) and isinstance(stmt.target, cst.Name) \
            and stmt.value is not None:
        return [(stmt.target.value, stmt.value)]
    return []


def import_facts(node: cst.CSTNode, module: str, is_package: bool) -> List[ImportFact]:
    """The names an import statement binds and what they refer to (line 0: the caller's)."""
    if isinstance(node, cst.Import):
        return _plain_import_facts(node)
    if isinstance(node, cst.ImportFrom):
        return _from_import_facts(node, module, is_package)
    return []


def _plain_import_facts(node: cst.Import) -> List[ImportFact]:
    facts = []
    for alias in node.names:
        target = dotted_name(alias.name) or ""
        if alias.asname is not None:
            local = dotted_name(alias.asname.name) or target
            facts.append(ImportFact(local, target, line=0))
        else:
            # `import a.b.c` binds `a`, but `a.b.c.x` must resolve to a.b.c.x
            facts.append(ImportFact(target, target, line=0))
            first = target.split(".")[0]
            if first != target:
                facts.append(ImportFact(first, first, line=0))
    return facts


def _from_import_facts(node: cst.ImportFrom, module: str, is_package: bool) -> List[ImportFact]:
    base = dotted_name(node.module) if node.module is not None else ""
    absolute = absolute_module(module, is_package, len(node.relative), base or "")
    if isinstance(node.names, cst.ImportStar):
        return [ImportFact("*", absolute, star=True, line=0)]
    facts = []
    for alias in node.names:
        name = dotted_name(alias.name) or ""
        local = dotted_name(alias.asname.name) if alias.asname else name
        target = f"{absolute}.{name}" if absolute else name
        facts.append(ImportFact(local or name, target, line=0))
    return facts
