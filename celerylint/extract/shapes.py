"""How expressions are described in facts: a shape (``requests.get().json``), the
shape with its first name resolved, and :class:`~celerylint.facts.Expr`."""
from __future__ import annotations

import libcst as cst

from celerylint.extract.context import FileContext
from celerylint.extract.names import BUILTIN_WRAPPERS
from celerylint.facts import Expr
from celerylint.values import short_source

# Shapes of nodes whose parts do not matter, first match wins.
_PLACEHOLDERS = (
    ((cst.SimpleString, cst.ConcatenatedString), "<str>"),
    ((cst.FormattedString,), "<fstring>"),
    ((cst.Integer, cst.Float), "<number>"),
    ((cst.List, cst.Tuple, cst.Set, cst.ListComp, cst.SetComp, cst.GeneratorExp), "<list>"),
    ((cst.Dict, cst.DictComp), "<dict>"),
)
# Literals whose size in bytes an Expr records.
_SIZED = (cst.SimpleString, cst.ConcatenatedString, cst.List, cst.Tuple, cst.Dict, cst.Set)


def shape(node: cst.CSTNode, depth: int = 0) -> str:
    """Names, attributes, calls and subscripts as written (``a.b()[].c``); placeholders
    for literals; ``<expr>`` for the rest and past 12 levels."""
    if depth > 12:
        return "<expr>"
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{shape(node.value, depth + 1)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return _call_shape(node, depth)
    if isinstance(node, cst.Subscript):
        return f"{shape(node.value, depth + 1)}[]"
    for kinds, placeholder in _PLACEHOLDERS:
        if isinstance(node, kinds):
            return placeholder
    if isinstance(node, cst.Await):
        return shape(node.expression, depth + 1)
    return "<expr>"


def _call_shape(node: cst.Call, depth: int) -> str:
    func = shape(node.func, depth + 1)
    if func in BUILTIN_WRAPPERS and len(node.args) == 1:
        return f"{func}({shape(node.args[0].value, depth + 1)})"
    return f"{func}()"


def qualified_shape(ctx: FileContext, text: str) -> str:
    """A shape with its first name resolved (``get().json`` -> ``requests.get().json``)."""
    head, sep, rest = text.partition(".")
    call = ""
    if not sep and head.endswith("()"):
        head, call = head[:-2], "()"
    if head.isidentifier():
        resolved = ctx.resolve_strict(head)
        if resolved:
            return resolved + call + sep + rest
    return text


def expr(ctx: FileContext, node: cst.CSTNode) -> Expr:
    """The Expr of node: shape, qualified shape, short source, size of a literal (also
    of a literal bound to a module-level constant)."""
    text = shape(node)
    literal = None
    if isinstance(node, _SIZED):
        literal = len(ctx.module_node.code_for_node(node).encode("utf-8"))
    elif isinstance(node, cst.Name) and node.value in ctx.constants:
        bound = ctx.constants[node.value]
        if isinstance(bound, _SIZED):
            literal = len(ctx.module_node.code_for_node(bound).encode("utf-8"))
    return Expr(shape=text, qualname=qualified_shape(ctx, text),
                source=short_source(ctx.module_node, node), literal_bytes=literal)
