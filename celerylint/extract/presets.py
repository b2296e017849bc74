"""Task presets: module-level names that make tasks when they decorate a function.

- aliases of a task decorator: ``nautobot_task = shared_task``, ``task = app.task``;
- decorators with options bound: ``retrying = shared_task(acks_late=True)``,
  ``io_task = functools.partial(app.task, queue="io")``;
- functions (and methods of a Celery subclass) whose body applies a task decorator to the
  function they decorate, passing their parameters on: sentry's
  ``def instrumented_task(name, **kwargs): ... app.task(name=name, **kwargs)(wrapped)``,
  galaxy's ``@shared_task(base=GalaxyTask, **celery_task_kwd)`` inside ``galaxy_task``,
  indico's ``IndicoCelery.periodic_task`` (``self.task(f, **kwargs)`` and a beat entry).

What a wrapper does to its ``**kwargs`` before passing them on is read where it is plain
(``kwargs.pop("x")``, ``kwargs.setdefault("x", v)``, ``kwargs["x"] = v``); anything else
makes the preset's options unreadable, so rules never take them for Celery's defaults.
The project view resolves a decorated function's preset (``TaskFact.preset``) across files.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Set, Tuple

import libcst as cst

from celerylint.extract.context import FileContext, positional, string
from celerylint.extract.names import OTHER_TASK_LIBRARIES, PERIODIC_TASK, SHARED_TASK
from celerylint.facts import Loc, TaskDecorator, TaskFact, TaskPreset, Unknown
from celerylint.values import dotted_name, short_source

PARTIAL = {"functools.partial", "partial"}
# Decorators of these libraries never make tasks: not worth a preset candidate.
NOT_PRESETS = {"functools", "contextlib", "typing", "abc", "dataclasses", "atexit", "unittest",
               "pytest", "celery", "builtins", "staticmethod", "classmethod", "property"}


def decorator_target(ctx: FileContext, func: cst.CSTNode, method_of_celery: bool
                     ) -> Tuple[Optional[TaskDecorator], str, str]:
    """(kind, app, target) of a Celery task decorator expression (``shared_task``,
    ``app.task``, ``self.task`` in a method of a Celery subclass); (None, "", "") else."""
    dotted = dotted_name(func)
    if not dotted:
        return None, "", ""
    qualname = ctx.resolve(dotted)
    if qualname in SHARED_TASK:
        return "shared_task", "", qualname
    if qualname in PERIODIC_TASK:
        return "periodic_task", "", qualname
    if isinstance(func, cst.Attribute) and func.attr.value == "task":
        if method_of_celery and dotted == "self.task":
            return "app.task", "self", "self.task"
        if ctx.is_app_reference(func.value):
            app = ctx.app_qualname(func.value)
            return "app.task", app, f"{app}.task"
    return None, "", ""


# -- name = <decorator>, <decorator>(**options), partial(<decorator>, **options) ----------

def from_assign(ctx: FileContext, name: str, value: cst.BaseExpression, loc: Loc) -> None:
    """A module-level ``name = ...`` that binds a task decorator (with options)."""
    kind, app, target = decorator_target(ctx, value, False)
    if kind is not None:
        ctx.facts.presets.append(TaskPreset(name=name, loc=loc, use="both", target=target,
                                            decorator=kind, app=app, forwards=True))
        return
    if not isinstance(value, cst.Call):
        return
    func_dotted = dotted_name(value.func) or ""
    if ctx.resolve(func_dotted) in PARTIAL and positional(value):
        kind, app, target = decorator_target(ctx, positional(value)[0].value, False)
        if kind is not None and len(positional(value)) == 1:
            preset = TaskPreset(name=name, loc=loc, use="both", target=target, decorator=kind,
                                app=app, forwards=True)
            _bound_keywords(ctx, preset, value)
            ctx.facts.presets.append(preset)
        return
    kind, app, target = decorator_target(ctx, value.func, False)
    if kind is not None and not positional(value) and not any(a.star == "*" for a in value.args):
        preset = TaskPreset(name=name, loc=loc, use="bare", target=target, decorator=kind, app=app)
        _bound_keywords(ctx, preset, value)
        ctx.facts.presets.append(preset)


def _bound_keywords(ctx: FileContext, preset: TaskPreset, call: cst.Call) -> None:
    for arg in call.args:
        if arg.star == "**":
            preset.options.unreadable = short_source(ctx.module_node, arg.value)
        elif arg.keyword is not None:
            preset.options.values[arg.keyword.value] = ctx.evaluate(arg.value)
            preset.option_locs[arg.keyword.value] = ctx.loc(arg.value)
            _bound_base(ctx, preset, arg.keyword.value, arg.value)


def _bound_base(ctx: FileContext, preset: TaskPreset, key: str, node: cst.CSTNode) -> None:
    dotted = dotted_name(node) if key == "base" else None
    if dotted:
        preset.bases.append(ctx.resolve(dotted))


# -- def wrapper(...): ... <decorator>(..., **kwargs) ----------------------------------------

@dataclass
class WrapperBody:
    """What a module-level function (or a method of a Celery subclass) does that makes it a
    preset, gathered while the walk goes through its body (nested functions included)."""

    node: cst.FunctionDef
    owner: str  # "Class." for a method, "" for a function
    params: List[str]
    star_args: str
    star_kwargs: str
    decorators: List[Tuple[cst.Call, TaskDecorator, str, str]] = field(default_factory=list)
    # ("pop" | "set" | "default", key, value assigned)
    mutations: List[Tuple[str, str, Optional[cst.CSTNode]]] = field(default_factory=list)
    unreadable: str = ""  # how **kwargs is used in a way that cannot be read
    schedule: str = ""
    mentions_beat: bool = False
    tests: List[cst.BaseExpression] = field(default_factory=list)  # the ifs around the walk
    shadowed: int = 0  # depth of nested defs that rebind **kwargs' name
    nested_tasks: List[TaskFact] = field(default_factory=list)


def start_wrapper(node: cst.FunctionDef, owner: str) -> WrapperBody:
    params = node.params
    named = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
    if owner and named[:1] == ["self"]:
        named = named[1:]
    star_args = params.star_arg.name.value if isinstance(params.star_arg, cst.Param) else ""
    star_kwargs = params.star_kwarg.name.value if params.star_kwarg is not None else ""
    return WrapperBody(node, owner, named, star_args, star_kwargs)


def rebinds_kwargs(body: WrapperBody, node: cst.FunctionDef) -> bool:
    """Whether a nested def takes a parameter of the same name as the wrapper's **kwargs."""
    if not body.star_kwargs:
        return False
    params = node.params
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return body.star_kwargs in names


