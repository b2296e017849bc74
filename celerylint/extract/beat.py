"""Beat entries: of the ``beat_schedule`` settings (a literal dict, or one entry
assigned or updated at a time), of ``add_periodic_task(...)`` calls, and of the old
``@periodic_task(run_every=...)`` decorator.  Called by the apps and tasks subjects;
an entry's options are what Celery would send its task with.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from celerylint.extract.context import FileContext, positional, string
from celerylint.extract.names import CANVAS_METHODS, SIGNATURE_FUNCS
from celerylint.facts import BeatEntry, BeatSource, Known, Options, TaskFact
from celerylint.values import dotted_name, short_source

# Keywords of signature(...) / t.signature(...) that are not options of the signature.
SIGNATURE_ARGS = ("args", "kwargs", "options", "app", "type", "subtask_type", "immutable")


def entries_from_value(ctx: FileContext, node: cst.CSTNode, setting: BeatSource,
                       app: str) -> None:
    """The entries of a ``beat_schedule`` value written as a literal dict."""
    node = ctx.follow_constant(node)
    if not isinstance(node, cst.Dict):
        return
    for element in node.elements:
        if isinstance(element, cst.DictElement):
            key = string(element.key)
            if key is not None:
                entry(ctx, key, element.key, element.value, setting, app)


def entry(ctx: FileContext, name: str, key_node: cst.CSTNode, value: cst.CSTNode,
          setting: BeatSource, app: str) -> None:
    """One entry ``name: {"task": ..., "schedule": ..., "options": {...}}``."""
    value = ctx.follow_constant(value)
    if not isinstance(value, cst.Dict):
        return
    fields: Dict[str, cst.CSTNode] = {}
    for element in value.elements:
        if isinstance(element, cst.DictElement):
            key = string(element.key)
            if key is not None:
                fields[key] = element.value
    if "schedule" not in fields:
        return
    options = _entry_options(ctx, value, fields.get("options"))
    task = string(fields["task"]) if "task" in fields else None
    ctx.facts.beat.append(BeatEntry(
        loc=ctx.loc(key_node), name=name, task=task, task_ref="",
        schedule=ctx.evaluate(fields["schedule"]),
        schedule_loc=ctx.loc(fields["schedule"]), options=options, setting=setting, app=app,
        schedule_ref=schedule_ref(ctx, fields["schedule"])))


def schedule_ref(ctx: FileContext, node: cst.CSTNode) -> str:
    """The qualified name of an imported constant a schedule is written as (read by the
    project view), "" for anything else."""
    dotted = dotted_name(node)
    if not dotted or dotted.split(".")[0] not in ctx.imports:
        return ""
    return ctx.resolve_strict(dotted)


def _entry_options(ctx: FileContext, value: cst.Dict,
                   option_node: Optional[cst.CSTNode]) -> Options:
    options = Options()
    if option_node is not None:
        option_node = ctx.follow_constant(option_node)
        if isinstance(option_node, cst.Dict):
            options = literal_options(ctx, option_node)
        else:
            options.unreadable = short_source(ctx.module_node, option_node)
    if any(isinstance(e, cst.StarredDictElement) for e in value.elements):
        options.unreadable = "**"  # a spread entry may bring its own options
    return options


def literal_options(ctx: FileContext, node: cst.Dict) -> Options:
    """Options of a literal dict; unreadable when a key or a ``**`` spread is not literal."""
    options = Options()
    for element in node.elements:
        key = string(element.key) if isinstance(element, cst.DictElement) else None
        if key is not None:
            options.values[key] = ctx.evaluate(element.value)
            continue
        spread = ctx.evaluate(element.value)
        if isinstance(element, cst.StarredDictElement) and spread.known \
                and isinstance(spread.value, dict):
            options.values.update({k: Known(v) for k, v in spread.value.items()})
        else:
            options.unreadable = short_source(ctx.module_node, element)
    return options


def periodic_task_entry(ctx: FileContext, node: cst.FunctionDef, task: TaskFact,
                        call: cst.Call) -> None:
    """The entry of ``@periodic_task(run_every=...)``."""
    run_every = next(a.value for a in call.args
                     if a.keyword is not None and a.keyword.value == "run_every")
    options = Options({k: v for k, v in task.options.values.items() if k != "run_every"},
                      task.options.unreadable)
    ctx.facts.beat.append(BeatEntry(
        loc=ctx.loc(node.name), name=task.qualname, task=task.name, task_ref=task.qualname,
        schedule=task.options.values["run_every"], schedule_loc=ctx.loc(run_every),
        options=options, setting="periodic_task", app="",
        schedule_ref=schedule_ref(ctx, run_every)))


# -- add_periodic_task -----------------------------------------------------------------

def add_periodic_task(ctx: FileContext, node: cst.Call, receiver: cst.CSTNode) -> None:
    """``app.add_periodic_task(schedule, sig, name=..., **options)``: options of the
    signature, overridden by the call's (Celery: ``dict(sig.options, **opts)``)."""
    schedule, sig, name, call_options = _periodic_task_args(ctx, node)
    if schedule is None:
        return
    sig, options = signature_options(ctx, sig)
    options.update(call_options)
    task_name, task_ref = _signed_task(ctx, sig)
    ctx.facts.beat.append(BeatEntry(
        loc=ctx.loc(node), name=name, task=task_name, task_ref=task_ref,
        schedule=ctx.evaluate(schedule), schedule_loc=ctx.loc(schedule),
        options=options, setting="add_periodic_task", app=ctx.app_qualname(receiver),
        schedule_ref=schedule_ref(ctx, schedule)))


