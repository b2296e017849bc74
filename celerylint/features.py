"""Constructs that only newer Pythons accept, noted while a file's facts are extracted.

:class:`FeatureVisitor` is walked together with the fact extractor (``extract.walk``), so
it costs no pass of its own.  It records the first place of each construct with the
release that introduced it; CEL001 compares them with the project's lowest Python
(``requires-python``, see :mod:`celerylint.syntax`).
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import libcst as cst

from celerylint.facts import Loc, SyntaxFeature

Version = Tuple[int, int]


class FeatureVisitor(cst.CSTVisitor):
    """Records the first place of each construct that needs a newer Python;
    ``features`` holds one :class:`SyntaxFeature` per construct."""

    def __init__(self, positions: Dict[int, Tuple[int, int, int, int]], lines: Sequence[str]):
        self.positions = positions
        self.lines = lines
        self.found: Dict[str, SyntaxFeature] = {}
        self._quotes: List[str] = []  # quotes of the f-/t-strings being walked, innermost last

    @property
    def features(self) -> List[SyntaxFeature]:
        return sorted(self.found.values(), key=lambda f: (f.loc.line, f.loc.col, f.name))

    def _note(self, name: str, version: Version, node: cst.CSTNode) -> None:
        if name in self.found:
            return
        line, col, end_line, end_col = self.positions.get(id(node), (1, 0, 1, 0))
        self.found[name] = SyntaxFeature(
            name, list(version), Loc(line, col + 1, end_line, end_col + 1)
        )

    # 3.5
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is not None:
            self._note("async def", (3, 5), node)
        if node.type_parameters is not None:
            self._note("type parameters", (3, 12), node.type_parameters)

    def visit_Await(self, node: cst.Await) -> None:
        self._note("await", (3, 5), node)

    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is not None:
            self._note("async for", (3, 5), node)

    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is not None:
            self._note("async with", (3, 5), node)
        # `with (a as b):` (3.9's parser); `with (a, b):` is a tuple in every Python
        # (lpar is MaybeSentinel.DEFAULT, which is true, when there is no parenthesis)
        parenthesized = isinstance(node.lpar, cst.LeftParen)
        if parenthesized and any(item.asname is not None for item in node.items):
            self._note("parenthesized context managers", (3, 9), node)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.MatrixMultiply):
            self._note("the @ operator", (3, 5), node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.operator, cst.MatrixMultiplyAssign):
            self._note("the @ operator", (3, 5), node)

    # 3.6
    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._note("variable annotations", (3, 6), node)

    def visit_Integer(self, node: cst.Integer) -> None:
        if "_" in node.value:
            self._note("underscores in numbers", (3, 6), node)

    def visit_Float(self, node: cst.Float) -> None:
        if "_" in node.value:
            self._note("underscores in numbers", (3, 6), node)

    def visit_Imaginary(self, node: cst.Imaginary) -> None:
        if "_" in node.value:
            self._note("underscores in numbers", (3, 6), node)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if node.asynchronous is not None:
            self._note("async comprehensions", (3, 6), node)

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self._note("f-strings", (3, 6), node)
        self._quotes.append(node.start.lstrip("rRbBuUfFtT"))

    def leave_FormattedString(self, original_node: cst.FormattedString) -> None:
        self._quotes.pop()

    def visit_TemplatedString(self, node: cst.TemplatedString) -> None:
        self._note("template strings", (3, 14), node)
        self._quotes.append(node.start.lstrip("rRbBuUfFtT"))

    def leave_TemplatedString(self, original_node: cst.TemplatedString) -> None:
        self._quotes.pop()

    def visit_FormattedStringExpression(self, node: cst.FormattedStringExpression) -> None:
        if node.equal is not None:
            self._note("self-documenting f-string expressions", (3, 8), node)
        if "f-string expressions (PEP 701)" not in self.found and self._quotes:
            if self._pep701(node, self._quotes[-1]):
                self._note("f-string expressions (PEP 701)", (3, 12), node)

    def _pep701(self, node: cst.CSTNode, quote: str) -> bool:
        """Whether the replacement field uses what only 3.12 allows there: a backslash,
        a comment, the enclosing string's own quotes, or a line break in a one-line string."""
        span = self.positions.get(id(node))
        if span is None:
            return False
        text = _region(self.lines, span)
        spec = getattr(node, "format_spec", None)
        if spec:
            first, last = self.positions.get(id(spec[0])), self.positions.get(id(spec[-1]))
            if first is not None and last is not None:
                text = _region(self.lines, (span[0], span[1], first[0], first[1]))
        inner = text[1:]  # after "{"
        if "\\" in inner or "#" in inner or quote in inner:
            return True
        return len(quote) == 1 and ("\n" in inner or "\r" in inner)

    # 3.8
    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._note("assignment expressions", (3, 8), node)

    def visit_Parameters(self, node: cst.Parameters) -> None:
        if node.posonly_params:
            self._note("positional-only parameters", (3, 8), node)

    # 3.9
    def visit_Decorator(self, node: cst.Decorator) -> None:
        target = node.decorator
        if isinstance(target, cst.Call):
            target = target.func
        while isinstance(target, cst.Attribute):
            target = target.value
        if not isinstance(target, cst.Name) or _parenthesized(node.decorator):
            self._note("decorator expressions", (3, 9), node)

    # 3.10
    def visit_Match(self, node: cst.CSTNode) -> None:
        self._note("match statements", (3, 10), node)

    # 3.11
    def visit_TryStar(self, node: cst.CSTNode) -> None:
        self._note("except*", (3, 11), node)

    def visit_SubscriptElement(self, node: cst.SubscriptElement) -> None:
        if getattr(node.slice, "star", None) == "*":
            self._note("starred subscripts", (3, 11), node)

    # 3.12
    def visit_TypeAlias(self, node: cst.CSTNode) -> None:
        self._note("type statements", (3, 12), node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if node.type_parameters is not None:
            self._note("type parameters", (3, 12), node.type_parameters)

    # 3.13
    def visit_TypeParam(self, node: cst.CSTNode) -> None:
        if getattr(node, "default", None) is not None:
            self._note("type parameter defaults", (3, 13), node)

    # 3.14
    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if isinstance(node.type, cst.Tuple) and not node.type.lpar:
            self._note("except without parentheses", (3, 14), node)

    def visit_ExceptStarHandler(self, node: cst.CSTNode) -> None:
        kind = getattr(node, "type", None)
        if isinstance(kind, cst.Tuple) and not kind.lpar:
            self._note("except without parentheses", (3, 14), node)


def _parenthesized(node: cst.CSTNode) -> bool:
    return bool(getattr(node, "lpar", ()))


def _region(lines: Sequence[str], span: Tuple[int, int, int, int]) -> str:
    """Source text of a span (1-based lines, 0-based columns, end exclusive)."""
    line, col, end_line, end_col = span
    if line == end_line:
        return lines[line - 1][col:end_col] if 0 < line <= len(lines) else ""
    parts = [lines[line - 1][col:]] if 0 < line <= len(lines) else []
    parts += list(lines[line:end_line - 1])
    if 0 < end_line <= len(lines):
        parts.append(lines[end_line - 1][:end_col])
    return "".join(parts)
