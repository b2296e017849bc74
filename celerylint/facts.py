"""Per-file facts: plain, serialisable data extracted from one Python file.

Everything here is a dataclass of strings, numbers, booleans, lists, dicts and
other fact dataclasses, so a file's facts can be cached and merged without the
syntax tree that produced them.  Positions are 1-based lines and 1-based
columns counted in characters (code points).

One schema for the extractor and the cache: every kind is a closed ``Literal`` type
(checked by mypy where facts are built and read, and by :func:`from_data` when a cache
entry is decoded), a value is :class:`Known` or :class:`Unknown`, and options that
could not be read are said so by :class:`Options`, not by a key among the others.

Kinds are ``Literal`` aliases of plain strings rather than ``Enum`` members: facts stay
plain JSON data with nothing to convert on the way to and from the cache, and a kind
formats the same on every Python (how a ``str``-mixin Enum member formats changed in 3.12).
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Literal, Optional, Tuple, Union

FACTS_VERSION = 8
# Known values nest no deeper than this (celerylint.values refuses deeper ones, the cache
# decoder rejects entries holding them): code walking a value never runs out of stack.
MAX_VALUE_DEPTH = 32


# -- kinds ---------------------------------------------------------------------

# Where a settings key is written: ``Celery(broker=...)``, ``app.conf.update(...)``,
# ``app.conf.x = ...``, ``app.conf["x"] = ...``, a module-level assignment, a class attribute.
SettingKind = Literal["celery-kwarg", "conf-update", "conf-attr", "conf-item", "module", "class"]
# A config source's target: a string (``"proj.settings"``), a name resolved through the
# file's imports, or settings passed in a form that cannot be read (its source text).
TargetKind = Literal["string", "name", "unknown"]
# What makes a task: ``@app.task``, ``@shared_task``, ``app.task(func)``, a Task subclass
# with a ``run`` method, the old ``@periodic_task``; or a decorator of the project that the
# project view may find to be a task preset (``"preset"``: see :class:`TaskPreset`).
TaskDecorator = Literal["app.task", "shared_task", "call", "class", "periodic_task", "preset"]
# How a task preset makes a task: used bare (``@retrying``), called (``@instrumented_task(
# name=...)``), or either (``@nautobot_task`` and ``@nautobot_task(bind=True)``).
PresetUse = Literal["bare", "called", "both"]
# How a dispatch sends: a method called on a task (``signature`` too), ``send_task`` on an
# app, ``signature(...)`` called as a function (``"signature()"``), a canvas function.
DispatchMethod = Literal["delay", "apply_async", "s", "si", "signature", "send_task",
                         "signature()", "chain", "group", "chord"]
# What the caller does with a dispatch's result: throws it away, keeps it (or may), or
# builds a canvas with it.
ResultUse = Literal["discarded", "used", "canvas"]
# Where a beat entry is written: one of the schedule settings, an
# ``add_periodic_task(...)`` call, or a ``@periodic_task`` decorator.
BeatSource = Literal["beat_schedule", "CELERYBEAT_SCHEDULE", "CELERY_BEAT_SCHEDULE",
                     "add_periodic_task", "periodic_task"]
# What makes a crontab schedule: ``celery.schedules.crontab(...)``, or a django-celery-beat
# ``CrontabSchedule`` model made in code (constructed, or ``.objects.create(...)`` and
# ``get_or_create``/``update_or_create``).
CrontabKind = Literal["crontab", "CrontabSchedule"]
# How a name is bound to what may be a Celery app (see :class:`AppBinding`).
BindingKind = Literal["call", "alias", "param", "arg"]
# Where a settings module takes names from outside what it spells out: a django-split-settings
# ``include`` of files, a write the extractor cannot read (``globals().update(...)``), a star
# import that may not run (its module may be missing: no error).
IncludeKind = Literal["split", "unreadable", "optional-star"]
# Why a file has no facts: "syntax" when Python's grammar refuses the text (CEL001 names
# the grammar); "" when it has none of these errors, or cannot be read or decoded, or is
# beyond what the linter analyses.
ErrorKind = Literal["", "syntax"]


@dataclass(frozen=True)
class Loc:
    line: int
    col: int
    end_line: int
    end_col: int


NO_LOC = Loc(1, 1, 1, 1)


# -- values --------------------------------------------------------------------

@dataclass(frozen=True)
class Known:
    """A statically evaluated expression: plain Python data in ``value``: str, int,
    float, bool, None, list, dict (string keys) and tagged dicts for things that are
    not literals:

    - ``{"$timedelta": seconds}`` for ``datetime.timedelta(...)``;
    - ``{"$call": "qualified.name", "args": [...], "kwargs": {...}}`` for calls
      the project view needs to see (``crontab``, ``schedule``, ``Queue``, ...).

    ``overridable`` marks a value that came from the default of an environment
    lookup: the deployed value may differ.  Values are shared: never mutate one.
    """

    value: Any
    source: str = ""
    overridable: bool = False
    known: Literal[True] = field(default=True, init=False)


@dataclass(frozen=True)
class Unknown:
    """An expression whose value cannot be known statically, with its source text for
    messages.  It holds no data: code must ask ``known`` (or ``isinstance``) before it
    reads ``value``, which only :class:`Known` has (mypy says so where it is forgotten),
    so an unknown value is never mistaken for a known None."""

    source: str = ""
    known: Literal[False] = field(default=False, init=False)


Value = Union[Known, Unknown]


def as_seconds(value: Any) -> Optional[float]:
    """Seconds for a known number or ``{"$timedelta": s}`` value, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict) and "$timedelta" in value:
        return float(value["$timedelta"])
    return None


