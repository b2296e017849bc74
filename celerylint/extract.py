"""Extract :class:`~celerylint.facts.FileFacts` from one module's syntax tree.

One pass over the tree collects apps, settings writes, tasks, dispatches,
beat entries and function bodies.  Names are resolved through the file's own
imports (a cheap table of our own instead of libcst's qualified-name
provider); anything that needs other files is left for the project view.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Dict, List, Optional, Tuple

import libcst as cst
from libcst.metadata.position_provider import PositionProvidingCodegenState

from celerylint.facts import (AppFact, Arg, BeatEntry, Call, ConfigSource, Dispatch, Expr,
                              FileFacts, FunctionFact, ImportFact, Loc, SettingAssign,
                              TaskFact, Value)
from celerylint.features import FeatureVisitor
from celerylint.modules import absolute_module
from celerylint.syntax import physical_lines
from celerylint.values import Evaluator, dotted_name, short_source

CELERY_CLASSES = {"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"}
SHARED_TASK = {"celery.shared_task", "celery.app.shared_task", "celery.decorators.task",
               "celery.task.task"}
PERIODIC_TASK = {"celery.task.periodic_task", "celery.decorators.periodic_task",
                 "celery.task.base.periodic_task"}
SIGNATURE_FUNCS = {"celery.signature", "celery.canvas.signature", "celery.canvas.Signature",
                   "celery.Signature", "celery.subtask", "celery.canvas.subtask"}
CANVAS_FUNCS = {"celery.chain": "chain", "celery.canvas.chain": "chain",
                "celery.group": "group", "celery.canvas.group": "group",
                "celery.chord": "chord", "celery.canvas.chord": "chord"}
DISPATCH_METHODS = {"delay", "apply_async", "s", "si", "signature", "send_task"}
CANVAS_METHODS = {"s", "si", "signature"}
BEAT_KEYS = {"beat_schedule", "CELERYBEAT_SCHEDULE", "CELERY_BEAT_SCHEDULE"}
# Celery(...) keywords that are constructor arguments, not settings.
CELERY_CTOR_ARGS = {"main", "loader", "amqp", "events", "log", "control", "set_as_current",
                    "tasks", "fixups", "task_cls", "autofinalize", "namespace", "strict_typing",
                    "config_source", "config_source_silent", "changes"}
CELERY_CTOR_SETTINGS = {"broker": "broker_url", "backend": "result_backend", "include": "include"}
BUILTIN_WRAPPERS = {"list", "tuple", "set", "sorted", "dict", "frozenset"}
# Other task queues whose objects have a `.task` decorator too (`huey = RedisHuey(); @huey.task()`).
OTHER_TASK_LIBRARIES = {"huey", "dramatiq", "rq", "taskiq", "arq", "procrastinate", "django_q",
                        "dask", "prefect", "ray"}


Span = Tuple[int, int, int, int]  # line, column, end line, end column; columns 0-based


class _SyntacticSpan:
    """``record_syntactic_position`` of libcst's PositionProvider, as a plain context manager."""
    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state, node, start_node, end_node):
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc_info) -> bool:
        spans = self.state.provider
        start = spans[id(self.start_node)][:2] if self.start_node is not None else self.start
        end = (spans[id(self.end_node)][2:] if self.end_node is not None
               else (self.state.line, self.state.column))
        spans[id(self.node)] = start + end
        return False


class _PositionState(PositionProvidingCodegenState):
    """libcst's PositionProvider codegen pass, with its bookkeeping made cheap: spans are
    tuples in a dict keyed by node id, and tokens without a line break skip the regex."""
    __slots__ = ()

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if "\n" in value or "\r" in value:
            self._update_position(value)
        else:
            self.column += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._stack.pop()
        if id(node) not in self.provider:  # a syntactic span is already recorded
            self.provider[id(node)] = start + (self.line, self.column)

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _SyntacticSpan(self, node, start_node, end_node)


def node_spans(module: cst.Module) -> Dict[int, Span]:
    """``id(node) -> span`` of every node, exactly as libcst's PositionProvider gives them."""
    spans: Dict[int, Span] = {}
    module._codegen(_PositionState(default_indent=module.default_indent,
                                   default_newline=module.default_newline, provider=spans))
    return spans


def _loc(positions: Dict[int, Span], node: cst.CSTNode) -> Loc:
    line, col, end_line, end_col = positions[id(node)]
    return Loc(line, col + 1, end_line, end_col + 1)


def _string(node: cst.CSTNode) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = _string(node.left), _string(node.right)
        return None if left is None or right is None else left + right
    return None


def _statements(body) -> List[cst.CSTNode]:
    """Top-level small and compound statements of a module or block, looking
    into if/try/with blocks that run at import time."""
    out: List[cst.CSTNode] = []
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
        elif isinstance(stmt, (cst.If, cst.Try, cst.With)):
            out.extend(_statements(stmt.body.body))
            orelse = getattr(stmt, "orelse", None)
            while orelse is not None:
                out.extend(_statements(orelse.body.body))
                orelse = getattr(orelse, "orelse", None)
            for handler in getattr(stmt, "handlers", ()):
                out.extend(_statements(handler.body.body))
        else:
            out.append(stmt)
    return out


def _chain_base(node: cst.CSTNode) -> Tuple[Optional[cst.Name], str]:
    """The name an attribute/call/subscript chain starts from (``resp`` in
    ``resp.json()["id"]``, ``qs`` in ``list(qs)``) and the text of the wrapper
    calls before it in the chain's shape (``"list("``)."""
    prefix = ""
    for _ in range(12):
        if isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
        elif isinstance(node, cst.Await):
            node = node.expression
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Name) \
                and node.func.value in BUILTIN_WRAPPERS and len(node.args) == 1:
            prefix += node.func.value + "("
            node = node.args[0].value
        elif isinstance(node, cst.Call):
            node = node.func
        else:
            break
    return (node if isinstance(node, cst.Name) else None), prefix