def _periodic_task_args(ctx: FileContext, node: cst.Call) -> Tuple[
        Optional[cst.BaseExpression], Optional[cst.BaseExpression], Optional[str], Options]:
    """(schedule node, signature node, name, options) of an add_periodic_task call."""
    given = dict(zip(("schedule", "sig"), (a.value for a in positional(node))))
    options = Options()
    for arg in node.args:
        if arg.star == "**":
            options.unreadable = short_source(ctx.module_node, arg.value)
        keyword = arg.keyword.value if arg.keyword is not None else None
        if keyword in ("schedule", "sig", "name"):
            given[keyword] = arg.value
        elif keyword is not None and keyword not in ("args", "kwargs"):
            options.values[keyword] = ctx.evaluate(arg.value)
    name = string(given["name"]) if "name" in given else None
    return given.get("schedule"), given.get("sig"), name, options


def _signed_task(ctx: FileContext, sig: Optional[cst.CSTNode]) -> Tuple[Optional[str], str]:
    """(task name, task reference) of ``t.s(...)`` or ``signature("name", ...)``."""
    if isinstance(sig, cst.Call):
        if isinstance(sig.func, cst.Attribute) and sig.func.attr.value in CANVAS_METHODS:
            return None, ctx.resolve_strict(dotted_name(sig.func.value) or "")
        if sig.args and ctx.resolve(dotted_name(sig.func) or "") in SIGNATURE_FUNCS:
            return string(sig.args[0].value), ""
    return None, ""


def signature_options(ctx: FileContext, sig: Optional[cst.BaseExpression]
                      ) -> Tuple[Optional[cst.BaseExpression], Options]:
    """The signature under ``.set(...)`` calls, and the options it carries
    (``t.signature(args, expires=5)``, ``signature("t", options={...})``,
    ``t.s().set(expires=5)``)."""
    calls: List[Tuple[cst.Call, Tuple[str, ...]]] = []
    while isinstance(sig, cst.Call) and isinstance(sig.func, cst.Attribute) \
            and sig.func.attr.value == "set" and len(calls) < 8:
        calls.append((sig, ("immutable",)))
        sig = sig.func.value
    if isinstance(sig, cst.Call) and _is_signature(ctx, sig):
        calls.append((sig, SIGNATURE_ARGS))
    options = Options()
    for call, not_options in reversed(calls):
        _call_options(ctx, call, not_options, options)
    return sig, options


def _is_signature(ctx: FileContext, call: cst.Call) -> bool:
    method = call.func.attr.value if isinstance(call.func, cst.Attribute) else ""
    return method == "signature" or ctx.resolve(dotted_name(call.func) or "") in SIGNATURE_FUNCS


def _call_options(ctx: FileContext, call: cst.Call, not_options: Tuple[str, ...],
                  options: Options) -> None:
    """Add the options a signature or ``.set(...)`` call gives to ``options``."""
    for arg in call.args:
        keyword = arg.keyword.value if arg.keyword is not None else None
        if arg.star == "**":
            options.unreadable = short_source(ctx.module_node, arg.value)
        elif keyword == "options":
            literal = ctx.follow_constant(arg.value)
            if isinstance(literal, cst.Dict):
                options.update(literal_options(ctx, literal))
            else:
                options.unreadable = short_source(ctx.module_node, arg.value)
        elif keyword is not None and keyword not in not_options:
            options.values[keyword] = ctx.evaluate(arg.value)
