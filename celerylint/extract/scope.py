"""The scopes of the walk and the facts of function bodies.

:class:`ScopeVisitor` is the first visitor of the walk: it enters a function or a
class on its ``visit_`` and leaves it on its ``leave_`` (the walk leaves in reverse
order), so the other visitors see the def they visit as the innermost scope.  It
records imports inside defs, class bases, the module-level ``if``/``except`` blocks
that settings are written in, and per function what the rules read of
its body: calls (with the setting that switches them: ``extract/switches.py``),
``with`` items, an early return, and the locals that dispatch
arguments are followed to.
"""
from __future__ import annotations

from typing import List, Optional, Set

import libcst as cst

from celerylint.extract.context import BindingKind, FileContext, FunctionScope
from celerylint.extract.shapes import qualified_shape, shape
from celerylint.extract.switches import argument_switch, setting_read
from celerylint.facts import Call, FunctionFact
from celerylint.values import dotted_name

_SMALL_LINES = (cst.SimpleStatementLine, cst.SimpleStatementSuite)


class ScopeVisitor(cst.CSTVisitor):
    def __init__(self, ctx: FileContext):
        self.ctx = ctx

    # -- defs ------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> Optional[bool]:
        ctx = self.ctx
        name = node.name.value
        if ctx.classes or ctx.functions:
            name = ".".join(ctx.classes + [f.fact.name.split(".")[-1] for f in ctx.functions]
                            + [name])
        fact = FunctionFact(name=name, loc=ctx.loc(node.name),
                            early_return_line=self._early_return(node))
        ctx.functions.append(FunctionScope(fact, _parameters(node.params)))
        return True

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.ctx.facts.functions.append(self.ctx.functions.pop().fact)

    def _early_return(self, node: cst.FunctionDef) -> int:
        """Line of the first top-level ``if`` of the body that ends in return or raise."""
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        for stmt in body:
            if isinstance(stmt, cst.If) and _ends_in_exit(stmt):
                return self.ctx.line(stmt)
        return 0

    def visit_ClassDef(self, node: cst.ClassDef) -> Optional[bool]:
        ctx = self.ctx
        if ctx.at_module_level():
            bases = []
            for base in node.bases:
                dotted = dotted_name(base.value)
                if dotted:
                    bases.append(ctx.resolve(dotted))
            ctx.facts.class_bases[node.name.value] = bases
        ctx.classes.append(node.name.value)
        return True

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.ctx.classes.pop()

    def visit_Import(self, node: cst.Import) -> None:
        if not self.ctx.at_module_level():  # the module's own are read before the walk
            self.ctx.add_imports(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not self.ctx.at_module_level():
            self.ctx.add_imports(node)

    def _enter_conditional(self, node: cst.CSTNode) -> None:
        """Module-level code under an `if` or an `except` runs only sometimes."""
        if not self.ctx.functions:
            self.ctx.conditional += 1

    def _leave_conditional(self, original_node: cst.CSTNode) -> None:
        if not self.ctx.functions:
            self.ctx.conditional -= 1

    visit_ExceptHandler = _enter_conditional
    leave_If = leave_ExceptHandler = _leave_conditional

    def visit_If(self, node: cst.If) -> None:
        self._enter_conditional(node)
        scope = self.ctx.current()
        switch = setting_read(self.ctx, node.test) if scope is not None else None
        if scope is not None and switch is not None:
            start, _, end, _ = self.ctx.positions[id(node.body)]
            scope.switched.append((start, end, switch))

    # -- names and locals ------------------------------------------------------
    def visit_Name(self, node: cst.Name) -> None:
        scope = self.ctx.current()
        if scope is not None and id(node) not in self.ctx.not_variables:
            scope.name_counts[node.value] += 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.ctx.not_variables.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.ctx.not_variables.add(id(node.keyword))

    def visit_For(self, node: cst.For) -> None:
        scope = self.ctx.current()
        if scope is not None and isinstance(node.target, cst.Name):
            self._bind(scope, node.target.value, "iter", node.iter, node)

    def visit_Assign(self, node: cst.Assign) -> None:
        scope = self.ctx.current()
        if scope is not None:
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._bind(scope, target.target.value, "value", node.value, node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        scope = self.ctx.current()
        if scope is not None and node.value is not None and isinstance(node.target, cst.Name):
            self._bind(scope, node.target.value, "value", node.value, node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        scope = self.ctx.current()
        if scope is not None and isinstance(node.target, cst.Name):
            self._bind(scope, node.target.value, "aug", node.value, node)

    def _bind(self, scope: FunctionScope, name: str, kind: BindingKind, value: cst.CSTNode,
              statement: cst.CSTNode) -> None:
        scope.assigns.setdefault(name, []).append((kind, value, self.ctx.line(statement)))

    # -- what a function body does ---------------------------------------------
    def visit_With(self, node: cst.With) -> None:
        scope = self.ctx.current()
        if scope is not None:
            for item in node.items:
                scope.fact.with_items.append(qualified_shape(self.ctx, shape(item.item)))

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        scope = ctx.current()
        if scope is not None:
            text = shape(node)
            loc = ctx.loc(node)
            scope.fact.calls.append(Call(
                shape=text, qualname=qualified_shape(ctx, text), loc=loc,
                keywords=[a.keyword.value for a in node.args if a.keyword is not None],
                switch=argument_switch(ctx, node) or scope.switch_at(loc.line)))


def _parameters(params: cst.Parameters) -> Set[str]:
    names = {p.name.value for p in (*params.params, *params.kwonly_params, *params.posonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names


def _ends_in_exit(stmt: cst.If) -> bool:
    """Whether the last statement of the if's body is a return or a raise."""
    block = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else [stmt.body]
    smalls: List[cst.CSTNode] = []
    for inner in block:
        smalls.extend(inner.body if isinstance(inner, _SMALL_LINES) else [inner])
    return bool(smalls) and isinstance(smalls[-1], (cst.Return, cst.Raise))