def _import_facts(node, module: str, is_package: bool) -> List[ImportFact]:
    line = 0
    facts = []
    if isinstance(node, cst.Import):
        for alias in node.names:
            target = dotted_name(alias.name) or ""
            if alias.asname is not None:
                local = dotted_name(alias.asname.name) or target
                facts.append(ImportFact(local, target, line=line))
            else:
                # `import a.b.c` binds `a`, but `a.b.c.x` must resolve to a.b.c.x
                facts.append(ImportFact(target, target, line=line))
                first = target.split(".")[0]
                if first != target:
                    facts.append(ImportFact(first, first, line=line))
    elif isinstance(node, cst.ImportFrom):
        base = dotted_name(node.module) if node.module is not None else ""
        level = len(node.relative)
        absolute = absolute_module(module, is_package, level, base or "")
        if isinstance(node.names, cst.ImportStar):
            facts.append(ImportFact("*", absolute, star=True, line=line))
        else:
            for alias in node.names:
                name = dotted_name(alias.name) or ""
                local = dotted_name(alias.asname.name) if alias.asname else name
                target = f"{absolute}.{name}" if absolute else name
                facts.append(ImportFact(local or name, target, line=line))
    return facts


class _FunctionState:
    def __init__(self, fact: FunctionFact, params: set):
        self.fact = fact
        self.params = params
        self.assigns: Dict[str, List[Tuple[str, cst.CSTNode, int]]] = {}
        self.name_counts: Counter = Counter()
        self.pending_args: List[Tuple[Arg, cst.CSTNode]] = []
        self.stored: List[Tuple[Dispatch, str]] = []