def wrapper_call(ctx: FileContext, body: WrapperBody, node: cst.Call) -> None:
    """A call inside a wrapper: a task decorator applied, or ``kwargs.<method>(...)``."""
    kind, app, target = decorator_target(ctx, node.func, bool(body.owner))
    if kind is not None:
        body.decorators.append((node, kind, app, target))
        return
    func = node.func
    if body.shadowed or not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
                             and func.value.value == body.star_kwargs and body.star_kwargs):
        return
    method = func.attr.value
    first = positional(node)[:1]
    key = string(first[0].value) if first else None
    if method == "pop" and key is not None:
        body.mutations.append(("pop", key, None))
    elif method == "setdefault" and key is not None and len(positional(node)) == 2:
        body.mutations.append(("default", key, positional(node)[1].value))
    elif method not in ("get", "items", "keys", "values", "copy", "pop"):
        body.unreadable = f"{body.star_kwargs}.{method}(...)"


def wrapper_store(body: WrapperBody, target: cst.BaseAssignTargetExpression,
                  value: cst.CSTNode) -> None:
    """``kwargs["key"] = value`` inside a wrapper."""
    if body.shadowed or not body.star_kwargs or not isinstance(target, cst.Subscript) \
            or not (isinstance(target.value, cst.Name) and target.value.value == body.star_kwargs):
        return
    key = _subscript_key(target)
    if key is None:
        body.unreadable = f"{body.star_kwargs}[...]"
    elif not body.tests:
        body.mutations.append(("set", key, value))
    elif _tests_absent(body.tests[-1], key, body.star_kwargs):  # if "k" not in kwargs: ...
        body.mutations.append(("default", key, value))
    else:
        body.mutations.append(("default", key, None))  # set under another condition: maybe


def _tests_absent(test: cst.BaseExpression, key: str, kwargs: str) -> bool:
    """Whether an if's test is ``"key" not in kwargs``."""
    return isinstance(test, cst.Comparison) and len(test.comparisons) == 1 \
        and isinstance(test.comparisons[0].operator, cst.NotIn) \
        and string(test.left) == key \
        and isinstance(test.comparisons[0].comparator, cst.Name) \
        and test.comparisons[0].comparator.value == kwargs


def wrapper_dict(body: WrapperBody, node: cst.Dict) -> None:
    """``{"schedule": kwargs.pop("run_every"), ...}``: the preset adds a beat entry."""
    for element in node.elements:
        if isinstance(element, cst.DictElement) and string(element.key) == "schedule":
            source = _keyword_source(body, element.value)
            if source:
                body.schedule = source


