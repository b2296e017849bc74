"""Celery apps, their config sources, and settings writes.

Apps: ``Celery(...)`` (and subclasses) calls with their keyword settings.  Config
sources: ``config_from_object`` and ``config_source=``, and settings passed in a
form we cannot read.  Settings: module-level and class-level assignments (a
settings module or object), ``app.conf.KEY = ...``, ``app.conf["KEY"] = ...``,
``app.conf.update(...)``; reads of ``settings.KEY``; the Django settings module.
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from celerylint.extract import beat
from celerylint.extract.context import FileContext, statements, string
from celerylint.extract.names import (BEAT_KEYS, CELERY_CLASSES, CELERY_CTOR_ARGS,
                                      CELERY_CTOR_SETTINGS)
from celerylint.facts import AppFact, ConfigSource, Loc, SettingAssign, SettingKind, Unknown
from celerylint.values import dotted_name, short_source


class AppsVisitor(cst.CSTVisitor):
    """Statements that name apps or write settings; calls come through the handlers below."""

    def __init__(self, ctx: FileContext):
        self.ctx = ctx

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        ctx = self.ctx
        if not ctx.def_at_module_level():
            return
        name = node.name.value
        bases = ctx.facts.class_bases[name]
        if any(b in CELERY_CLASSES or b in ctx.celery_subclasses for b in bases):
            ctx.celery_subclasses.add(f"{ctx.module}.{name}")
        if isinstance(node.body, cst.IndentedBlock):
            for stmt in statements(node.body.body):
                _class_setting(ctx, stmt, name)

    def visit_Assign(self, node: cst.Assign) -> None:
        ctx = self.ctx
        value = node.value
        for assign_target in node.targets:
            target = assign_target.target
            if isinstance(target, cst.Name):
                if isinstance(value, cst.Call):
                    ctx.assign_target[id(value)] = target.value
                if ctx.at_module_level():
                    add_setting(ctx, target.value, value, ctx.loc(target), "module")
            elif isinstance(target, cst.Attribute):
                app = ctx.conf_receiver(target.value)
                if app is not None:
                    add_setting(ctx, target.attr.value, value, ctx.loc(target.attr), "conf-attr",
                                app)
            elif isinstance(target, cst.Subscript):
                _subscript_assign(ctx, target, value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        ctx = self.ctx
        if node.value is not None and isinstance(node.target, cst.Name) and ctx.at_module_level():
            add_setting(ctx, node.target.value, node.value, ctx.loc(node.target), "module")

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        ctx = self.ctx
        if ctx.at_module_level() and isinstance(node.target, cst.Name):
            ctx.facts.settings.append(SettingAssign(
                key=node.target.value, value=Unknown(short_source(ctx.module_node, node)),
                loc=ctx.loc(node.target), kind="module"))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        base = dotted_name(node.value) or ""
        name = node.attr.value
        reads = self.ctx.facts.setting_reads
        if (base == "settings" or base.endswith(".settings")) and name.isupper() \
                and name not in reads:
            reads.append(name)


# -- call handlers (see calls.py) ----------------------------------------------------

def celery_app(ctx: FileContext, node: cst.Call, cls: str) -> None:
    """``Celery(main, broker=..., **kw)``: an app and the settings its keywords give."""
    var = ctx.assign_target.get(id(node), "")
    qualname = _app_variable(ctx, var) if var else ""
    main = namespace = None
    for index, arg in enumerate(node.args):
        keyword = "main" if index == 0 else None
        if arg.keyword is not None:
            keyword = arg.keyword.value
        if arg.star == "**":
            _unreadable_settings(ctx, qualname, arg.value, node)
        if keyword is None or arg.star:
            continue
        if keyword == "main":
            main = string(arg.value)
        elif keyword == "namespace":
            namespace = string(arg.value)
        else:
            _celery_keyword(ctx, qualname, keyword, arg)
    ctx.facts.apps.append(AppFact(var=var, qualname=qualname, main=main, loc=ctx.loc(node),
                                  cls=cls, namespace=namespace))


def _app_variable(ctx: FileContext, var: str) -> str:
    """The qualified name of the app assigned to ``var``, remembered for the file."""
    scope = [] if ctx.at_module_level() else [s.fact.name for s in ctx.functions[-1:]]
    qualname = ".".join([p for p in [ctx.module, *scope, var] if p])
    ctx.app_vars[var] = qualname
    return qualname


def _celery_keyword(ctx: FileContext, app: str, keyword: str, arg: cst.Arg) -> None:
    if keyword == "config_source":
        _config_source(ctx, app, arg.value, None, ctx.loc(arg.value))
    elif keyword == "changes" and isinstance(arg.value, cst.Dict):
        _settings_from_dict(ctx, arg.value, "celery-kwarg", app)
    elif keyword not in CELERY_CTOR_ARGS:
        key = CELERY_CTOR_SETTINGS.get(keyword, keyword)
        add_setting(ctx, key, arg.value, ctx.loc(arg.keyword or arg.value), "celery-kwarg", app)


def config_from_object(ctx: FileContext, node: cst.Call, receiver: cst.CSTNode) -> None:
    target = namespace = None
    for index, arg in enumerate(node.args):
        keyword = arg.keyword.value if arg.keyword is not None else None
        if (keyword is None and index == 0) or keyword == "obj":
            target = arg.value
        elif keyword == "namespace":
            namespace = string(arg.value)
    if target is not None:
        _config_source(ctx, ctx.app_qualname(receiver), target, namespace, ctx.loc(node))


def update_call(ctx: FileContext, node: cst.Call, receiver: cst.CSTNode) -> None:
    """``app.conf.update(...)``; ``<...>.beat_schedule.update({...})``."""
    app = ctx.conf_receiver(receiver)
    if app is not None:
        _conf_update(ctx, node, app)
        return
    beat_key = BEAT_KEYS.get((dotted_name(receiver) or "").split(".")[-1])
    if beat_key is not None and node.args and not node.args[0].keyword:
        beat.entries_from_value(ctx, node.args[0].value, beat_key, _schedule_app(ctx, receiver))


def _conf_update(ctx: FileContext, node: cst.Call, app: str) -> None:
    for arg in node.args:
        if arg.keyword is not None:
            add_setting(ctx, arg.keyword.value, arg.value, ctx.loc(arg.keyword), "conf-update",
                        app)
        elif arg.star != "*" and isinstance(ctx.follow_constant(arg.value), cst.Dict):
            _settings_from_dict(ctx, arg.value, "conf-update", app)
        else:  # **options, or a dict built elsewhere: keys we cannot read
            _unreadable_settings(ctx, app, arg.value, node)


def environ_call(ctx: FileContext, node: cst.Call, qualname: str) -> None:
    """``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")``."""
    if len(node.args) >= 2 and string(node.args[0].value) == "DJANGO_SETTINGS_MODULE":
        value = string(node.args[1].value)
        if value:
            ctx.facts.django_settings_module = value


