"""Tasks: ``@shared_task``, ``@app.task`` and ``@periodic_task`` functions with their
options, ``app.task(func)`` calls, and module-level Task classes with a ``run``
method (their options are their class attributes).
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import libcst as cst

from celerylint.extract import beat
from celerylint.extract.context import FileContext, positional
from celerylint.extract.names import PERIODIC_TASK, SHARED_TASK
from celerylint.facts import Loc, SettingAssign, TaskDecorator, TaskFact, Value
from celerylint.values import dotted_name


class TasksVisitor(cst.CSTVisitor):
    def __init__(self, ctx: FileContext):
        self.ctx = ctx

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.ctx.def_at_module_level():
            _task_from_decorators(self.ctx, node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        if self.ctx.def_at_module_level():
            _task_from_class(self.ctx, original_node)

    def leave_Module(self, original_node: cst.Module) -> None:
        """``app.task(func)`` calls, now that every function of the module is known."""
        ctx = self.ctx
        functions = {f.name: f for f in ctx.facts.functions}
        for func, app, call in ctx.task_calls:
            fact = functions.get(func)
            task = make_task(ctx, func, fact.loc if fact else ctx.loc(call), "call", app, call.args)
            task.function = func if fact else ""
            ctx.facts.tasks.append(task)


def task_call(ctx: FileContext, node: cst.Call, receiver: cst.CSTNode) -> None:
    """``app.task(func)`` and ``app.task(**opts)(func)`` forms (a call handler)."""
    if not ctx.is_app_reference(receiver):
        return
    args = positional(node)
    if len(args) == 1 and isinstance(args[0].value, cst.Name):
        ctx.task_calls.append((args[0].value.value, ctx.app_qualname(receiver), node))


def _task_from_decorators(ctx: FileContext, node: cst.FunctionDef) -> None:
    """The task of the first decorator that makes one, if any."""
    for decorator in node.decorators:
        expr = decorator.decorator
        call = expr if isinstance(expr, cst.Call) else None
        kind, app = _decorator_kind(ctx, call.func if call is not None else expr)
        if kind is None:
            continue
        task = make_task(ctx, node.name.value, ctx.loc(node.name), kind, app,
                         call.args if call is not None else ())
        task.function = node.name.value
        ctx.facts.tasks.append(task)
        if kind == "periodic_task" and call is not None and "run_every" in task.options.values:
            beat.periodic_task_entry(ctx, node, task, call)
        return


def _decorator_kind(ctx: FileContext, func: cst.CSTNode
                    ) -> Tuple[Optional[TaskDecorator], str]:
    """("shared_task" / "periodic_task" / "app.task", the app's name) of a decorator;
    (None, "") when it makes no task."""
    dotted = dotted_name(func)
    if not dotted:
        return None, ""
    qualname = ctx.resolve(dotted)
    if qualname in SHARED_TASK:
        return "shared_task", ""
    if qualname in PERIODIC_TASK:
        return "periodic_task", ""
    if dotted.endswith(".task") and isinstance(func, cst.Attribute) \
            and ctx.is_app_reference(func.value):
        return "app.task", ctx.app_qualname(func.value)
    return None, ""


def make_task(ctx: FileContext, func: str, loc: Loc, kind: TaskDecorator, app: str,
              args: Sequence[cst.Arg]) -> TaskFact:
    """A task with the options of its decorator's (or app.task call's) keywords."""
    task = TaskFact(func=func, qualname=f"{ctx.module}.{func}" if ctx.module else func,
                    loc=loc, decorator=kind, app=app)
    for arg in args:
        if arg.keyword is None or arg.star:
            continue
        key = arg.keyword.value
        value = ctx.evaluate(arg.value)
        task.options.values[key] = value
        task.option_locs[key] = ctx.loc(arg.value)
        _read_option(ctx, task, key, value, arg.value)
    return task


def _read_option(ctx: FileContext, task: TaskFact, key: str, value: Value,
                 node: cst.CSTNode) -> None:
    """The options a TaskFact has fields for: name, bind, base."""
    if key == "name" and value.known and isinstance(value.value, str):
        task.name = value.value
    elif key == "bind":
        task.bind = value.known and value.value is True
    elif key == "base":
        dotted = dotted_name(node)
        if dotted:
            task.bases.append(ctx.resolve(dotted))


def _task_from_class(ctx: FileContext, node: cst.ClassDef) -> None:
    """A class with a ``run`` method and bases (the project view tells whether one of
    them is a Task class); its options are the class settings the apps subject read."""
    if not isinstance(node.body, cst.IndentedBlock):
        return
    has_run = any(isinstance(s, cst.FunctionDef) and s.name.value == "run" for s in node.body.body)
    name = node.name.value
    bases = ctx.facts.class_bases.get(name, [])
    if not has_run or not bases:
        return
    task = TaskFact(func=name, qualname=f"{ctx.module}.{name}", loc=ctx.loc(node.name),
                    decorator="class", bases=list(bases), function=f"{name}.run")
    for setting in ctx.facts.settings:
        if setting.kind == "class" and setting.container == name:
            _class_option(task, setting)
    ctx.facts.tasks.append(task)


def _class_option(task: TaskFact, setting: SettingAssign) -> None:
    task.options.values[setting.key] = setting.value
    task.option_locs[setting.key] = setting.loc
    if setting.key == "name" and setting.value.known:
        task.name = setting.value.value