@dataclass
class Options:
    """The options of a task, a dispatch or a beat entry: ``values`` by keyword, and,
    when some options are given in a form the extractor cannot read (``**options``, an
    options dict built elsewhere, a spread that is not a literal), ``unreadable``: the
    source text of the last such part.  Unreadable options may set any key."""

    values: Dict[str, Value] = field(default_factory=dict)
    unreadable: Optional[str] = None

    def may_set(self, key: str) -> bool:
        """Whether the options set ``key``, or may in a part that cannot be read."""
        return key in self.values or self.unreadable is not None

    def update(self, other: Options) -> None:
        """``other`` given after these (``dict(self, **other)``): its values win; the
        result is unreadable when either is (with ``other``'s source text first)."""
        self.values.update(other.values)
        if other.unreadable is not None:
            self.unreadable = other.unreadable


@dataclass
class Expr:
    """What a dispatch argument or a called expression looks like.

    ``shape`` is a normalised dotted form: calls end in ``()``, subscripts in
    ``[]``, e.g. ``User.objects.get().pk`` or ``request.FILES[]``.  The first
    segment is resolved through the file's imports into ``qualname`` when it
    names an import (``pd.read_csv()`` -> ``pandas.read_csv()``).  When the
    expression is a local variable assigned once in the same function, or a
    chain starting from one (``resp.content``, ``f.read()``, ``list(qs)``),
    ``via`` names it and ``shape``/``qualname`` describe the assigned value
    (``requests.get().content``).
    """

    shape: str
    qualname: str = ""
    source: str = ""
    literal_bytes: Optional[int] = None
    via: str = ""
    via_line: int = 0


@dataclass
class Arg:
    loc: Loc
    keyword: Optional[str]
    expr: Expr


@dataclass
class SettingAssign:
    """One key written into a settings source; ``kind`` says which (:data:`SettingKind`)."""

    key: str
    value: Value
    loc: Loc
    kind: SettingKind
    app: str = ""
    container: str = ""
    # False when the write may not happen (under an ``if``, in an ``except`` or a loop):
    # the key may then keep what it held before.  ``value`` is then what it holds
    # whenever this module writes it (unknown when the branches disagree).
    certain: bool = True
    # True when the value, though unknown, is surely something (a value unpacked from a
    # call of the project's own, a string with text of its own): configured, not unset.
    filled: bool = False


@dataclass
class ConfigSource:
    """``app.config_from_object(target, namespace=...)``; also, with target_kind
    "unknown", settings passed in a form that cannot be read
    (``app.conf.update(**options)``, ``Celery(**kwargs)``)."""

    app: str
    target: str
    target_kind: TargetKind
    namespace: Optional[str]
    loc: Loc


@dataclass
class AppFact:
    var: str  # module-level name the app is bound to ("" when not bound)
    qualname: str
    main: Optional[str]
    loc: Loc
    cls: str  # qualified name of the class called
    namespace: Optional[str] = None
    # True when the extractor cannot tell whether ``cls`` is a Celery class (a class of
    # another module): the project view keeps the app only when its bases reach Celery.
    candidate: bool = False


