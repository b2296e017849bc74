"""Celery apps, their config sources, settings writes, and the names apps are bound to.

Apps: ``Celery(...)`` (and subclasses) calls with their keyword settings; calls of a
capitalised name of another module as candidates (the project view keeps those whose
class is a Celery subclass).  Config sources: ``config_from_object`` (its target also
computed from ``__name__`` and module constants), ``config_from_envvar``,
``add_defaults``, ``config_source=``, ``loader="default"`` (``celeryconfig``), and
settings passed in a form we cannot read.  Settings: module-level and class-level
assignments (a settings module or object; what a module's ``if``/``try`` branches may
leave in a name), ``app.conf.KEY = ...``, ``app.conf["KEY"] = ...``,
``app.conf.update(...)``; reads of ``settings.KEY``; the Django settings module and
django-configurations' class; django-split-settings' ``include(...)`` and writes through
``globals()``.  Bindings (:class:`~celerylint.facts.AppBinding`): what module-level
names, the locals used as apps and function results are bound to, so that the project
view can follow ``app = create_app()`` to the app the factory makes.
"""
from __future__ import annotations

import json
import re
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

import libcst as cst

from celerylint.extract import beat
from celerylint.extract.context import FileContext, FunctionScope, statements, string
from celerylint.extract.names import (BEAT_KEYS, CELERY_CLASSES, CELERY_CTOR_ARGS,
                                      CELERY_CTOR_SETTINGS, OTHER_TASK_LIBRARIES)
from celerylint.facts import (AppBinding, AppFact, ConfigSource, IncludeKind, Known, Loc,
                              SettingAssign, SettingKind, SettingsInclude, Unknown, Value)
from celerylint.values import dotted_name, short_source

# Calls whose result is the function they are given (for what the result returns).
SAME_FUNCTION = {"functools.partial", "functools.lru_cache", "functools.cache",
                 "functools.wraps", "functools.update_wrapper"}
SPLIT_INCLUDE = {"split_settings.tools.include"}
SPLIT_OPTIONAL = {"split_settings.tools.optional"}
DEFAULT_LOADERS = {"default", "celery.loaders.default:Loader", "celery.loaders.default.Loader"}
# The module Celery's default loader reads (celery/loaders/default.py DEFAULT_CONFIG_MODULE).
DEFAULT_CONFIG_MODULE = "celeryconfig"
# django-configurations' values: the default is the value unless the environment says otherwise.
CONFIGURATION_VALUES = "configurations.values."
NAMESPACE_READERS = {"globals", "vars", "locals"}
# Packages whose functions are given an app without configuring it for the project.
LIBRARIES = frozenset({"celery", "kombu", "functools", "os", "sys", "logging", "json", "typing",
                       "django", "flask", "warnings", "inspect", "contextlib"})
# Signals of an app that send the app itself (celery/app/base.py).
APP_SIGNALS = {"on_configure", "on_after_configure", "on_after_finalize"}
MAX_TEXT = 1000  # characters of a computed module path or file name
MAX_TEXT_DEPTH = 16
PLAIN_FIELDS = re.compile(r"[^{}]*(?:\{\}[^{}]*)*")
# Methods of a settings string that give another string the extractor can compute.
STRING_CUTS = {"rpartition", "partition", "rsplit", "split"}


