"""Positions of nodes and a walk over the tree, both cheaper than libcst's own.

``node_spans`` gives every node's span as libcst's PositionProvider does, from one
codegen pass with cheap bookkeeping.  ``walk`` calls the ``visit_``/``leave_`` methods
of several visitors in one pass, in the order libcst's traversal would, without
rebuilding the tree (tests/test_extract_speed.py compares both with libcst's).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, List, Optional, Tuple

import libcst as cst
from libcst.metadata.position_provider import PositionProvider, PositionProvidingCodegenState

Span = Tuple[int, int, int, int]  # line, column, end line, end column; columns 0-based


class _SyntacticSpan:
    """``record_syntactic_position`` of libcst's PositionProvider, as a plain context manager."""
    __slots__ = ("end_node", "node", "start", "start_node", "state")

    def __init__(self, state: _PositionState, node: cst.CSTNode,
                 start_node: Optional[cst.CSTNode], end_node: Optional[cst.CSTNode]) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start: Tuple[int, int] = (self.state.line, self.state.column)

    def __exit__(self, *exc_info: object) -> None:
        spans = self.state.spans
        start = spans[id(self.start_node)][:2] if self.start_node is not None else self.start
        end = (spans[id(self.end_node)][2:] if self.end_node is not None
               else (self.state.line, self.state.column))
        spans[id(self.node)] = start + end


class _PositionState(PositionProvidingCodegenState):
    """libcst's PositionProvider codegen pass, with its bookkeeping made cheap: spans are
    tuples in a dict keyed by node id, and tokens without a line break skip the regex."""
    __slots__ = ("spans", "starts")

    def __init__(self, module: cst.Module, spans: Dict[int, Span]) -> None:
        super().__init__(default_indent=module.default_indent,
                         default_newline=module.default_newline, provider=PositionProvider())
        self.spans = spans  # instead of the provider's CodeRange objects
        self.starts: List[Tuple[int, int]] = []  # instead of its CodePosition stack

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if "\n" in value or "\r" in value:
            self._update_position(value)
        else:
            self.column += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.starts.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.starts.pop()
        if id(node) not in self.spans:  # a syntactic span is already recorded
            self.spans[id(node)] = (*start, self.line, self.column)

    # libcst declares the @contextmanager generator's own class; its codegen only enters
    # the result in a `with`, which any context manager does.
    def record_syntactic_position(  # type: ignore[override]
        self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ) -> _SyntacticSpan:
        return _SyntacticSpan(self, node, start_node, end_node)


def node_spans(module: cst.Module) -> Dict[int, Span]:
    """``id(node) -> span`` of every node, exactly as libcst's PositionProvider gives them."""
    spans: Dict[int, Span] = {}
    module._codegen(_PositionState(module, spans))
    return spans


# -- traversal ----------------------------------------------------------------
# libcst's own traversal rebuilds every node of the tree as it goes; `walk` calls the
# same visit_/leave_ methods in the same order and rebuilds nothing.

# Nodes that hold only whitespace and punctuation: nothing the extraction visitors visit.
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


def _child_kind(value: object) -> int:
    """SKIP, VISIT or SEQUENCE for a field's value, by its type."""
    kind = _CHILD_KIND.get(type(value))
    if kind is None:
        if isinstance(value, cst.CSTNode):
            kind = SKIP if isinstance(value, LEAF_NODES) else VISIT
        else:
            kind = SEQUENCE if isinstance(value, (tuple, list)) else SKIP
        _CHILD_KIND[type(value)] = kind
    return kind


MethodNames = Tuple[Tuple[Tuple[int, str], ...], Tuple[Tuple[int, str], ...]]
_METHOD_NAMES: Dict[Tuple[Tuple[type, ...], type], MethodNames] = {}


def _method_names(classes: Tuple[type, ...], node_type: type) -> MethodNames:
    """(index, name) of the visitor classes' own visit_ and leave_ methods for a node
    type, without CSTVisitor's do-nothing defaults."""
    found = _METHOD_NAMES.get((classes, node_type))
    if found is None:
        visit_names, leave_names = (
            tuple((index, name) for index, cls in enumerate(classes)
                  if getattr(cls, name, None) not in (None, getattr(cst.CSTVisitor, name, None)))
            for name in ("visit_" + node_type.__name__, "leave_" + node_type.__name__))
        found = _METHOD_NAMES[(classes, node_type)] = (visit_names, leave_names)
    return found


Method = Callable[[Any], Any]
Plan = Tuple[Tuple[Method, ...], Tuple[Method, ...], Tuple[Tuple[str, ...], Tuple[str, ...]]]


def walk(root: cst.CSTNode, *visitors: cst.CSTVisitor) -> None:
    """``root.visit(visitor)`` for each visitor at once, for visitors with plain visit_/leave_
    methods (no ``*_attr`` methods, nothing visited inside LEAF_NODES), without rebuilding
    the tree.  A node's children are skipped only when every visitor's visit_ says False.

    The visitors nest: they visit a node in the order given and leave it in the reverse
    order, so what the first one sets up on a node's visit_ (a scope) is there for the
    others' visit_ and leave_ of that node."""
    plans: Dict[type, Plan] = {}
    kinds = _CHILD_KIND
    classes = tuple(type(visitor) for visitor in visitors)

    def plan(node: cst.CSTNode) -> Plan:
        _visit_order(node)
        visit_names, leave_names = _method_names(classes, type(node))
        plans[type(node)] = found = (
            tuple(getattr(visitors[i], name) for i, name in visit_names),
            tuple(getattr(visitors[i], name) for i, name in reversed(leave_names)),
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
    visit = _walk_ended  # the closure refers to itself: break the cycle now, not at a gc


def _walk_ended(node: cst.CSTNode) -> None:
    """What walk's own visit function is rebound to when the walk ends."""