@dataclass
class AppBinding:
    """A name that may refer to a Celery app made elsewhere, and what it is bound to.

    ``name`` is a qualified name: ``mod.app`` (module level), ``mod.func.app`` (a local or
    a parameter of a function), ``mod.func()`` (what a function returns).  ``kind`` says
    how: ``call``: ``name = target(...)``; ``alias``: ``name = target`` (also ``return
    target`` and ``functools.partial(target, ...)``); ``param``: the parameter ``name`` of
    function ``target``, at ``position`` (1-based) or by its own last segment as keyword;
    ``arg``: the app ``target`` passed to function ``name`` at ``position`` or as
    ``keyword``."""

    name: str
    target: str
    kind: BindingKind
    line: int = 0
    position: int = 0
    keyword: str = ""


@dataclass
class SettingsInclude:
    """A place where a settings module takes names from outside what it spells out
    (:data:`IncludeKind`): ``split``, ``pattern`` a glob relative to the module's folder;
    ``unreadable``, ``pattern`` ""; ``optional-star``, ``pattern`` the module star-imported.
    ``optional`` when a missing file is no error (``optional(...)``, under a condition)."""

    kind: IncludeKind
    pattern: str
    optional: bool
    line: int
    source: str = ""


@dataclass
class Call:
    """A call seen inside a function body (a 'trait' source for rules)."""

    shape: str
    qualname: str
    loc: Loc
    keywords: List[str] = field(default_factory=list)
    switch: Optional[CallSwitch] = None


@dataclass
class CallSwitch:
    """The project setting that turns a call on or sizes it: ``time.sleep(settings.DELAY)``,
    ``time.sleep(getattr(settings, "DELAY", 0))``, or a call in the body of an
    ``if settings.SLOW:`` (``getattr`` too) in the same function.  ``name`` is the
    uppercase name read from a ``settings`` object; ``default`` the value ``getattr``
    falls back to (unknown when none is given)."""

    name: str
    default: Value = field(default_factory=Unknown)


@dataclass
class FunctionFact:
    """A function or method body, reduced to what rules look at."""

    name: str  # dotted within the module: "f", "Cls.method"
    loc: Loc
    calls: List[Call] = field(default_factory=list)
    early_return_line: int = 0  # first `if ...: return` at the top of the body (0 = none)
    with_items: List[str] = field(default_factory=list)  # shapes used in `with`


@dataclass
class TaskFact:
    func: str  # function name in the module ("" for Task subclasses without run)
    qualname: str  # module.func
    loc: Loc  # the function name (or class name) position
    decorator: TaskDecorator
    app: str = ""  # qualified name of the app for @app.task, "" for shared tasks
    name: Optional[str] = None  # explicit name=, when known
    options: Options = field(default_factory=Options)
    option_locs: Dict[str, Loc] = field(default_factory=dict)
    bases: List[str] = field(default_factory=list)  # qualified names of base classes / base=
    bind: bool = False
    function: str = ""  # name of the FunctionFact holding the body ("Cls.run" for classes)
    # the qualified name of the Celery decorator ("celery.shared_task", "celery.task", ...)
    celery_decorator: str = ""
    # decorator "preset": the decorator's qualified name, whether it was called, and the
    # positional arguments of the call (its keywords are in options)
    preset: str = ""
    preset_called: bool = False
    preset_args: List[Value] = field(default_factory=list)
    preset_arg_locs: List[Loc] = field(default_factory=list)


@dataclass
class TaskPreset:
    """A name that makes tasks when it decorates a function, with options of its own.

    An alias of a task decorator (``nautobot_task = shared_task``, ``task = app.task``), a
    decorator with options bound (``retrying = shared_task(acks_late=True)``,
    ``partial(app.task, queue="io")``), or a function (or a method of a Celery subclass)
    whose body applies one (``def instrumented_task(name, **kwargs): ... app.task(name=name,
    **kwargs)``).  ``target`` is what it applies: a Celery decorator's qualified name,
    ``<app>.task`` (``self.task`` in a method: the app it is called on), or another name that
    the project view resolves to a preset.  Options a decorated task gets: ``options``
    (bound), the call's keywords that name a parameter in ``param_options`` (as that option),
    the other keywords when ``forwards`` (minus ``dropped``), then ``defaults`` for the keys
    still unset; a call's positional arguments fill ``params`` in order."""

    name: str  # dotted within the module: "retrying", "IndicoCelery.periodic_task"
    loc: Loc
    use: PresetUse
    target: str
    decorator: TaskDecorator  # the target's kind; "preset" when it is another preset
    app: str = ""  # qualified name of the app for "app.task" ("self": the receiver's app)
    options: Options = field(default_factory=Options)
    option_locs: Dict[str, Loc] = field(default_factory=dict)
    defaults: Dict[str, Value] = field(default_factory=dict)
    bases: List[str] = field(default_factory=list)  # qualified names of a bound base=
    params: List[str] = field(default_factory=list)
    param_options: Dict[str, str] = field(default_factory=dict)
    forwards: bool = False
    dropped: List[str] = field(default_factory=list)
    schedule: str = ""  # the call keyword holding a beat schedule the preset adds ("" none)


