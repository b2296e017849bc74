"""Per-file facts: plain, serialisable data extracted from one Python file.

Everything here is a dataclass of strings, numbers, booleans, lists, dicts and
other fact dataclasses, so a file's facts can be cached and merged without the
syntax tree that produced them.  Positions are 1-based lines and 1-based
columns counted in characters (code points).
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

FACTS_VERSION = 2
# Known values nest no deeper than this (celerylint.values refuses deeper ones, the cache
# decoder rejects entries holding them): code walking a value never runs out of stack.
MAX_VALUE_DEPTH = 32


@dataclass(frozen=True)
class Loc:
    line: int
    col: int
    end_line: int
    end_col: int


NO_LOC = Loc(1, 1, 1, 1)


@dataclass
class Value:
    """A statically evaluated expression.

    ``known`` values hold plain Python data in ``value``: str, int, float,
    bool, None, list, dict (string keys) and tagged dicts for things that are
    not literals:

    - ``{"$timedelta": seconds}`` for ``datetime.timedelta(...)``;
    - ``{"$call": "qualified.name", "args": [...], "kwargs": {...}}`` for calls
      the project view needs to see (``crontab``, ``schedule``, ``Queue``, ...).

    ``overridable`` marks a value that came from the default of an environment
    lookup: the deployed value may differ.  Unknown values keep their source
    text for messages.
    """

    known: bool
    value: Any = None
    source: str = ""
    overridable: bool = False

    @staticmethod
    def unknown(source: str = "") -> "Value":
        return Value(False, None, source)



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
    """One key written into a settings source.

    ``kind`` says which source: ``celery-kwarg`` (``Celery(broker=...)``),
    ``conf-update`` (``app.conf.update(...)``), ``conf-attr``
    (``app.conf.x = ...``), ``conf-item`` (``app.conf["x"] = ...``),
    ``module`` (module-level assignment), ``class`` (class attribute).
    """

    key: str
    value: Value
    loc: Loc
    kind: str
    app: str = ""
    container: str = ""


@dataclass
class ConfigSource:
    """``app.config_from_object(target, namespace=...)``; also, with target_kind
    "unknown", settings passed in a form that cannot be read
    (``app.conf.update(**options)``, ``Celery(**kwargs)``)."""

    app: str
    target: str
    target_kind: str  # "string" | "name" (a name resolved through imports) | "unknown"
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


@dataclass
class Call:
    """A call seen inside a function body (a 'trait' source for rules)."""

    shape: str
    qualname: str
    loc: Loc
    keywords: List[str] = field(default_factory=list)
    in_with: bool = False  # used as a context manager


@dataclass
class FunctionFact:
    """A function or method body, reduced to what rules look at."""

    name: str  # dotted within the module: "f", "Cls.method"
    loc: Loc
    calls: List[Call] = field(default_factory=list)
    early_return_line: int = 0  # first `if ...: return` at the top of the body (0 = none)
    with_items: List[str] = field(default_factory=list)  # shapes used in `with`
    augmented_attrs: List[str] = field(default_factory=list)  # `x.y += n` targets


@dataclass
class TaskFact:
    func: str  # function name in the module ("" for Task subclasses without run)
    qualname: str  # module.func
    loc: Loc  # the function name (or class name) position
    decorator: str  # "app.task" | "shared_task" | "call" | "class" | "periodic_task"
    app: str = ""  # qualified name of the app for @app.task, "" for shared tasks
    name: Optional[str] = None  # explicit name=, when known
    options: Dict[str, Value] = field(default_factory=dict)
    option_locs: Dict[str, Loc] = field(default_factory=dict)
    bases: List[str] = field(default_factory=list)  # qualified names of base classes / base=
    bind: bool = False
    function: str = ""  # name of the FunctionFact holding the body ("Cls.run" for classes)


@dataclass
class Dispatch:
    """A place that sends (or prepares to send) a task message."""

    loc: Loc
    method: str  # delay | apply_async | s | si | signature | send_task | signature() | chain | group | chord
    receiver: str  # dotted text of the receiver ("tasks.add", "self.app")
    receiver_qualname: str  # the receiver resolved through imports / module scope
    task_name: Optional[str] = None  # string name for send_task / signature("...")
    args: List[Arg] = field(default_factory=list)
    options: Dict[str, Value] = field(default_factory=dict)
    result_use: str = "used"  # "discarded" | "used" | "canvas"
    function: str = ""  # enclosing function ("" at module level)


@dataclass
class BeatEntry:
    loc: Loc  # the entry's key (dict form) or the call (add_periodic_task / @periodic_task)
    name: Optional[str]
    task: Optional[str]  # task name string
    task_ref: str  # qualified name of the task object (add_periodic_task(sig), @periodic_task)
    schedule: Value
    schedule_loc: Loc
    options: Dict[str, Value] = field(default_factory=dict)
    setting: str = ""  # the settings key / form it came from
    app: str = ""


@dataclass
class ImportFact:
    local: str
    target: str  # fully qualified module or module.attr
    star: bool = False
    line: int = 0


@dataclass
class FileFacts:
    path: str  # relative, "/" separators
    module: str
    version: int = FACTS_VERSION
    error: Optional[str] = None  # decode/parse error message -> CEL001
    error_loc: Optional[Loc] = None
    internal_error: Optional[str] = None  # a crash of the linter on this file (exit code 2)
    imports: List[ImportFact] = field(default_factory=list)
    apps: List[AppFact] = field(default_factory=list)
    config_sources: List[ConfigSource] = field(default_factory=list)
    settings: List[SettingAssign] = field(default_factory=list)
    class_bases: Dict[str, List[str]] = field(default_factory=dict)
    tasks: List[TaskFact] = field(default_factory=list)
    functions: List[FunctionFact] = field(default_factory=list)
    dispatches: List[Dispatch] = field(default_factory=list)
    beat: List[BeatEntry] = field(default_factory=list)
    django_settings_module: Optional[str] = None
    # uppercase names the code reads from a settings object (`settings.CELERY_APP_NAME`)
    setting_reads: List[str] = field(default_factory=list)
    noqa: Dict[int, List[str]] = field(default_factory=dict)  # line -> codes ([] = all)


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


def _decoder(tp: Any) -> Decoder:
    """A function turning JSON data back into ``tp``, built once per type from the
    type hints, so that reading thousands of cache entries does no type introspection."""
    if tp not in _DECODERS:
        _DECODERS[tp] = _build_decoder(tp)
    return _DECODERS[tp]


def _identity(data: Any) -> Any:
    return data


def _build_decoder(tp: Any) -> Decoder:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union:
        inner = [a for a in args if a is not type(None)]
        return _decoder(inner[0]) if len(inner) == 1 else _identity
    if origin in (list, List):
        item = _decoder(args[0])
        if item is _identity:
            return list
        return lambda data: [item(x) for x in data]
    if origin in (dict, Dict):
        key, value = (int if args[0] is int else str), _decoder(args[1])
        return lambda data: {key(k): value(v) for k, v in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        fields = {name: _decoder(hint) for name, hint in typing.get_type_hints(tp).items()}

        def decode(data: Dict[str, Any]) -> Any:
            return tp(**{k: None if v is None else fields[k](v) for k, v in data.items()})
        return decode
    return _identity


def from_data(data: Dict[str, Any]) -> FileFacts:
    """Inverse of :func:`to_data` for a whole file's facts."""
    return _decoder(FileFacts)(data)