def _keyword_source(body: WrapperBody, node: cst.CSTNode) -> str:
    """The call keyword an expression reads: ``kwargs.pop("x")``, ``kwargs["x"]``, ``x``."""
    if isinstance(node, cst.Name) and node.value in body.params:
        return node.value
    func = node.func if isinstance(node, cst.Call) else None
    if isinstance(node, cst.Call) and isinstance(func, cst.Attribute) \
            and isinstance(func.value, cst.Name) and func.value.value == body.star_kwargs \
            and func.attr.value in ("pop", "get") and positional(node):
        return string(positional(node)[0].value) or ""
    if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name) \
            and node.value.value == body.star_kwargs:
        return _subscript_key(node) or ""
    return ""


def _subscript_key(node: cst.Subscript) -> Optional[str]:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return string(node.slice[0].slice.value)


def finish_wrapper(ctx: FileContext, body: WrapperBody) -> bool:
    """Record the preset a wrapper makes; False when it makes none."""
    if len({(kind, app, target) for _, kind, app, target in body.decorators}) != 1:
        return False
    call, kind, app, target = body.decorators[0]
    node = body.node
    preset = TaskPreset(name=body.owner + node.name.value, loc=ctx.loc(node.name), use="called",
                        target=target, decorator=kind, app=app, params=list(body.params))
    if body.star_args:
        preset.use = "both"
    used: Set[str] = set()
    for arg in call.args:
        if arg.star == "**":
            if isinstance(arg.value, cst.Name) and arg.value.value == body.star_kwargs:
                preset.forwards = True
            else:
                preset.options.unreadable = short_source(ctx.module_node, arg.value)
        elif arg.keyword is not None:
            _wrapper_keyword(ctx, body, preset, arg, used)
    if not _reads_kwargs(ctx, body, preset):
        return False
    if body.schedule and body.mentions_beat:
        preset.schedule = body.schedule
    ctx.facts.presets.append(preset)
    return True


def _wrapper_keyword(ctx: FileContext, body: WrapperBody, preset: TaskPreset, arg: cst.Arg,
                     used: Set[str]) -> None:
    key = arg.keyword.value if arg.keyword is not None else ""
    value = arg.value
    if isinstance(value, cst.Name) and value.value in body.params:
        preset.param_options[value.value] = key
        used.add(value.value)
    elif _uses_names(value, set(body.params) | {body.star_args, body.star_kwargs}):
        preset.options.values[key] = Unknown(short_source(ctx.module_node, value))
        preset.option_locs[key] = ctx.loc(value)
    else:
        preset.options.values[key] = ctx.evaluate(value)
        preset.option_locs[key] = ctx.loc(value)
        _bound_base(ctx, preset, key, value)


def _reads_kwargs(ctx: FileContext, body: WrapperBody, preset: TaskPreset) -> bool:
    """Apply what the wrapper does to its **kwargs; False when the preset is not sure."""
    if not preset.forwards:
        return True
    if body.unreadable:
        preset.options.unreadable = body.unreadable
    for how, key, value in body.mutations:
        if how == "pop":
            preset.dropped.append(key)
            continue
        evaluated = ctx.evaluate(value) if value is not None else Unknown("")
        if how == "set":
            preset.options.values[key] = evaluated
            if value is not None:
                preset.option_locs[key] = ctx.loc(value)
        else:
            preset.defaults[key] = evaluated
    return True


def _uses_names(node: cst.CSTNode, names: Set[str]) -> bool:
    """Whether an expression mentions any of the names (a wrapper's parameters)."""
    names = {n for n in names if n}
    found = False

    class Finder(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            nonlocal found
            found = found or name.value in names

    node.visit(Finder())
    return found


def preset_reference(ctx: FileContext, func: cst.CSTNode) -> str:
    """The qualified name a decorator may be a preset under, "" when it cannot be one:
    a name the file imports or defines, a name of a module it imports, or a method of an
    app (``@celery.periodic_task``); never a name of another task queue library."""
    dotted = dotted_name(func)
    if not dotted:
        return ""
    head = dotted.split(".")[0]
    if ctx.resolve(head).split(".")[0] in NOT_PRESETS | OTHER_TASK_LIBRARIES:
        return ""
    if isinstance(func, cst.Attribute):
        if ctx.is_app_reference(func.value):
            return f"{ctx.app_qualname(func.value)}.{func.attr.value}"
        if head not in ctx.imports:  # a method of an object of the module: no preset
            return ""
    resolved = ctx.resolve_strict(dotted)
    if not resolved or resolved.split(".")[0] in NOT_PRESETS | OTHER_TASK_LIBRARIES:
        return ""
    return resolved
