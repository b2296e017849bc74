"""Dispatches: ``.delay``, ``.apply_async``, ``.s``/``.si``/``.signature``,
``send_task``, ``signature(...)`` and ``chain``/``group``/``chord``, with their
arguments, options and what happens to their result.

An argument that is a local variable (``x``, ``x.attr``, ``list(x)``) is described
by the value the function assigned to it, once the function has been walked.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from celerylint.extract.context import FileContext, FunctionScope, Stored, positional, string
from celerylint.extract.names import (BUILTIN_WRAPPERS, CANVAS_FUNCS, CANVAS_METHODS,
                                      DISPATCH_METHODS)
from celerylint.extract.shapes import expr, shape
from celerylint.facts import Arg, Dispatch, DispatchMethod, Options, ResultUse
from celerylint.values import dotted_name

ArgNodes = List[Tuple[Optional[str], cst.CSTNode]]  # (keyword or None, argument)
CANVAS = CANVAS_METHODS | {"signature()", "chain", "group", "chord"}


class DispatchVisitor(cst.CSTVisitor):
    """How call results are used, and the locals of a function once it is walked."""

    def __init__(self, ctx: FileContext):
        self.ctx = ctx

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call):
            self.ctx.result_use[id(node.value)] = "discarded"

    def visit_Assign(self, node: cst.Assign) -> None:
        ctx = self.ctx
        if not isinstance(node.value, cst.Call):
            return
        in_function = ctx.current() is not None
        for target in node.targets:
            name = target.target.value if isinstance(target.target, cst.Name) else None
            if name == "_":
                ctx.result_use[id(node.value)] = "discarded"
            elif name is not None and in_function:
                ctx.result_use[id(node.value)] = Stored(name)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        scope = self.ctx.current()
        if scope is None:
            return
        for arg, node in scope.pending_args:
            _follow_local(self.ctx, scope, arg, node)
        for dispatch, name in scope.stored:
            assignments = len(scope.assigns.get(name, ()))
            dispatch.result_use = "used" if scope.name_counts[name] > assignments else "discarded"


# -- call handlers (see calls.py) ----------------------------------------------------

def dispatch_method(ctx: FileContext, node: cst.Call, receiver: cst.CSTNode) -> None:
    """``<receiver>.delay(...)`` and the other DISPATCH_METHODS."""
    if not isinstance(node.func, cst.Attribute):  # calls.py routes only `x.method(...)` here
        return
    method = DISPATCH_METHODS[node.func.attr.value]
    dotted = dotted_name(receiver) or ""
    if method == "send_task":
        arg_nodes, options = _named_task_args(ctx, node, ("name",))
        _add(ctx, node, method, dotted or shape(receiver), ctx.app_qualname(receiver),
             arg_nodes, options, _send_task_name(node))
        return
    first = positional(node)[:1]
    if method == "signature" and first and string(first[0].value) is not None:
        signature_call(ctx, node, "")  # app.signature("task.name", args=...)
        return
    qualname = ctx.resolve_strict(dotted) if dotted else _signature_task(ctx, receiver)
    if method in ("apply_async", "signature"):
        arg_nodes, options = _split_call_args(ctx, node)
    else:  # delay(*args, **kwargs), s(...), si(...)
        arg_nodes, options = _plain_args(node), Options()
    _add(ctx, node, method, dotted or shape(receiver), qualname, arg_nodes, options)


def signature_call(ctx: FileContext, node: cst.Call, qualname: str) -> None:
    """``signature("task.name", args, kwargs, **options)`` or ``signature(task, ...)``."""
    first = positional(node)[:1]
    task_name, receiver_qualname = None, ""
    if first:
        task_name = string(first[0].value)
        if task_name is None:
            dotted = dotted_name(first[0].value)
            receiver_qualname = ctx.resolve_strict(dotted) if dotted else ""
    arg_nodes, options = _named_task_args(ctx, node, ())
    _add(ctx, node, "signature()", "signature", receiver_qualname, arg_nodes, options, task_name)


def canvas_call(ctx: FileContext, node: cst.Call, qualname: str) -> None:
    """``chain(...)``, ``group(...)``, ``chord(...)``."""
    _add(ctx, node, CANVAS_FUNCS[qualname], "", "", [], Options())


def on_commit(ctx: FileContext, node: cst.Call) -> None:
    """``on_commit(lambda: t.delay(x))`` throws the lambda's return value away."""
    for arg in node.args:
        if isinstance(arg.value, cst.Lambda) and isinstance(arg.value.body, cst.Call):
            ctx.result_use[id(arg.value.body)] = "discarded"


# -- arguments and options -------------------------------------------------------------

def _send_task_name(node: cst.Call) -> Optional[str]:
    first = positional(node)[:1]
    name_node = first[0].value if first else next(
        (a.value for a in node.args if a.keyword is not None and a.keyword.value == "name"), None)
    return string(name_node) if name_node is not None else None