@dataclass
class Dispatch:
    """A place that sends (or prepares to send) a task message."""

    loc: Loc
    method: DispatchMethod
    receiver: str  # dotted text of the receiver ("tasks.add", "self.app")
    receiver_qualname: str  # the receiver resolved through imports / module scope
    task_name: Optional[str] = None  # string name for send_task / signature("...")
    args: List[Arg] = field(default_factory=list)
    options: Options = field(default_factory=Options)
    result_use: ResultUse = "used"
    function: str = ""  # enclosing function ("" at module level)


@dataclass
class BeatEntry:
    loc: Loc  # the entry's key (dict form) or the call (add_periodic_task / @periodic_task)
    name: Optional[str]
    task: Optional[str]  # task name string
    task_ref: str  # qualified name of the task object (add_periodic_task(sig), @periodic_task)
    schedule: Value
    schedule_loc: Loc
    setting: BeatSource  # the settings key or the form it came from
    options: Options = field(default_factory=Options)
    app: str = ""
    # the qualified name an imported constant schedule refers to (``HEARTBEAT_FREQUENCY``
    # from another module), for the project view to read; "" when the schedule is not one
    schedule_ref: str = ""


@dataclass
class CrontabFact:
    """A crontab schedule made in code (:data:`CrontabKind`) with the fields it is given
    by name (a ``crontab`` call's positional arguments named as ``crontab`` names them);
    a field left out is Celery's (and django-celery-beat's) ``"*"``.  ``unreadable``
    when some arguments cannot be read (``*args``, ``**kwargs``, positional arguments of
    a model): any field may be given there."""

    loc: Loc
    kind: CrontabKind
    fields: Dict[str, Value] = field(default_factory=dict)
    unreadable: bool = False


@dataclass
class ImportFact:
    local: str
    target: str  # fully qualified module or module.attr
    star: bool = False
    line: int = 0


@dataclass
class NoqaComment:
    """A ``# noqa: CODES`` comment (one that names codes) and the lines it covers: the
    lines of its token range, as flake8 reads them (celerylint.parse.noqa_lines)."""

    loc: Loc  # from the "#" to the end of the last code
    codes: List[str]  # as written, upper-cased, in their order
    first_line: int
    last_line: int


@dataclass
class SyntaxFeature:
    """The first place in a file of a construct that needs a newer Python."""

    name: str  # "match statements", "type parameters", ...
    version: List[int]  # [major, minor] of the first Python that accepts it
    loc: Loc


@dataclass
class FileFacts:
    path: str  # relative, "/" separators
    module: str
    version: int = FACTS_VERSION
    error: Optional[str] = None  # decode/parse error message -> CEL001
    error_loc: Optional[Loc] = None
    error_kind: ErrorKind = ""
    internal_error: Optional[str] = None  # a crash of the linter on this file (exit code 2)
    imports: List[ImportFact] = field(default_factory=list)
    apps: List[AppFact] = field(default_factory=list)
    config_sources: List[ConfigSource] = field(default_factory=list)
    settings: List[SettingAssign] = field(default_factory=list)
    class_bases: Dict[str, List[str]] = field(default_factory=dict)
    tasks: List[TaskFact] = field(default_factory=list)
    presets: List[TaskPreset] = field(default_factory=list)
    functions: List[FunctionFact] = field(default_factory=list)
    dispatches: List[Dispatch] = field(default_factory=list)
    beat: List[BeatEntry] = field(default_factory=list)
    django_settings_module: Optional[str] = None
    django_configuration: Optional[str] = None  # django-configurations' DJANGO_CONFIGURATION
    bindings: List[AppBinding] = field(default_factory=list)
    includes: List[SettingsInclude] = field(default_factory=list)
    # uppercase names the code reads from a settings object (`settings.CELERY_APP_NAME`)
    setting_reads: List[str] = field(default_factory=list)
    # names read back from an app's settings: ``<app>.conf.NAME``, ``<app>.conf["NAME"]``,
    # ``<app>.conf.get("NAME")``, ``getattr(<app>.conf, "NAME")``
    conf_reads: List[str] = field(default_factory=list)
    crontabs: List[CrontabFact] = field(default_factory=list)
    noqa: Dict[int, List[str]] = field(default_factory=dict)  # line -> codes ([] = all)
    # the file-level noqa comment (celerylint's or flake8's): None, or codes ([] = all)
    file_noqa: Optional[List[str]] = None
    noqa_comments: List[NoqaComment] = field(default_factory=list)
    syntax: List[SyntaxFeature] = field(default_factory=list)