class AppsVisitor(cst.CSTVisitor):
    """Statements that name apps or write settings; calls come through the handlers below."""

    def __init__(self, ctx: FileContext):
        self.ctx = ctx
        self.params: List[List[str]] = []  # positional parameters of the defs being walked
        self.returns: List[List[cst.BaseExpression]] = []
        self.try_depth = 0  # module-level try blocks being walked
        # module-level settings by their target node, with the value before conditions
        self.module_writes: Dict[int, Tuple[SettingAssign, Value]] = {}

    # -- scopes ------------------------------------------------------------------------
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

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = node.params
        self.params.append([p.name.value for p in list(params.posonly_params)
                            + list(params.params)])
        self.returns.append([])
        _signal_receiver(self.ctx, node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        scope = self.ctx.current()
        params, returns = self.params.pop(), self.returns.pop()
        if scope is not None:
            _function_bindings(self.ctx, scope, params, returns)

    def visit_Return(self, node: cst.Return) -> None:
        ctx = self.ctx
        if node.value is not None and ctx.functions and self.returns:
            self.returns[-1].append(node.value)
            if isinstance(node.value, cst.Call):
                ctx.assign_target[id(node.value)] = "()"

    def _enter_branch(self, node: cst.CSTNode) -> None:
        self.ctx.branch_depth += 1

    def _leave_branch(self, original_node: cst.CSTNode) -> None:
        self.ctx.branch_depth -= 1

    visit_If = visit_For = visit_While = visit_ExceptHandler = _enter_branch
    leave_If = leave_For = leave_While = leave_ExceptHandler = _leave_branch

    def visit_Try(self, node: cst.Try) -> None:
        if self.ctx.at_module_level():
            self.try_depth += 1

    def leave_Try(self, original_node: cst.Try) -> None:
        if self.ctx.at_module_level():
            self.try_depth -= 1

    def visit_With(self, node: cst.With) -> None:
        """``with suppress(ImportError):`` guards an import as ``try`` does."""
        if self.ctx.at_module_level() and _suppresses(self.ctx, node):
            self.try_depth += 1

    def leave_With(self, original_node: cst.With) -> None:
        if self.ctx.at_module_level() and _suppresses(self.ctx, original_node):
            self.try_depth -= 1

    # -- statements --------------------------------------------------------------------
    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        """A star import that may not run (under a condition or a try): a missing module
        there is no error, unlike one of an import that always runs."""
        ctx = self.ctx
        if isinstance(node.names, cst.ImportStar) and ctx.at_module_level() \
                and (ctx.conditional or self.try_depth):
            for imp in ctx.facts.imports:
                if imp.star and imp.line == ctx.line(node):
                    _include(ctx, "optional-star", imp.target, True, node)

    def visit_Assign(self, node: cst.Assign) -> None:
        ctx = self.ctx
        value = node.value
        for assign_target in node.targets:
            target = assign_target.target
            if isinstance(target, cst.Name):
                if isinstance(value, cst.Call):
                    ctx.assign_target[id(value)] = target.value
                if ctx.at_module_level():
                    self._module_setting(target, value)
                    _module_binding(ctx, target.value, value)
            elif isinstance(target, cst.Attribute):
                app = ctx.conf_receiver(target.value)
                if app is not None:
                    add_setting(ctx, target.attr.value, value, ctx.loc(target.attr), "conf-attr",
                                app)
            elif isinstance(target, cst.Subscript):
                _subscript_assign(ctx, target, value)
            elif isinstance(target, (cst.Tuple, cst.List)) and ctx.at_module_level():
                self._unpacked_settings(target, value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        ctx = self.ctx
        if node.value is not None and isinstance(node.target, cst.Name) and ctx.at_module_level():
            self._module_setting(node.target, node.value)
            _module_binding(ctx, node.target.value, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        ctx = self.ctx
        if ctx.at_module_level() and isinstance(node.target, cst.Name):
            assign = SettingAssign(key=node.target.value,
                                   value=Unknown(short_source(ctx.module_node, node)),
                                   loc=ctx.loc(node.target), kind="module")
            ctx.facts.settings.append(assign)
            self.module_writes[id(node.target)] = (assign, assign.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        base = dotted_name(node.value) or ""
        name = node.attr.value
        reads = self.ctx.facts.setting_reads
        if (base == "settings" or base.endswith(".settings")) and name.isupper() \
                and name not in reads:
            reads.append(name)

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if ctx.at_module_level() and _writes_namespace(ctx, node):
            _include(ctx, "unreadable", "", bool(ctx.conditional), node)
        _arg_bindings(ctx, node)

    def leave_Module(self, original_node: cst.Module) -> None:
        _settle_branches(self.ctx, original_node, self.module_writes)

    # -- module-level settings ---------------------------------------------------------
    def _module_setting(self, target: cst.Name, value: cst.BaseExpression) -> None:
        ctx = self.ctx
        self.module_writes[id(target)] = add_setting(ctx, target.value, value, ctx.loc(target),
                                                     "module")

    def _unpacked_settings(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        """``BROKER_URL, RESULT_BACKEND = helper()``: each name is set, to what the
        literal on the right holds there, else to a value that cannot be known (and, from
        a call of the project's own, to something: not nothing)."""
        ctx = self.ctx
        elements = target.elements if isinstance(target, (cst.Tuple, cst.List)) else []
        right = ctx.follow_constant(value)
        items = right.elements if isinstance(right, (cst.Tuple, cst.List)) else None
        if items is not None and (len(items) != len(elements)
                                  or any(isinstance(i, cst.StarredElement) for i in items)):
            items = None
        filled = isinstance(value, cst.Call) and not _reads_environment(ctx, value)
        for index, element in enumerate(elements):
            name = element.value
            if not isinstance(name, cst.Name) or isinstance(element, cst.StarredElement):
                continue
            if items is not None:
                self._module_setting(name, items[index].value)
                continue
            unknown = Unknown(f"{short_source(ctx.module_node, value)}[{index}]")
            assign = SettingAssign(key=name.value, value=unknown, loc=ctx.loc(name), kind="module",
                                   certain=not ctx.conditional, filled=filled)
            ctx.facts.settings.append(assign)
            self.module_writes[id(name)] = (assign, unknown)


# -- call handlers (see calls.py) ----------------------------------------------------

def celery_app(ctx: FileContext, node: cst.Call, cls: str, candidate: bool = False) -> None:
    """``Celery(main, broker=..., **kw)``: an app and the settings its keywords give;
    a candidate when ``cls`` is a class of another module that may be a Celery subclass."""
    var = ctx.assign_target.get(id(node), "")
    qualname = _app_variable(ctx, var, candidate) if var else ""
    main = namespace = None
    for index, arg in enumerate(node.args):
        keyword = "main" if index == 0 else None
        if arg.keyword is not None:
            keyword = arg.keyword.value
        if arg.star == "**":
            _settings_from_mapping(ctx, arg.value, "celery-kwarg", qualname, node)
        if keyword is None or arg.star:
            continue
        if keyword == "main":
            main = string(arg.value)
        elif keyword == "namespace":
            namespace = string(arg.value)
        elif keyword == "loader" and _text(ctx, arg.value) in DEFAULT_LOADERS:
            ctx.facts.config_sources.append(ConfigSource(
                qualname, DEFAULT_CONFIG_MODULE, "string", None, ctx.loc(arg.value)))
        else:
            _celery_keyword(ctx, qualname, keyword, arg)
    ctx.facts.apps.append(AppFact(var=var if var != "()" else "", qualname=qualname, main=main,
                                  loc=ctx.loc(node), cls=cls, namespace=namespace,
                                  candidate=candidate))


def maybe_app(ctx: FileContext, node: cst.Call, cls: str) -> None:
    """A capitalised call of another module's name, assigned or returned: a candidate."""
    celery_app(ctx, node, cls, candidate=True)


def may_be_app_class(ctx: FileContext, node: cst.Call, qualname: str) -> bool:
    """Whether a call may make a Celery app of a class the file cannot see: assigned to
    a name or returned, a capitalised name imported from another module, or a class of
    this module whose bases are imported (in a function, only a name that says
    ``Celery`` or ``App``)."""
    if id(node) not in ctx.assign_target or not qualname:
        return False
    last = qualname.rpartition(".")[2]
    if not last[:1].isupper() or qualname.split(".")[0] in OTHER_TASK_LIBRARIES | {"celery"}:
        return False
    if ctx.functions and "celery" not in last.lower() and not last.endswith("App"):
        return False
    if qualname == f"{ctx.module}.{last}":
        own = f"{ctx.module}."
        return any(not base.startswith(own) for base in ctx.facts.class_bases.get(last, []))
    return bool(ctx.resolve_strict(dotted_name(node.func) or ""))


def _app_variable(ctx: FileContext, var: str, candidate: bool = False) -> str:
    """The qualified name of the app assigned to ``var`` (``"()"``: returned by the
    function being walked), remembered for the file."""
    scope = [] if ctx.at_module_level() else [s.fact.name for s in ctx.functions[-1:]]
    if var == "()":
        return ".".join([p for p in [ctx.module, *scope] if p]) + "()"
    qualname = ".".join([p for p in [ctx.module, *scope, var] if p])
    if not candidate:
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


def unreadable_source(ctx: FileContext, node: cst.Call, receiver: cst.CSTNode) -> None:
    """``app.config_from_envvar("VAR")``, ``app.add_defaults(...)``: settings from a
    module the environment names, or from a value built at run time; unknown, unless
    ``add_defaults`` is given a dict the file spells out."""
    dotted = dotted_name(receiver) or ""
    if not dotted or not node.args \
            or ctx.resolve(dotted).split(".")[0] in OTHER_TASK_LIBRARIES:
        return
    app = ctx.app_qualname(receiver)
    value = node.args[0].value
    method = node.func.attr.value if isinstance(node.func, cst.Attribute) else ""
    if method == "add_defaults":
        _settings_from_mapping(ctx, value, "celery-kwarg", app, node)
    else:
        _unreadable_settings(ctx, app, value, node)


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
    """``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")`` (also
    computed from module constants), and django-configurations' ``DJANGO_CONFIGURATION``."""
    if len(node.args) >= 2:
        _environ_write(ctx, string(node.args[0].value), node.args[1].value)


def _environ_write(ctx: FileContext, name: Optional[str], value: cst.CSTNode) -> None:
    text = _text(ctx, value)
    if not text:
        return
    if name == "DJANGO_SETTINGS_MODULE":
        ctx.facts.django_settings_module = text
    elif name == "DJANGO_CONFIGURATION":
        ctx.facts.django_configuration = text


def split_include(ctx: FileContext, node: cst.Call, qualname: str) -> None:
    """django-split-settings: ``include("base.py", "components/*.py", optional("local.py"))``
    at module level: the files run in the module's namespace, in order."""
    if not ctx.at_module_level():
        return
    for arg in node.args:
        if arg.keyword is not None:
            continue
        value, optional = arg.value, bool(ctx.conditional)
        if isinstance(value, cst.Call) and ctx.resolve(dotted_name(value.func) or "") \
                in SPLIT_OPTIONAL and value.args:
            value, optional = value.args[0].value, True
        path = _text(ctx, value)
        pattern = _module_pattern(ctx, path) if path and not arg.star else None
        if pattern is None:
            _include(ctx, "unreadable", "", optional, arg.value)
        else:
            _include(ctx, "split", pattern, optional, arg.value)


def _module_pattern(ctx: FileContext, path: str) -> Optional[str]:
    """The modules a path relative to this file's folder names, as a dotted glob
    (``components/*.py`` in ``proj/settings/__init__.py``: ``proj.settings.components.*``);
    None for what is no module of the project (an absolute path, another suffix)."""
    if path.startswith("/") or not path.endswith(".py") or "**" in path or "\\" in path:
        return None
    parts = ctx.module.split(".") if ctx.module else []
    if not ctx.is_package:
        parts = parts[:-1]
    for piece in path[:-3].split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if not parts:
                return None
            parts.pop()
        elif "." in piece:
            return None
        else:
            parts.append(piece)
    return ".".join(parts) or None


# -- settings and sources --------------------------------------------------------------

def add_setting(ctx: FileContext, key: str, value_node: cst.CSTNode, loc: Loc,
                kind: SettingKind, app: str = "", container: str = ""
                ) -> Tuple[SettingAssign, Value]:
    """Record a write; returns it with the value it writes whenever it runs (the write's
    own value is unknown when it may not run: under an ``if``, in an ``except``, a loop)."""
    raw = _setting_value(ctx, value_node)
    certain = not (ctx.conditional or ctx.branch_depth)
    value = raw if certain else Unknown(short_source(ctx.module_node, value_node))
    assign = SettingAssign(key=key, value=value, loc=loc, kind=kind, app=app, container=container,
                           certain=certain, filled=_filled(ctx, value_node))
    ctx.facts.settings.append(assign)
    beat_key = BEAT_KEYS.get(key)
    if beat_key is not None:
        beat.entries_from_value(ctx, value_node, beat_key, app)
    return assign, raw


def _setting_value(ctx: FileContext, node: cst.CSTNode) -> Value:
    """The value of a setting; django-configurations' ``values.Value("x")`` is its
    default, which the environment may override."""
    if isinstance(node, cst.Call):
        called = ctx.resolve(dotted_name(node.func) or "")
        if called.startswith(CONFIGURATION_VALUES):
            default = next((a.value for a in node.args if a.keyword is None and not a.star), None)
            default = next((a.value for a in node.args if a.keyword is not None
                            and a.keyword.value == "default"), default)
            value = ctx.evaluate(default) if default is not None else None
            if isinstance(value, Known):
                return Known(value.value, value.source, overridable=True)
            return Unknown(short_source(ctx.module_node, node))
    return ctx.evaluate(node)


def _filled(ctx: FileContext, node: cst.CSTNode) -> bool:
    """Whether an expression surely gives a non-empty value, though which one may not be
    known: a string with text of its own before what is filled in."""
    if isinstance(node, cst.FormattedString):
        return any(isinstance(p, cst.FormattedStringText) and p.value for p in node.parts)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Modulo)):
        return bool(string(node.left)) or _filled(ctx, node.left)
    return False


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
        else:  # **spread: keys we cannot read
            ctx.facts.config_sources.append(ConfigSource(
                app, short_source(ctx.module_node, element.value), "unknown", None,
                ctx.loc(element.value)))


def _settings_from_mapping(ctx: FileContext, node: cst.CSTNode, kind: SettingKind, app: str,
                           call: cst.Call) -> None:
    """The settings of a mapping spelled out in the file (a dict display, or
    ``dict(key=value, ...)``, directly or through a module constant); else a source
    that cannot be read."""
    mapping = ctx.follow_constant(node)
    if isinstance(mapping, cst.Dict):
        _settings_from_dict(ctx, mapping, kind, app)
    elif isinstance(mapping, cst.Call) and ctx.resolve(dotted_name(mapping.func) or "") == "dict" \
            and all(a.keyword is not None for a in mapping.args):
        for arg in mapping.args:
            if arg.keyword is not None:
                add_setting(ctx, arg.keyword.value, arg.value, ctx.loc(arg.keyword), kind, app)
    else:
        _unreadable_settings(ctx, app, node, call)


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
    ``<...>.beat_schedule["name"] = {...}``, ``globals()[name] = v``."""
    if _namespace_call(ctx, target.value) and ctx.at_module_level():
        _include(ctx, "unreadable", "", bool(ctx.conditional), target)
        return
    key_node = _single_index(target)
    key = string(key_node) if key_node is not None else None
    if key is None or key_node is None:
        return
    app = ctx.conf_receiver(target.value)
    if app is not None:
        add_setting(ctx, key, value, ctx.loc(key_node), "conf-item", app)
        return
    dotted = dotted_name(target.value) or ""
    if ctx.resolve(dotted) == "os.environ":
        _environ_write(ctx, key, value)
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
    text = _text(ctx, target)
    if text is not None:
        source = ConfigSource(app, text, "string", namespace, loc)
    else:
        dotted = dotted_name(target)
        resolved = ctx.resolve_strict(dotted) if dotted else ""
        if resolved and ctx.local_scope(dotted.split(".")[0] if dotted else "") is None:
            source = ConfigSource(app, resolved, "name", namespace, loc)
        else:
            source = ConfigSource(app, short_source(ctx.module_node, target), "unknown",
                                  namespace, loc)
    ctx.facts.config_sources.append(source)


def _unreadable_settings(ctx: FileContext, app: str, value: cst.CSTNode, call: cst.Call) -> None:
    """Settings passed in a form we cannot read count as an unresolved config source."""
    ctx.facts.config_sources.append(ConfigSource(
        app, short_source(ctx.module_node, value), "unknown", None, ctx.loc(call)))


def _include(ctx: FileContext, kind: IncludeKind, pattern: str, optional: bool,
             node: cst.CSTNode) -> None:
    ctx.facts.includes.append(SettingsInclude(
        kind=kind, pattern=pattern, optional=optional, line=ctx.line(node),
        source=short_source(ctx.module_node, node)))


# -- strings computed from module constants ---------------------------------------------

def _text(ctx: FileContext, node: Optional[cst.CSTNode], depth: int = 0) -> Optional[str]:
    """A string the file spells out, also computed: ``__name__`` and ``__package__``,
    module constants, ``+``, f-strings, ``"%s" % x``, ``"{}".format(x)`` and the cuts
    ``x.rpartition(".")[0]`` / ``x.rsplit(".", 1)[0]``; None when it cannot be known
    (or is longer than a module path or a file name can sensibly be)."""
    text = _computed_text(ctx, node, depth)
    return text if text is None or len(text) <= MAX_TEXT else None


def _computed_text(ctx: FileContext, node: Optional[cst.CSTNode], depth: int) -> Optional[str]:
    if node is None or depth > MAX_TEXT_DEPTH:
        return None
    if isinstance(node, cst.Name) and node.value in ("__name__", "__package__"):
        if node.value == "__package__" and not ctx.is_package:
            return ctx.module.rpartition(".")[0]
        return ctx.module
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        left, right = _text(ctx, node.left, depth + 1), _text(ctx, node.right, depth + 1)
        return left + right if left is not None and right is not None else None
    if isinstance(node, cst.FormattedString):
        parts = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value)
                continue
            if not isinstance(part, cst.FormattedStringExpression) \
                    or part.conversion is not None or part.format_spec is not None:
                return None
            inner = _text(ctx, part.expression, depth + 1)
            if inner is None:
                return None
            parts.append(inner)
        text = "".join(parts)
        return text if "{" not in text and "\\" not in text else None
    if isinstance(node, cst.Call):
        return _text_call(ctx, node, depth)
    if isinstance(node, cst.Subscript):
        return _text_cut(ctx, node, depth)
    if isinstance(node, cst.Name) and node.value in ctx.constants:
        return _text(ctx, ctx.constants[node.value], depth + 1) \
            if ctx.local_scope(node.value) is None else None
    value = ctx.evaluate(node)
    return value.value if isinstance(value, Known) and isinstance(value.value, str) else None


def _text_call(ctx: FileContext, node: cst.Call, depth: int) -> Optional[str]:
    func = node.func
    if not isinstance(func, cst.Attribute) or func.attr.value != "format":
        value = ctx.evaluate(node)
        return value.value if isinstance(value, Known) and isinstance(value.value, str) else None
    template = _text(ctx, func.value, depth + 1)
    args = [_text(ctx, a.value, depth + 1) for a in node.args if a.keyword is None and not a.star]
    if template is None or None in args or len(args) != len(node.args):
        return None
    if not PLAIN_FIELDS.fullmatch(template) or template.count("{}") != len(args):
        return None  # only bare {} fields: no width or nested field to blow up
    return template.format(*args)


def _text_cut(ctx: FileContext, node: cst.Subscript, depth: int) -> Optional[str]:
    """``x.rpartition(".")[0]``, ``x.rsplit(".", 1)[0]``, ``x.split(".")[0]``."""
    index = _single_index(node)
    call = node.value
    if not (isinstance(index, cst.Integer) and isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute) and call.func.attr.value in STRING_CUTS):
        return None
    text = _text(ctx, call.func.value, depth + 1)
    args = [string(a.value) if not isinstance(a.value, cst.Integer) else int(a.value.value)
            for a in call.args]
    if text is None or not args or not isinstance(args[0], str) or not args[0] \
            or any(a is None for a in args):
        return None
    method = call.func.attr.value
    try:
        pieces = getattr(text, method)(*args)
        return str(pieces[int(index.value)])
    except (IndexError, TypeError, ValueError):
        return None


# -- names apps are bound to -------------------------------------------------------------

def _module_binding(ctx: FileContext, name: str, value: cst.BaseExpression) -> None:
    """``app = create_app()``, ``app = other.app``, ``make = partial(create_app, ...)``."""
    binding = _binding(ctx, f"{ctx.module}.{name}" if ctx.module else name, value)
    if binding is not None:
        ctx.facts.bindings.append(binding)


def _binding(ctx: FileContext, name: str, value: cst.CSTNode) -> Optional[AppBinding]:
    """What ``name = value`` binds name to, when it may be an app; None otherwise (a
    Celery call is an app of its own, a literal is no app)."""
    line = ctx.line(value)
    if isinstance(value, cst.Call):
        called = dotted_name(value.func)
        target = ctx.resolve_strict(called) if called else ""
        if not target or target in CELERY_CLASSES or target in ctx.celery_subclasses \
                or may_be_app_class(ctx, value, target):
            return None  # an app of its own (or a candidate)
        if target in SAME_FUNCTION:
            inner = value.args[0].value if value.args and not value.args[0].keyword else None
            inner_name = dotted_name(inner) if inner is not None else None
            inner_target = ctx.resolve_strict(inner_name) if inner_name else ""
            return AppBinding(name, inner_target, "alias", line) if inner_target else None
        return AppBinding(name, target, "call", line)
    dotted = dotted_name(value)
    if dotted:
        scope = ctx.local_scope(dotted.split(".")[0])
        if scope is not None:
            return AppBinding(name, f"{ctx.module}.{scope.fact.name}.{dotted}", "alias", line)
        target = ctx.resolve_strict(dotted)
        if target and target != name:
            return AppBinding(name, target, "alias", line)
    return None


def _function_bindings(ctx: FileContext, scope: FunctionScope, params: List[str],
                       returns: List[cst.BaseExpression]) -> None:
    """At the end of a def: what it returns, and what its locals and parameters used as
    apps are bound to."""
    prefix = f"{ctx.module}.{scope.fact.name}" if ctx.module else scope.fact.name
    for value in returns:
        if isinstance(value, cst.Call) and any(a.qualname == f"{prefix}()"
                                               for a in ctx.facts.apps):
            continue
        binding = _binding(ctx, f"{prefix}()", value)
        if binding is not None:
            ctx.facts.bindings.append(binding)
            head = (dotted_name(value) or "").split(".")[0]
            if binding.target.startswith(f"{prefix}.") and head:
                scope.app_names.add(head)
    for name in sorted(scope.app_names):
        qualname = f"{prefix}.{name}"
        if name in scope.params:
            position = params.index(name) + 1 if name in params else 0
            ctx.facts.bindings.append(AppBinding(qualname, prefix, "param", scope.fact.loc.line,
                                                 position, name))
            continue
        if any(a.qualname == qualname for a in ctx.facts.apps):
            continue
        for kind, node, _ in scope.assigns.get(name, ()):
            binding = _binding(ctx, qualname, node) if kind == "value" else None
            if binding is not None:
                ctx.facts.bindings.append(binding)


def _signal_receiver(ctx: FileContext, node: cst.FunctionDef) -> None:
    """``@app.on_after_configure.connect``: Celery calls the function with the app as
    its first argument (``sender``)."""
    scope = ctx.current()
    if scope is None:
        return
    for decorator in node.decorators:
        dotted = dotted_name(decorator.decorator) or ""
        receiver, _, signal = dotted.rpartition(".")
        app, _, hook = receiver.rpartition(".")
        if signal == "connect" and hook in APP_SIGNALS and app and len(ctx.functions) == 1:
            ctx.facts.bindings.append(AppBinding(
                f"{ctx.module}.{scope.fact.name}" if ctx.module else scope.fact.name,
                ctx.resolve_strict(app) or app, "arg", ctx.line(node), 1))


def _arg_bindings(ctx: FileContext, node: cst.Call) -> None:
    """``configure(app)`` in a function: the app given to ``configure``'s parameter."""
    called = dotted_name(node.func)
    callee = ctx.resolve_strict(called) if called else ""
    if not callee or callee.split(".")[0] in LIBRARIES:
        return
    position = 0
    for arg in node.args:
        if arg.star:
            return
        if arg.keyword is None:
            position += 1
        app = _app_argument(ctx, arg.value)
        if app:
            keyword = arg.keyword.value if arg.keyword is not None else ""
            ctx.facts.bindings.append(AppBinding(callee, app, "arg", ctx.line(node),
                                                 position if not keyword else 0, keyword))


def _app_argument(ctx: FileContext, node: cst.CSTNode) -> str:
    """The qualified name of an argument that may be an app: a local made by
    ``Celery(...)`` or used as an app, a module-level app or bound name, or an imported
    name (the project view keeps the binding only where it reaches an app); else ""."""
    if not isinstance(node, cst.Name):
        return ""
    name = node.value
    scope = ctx.local_scope(name)
    if scope is not None:
        qualname = f"{ctx.module}.{scope.fact.name}.{name}"
        if name in scope.app_names or ctx.app_vars.get(name) == qualname:
            scope.app_names.add(name)
            return qualname
        return ""
    if name in ctx.imports:
        return ctx.imports[name]
    qualname = f"{ctx.module}.{name}" if ctx.module else name
    if ctx.app_vars.get(name) == qualname or any(b.name == qualname for b in ctx.facts.bindings):
        return qualname
    return ""


# -- module-level names that several branches may set --------------------------------------

Possible = Dict[str, Set[str]]  # key -> JSON of each value it may hold ("?": unknown, "": before)


def _settle_branches(ctx: FileContext, module: cst.Module,
                     writes: Dict[int, Tuple[SettingAssign, Value]]) -> None:
    """The last write of each module-level name gets what the module may leave in it:
    its value when every path that sets the name sets the same one (else unknown), and
    ``certain`` when every path sets it."""
    if not any(not assign.certain for assign, _ in writes.values()):
        return
    state = _run(module.body, {}, writes)
    last: Dict[str, SettingAssign] = {}
    for assign, _ in writes.values():
        if assign.kind == "module":
            last[assign.key] = assign
    known = {json.dumps(v.value, sort_keys=True): v for _, v in writes.values()
             if isinstance(v, Known)}
    for key, assign in last.items():
        values = state.get(key, {""})
        if assign.certain and values == {json.dumps(getattr(assign.value, "value", None),
                                                     sort_keys=True)}:
            continue
        assign.certain = "" not in values
        set_values = values - {""}
        if len(set_values) == 1 and "?" not in set_values:
            assign.value = known[next(iter(set_values))]
        elif set_values and "?" not in set_values:
            shown = " or ".join(sorted(known[v].source or v for v in set_values))
            assign.value = Unknown(shown[:80])
        elif assign.value.known:
            assign.value = Unknown(short_source(ctx.module_node, module.body[0])
                                   if not assign.value.source else assign.value.source)


def _run(body: Sequence[cst.CSTNode], state: Possible,
         writes: Dict[int, Tuple[SettingAssign, Value]]) -> Possible:
    """What each name may hold after a block runs, from what it may hold before."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                for target in _targets(small):
                    found = writes.get(id(target))
                    if found is not None:
                        assign, value = found
                        state = {**state, assign.key: {_token(value)}}
        elif isinstance(stmt, cst.If):
            taken = _run(stmt.body.body, dict(state), writes)
            other = _run([stmt.orelse] if isinstance(stmt.orelse, cst.If) else
                         stmt.orelse.body.body, dict(state), writes) \
                if stmt.orelse is not None else state
            state = _join(taken, other)
        elif isinstance(stmt, cst.Else):
            state = _run(stmt.body.body, state, writes)
        elif isinstance(stmt, cst.Try):
            # as the writes are marked: the body runs, then a handler may
            state = _run(stmt.body.body, state, writes)
            handled = [_run(h.body.body, dict(state), writes) for h in stmt.handlers]
            if stmt.orelse is not None:
                state = _run(stmt.orelse.body.body, state, writes)
            for other in handled:
                state = _join(state, other)
            if stmt.finalbody is not None:
                state = _run(stmt.finalbody.body.body, state, writes)
        elif isinstance(stmt, (cst.For, cst.While)):
            state = _join(state, _run(stmt.body.body, dict(state), writes))
            if stmt.orelse is not None:
                state = _run(stmt.orelse.body.body, state, writes)
        elif isinstance(stmt, cst.With):
            state = _run(stmt.body.body, state, writes)
    return state


def _targets(small: cst.CSTNode) -> Iterator[cst.CSTNode]:
    if isinstance(small, cst.Assign):
        for target in small.targets:
            node = target.target
            if isinstance(node, (cst.Tuple, cst.List)):
                yield from (e.value for e in node.elements)
            else:
                yield node
    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        yield small.target


def _token(value: Value) -> str:
    return json.dumps(value.value, sort_keys=True) if isinstance(value, Known) else "?"


def _join(one: Possible, other: Possible) -> Possible:
    joined: Possible = {}
    for key in set(one) | set(other):
        joined[key] = one.get(key, {""}) | other.get(key, {""})
    return joined


# -- writes the extractor cannot read -------------------------------------------------------

def _namespace_call(ctx: FileContext, node: cst.CSTNode) -> bool:
    """``globals()``, ``vars()``, ``locals()``: the module's own namespace."""
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) \
        and node.func.value in NAMESPACE_READERS and not node.args \
        and ctx.resolve_strict(node.func.value) == ""


def _writes_namespace(ctx: FileContext, node: cst.Call) -> bool:
    """``globals().update(...)``, ``exec(...)``, or ``globals()`` handed to a call."""
    func = node.func
    if isinstance(func, cst.Attribute) and _namespace_call(ctx, func.value):
        return func.attr.value in ("update", "setdefault", "__setitem__")
    if isinstance(func, cst.Name) and func.value in ("exec", "execfile") \
            and ctx.resolve_strict(func.value) == "":
        return True
    return any(_namespace_call(ctx, arg.value) for arg in node.args)


def _suppresses(ctx: FileContext, node: cst.With) -> bool:
    return any(isinstance(item.item, cst.Call)
               and ctx.resolve(dotted_name(item.item.func) or "") == "contextlib.suppress"
               for item in node.items)


def _reads_environment(ctx: FileContext, node: cst.Call) -> bool:
    """Whether a call reads the environment or a mapping (its result may be nothing)."""
    called = dotted_name(node.func) or ""
    last = called.rpartition(".")[2]
    return last in ("get", "getenv", "environ", "env", "config", "getattr") \
        or ctx.resolve(called).startswith("os.")