class Extractor(cst.CSTVisitor):
    def __init__(self, wrapper_module: cst.Module, positions, path: str, module: str,
                 is_package: bool):
        self.module_node = wrapper_module
        self.positions = positions
        self.module = module
        self.is_package = is_package
        self.facts = FileFacts(path=path, module=module)
        self.imports: Dict[str, str] = {}
        self.module_defs: set = set()
        self.constants: Dict[str, cst.BaseExpression] = {}
        self._prescan(wrapper_module)
        self.evaluator = Evaluator(wrapper_module, self.resolve, self.constants)
        self.functions: List[_FunctionState] = []
        self.classes: List[str] = []
        self.result_use: Dict[int, str] = {}
        self.assign_target: Dict[int, str] = {}
        self.app_vars: Dict[str, str] = {}
        self.task_calls: List[Tuple[str, str, cst.Call]] = []
        self.celery_subclasses: set = set()
        self.conditional = 0  # depth of module-level if/except blocks: settings there may not apply
        self.not_variables: set = set()  # ids of Names that are attributes or keywords: `x.res`, `f(res=1)`

    # -- names -------------------------------------------------------------
    def _prescan(self, module: cst.Module) -> None:
        assigned: Counter = Counter()
        for stmt in _statements(module.body):
            if isinstance(stmt, (cst.Import, cst.ImportFrom)):
                for fact in _import_facts(stmt, self.module, self.is_package):
                    fact.line = self._line(stmt)
                    self._add_import(fact)
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                self.module_defs.add(stmt.name.value)
                assigned[stmt.name.value] += 2  # a def is not a constant
            elif isinstance(stmt, cst.Assign):
                for target in stmt.targets:
                    if isinstance(target.target, cst.Name):
                        name = target.target.value
                        self.module_defs.add(name)
                        assigned[name] += 1
                        self.constants[name] = stmt.value
            elif isinstance(stmt, cst.AnnAssign) and isinstance(stmt.target, cst.Name):
                if stmt.value is not None:
                    name = stmt.target.value
                    self.module_defs.add(name)
                    assigned[name] += 1
                    self.constants[name] = stmt.value
            elif isinstance(stmt, cst.AugAssign) and isinstance(stmt.target, cst.Name):
                assigned[stmt.target.value] += 2
        for name, count in assigned.items():
            if count != 1:
                self.constants.pop(name, None)

    def _line(self, node: cst.CSTNode) -> int:
        span = self.positions.get(id(node))
        return span[0] if span is not None else 0

    def _add_import(self, fact: ImportFact) -> None:
        self.facts.imports.append(fact)
        if not fact.star:
            self.imports[fact.local] = fact.target

    def resolve(self, dotted: str) -> str:
        """Qualified name of a dotted name: through imports, module definitions, or as is."""
        strict = self.resolve_strict(dotted)
        return strict or dotted

    def resolve_strict(self, dotted: str) -> str:
        """Like resolve, but "" for names that are neither imported nor module-level.

        A module-level alias (``Base = tasks.MyTask``) is followed once per name, so
        aliases that refer to each other (``A = B.x``, ``B = A.y``) end where they loop."""
        if not dotted:
            return ""
        seen = set()
        while True:
            parts = dotted.split(".")
            for cut in range(len(parts), 0, -1):
                head = ".".join(parts[:cut])
                if head in self.imports:
                    return ".".join([self.imports[head]] + parts[cut:])
            if parts[0] not in self.module_defs:
                return ""
            alias = self.constants.get(parts[0])
            aliased = dotted_name(alias) if alias is not None else None
            if (not aliased or aliased.split(".")[0] == parts[0] or parts[0] in seen):
                return ".".join([self.module, dotted]) if self.module else dotted
            seen.add(parts[0])
            dotted = ".".join([aliased] + parts[1:])

    def loc(self, node: cst.CSTNode) -> Loc:
        return _loc(self.positions, node)

    # -- shapes ------------------------------------------------------------
    def shape(self, node: cst.CSTNode, depth: int = 0) -> str:
        if depth > 12:
            return "<expr>"
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            return f"{self.shape(node.value, depth + 1)}.{node.attr.value}"
        if isinstance(node, cst.Call):
            func = self.shape(node.func, depth + 1)
            if func in BUILTIN_WRAPPERS and len(node.args) == 1:
                return f"{func}({self.shape(node.args[0].value, depth + 1)})"
            return f"{func}()"
        if isinstance(node, cst.Subscript):
            return f"{self.shape(node.value, depth + 1)}[]"
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            return "<str>"
        if isinstance(node, cst.FormattedString):
            return "<fstring>"
        if isinstance(node, (cst.Integer, cst.Float)):
            return "<number>"
        if isinstance(node, (cst.List, cst.Tuple, cst.Set, cst.ListComp, cst.SetComp,
                             cst.GeneratorExp)):
            return "<list>"
        if isinstance(node, (cst.Dict, cst.DictComp)):
            return "<dict>"
        if isinstance(node, cst.Await):
            return self.shape(node.expression, depth + 1)
        return "<expr>"

    def qualified_shape(self, shape: str) -> str:
        head, sep, rest = shape.partition(".")
        call = ""
        if not sep and head.endswith("()"):
            head, call = head[:-2], "()"
        if head.isidentifier():
            resolved = self.resolve_strict(head)
            if resolved:
                return resolved + call + sep + rest
        return shape

    def expr(self, node: cst.CSTNode) -> Expr:
        shape = self.shape(node)
        literal = None
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.List, cst.Tuple,
                             cst.Dict, cst.Set)):
            literal = len(self.module_node.code_for_node(node).encode("utf-8"))
        elif isinstance(node, cst.Name) and node.value in self.constants:
            bound = self.constants[node.value]
            if isinstance(bound, (cst.SimpleString, cst.ConcatenatedString, cst.List,
                                  cst.Tuple, cst.Dict, cst.Set)):
                literal = len(self.module_node.code_for_node(bound).encode("utf-8"))
        return Expr(shape=shape, qualname=self.qualified_shape(shape),
                    source=short_source(self.module_node, node), literal_bytes=literal)

    # -- scopes ------------------------------------------------------------
    def _current(self) -> Optional[_FunctionState]:
        return self.functions[-1] if self.functions else None

    def _at_module_level(self) -> bool:
        return not self.functions and not self.classes

    def visit_FunctionDef(self, node: cst.FunctionDef) -> Optional[bool]:
        name = ".".join(self.classes + [f.fact.name.split(".")[-1] for f in self.functions]
                        + [node.name.value]) if (self.classes or self.functions) else node.name.value
        params = {p.name.value for p in node.params.params + node.params.kwonly_params
                  + node.params.posonly_params}
        for star in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(star, cst.Param):
                params.add(star.name.value)
        fact = FunctionFact(name=name, loc=self.loc(node.name),
                            early_return_line=self._early_return(node))
        self.functions.append(_FunctionState(fact, params))
        if len(self.functions) == 1 and not self.classes:
            self._task_from_decorators(node)
        return True

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        state = self.functions.pop()
        for arg, node in state.pending_args:
            self._follow_local(state, arg, node)
        for dispatch, name in state.stored:
            assignments = len(state.assigns.get(name, ()))
            dispatch.result_use = "used" if state.name_counts[name] > assignments else "discarded"
        self.facts.functions.append(state.fact)

    def _early_return(self, node: cst.FunctionDef) -> int:
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        for stmt in body:
            if isinstance(stmt, cst.If):
                block = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else [stmt.body]
                smalls = []
                for inner in block:
                    smalls.extend(inner.body if isinstance(inner, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else [inner])
                if smalls and isinstance(smalls[-1], (cst.Return, cst.Raise)):
                    return self._line(stmt)
        return 0

    def visit_ClassDef(self, node: cst.ClassDef) -> Optional[bool]:
        bases = []
        for base in node.bases:
            dotted = dotted_name(base.value)
            if dotted:
                bases.append(self.resolve(dotted))
        if self._at_module_level():
            self.facts.class_bases[node.name.value] = bases
            if any(b in CELERY_CLASSES or b in self.celery_subclasses for b in bases):
                self.celery_subclasses.add(f"{self.module}.{node.name.value}")
            self._class_settings(node)
        self.classes.append(node.name.value)
        return True

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes.pop()
        if self._at_module_level():
            self._task_from_class(original_node)

    # -- statements ----------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        if not self._at_module_level():
            for fact in _import_facts(node, self.module, self.is_package):
                fact.line = self._line(node)
                self._add_import(fact)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not self._at_module_level():
            for fact in _import_facts(node, self.module, self.is_package):
                fact.line = self._line(node)
                self._add_import(fact)

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call):
            self.result_use[id(node.value)] = "discarded"

    def visit_Name(self, node: cst.Name) -> None:
        state = self._current()
        if state is not None and id(node) not in self.not_variables:
            state.name_counts[node.value] += 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.not_variables.add(id(node.attr))
        base = dotted_name(node.value) or ""
        name = node.attr.value
        if (base == "settings" or base.endswith(".settings")) and name.isupper() \
                and name not in self.facts.setting_reads:
            self.facts.setting_reads.append(name)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.not_variables.add(id(node.keyword))

    def visit_For(self, node: cst.For) -> None:
        state = self._current()
        if state is not None and isinstance(node.target, cst.Name):
            state.assigns.setdefault(node.target.value, []).append(
                ("iter", node.iter, self._line(node)))

    def visit_Assign(self, node: cst.Assign) -> None:
        state = self._current()
        value = node.value
        for target in node.targets:
            tgt = target.target
            if isinstance(tgt, cst.Name):
                if state is not None:
                    state.assigns.setdefault(tgt.value, []).append(("value", value, self._line(node)))
                if isinstance(value, cst.Call):
                    self.assign_target[id(value)] = tgt.value
                    if tgt.value == "_":
                        self.result_use[id(value)] = "discarded"
                    elif state is not None:
                        self.result_use[id(value)] = "stored:" + tgt.value
                if self._at_module_level():
                    self._module_setting(tgt, value)
            elif isinstance(tgt, cst.Attribute):
                self._conf_attribute(tgt, value)
            elif isinstance(tgt, cst.Subscript):
                self._subscript_assign(tgt, value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and isinstance(node.target, cst.Name):
            state = self._current()
            if state is not None:
                state.assigns.setdefault(node.target.value, []).append(
                    ("value", node.value, self._line(node)))
            if self._at_module_level():
                self._module_setting(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        state = self._current()
        if state is not None:
            dotted = dotted_name(node.target)
            if dotted:
                state.fact.augmented_attrs.append(dotted)
            if isinstance(node.target, cst.Name):
                state.assigns.setdefault(node.target.value, []).append(
                    ("aug", node.value, self._line(node)))
        elif self._at_module_level() and isinstance(node.target, cst.Name):
            self.facts.settings.append(SettingAssign(
                key=node.target.value, value=Value.unknown(short_source(self.module_node, node)),
                loc=self.loc(node.target), kind="module"))

    def _enter_conditional(self, node: cst.CSTNode) -> None:
        """Module-level code under an `if` or an `except` runs only sometimes."""
        if not self.functions:
            self.conditional += 1

    def _leave_conditional(self, original_node: cst.CSTNode) -> None:
        if not self.functions:
            self.conditional -= 1

    visit_If = visit_ExceptHandler = _enter_conditional
    leave_If = leave_ExceptHandler = _leave_conditional

    def visit_With(self, node: cst.With) -> None:
        state = self._current()
        for item in node.items:
            if isinstance(item.item, cst.Call):
                self.result_use[id(item.item)] = "with"
            if state is not None:
                state.fact.with_items.append(self.qualified_shape(self.shape(item.item)))

    # -- calls ---------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func_dotted = dotted_name(node.func)
        state = self._current()
        shape = self.shape(node)
        if state is not None:
            state.fact.calls.append(Call(
                shape=shape, qualname=self.qualified_shape(shape), loc=self.loc(node),
                keywords=[a.keyword.value for a in node.args if a.keyword is not None],
                in_with=self.result_use.get(id(node)) == "with"))
        qualname = self.resolve(func_dotted) if func_dotted else ""
        if qualname in CELERY_CLASSES or qualname in self.celery_subclasses:
            self._celery_app(node, qualname)
            return
        if qualname in SIGNATURE_FUNCS:
            self._dispatch_signature_call(node)
            return
        if qualname in CANVAS_FUNCS:
            self._add_dispatch(node, CANVAS_FUNCS[qualname], "", "", [], {})
            return
        if qualname in ("os.environ.setdefault", "os.putenv") or qualname.endswith("environ.setdefault"):
            if len(node.args) >= 2 and _string(node.args[0].value) == "DJANGO_SETTINGS_MODULE":
                value = _string(node.args[1].value)
                if value:
                    self.facts.django_settings_module = value
            return
        if func_dotted and func_dotted.split(".")[-1] == "on_commit":
            # on_commit(lambda: t.delay(x)) throws the lambda's return value away
            for arg in node.args:
                if isinstance(arg.value, cst.Lambda) and isinstance(arg.value.body, cst.Call):
                    self.result_use[id(arg.value.body)] = "discarded"
        if not isinstance(node.func, cst.Attribute):
            return
        method = node.func.attr.value
        receiver = node.func.value
        if method in DISPATCH_METHODS:
            self._dispatch_method(node, method, receiver)
        elif method == "config_from_object":
            self._config_from_object(node, receiver)
        elif method == "update":
            self._update_call(node, receiver)
        elif method == "add_periodic_task":
            self._add_periodic_task(node, receiver)
        elif method == "task" and self._is_app_reference(receiver):
            self._task_call(node, receiver)

    # -- apps and settings ---------------------------------------------------
    def _is_app_reference(self, node: cst.CSTNode) -> bool:
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

    def _app_qualname(self, node: cst.CSTNode) -> str:
        dotted = dotted_name(node) or ""
        if dotted in self.app_vars:
            return self.app_vars[dotted]
        return self.resolve_strict(dotted) or dotted

    def _celery_app(self, node: cst.Call, cls: str) -> None:
        var = self.assign_target.get(id(node), "")
        qualname = ""
        if var:
            scope = [] if self._at_module_level() else [s.fact.name for s in self.functions[-1:]]
            qualname = ".".join([p for p in [self.module] + scope + [var] if p])
            self.app_vars[var] = qualname
        main = None
        namespace = None
        for index, arg in enumerate(node.args):
            keyword = arg.keyword.value if arg.keyword is not None else ("main" if index == 0 else None)
            if arg.star == "**":
                self._unreadable_settings(qualname, arg.value, node)
            if keyword is None or arg.star:
                continue
            if keyword == "main":
                main = _string(arg.value)
            elif keyword == "namespace":
                namespace = _string(arg.value)
            elif keyword == "config_source":
                self._config_source(qualname, arg.value, None, self.loc(arg.value))
            elif keyword == "changes" and isinstance(arg.value, cst.Dict):
                self._settings_from_dict(arg.value, "celery-kwarg", qualname)
            elif keyword not in CELERY_CTOR_ARGS:
                key = CELERY_CTOR_SETTINGS.get(keyword, keyword)
                self._add_setting(key, arg.value, self.loc(arg.keyword or arg.value),
                                  "celery-kwarg", qualname)
        self.facts.apps.append(AppFact(var=var, qualname=qualname, main=main,
                                       loc=self.loc(node), cls=cls, namespace=namespace))

    def _add_setting(self, key: str, value_node: cst.CSTNode, loc: Loc, kind: str,
                     app: str = "", container: str = "") -> None:
        value = self.evaluator.evaluate(value_node)
        if self.conditional:  # set only when an `if`/`except` branch runs
            value = Value.unknown(short_source(self.module_node, value_node))
        self.facts.settings.append(SettingAssign(
            key=key, value=value, loc=loc, kind=kind, app=app, container=container))
        if key in BEAT_KEYS:
            self._beat_from_value(value_node, key, app)

    def _settings_from_dict(self, node: cst.CSTNode, kind: str, app: str) -> None:
        node = self._follow_constant(node)
        if not isinstance(node, cst.Dict):
            return
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = _string(element.key)
                if key is not None:
                    self._add_setting(key, element.value, self.loc(element.key), kind, app)

    def _follow_constant(self, node: cst.CSTNode) -> cst.CSTNode:
        seen = 0
        while isinstance(node, cst.Name) and node.value in self.constants and seen < 10:
            node = self.constants[node.value]
            seen += 1
        return node

    def _module_setting(self, target: cst.Name, value: cst.BaseExpression) -> None:
        self._add_setting(target.value, value, self.loc(target), "module")

    def _class_settings(self, node: cst.ClassDef) -> None:
        if not isinstance(node.body, cst.IndentedBlock):
            return
        for stmt in _statements(node.body.body):
            if isinstance(stmt, cst.Assign):
                for target in stmt.targets:
                    if isinstance(target.target, cst.Name):
                        self._add_setting(target.target.value, stmt.value, self.loc(target.target),
                                          "class", container=node.name.value)
            elif isinstance(stmt, cst.AnnAssign) and isinstance(stmt.target, cst.Name) \
                    and stmt.value is not None:
                self._add_setting(stmt.target.value, stmt.value, self.loc(stmt.target),
                                  "class", container=node.name.value)

    def _conf_receiver(self, node: cst.CSTNode) -> Optional[str]:
        """The app's qualified name when node is ``<app>.conf``."""
        if isinstance(node, cst.Attribute) and node.attr.value == "conf":
            return self._app_qualname(node.value)
        return None

    def _conf_attribute(self, target: cst.Attribute, value: cst.BaseExpression) -> None:
        app = self._conf_receiver(target.value)
        if app is not None:
            self._add_setting(target.attr.value, value, self.loc(target.attr), "conf-attr", app)

    def _subscript_assign(self, target: cst.Subscript, value: cst.BaseExpression) -> None:
        if len(target.slice) != 1 or not isinstance(target.slice[0].slice, cst.Index):
            return
        key_node = target.slice[0].slice.value
        key = _string(key_node)
        if key is None:
            return
        app = self._conf_receiver(target.value)
        if app is not None:
            self._add_setting(key, value, self.loc(key_node), "conf-item", app)
            return
        dotted = dotted_name(target.value) or ""
        if key == "DJANGO_SETTINGS_MODULE" and self.resolve(dotted) == "os.environ":
            self.facts.django_settings_module = _string(value) or self.facts.django_settings_module
            return
        beat_key = dotted.split(".")[-1]
        if beat_key in BEAT_KEYS:
            app = self._conf_receiver(target.value.value) if isinstance(target.value, cst.Attribute) else None
            self._beat_entry(key, key_node, value, beat_key, app or "")

    def _config_from_object(self, node: cst.Call, receiver: cst.CSTNode) -> None:
        app = self._app_qualname(receiver)
        target = None
        namespace = None
        for index, arg in enumerate(node.args):
            if arg.keyword is None and index == 0:
                target = arg.value
            elif arg.keyword is not None and arg.keyword.value == "obj":
                target = arg.value
            elif arg.keyword is not None and arg.keyword.value == "namespace":
                namespace = _string(arg.value)
        if target is not None:
            self._config_source(app, target, namespace, self.loc(node))

    def _config_source(self, app: str, target: cst.CSTNode, namespace: Optional[str], loc: Loc) -> None:
        text = _string(target)
        if text is not None:
            source = ConfigSource(app, text, "string", namespace, loc)
        else:
            dotted = dotted_name(target)
            resolved = self.resolve_strict(dotted) if dotted else ""
            if resolved:
                source = ConfigSource(app, resolved, "name", namespace, loc)
            else:
                source = ConfigSource(app, short_source(self.module_node, target), "unknown",
                                      namespace, loc)
        self.facts.config_sources.append(source)

    def _unreadable_settings(self, app: str, value: cst.CSTNode, call: cst.Call) -> None:
        """Settings passed in a form we cannot read count as an unresolved config source."""
        self.facts.config_sources.append(ConfigSource(
            app, short_source(self.module_node, value), "unknown", None, self.loc(call)))

    def _update_call(self, node: cst.Call, receiver: cst.CSTNode) -> None:
        app = self._conf_receiver(receiver)
        if app is not None:
            for arg in node.args:
                if arg.keyword is not None:
                    self._add_setting(arg.keyword.value, arg.value, self.loc(arg.keyword),
                                      "conf-update", app)
                elif arg.star != "*" and isinstance(self._follow_constant(arg.value), cst.Dict):
                    self._settings_from_dict(arg.value, "conf-update", app)
                else:  # **options, or a dict built elsewhere: keys we cannot read
                    self._unreadable_settings(app, arg.value, node)
            return
        dotted = dotted_name(receiver) or ""
        beat_key = dotted.split(".")[-1]
        if beat_key in BEAT_KEYS and node.args and not node.args[0].keyword:
            conf_app = self._conf_receiver(receiver.value) if isinstance(receiver, cst.Attribute) else None
            self._beat_from_value(node.args[0].value, beat_key, conf_app or "")

    # -- beat ----------------------------------------------------------------
    def _beat_from_value(self, node: cst.CSTNode, setting: str, app: str) -> None:
        node = self._follow_constant(node)
        if not isinstance(node, cst.Dict):
            return
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = _string(element.key)
                if key is not None:
                    self._beat_entry(key, element.key, element.value, setting, app)

    def _beat_entry(self, name: str, key_node: cst.CSTNode, entry: cst.CSTNode, setting: str,
                    app: str) -> None:
        entry = self._follow_constant(entry)
        if not isinstance(entry, cst.Dict):
            return
        fields: Dict[str, cst.CSTNode] = {}
        for element in entry.elements:
            if isinstance(element, cst.DictElement):
                key = _string(element.key)
                if key is not None:
                    fields[key] = element.value
        if "schedule" not in fields:
            return
        options: Dict[str, Value] = {}
        option_node = self._follow_constant(fields["options"]) if "options" in fields else None
        if isinstance(option_node, cst.Dict):
            options = self._literal_options(option_node)
        elif option_node is not None:
            options["$unknown"] = Value.unknown(short_source(self.module_node, option_node))
        if any(isinstance(e, cst.StarredDictElement) for e in entry.elements):
            options["$unknown"] = Value.unknown("**")  # a spread entry may bring its own options
        task = _string(fields["task"]) if "task" in fields else None
        self.facts.beat.append(BeatEntry(
            loc=self.loc(key_node), name=name, task=task, task_ref="",
            schedule=self.evaluator.evaluate(fields["schedule"]),
            schedule_loc=self.loc(fields["schedule"]), options=options, setting=setting, app=app))

    def _literal_options(self, node: cst.Dict) -> Dict[str, Value]:
        """Options of a literal dict; ``$unknown`` when a key or a ``**`` spread is not literal."""
        options: Dict[str, Value] = {}
        for element in node.elements:
            key = _string(element.key) if isinstance(element, cst.DictElement) else None
            if key is not None:
                options[key] = self.evaluator.evaluate(element.value)
                continue
            spread = self.evaluator.evaluate(element.value)
            if isinstance(element, cst.StarredDictElement) and spread.known \
                    and isinstance(spread.value, dict):
                options.update({k: Value(True, v) for k, v in spread.value.items()})
            else:
                options["$unknown"] = Value.unknown(short_source(self.module_node, element))
        return options

    def _add_periodic_task(self, node: cst.Call, receiver: cst.CSTNode) -> None:
        schedule = sig = None
        name = None
        options: Dict[str, Value] = {}
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if positional:
            schedule = positional[0].value
        if len(positional) > 1:
            sig = positional[1].value
        for arg in node.args:
            if arg.star == "**":
                options["$unknown"] = Value.unknown(short_source(self.module_node, arg.value))
            if arg.keyword is None:
                continue
            keyword = arg.keyword.value
            if keyword == "schedule":
                schedule = arg.value
            elif keyword == "sig":
                sig = arg.value
            elif keyword == "name":
                name = _string(arg.value)
            elif keyword not in ("args", "kwargs"):
                options[keyword] = self.evaluator.evaluate(arg.value)
        if schedule is None:
            return
        sig, sig_options = self._signature_options(sig)
        options = dict(sig_options, **options)  # Celery: dict(sig.options, **opts)
        task_name, task_ref = None, ""
        if isinstance(sig, cst.Call):
            if isinstance(sig.func, cst.Attribute) and sig.func.attr.value in CANVAS_METHODS:
                task_ref = self.resolve_strict(dotted_name(sig.func.value) or "")
            elif sig.args and self.resolve(dotted_name(sig.func) or "") in SIGNATURE_FUNCS:
                task_name = _string(sig.args[0].value)
        self.facts.beat.append(BeatEntry(
            loc=self.loc(node), name=name, task=task_name, task_ref=task_ref,
            schedule=self.evaluator.evaluate(schedule), schedule_loc=self.loc(schedule),
            options=options, setting="add_periodic_task", app=self._app_qualname(receiver)))

    def _signature_options(self, sig: Optional[cst.CSTNode]
                           ) -> Tuple[Optional[cst.CSTNode], Dict[str, Value]]:
        """The signature under ``.set(...)`` calls, and the options it carries
        (``t.signature(args, expires=5)``, ``signature("t", options={...})``,
        ``t.s().set(expires=5)``)."""
        options: Dict[str, Value] = {}
        calls = []
        while isinstance(sig, cst.Call) and isinstance(sig.func, cst.Attribute) \
                and sig.func.attr.value == "set" and len(calls) < 8:
            calls.append((sig, ("immutable",)))
            sig = sig.func.value
        if isinstance(sig, cst.Call):
            method = sig.func.attr.value if isinstance(sig.func, cst.Attribute) else ""
            if method == "signature" or self.resolve(dotted_name(sig.func) or "") in SIGNATURE_FUNCS:
                calls.append((sig, ("args", "kwargs", "options", "app", "type",
                                    "subtask_type", "immutable")))
        for call, not_options in reversed(calls):
            for arg in call.args:
                keyword = arg.keyword.value if arg.keyword is not None else None
                if arg.star == "**":
                    options["$unknown"] = Value.unknown(short_source(self.module_node, arg.value))
                elif keyword == "options":
                    literal = self._follow_constant(arg.value)
                    if isinstance(literal, cst.Dict):
                        options.update(self._literal_options(literal))
                    else:
                        options["$unknown"] = Value.unknown(short_source(self.module_node, arg.value))
                elif keyword is not None and keyword not in not_options:
                    options[keyword] = self.evaluator.evaluate(arg.value)
        return sig, options

    # -- tasks ---------------------------------------------------------------
    def _task_from_decorators(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            expr = decorator.decorator
            call = expr if isinstance(expr, cst.Call) else None
            func = call.func if call is not None else expr
            dotted = dotted_name(func)
            if not dotted:
                continue
            qualname = self.resolve(dotted)
            kind, app = None, ""
            if qualname in SHARED_TASK:
                kind = "shared_task"
            elif qualname in PERIODIC_TASK:
                kind = "periodic_task"
            elif dotted.endswith(".task") and isinstance(func, cst.Attribute):
                app_ref = func.value
                if self._is_app_reference(app_ref):
                    kind, app = "app.task", self._app_qualname(app_ref)
            if kind is None:
                continue
            task = self._make_task(node.name.value, self.loc(node.name), kind, app,
                                   call.args if call is not None else ())
            task.function = node.name.value
            self.facts.tasks.append(task)
            if kind == "periodic_task" and "run_every" in task.options:
                run_every = next(a.value for a in call.args
                                 if a.keyword is not None and a.keyword.value == "run_every")
                options = {k: v for k, v in task.options.items() if k not in ("run_every",)}
                self.facts.beat.append(BeatEntry(
                    loc=self.loc(node.name), name=task.qualname, task=task.name,
                    task_ref=task.qualname, schedule=task.options["run_every"],
                    schedule_loc=self.loc(run_every), options=options,
                    setting="periodic_task", app=""))
            return

    def _make_task(self, func: str, loc: Loc, kind: str, app: str, args) -> TaskFact:
        task = TaskFact(func=func, qualname=f"{self.module}.{func}" if self.module else func,
                        loc=loc, decorator=kind, app=app)
        for arg in args:
            if arg.keyword is None or arg.star:
                continue
            key = arg.keyword.value
            value = self.evaluator.evaluate(arg.value)
            task.options[key] = value
            task.option_locs[key] = self.loc(arg.value)
            if key == "name" and value.known and isinstance(value.value, str):
                task.name = value.value
            elif key == "bind":
                task.bind = value.known and value.value is True
            elif key == "base":
                dotted = dotted_name(arg.value)
                if dotted:
                    task.bases.append(self.resolve(dotted))
        return task

    def _task_call(self, node: cst.Call, receiver: cst.CSTNode) -> None:
        """``app.task(func)`` and ``app.task(**opts)(func)`` forms."""
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if len(positional) == 1 and isinstance(positional[0].value, cst.Name):
            self.task_calls.append((positional[0].value.value, self._app_qualname(receiver), node))

    def _task_from_class(self, node: cst.ClassDef) -> None:
        if not isinstance(node.body, cst.IndentedBlock):
            return
        has_run = any(isinstance(s, cst.FunctionDef) and s.name.value == "run" for s in node.body.body)
        bases = self.facts.class_bases.get(node.name.value, [])
        if not has_run or not bases:
            return
        task = TaskFact(func=node.name.value, qualname=f"{self.module}.{node.name.value}",
                        loc=self.loc(node.name), decorator="class", bases=list(bases),
                        function=f"{node.name.value}.run")
        for setting in self.facts.settings:
            if setting.kind == "class" and setting.container == node.name.value:
                task.options[setting.key] = setting.value
                task.option_locs[setting.key] = setting.loc
                if setting.key == "name" and setting.value.known:
                    task.name = setting.value.value
        self.facts.tasks.append(task)

    def leave_Module(self, original_node: cst.Module) -> None:
        functions = {f.name: f for f in self.facts.functions}
        for func, app, call in self.task_calls:
            fact = functions.get(func)
            task = self._make_task(func, fact.loc if fact else self.loc(call), "call", app, call.args)
            task.function = func if fact else ""
            self.facts.tasks.append(task)

    # -- dispatches ----------------------------------------------------------
    def _add_dispatch(self, node: cst.Call, method: str, receiver: str, receiver_qualname: str,
                      arg_nodes: List[Tuple[Optional[str], cst.CSTNode]],
                      options: Dict[str, Value], task_name: Optional[str] = None) -> None:
        state = self._current()
        use = self.result_use.get(id(node), "used")
        if method in CANVAS_METHODS or method in ("signature()", "chain", "group", "chord"):
            use = "canvas" if use != "discarded" else use
        dispatch = Dispatch(loc=self.loc(node), method=method, receiver=receiver,
                            receiver_qualname=receiver_qualname, task_name=task_name,
                            options=options, function=state.fact.name if state else "")
        if use.startswith("stored:"):
            dispatch.result_use = "used"
            if state is not None:
                state.stored.append((dispatch, use.split(":", 1)[1]))
        else:
            dispatch.result_use = "used" if use == "with" else use
        for keyword, arg_node in arg_nodes:
            arg = Arg(loc=self.loc(arg_node), keyword=keyword, expr=self.expr(arg_node))
            dispatch.args.append(arg)
            if state is not None and _chain_base(arg_node)[0] is not None:
                state.pending_args.append((arg, arg_node))
        self.facts.dispatches.append(dispatch)

    def _follow_local(self, state: _FunctionState, arg: Arg, node: cst.CSTNode) -> None:
        """Describe ``x``, ``x.attr``, ``x.read()``, ``list(x)`` ... by the value
        assigned to the local ``x`` (``resp.content`` -> ``requests.get().content``)."""
        base, prefix = _chain_base(node)
        if base is None:
            return
        name = base.value
        assigned = state.assigns.get(name, [])
        if name in state.params or len(assigned) != 1:
            return
        kind, value, line = assigned[0]
        if kind == "aug" or line > arg.loc.line or not arg.expr.shape.startswith(prefix + name):
            return
        rest = arg.expr.shape[len(prefix + name):]
        followed = self.expr(value)
        if kind == "iter":
            followed.shape += "[]"
            followed.qualname += "[]"
            followed.literal_bytes = None
        if prefix or rest:
            followed.shape = prefix + followed.shape + rest
            followed.qualname = prefix + followed.qualname + rest
            followed.literal_bytes = None
        followed.via, followed.via_line = name, line
        arg.expr = followed

    @staticmethod
    def _spread(node: cst.CSTNode) -> List[Tuple[Optional[str], cst.CSTNode]]:
        """Elements of a literal args tuple/list or kwargs dict, else the node itself."""
        if isinstance(node, (cst.Tuple, cst.List)):
            if all(isinstance(e, cst.Element) for e in node.elements):
                return [(None, e.value) for e in node.elements]
        if isinstance(node, cst.Dict):
            if all(isinstance(e, cst.DictElement) for e in node.elements):
                return [(_string(e.key), e.value) for e in node.elements]
        return [(None, node)]

    def _split_call_args(self, node: cst.Call, args_keyword: str = "args",
                         first_positional_is_args: bool = True):
        """Arguments and options of apply_async/signature/send_task-style calls."""
        arg_nodes: List[Tuple[Optional[str], cst.CSTNode]] = []
        options: Dict[str, Value] = {}
        positional = 0
        for arg in node.args:
            if arg.star:
                continue
            if arg.keyword is None:
                if positional == 0 and first_positional_is_args:
                    arg_nodes.extend(self._spread(arg.value))
                elif positional == 1 and first_positional_is_args:
                    arg_nodes.extend(self._spread(arg.value))
                positional += 1
            elif arg.keyword.value in (args_keyword, "kwargs"):
                arg_nodes.extend(self._spread(arg.value))
            else:
                options[arg.keyword.value] = self.evaluator.evaluate(arg.value)
        return arg_nodes, options

    def _dispatch_method(self, node: cst.Call, method: str, receiver: cst.CSTNode) -> None:
        dotted = dotted_name(receiver) or ""
        receiver_text = dotted or self.shape(receiver)
        if method == "send_task":
            positional = [a for a in node.args if a.keyword is None and not a.star]
            name_node = positional[0].value if positional else next(
                (a.value for a in node.args if a.keyword is not None and a.keyword.value == "name"), None)
            task_name = _string(name_node) if name_node is not None else None
            arg_nodes, options = [], {}
            for index, arg in enumerate(node.args):
                if arg.star:
                    continue
                key = arg.keyword.value if arg.keyword is not None else None
                if key in ("args", "kwargs") or (key is None and index in (1, 2)):
                    arg_nodes.extend(self._spread(arg.value))
                elif key not in (None, "name"):
                    options[key] = self.evaluator.evaluate(arg.value)
            self._add_dispatch(node, method, receiver_text, self._app_qualname(receiver),
                               arg_nodes, options, task_name)
            return
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if method == "signature" and positional and _string(positional[0].value) is not None:
            self._dispatch_signature_call(node)  # app.signature("task.name", args=...)
            return
        qualname = self.resolve_strict(dotted) if dotted else self._signature_task(receiver)
        if method in ("apply_async", "signature"):
            arg_nodes, options = self._split_call_args(node)
        else:
            arg_nodes = [(a.keyword.value if a.keyword is not None else None, a.value)
                         for a in node.args if not a.star]
            options = {}
        self._add_dispatch(node, method, receiver_text, qualname, arg_nodes, options)

    def _signature_task(self, receiver: cst.CSTNode) -> str:
        """The task behind ``add.s(...)`` / ``add.si(...).set(...)`` in ``add.s(...).delay()``."""
        for _ in range(8):
            if not (isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute)
                    and receiver.func.attr.value == "set"):
                break
            receiver = receiver.func.value
        if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute) \
                and receiver.func.attr.value in CANVAS_METHODS:
            dotted = dotted_name(receiver.func.value)
            return self.resolve_strict(dotted) if dotted else ""
        return ""

    def _dispatch_signature_call(self, node: cst.Call) -> None:
        positional = [a for a in node.args if a.keyword is None and not a.star]
        task_name, receiver_qualname = None, ""
        if positional:
            task_name = _string(positional[0].value)
            if task_name is None:
                dotted = dotted_name(positional[0].value)
                receiver_qualname = self.resolve_strict(dotted) if dotted else ""
        arg_nodes: List[Tuple[Optional[str], cst.CSTNode]] = []
        options: Dict[str, Value] = {}
        for index, arg in enumerate(node.args):
            if arg.star:
                continue
            key = arg.keyword.value if arg.keyword is not None else None
            if key in ("args", "kwargs") or (key is None and index in (1, 2)):
                arg_nodes.extend(self._spread(arg.value))
            elif key is not None:
                options[key] = self.evaluator.evaluate(arg.value)
        self._add_dispatch(node, "signature()", "signature", receiver_qualname, arg_nodes,
                           options, task_name)


# -- traversal ----------------------------------------------------------------
# libcst's own traversal rebuilds every node of the tree as it goes; `walk` calls the
# same visit_/leave_ methods in the same order and rebuilds nothing.

# Nodes that hold only whitespace and punctuation: nothing the Extractor visits.
LEAF_NODES = (cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace,
              cst.Newline, cst.Comment, cst.Comma, cst.Semicolon, cst.Colon, cst.Dot,
              cst.AssignEqual, cst.ImportStar, cst.BaseBinaryOp, cst.BaseBooleanOp,
              cst.BaseCompOp, cst.BaseUnaryOp, cst.BaseAugOp, cst.LeftParen, cst.RightParen,
              cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
              cst.RightCurlyBrace)
# node class -> (fields in libcst's visiting order, fields it skipped because they were None)
_VISIT_ORDER: Dict[type, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {}


class _FieldRecorder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.fields: List[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.fields.append(attribute)


def _visit_order(node: cst.CSTNode) -> Tuple[str, ...]:
    """The fields of node in the order libcst's visitors see them, learned from libcst
    itself: once per class, again when a field it skipped as None has a value here
    (``format_spec`` of an f-string expression)."""
    learned = _VISIT_ORDER.get(type(node))
    if learned is None or any(getattr(node, name) is not None for name in learned[1]):
        recorder = _FieldRecorder()
        node._visit_and_replace_children(recorder)
        skipped = tuple(f.name for f in dataclasses.fields(node)
                        if f.name not in recorder.fields and getattr(node, f.name) is None)
        learned = _VISIT_ORDER[type(node)] = (tuple(recorder.fields), skipped)
    return learned[0]


SKIP, VISIT, SEQUENCE = 1, 2, 3
_CHILD_KIND: Dict[type, int] = {}


def _child_kind(value) -> int:
    """SKIP, VISIT or SEQUENCE for a field's value, by its type."""
    kind = _CHILD_KIND.get(type(value))
    if kind is None:
        if isinstance(value, cst.CSTNode):
            kind = SKIP if isinstance(value, LEAF_NODES) else VISIT
        else:
            kind = SEQUENCE if isinstance(value, (tuple, list)) else SKIP
        _CHILD_KIND[type(value)] = kind
    return kind


def walk(root: cst.CSTNode, *visitors: cst.CSTVisitor) -> None:
    """``root.visit(visitor)`` for each visitor at once, for visitors with plain visit_/leave_
    methods (no ``*_attr`` methods, nothing visited inside LEAF_NODES), without rebuilding
    the tree.  A node's children are skipped only when every visitor's visit_ says False."""
    plans: Dict[type, tuple] = {}
    kinds = _CHILD_KIND

    def methods(name: str) -> tuple:
        """The visitors' own methods, without CSTVisitor's do-nothing defaults."""
        found = []
        for visitor in visitors:
            own = getattr(type(visitor), name, None)
            if own is not None and own is not getattr(cst.CSTVisitor, name, None):
                found.append(getattr(visitor, name))
        return tuple(found)

    def plan(node: cst.CSTNode) -> tuple:
        name = type(node).__name__
        _visit_order(node)
        plans[type(node)] = found = (methods("visit_" + name), methods("leave_" + name),
                                     _VISIT_ORDER[type(node)])
        return found

    def visit(node: cst.CSTNode) -> None:
        on_visit, on_leave, (fields, skipped) = plans.get(type(node)) or plan(node)
        enter = not on_visit
        for method in on_visit:
            enter = method(node) is not False or enter
        if enter:
            for name in _visit_order(node) if skipped else fields:
                child = getattr(node, name)
                kind = kinds.get(type(child)) or _child_kind(child)
                if kind == VISIT:
                    visit(child)
                elif kind == SEQUENCE:
                    for item in child:
                        if (kinds.get(type(item)) or _child_kind(item)) == VISIT:
                            visit(item)
        for method in on_leave:
            method(node)

    visit(root)
    visit = None  # noqa: F841 (the closure refers to itself: free it now, not at a gc)


def extract(module: cst.Module, path: str, module_name: str, is_package: bool,
            text: Optional[str] = None) -> FileFacts:
    """The facts of a parsed module; ``text`` is its source (else generated from the tree)."""
    positions = node_spans(module)
    extractor = Extractor(module, positions, path, module_name, is_package)
    features = FeatureVisitor(positions, physical_lines(module.code if text is None else text))
    walk(module, extractor, features)
    extractor.evaluator = None  # it refers back to the extractor: free the tree now, not at a gc
    extractor.facts.syntax = features.features
    return extractor.facts