def _plain_args(node: cst.Call) -> ArgNodes:
    return [(a.keyword.value if a.keyword is not None else None, a.value)
            for a in node.args if not a.star]


def _named_task_args(ctx: FileContext, node: cst.Call, not_options: Tuple[str, ...]
                     ) -> Tuple[ArgNodes, Options]:
    """Arguments and options of ``send_task(name, args, kwargs, **options)``-style calls."""
    arg_nodes: ArgNodes = []
    options = Options()
    for index, arg in enumerate(node.args):
        if arg.star:
            continue
        key = arg.keyword.value if arg.keyword is not None else None
        if key in ("args", "kwargs") or (key is None and index in (1, 2)):
            arg_nodes.extend(_spread(arg.value))
        elif key is not None and key not in not_options:
            options.values[key] = ctx.evaluate(arg.value)
    return arg_nodes, options


def _split_call_args(ctx: FileContext, node: cst.Call) -> Tuple[ArgNodes, Options]:
    """Arguments and options of ``apply_async(args, kwargs, **options)``-style calls."""
    arg_nodes: ArgNodes = []
    options = Options()
    positional = 0
    for arg in node.args:
        if arg.star:
            continue
        if arg.keyword is None:
            if positional < 2:
                arg_nodes.extend(_spread(arg.value))
            positional += 1
        elif arg.keyword.value in ("args", "kwargs"):
            arg_nodes.extend(_spread(arg.value))
        else:
            options.values[arg.keyword.value] = ctx.evaluate(arg.value)
    return arg_nodes, options


def _spread(node: cst.CSTNode) -> ArgNodes:
    """Elements of a literal args tuple/list or kwargs dict, else the node itself."""
    if isinstance(node, (cst.Tuple, cst.List)):
        if all(isinstance(e, cst.Element) for e in node.elements):
            return [(None, e.value) for e in node.elements]
    if isinstance(node, cst.Dict):
        if all(isinstance(e, cst.DictElement) for e in node.elements):
            return [(string(e.key), e.value) for e in node.elements
                    if isinstance(e, cst.DictElement)]
    return [(None, node)]


def _signature_task(ctx: FileContext, receiver: cst.CSTNode) -> str:
    """The task behind ``add.s(...)`` / ``add.si(...).set(...)`` in ``add.s(...).delay()``."""
    for _ in range(8):
        if not (isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute)
                and receiver.func.attr.value == "set"):
            break
        receiver = receiver.func.value
    if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute) \
            and receiver.func.attr.value in CANVAS_METHODS:
        dotted = dotted_name(receiver.func.value)
        return ctx.resolve_strict(dotted) if dotted else ""
    return ""


# -- the dispatch and its arguments ------------------------------------------------------

def _add(ctx: FileContext, node: cst.Call, method: DispatchMethod, receiver: str,
         receiver_qualname: str, arg_nodes: ArgNodes, options: Options,
         task_name: Optional[str] = None) -> None:
    scope = ctx.current()
    dispatch = Dispatch(loc=ctx.loc(node), method=method, receiver=receiver,
                        receiver_qualname=receiver_qualname, task_name=task_name,
                        options=options, function=scope.fact.name if scope else "")
    done = ctx.result_use.get(id(node))
    use: ResultUse = "used"  # a stored result: until the function shows whether it is read
    if done == "discarded":
        use = "discarded"
    elif method in CANVAS:
        use = "canvas"
    elif isinstance(done, Stored) and scope is not None:
        scope.stored.append((dispatch, done.local))
    dispatch.result_use = use
    for keyword, arg_node in arg_nodes:
        arg = Arg(loc=ctx.loc(arg_node), keyword=keyword, expr=expr(ctx, arg_node))
        dispatch.args.append(arg)
        if scope is not None and _chain_base(arg_node)[0] is not None:
            scope.pending_args.append((arg, arg_node))
    ctx.facts.dispatches.append(dispatch)


def _follow_local(ctx: FileContext, scope: FunctionScope, arg: Arg, node: cst.CSTNode) -> None:
    """Describe ``x``, ``x.attr``, ``x.read()``, ``list(x)`` ... by the value
    assigned to the local ``x`` (``resp.content`` -> ``requests.get().content``)."""
    base, prefix = _chain_base(node)
    if base is None:
        return
    name = base.value
    assigned = scope.assigns.get(name, [])
    if name in scope.params or len(assigned) != 1:
        return
    kind, value, line = assigned[0]
    if kind == "aug" or line > arg.loc.line or not arg.expr.shape.startswith(prefix + name):
        return
    rest = arg.expr.shape[len(prefix + name):]
    followed = expr(ctx, value)
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