# -- settings and sources --------------------------------------------------------------

def add_setting(ctx: FileContext, key: str, value_node: cst.CSTNode, loc: Loc,
                kind: SettingKind, app: str = "", container: str = "") -> None:
    value = ctx.evaluate(value_node)
    if ctx.conditional:  # set only when an `if`/`except` branch runs
        value = Unknown(short_source(ctx.module_node, value_node))
    ctx.facts.settings.append(SettingAssign(
        key=key, value=value, loc=loc, kind=kind, app=app, container=container))
    beat_key = BEAT_KEYS.get(key)
    if beat_key is not None:
        beat.entries_from_value(ctx, value_node, beat_key, app)


def _settings_from_dict(ctx: FileContext, node: cst.CSTNode, kind: SettingKind,
                        app: str) -> None:
    node = ctx.follow_constant(node)
    if not isinstance(node, cst.Dict):
        return
    for element in node.elements:
        if isinstance(element, cst.DictElement):
            key = string(element.key)
            if key is not None:
                add_setting(ctx, key, element.value, ctx.loc(element.key), kind, app)


def _class_setting(ctx: FileContext, stmt: cst.CSTNode, container: str) -> None:
    """A class attribute: a setting when the class is a config object, a task option
    when it is a Task class."""
    if isinstance(stmt, cst.Assign):
        for target in stmt.targets:
            if isinstance(target.target, cst.Name):
                add_setting(ctx, target.target.value, stmt.value, ctx.loc(target.target),
                            "class", container=container)
    elif isinstance(stmt, cst.AnnAssign) and isinstance(stmt.target, cst.Name) \
            and stmt.value is not None:
        add_setting(ctx, stmt.target.value, stmt.value, ctx.loc(stmt.target), "class",
                    container=container)


def _subscript_assign(ctx: FileContext, target: cst.Subscript, value: cst.BaseExpression) -> None:
    """``app.conf["KEY"] = v``, ``os.environ["DJANGO_SETTINGS_MODULE"] = v``,
    ``<...>.beat_schedule["name"] = {...}``."""
    key_node = _single_index(target)
    key = string(key_node) if key_node is not None else None
    if key_node is None or key is None:
        return
    app = ctx.conf_receiver(target.value)
    if app is not None:
        add_setting(ctx, key, value, ctx.loc(key_node), "conf-item", app)
        return
    dotted = dotted_name(target.value) or ""
    if key == "DJANGO_SETTINGS_MODULE" and ctx.resolve(dotted) == "os.environ":
        ctx.facts.django_settings_module = string(value) or ctx.facts.django_settings_module
        return
    beat_key = BEAT_KEYS.get(dotted.split(".")[-1])
    if beat_key is not None:
        beat.entry(ctx, key, key_node, value, beat_key, _schedule_app(ctx, target.value))


def _schedule_app(ctx: FileContext, schedule: cst.CSTNode) -> str:
    """The app of ``<app>.conf.beat_schedule``; "" for a schedule not on an app's conf."""
    if isinstance(schedule, cst.Attribute):
        return ctx.conf_receiver(schedule.value) or ""
    return ""


def _single_index(target: cst.Subscript) -> Optional[cst.BaseExpression]:
    """``k`` of ``x[k]`` (not of a slice or of ``x[a, b]``)."""
    if len(target.slice) != 1 or not isinstance(target.slice[0].slice, cst.Index):
        return None
    return target.slice[0].slice.value


def _config_source(ctx: FileContext, app: str, target: cst.CSTNode, namespace: Optional[str],
                   loc: Loc) -> None:
    text = string(target)
    if text is not None:
        source = ConfigSource(app, text, "string", namespace, loc)
    else:
        dotted = dotted_name(target)
        resolved = ctx.resolve_strict(dotted) if dotted else ""
        if resolved:
            source = ConfigSource(app, resolved, "name", namespace, loc)
        else:
            source = ConfigSource(app, short_source(ctx.module_node, target), "unknown",
                                  namespace, loc)
    ctx.facts.config_sources.append(source)


def _unreadable_settings(ctx: FileContext, app: str, value: cst.CSTNode, call: cst.Call) -> None:
    """Settings passed in a form we cannot read count as an unresolved config source."""
    ctx.facts.config_sources.append(ConfigSource(
        app, short_source(ctx.module_node, value), "unknown", None, ctx.loc(call)))
