"""Tasks: ``@shared_task``, ``@app.task`` and ``@periodic_task`` functions with their
options (module-level ones, and ones defined inside functions), ``app.task(func)`` calls,
module-level Task classes with a ``run`` method (their options are their class
attributes), and functions decorated by a name that may be a task preset (``presets``).
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import libcst as cst

from celerylint.extract import beat, presets
from celerylint.extract.context import FileContext, positional
from celerylint.extract.names import PERIODIC_TASK, SHARED_TASK
from celerylint.facts import Known, Loc, SettingAssign, TaskDecorator, TaskFact, Value
from celerylint.values import dotted_name, short_source


class TasksVisitor(cst.CSTVisitor):
    def __init__(self, ctx: FileContext):
        self.ctx = ctx
        self.wrapper: Optional[presets.WrapperBody] = None  # the module-level def walked
        self.shadows: List[bool] = []  # per nested def: does it rebind the wrapper's **kwargs

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        ctx = self.ctx
        if ctx.def_at_module_level():
            _task_from_decorators(ctx, node, True)
            self.wrapper = presets.start_wrapper(node, "")
        elif self._method_of_celery_subclass():
            self.wrapper = presets.start_wrapper(node, f"{ctx.classes[0]}.")
        elif self.wrapper is not None:
            shadows = presets.rebinds_kwargs(self.wrapper, node)
            self.wrapper.shadowed += shadows
            self.shadows.append(shadows)
            if not ctx.classes:
                task = _task_from_decorators(ctx, node, False)
                if task is not None:
                    self.wrapper.nested_tasks.append(task)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        wrapper = self.wrapper
        if wrapper is None:
            return
        if original_node is wrapper.node:
            if not presets.finish_wrapper(self.ctx, wrapper):
                self.ctx.facts.tasks.extend(wrapper.nested_tasks)
            self.wrapper = None
        elif self.shadows:
            wrapper.shadowed -= self.shadows.pop()

    def _method_of_celery_subclass(self) -> bool:
        ctx = self.ctx
        return len(ctx.classes) == 1 and len(ctx.functions) == 1 \
            and f"{ctx.module}.{ctx.classes[0]}" in ctx.celery_subclasses

    def visit_Call(self, node: cst.Call) -> None:
        if self.wrapper is not None:
            presets.wrapper_call(self.ctx, self.wrapper, node)

    def visit_Assign(self, node: cst.Assign) -> None:
        ctx = self.ctx
        if self.wrapper is not None:
            for target in node.targets:
                presets.wrapper_store(self.wrapper, target.target, node.value)
        elif ctx.at_module_level() and len(node.targets) == 1 \
                and isinstance(node.targets[0].target, cst.Name):
            presets.from_assign(ctx, node.targets[0].target.value, node.value,
                                ctx.loc(node.targets[0].target))

    def visit_If(self, node: cst.If) -> None:
        if self.wrapper is not None:
            self.wrapper.tests.append(node.test)

    def leave_If(self, original_node: cst.If) -> None:
        if self.wrapper is not None and self.wrapper.tests:
            self.wrapper.tests.pop()

    def visit_Dict(self, node: cst.Dict) -> None:
        if self.wrapper is not None:
            presets.wrapper_dict(self.wrapper, node)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if self.wrapper is not None and "beat_schedule" in node.value:
            self.wrapper.mentions_beat = True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.wrapper is not None and node.attr.value in ("beat_schedule", "add_periodic_task"):
            self.wrapper.mentions_beat = True

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


def _task_from_decorators(ctx: FileContext, node: cst.FunctionDef, module_level: bool
                          ) -> Optional[TaskFact]:
    """The task of the first decorator that makes one, if any; at module level, else the
    top-most decorator when it may be a task preset.  A module-level task is recorded, a
    nested one returned (a preset's template is not a task)."""
    for decorator in node.decorators:
        expr = decorator.decorator
        call = expr if isinstance(expr, cst.Call) else None
        kind, app = _decorator_kind(ctx, call.func if call is not None else expr)
        if kind is None and not module_level:
            kind, app = _parameter_app_task(ctx, call.func if call is not None else expr)
        if kind is None:
            continue
        task = make_task(ctx, node.name.value, ctx.loc(node.name), kind, app,
                         call.args if call is not None else ())
        if kind != "app.task":
            task.celery_decorator = ctx.resolve(dotted_name(call.func if call else expr) or "")
        if not module_level:
            scope = ctx.current()
            task.function = scope.fact.name if scope is not None else node.name.value
            task.qualname = f"{ctx.module}.{task.function}" if ctx.module else task.function
            return task
        task.function = node.name.value
        ctx.facts.tasks.append(task)
        if kind == "periodic_task" and call is not None and "run_every" in task.options.values:
            beat.periodic_task_entry(ctx, node, task, call)
        return task
    if module_level and node.decorators:
        _preset_task(ctx, node, node.decorators[0].decorator)
    return None


def _preset_task(ctx: FileContext, node: cst.FunctionDef, expr: cst.BaseExpression) -> None:
    """A function under a decorator that the project view may find to be a task preset."""
    call = expr if isinstance(expr, cst.Call) else None
    reference = presets.preset_reference(ctx, call.func if call is not None else expr)
    if not reference:
        return
    task = make_task(ctx, node.name.value, ctx.loc(node.name), "preset", "",
                     call.args if call is not None else ())
    task.function = node.name.value
    task.preset = reference
    task.preset_called = call is not None
    for arg in positional(call) if call is not None else ():
        task.preset_args.append(ctx.evaluate(arg.value))
        task.preset_arg_locs.append(ctx.loc(arg.value))
    ctx.facts.tasks.append(task)


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


def _parameter_app_task(ctx: FileContext, func: cst.CSTNode
                        ) -> Tuple[Optional[TaskDecorator], str]:
    """``@celery_app.task`` inside a function that takes the app as a parameter: the
    parameter's name stands for the app (the project view decides whether it is one)."""
    if isinstance(func, cst.Attribute) and func.attr.value == "task" \
            and isinstance(func.value, cst.Name) \
            and any(func.value.value in scope.params for scope in ctx.functions[:-1]):
        return "app.task", func.value.value
    return None, ""


def make_task(ctx: FileContext, func: str, loc: Loc, kind: TaskDecorator, app: str,
              args: Sequence[cst.Arg]) -> TaskFact:
    """A task with the options of its decorator's (or app.task call's) keywords."""
    task = TaskFact(func=func, qualname=f"{ctx.module}.{func}" if ctx.module else func,
                    loc=loc, decorator=kind, app=app)
    for arg in args:
        if arg.star == "**":
            _spread_options(ctx, task, arg.value)
        if arg.keyword is None or arg.star:
            continue
        key = arg.keyword.value
        value = ctx.evaluate(arg.value)
        task.options.values[key] = value
        task.option_locs[key] = ctx.loc(arg.value)
        _read_option(ctx, task, key, value, arg.value)
    return task


def _spread_options(ctx: FileContext, task: TaskFact, node: cst.CSTNode) -> None:
    """``**options``: read when it is a known dict, else the options are unreadable."""
    value = ctx.evaluate(node)
    if value.known and isinstance(value.value, dict) and "$call" not in value.value:
        for key, item in value.value.items():
            task.options.values[key] = Known(item)
            task.option_locs[key] = ctx.loc(node)
    else:
        task.options.unreadable = short_source(ctx.module_node, node)


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