# -- serialisation ---------------------------------------------------------

def to_data(obj: Any) -> Any:
    """Facts -> JSON-compatible data (dataclasses become dicts)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, list):
        return [to_data(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in obj.items()}
    return obj


Decoder = Callable[[Any], Any]
_DECODERS: Dict[Any, Decoder] = {}
MAX_FIELD_INT = 2 ** 63 - 1


class InvalidFacts(ValueError):
    """Data that is not facts of the expected shape (a damaged or forged cache entry)."""


def from_data(data: Any) -> FileFacts:
    """Inverse of :func:`to_data` for a whole file's facts, from data as ``json.loads``
    gives it.  Strict: every field has the type its hint names (an int is an int, not a
    bool or a string; a location holds positive ints; a kind is one of its Literal's
    members), every dataclass has exactly its fields, a value is a known one holding plain
    JSON data nested at most MAX_VALUE_DEPTH deep or an unknown one holding none;
    anything else raises InvalidFacts.  Facts of an older shape are refused by the same
    rules (options as a plain dict holding "$unknown", a field that is gone)."""
    facts: FileFacts = _decoder(FileFacts)(data)
    return facts


def _decoder(tp: Any) -> Decoder:
    """A function checking JSON data against ``tp`` and turning it back into ``tp``,
    built once per type from the type hints, so that reading thousands of cache
    entries does no type introspection."""
    if tp not in _DECODERS:
        _DECODERS[tp] = _build_decoder(tp)
    return _DECODERS[tp]


def _invalid(data: Any, expected: str) -> InvalidFacts:
    return InvalidFacts(f"expected {expected}, got {type(data).__name__}")


def _decode_str(data: Any) -> str:
    if type(data) is not str:
        raise _invalid(data, "str")
    return data


def _decode_bool(data: Any) -> bool:
    if type(data) is not bool:
        raise _invalid(data, "bool")
    return data


def _decode_int(data: Any) -> int:
    """Counts, line numbers (0 for none) and versions: never negative."""
    if type(data) is not int or not 0 <= data <= MAX_FIELD_INT:
        raise _invalid(data, "int >= 0")
    return data


def _decode_line_key(key: str) -> int:
    """A line number written as an object key: "10", not "010", " 10" or "ten"."""
    if not (key.isascii() and key.isdigit() and key[0] != "0") or len(key) > 18:
        raise InvalidFacts(f"expected a line number, got {key[:20]!r}")
    return int(key)


_LOC_KEYS = frozenset(("line", "col", "end_line", "end_col"))


def _decode_loc(data: Any) -> Loc:
    if type(data) is not dict or data.keys() != _LOC_KEYS:
        raise _invalid(data, "a location")
    line, col, end_line, end_col = data["line"], data["col"], data["end_line"], data["end_col"]
    if not (type(line) is int and type(col) is int and type(end_line) is int
            and type(end_col) is int and line > 0 and col > 0 and end_line > 0 and end_col > 0
            and max(line, col, end_line, end_col) <= MAX_FIELD_INT):
        raise InvalidFacts("a location holds positive ints")
    return Loc(line, col, end_line, end_col)


_KNOWN_KEYS = frozenset(("known", "value", "source", "overridable"))
_UNKNOWN_KEYS = frozenset(("known", "source"))
_SCALAR_TYPES = (str, int, float, bool, type(None))


def _decode_value(data: Any) -> Value:
    """A :class:`Known` (its data plain JSON) or an :class:`Unknown` (no data at all)."""
    if type(data) is not dict:
        raise _invalid(data, "a value")
    known = data.get("known")
    if known is False and data.keys() == _UNKNOWN_KEYS:
        if type(data["source"]) is not str:
            raise InvalidFacts("an unknown value's source is a str")
        return Unknown(data["source"])
    if known is not True or data.keys() != _KNOWN_KEYS:
        raise _invalid(data, "a known or an unknown value")
    value, source, overridable = data["value"], data["source"], data["overridable"]
    if type(source) is not str or type(overridable) is not bool:
        raise InvalidFacts("a known value's source and overridable are str, bool")
    if type(value) not in _SCALAR_TYPES:
        _check_plain(value, MAX_VALUE_DEPTH)
    return Known(value, source, overridable)


_CALL_KEYS = frozenset(("$call", "args", "kwargs"))


def _check_plain(data: Any, depth: int) -> None:
    """Plain JSON data nested at most `depth` deep, tagged dicts of the right shape."""
    if type(data) in _SCALAR_TYPES:
        return
    if depth <= 0:
        raise InvalidFacts("a value nested too deeply")
    if type(data) is list:
        for item in data:
            if type(item) not in _SCALAR_TYPES:
                _check_plain(item, depth - 1)
        return
    if type(data) is not dict:
        raise _invalid(data, "plain data")
    if "$timedelta" in data:
        seconds = data["$timedelta"]
        if len(data) != 1 or type(seconds) not in (int, float):
            raise InvalidFacts("a timedelta holds its seconds only")
        return
    if "$call" in data and (data.keys() != _CALL_KEYS or type(data["$call"]) is not str
                            or type(data["args"]) is not list or type(data["kwargs"]) is not dict):
        raise InvalidFacts("a call holds its name, args and kwargs")
    for item in data.values():
        if type(item) not in _SCALAR_TYPES:
            _check_plain(item, depth - 1)


def _build_decoder(tp: Any) -> Decoder:
    special = {str: _decode_str, bool: _decode_bool, int: _decode_int, Loc: _decode_loc,
               Value: _decode_value}
    if tp in special:
        return special[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return _one_of(args)
    if origin is typing.Union:
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1 or len(args) != 2:
            raise TypeError(f"no decoder for {tp}")
        return _optional(_decoder(inner[0]))
    if origin in (list, List):
        return _list_of(args[0])
    if origin in (dict, Dict):
        return _dict_of(args[0], args[1])
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass(tp)
    raise TypeError(f"no decoder for {tp}")


def _one_of(members: Tuple[str, ...]) -> Decoder:
    """A kind: one of the Literal's members, nothing else (not even an equal value of
    another type: ``1`` is not ``True``)."""
    types = frozenset(type(m) for m in members)
    allowed = frozenset((type(m), m) for m in members)
    shown = ", ".join(repr(m) for m in members)

    def one_of(data: Any) -> Any:
        if type(data) not in types or (type(data), data) not in allowed:
            raise InvalidFacts(f"expected one of {shown}, got {str(data)[:20]!r}")
        return data
    return one_of


def _optional(decode: Decoder) -> Decoder:
    def optional(data: Any) -> Any:
        return None if data is None else decode(data)
    return optional


def _list_of(item_type: Any) -> Decoder:
    if item_type is str:
        def strings(data: Any) -> List[str]:
            if type(data) is not list:
                raise _invalid(data, "a list")
            for item in data:
                if type(item) is not str:
                    raise _invalid(item, "str")
            return data
        return strings
    item = _decoder(item_type)

    def items(data: Any) -> List[Any]:
        if type(data) is not list:
            raise _invalid(data, "a list")
        return [item(x) for x in data]
    return items


def _dict_of(key_type: Any, value_type: Any) -> Decoder:
    value = _decoder(value_type)
    if key_type is int:
        def by_line(data: Any) -> Dict[int, Any]:
            if type(data) is not dict:
                raise _invalid(data, "a dict")
            return {_decode_line_key(k): value(v) for k, v in data.items()}
        return by_line
    if key_type is not str:
        raise TypeError(f"no decoder for keys of {key_type}")

    def by_name(data: Any) -> Dict[str, Any]:  # JSON object keys are str already
        if type(data) is not dict:
            raise _invalid(data, "a dict")
        return {k: value(v) for k, v in data.items()}
    return by_name


def _dataclass(tp: Any) -> Decoder:
    hints = typing.get_type_hints(tp)
    if any(not f.init for f in dataclasses.fields(tp)):
        raise TypeError(f"no decoder for {tp.__name__}: a field it does not take")
    names = frozenset(hints)
    fields = tuple((name, _decoder(hint)) for name, hint in hints.items())

    def decode(data: Any) -> Any:
        if type(data) is not dict or data.keys() != names:
            raise _invalid(data, f"exactly the fields of {tp.__name__}")
        return tp(**{name: field(data[name]) for name, field in fields})
    return decode
