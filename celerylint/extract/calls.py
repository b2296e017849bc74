"""Which subject a call belongs to: each call goes to at most one handler.

By what the called name resolves to first (an app class, ``signature``, a canvas
function, the environment, a crontab), else by the method's name (``.delay``,
``.config_from_object``, ``.update``, ``.add_periodic_task``, ``.task``).
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

import libcst as cst

from celerylint.extract import apps, beat, crontabs, dispatches, tasks
from celerylint.extract.context import FileContext
from celerylint.extract.names import (CANVAS_FUNCS, CELERY_CLASSES, DISPATCH_METHODS,
                                      SIGNATURE_FUNCS)
from celerylint.values import dotted_name

FunctionHandler = Callable[[FileContext, cst.Call, str], None]  # (ctx, call, qualified name)
MethodHandler = Callable[[FileContext, cst.Call, cst.CSTNode], None]  # (ctx, call, receiver)

ENVIRON_SETTERS = ("os.environ.setdefault", "os.putenv")
METHOD_HANDLERS: Dict[str, MethodHandler] = {
    **dict.fromkeys(DISPATCH_METHODS, dispatches.dispatch_method),
    "config_from_object": apps.config_from_object,
    "update": apps.update_call,
    "add_periodic_task": beat.add_periodic_task,
    "task": tasks.task_call,
}


class CallVisitor(cst.CSTVisitor):
    def __init__(self, ctx: FileContext):
        self.ctx = ctx

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        func_dotted = dotted_name(node.func)
        qualname = ctx.resolve(func_dotted) if func_dotted else ""
        handler = _function_handler(ctx, qualname)
        if handler is not None:
            handler(ctx, node, qualname)
            return
        if func_dotted and func_dotted.split(".")[-1] == "on_commit":
            dispatches.on_commit(ctx, node)
        if isinstance(node.func, cst.Attribute):
            method_handler = METHOD_HANDLERS.get(node.func.attr.value)
            if method_handler is not None:
                method_handler(ctx, node, node.func.value)


def _function_handler(ctx: FileContext, qualname: str) -> Optional[FunctionHandler]:
    if qualname in CELERY_CLASSES or qualname in ctx.celery_subclasses:
        return apps.celery_app
    if qualname in SIGNATURE_FUNCS:
        return dispatches.signature_call
    if qualname in CANVAS_FUNCS:
        return dispatches.canvas_call
    if qualname in ENVIRON_SETTERS or qualname.endswith("environ.setdefault"):
        return apps.environ_call
    if crontabs.is_crontab_maker(qualname):
        return crontabs.crontab_call
    return None
