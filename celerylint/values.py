"""Static evaluation of expressions into :class:`~celerylint.facts.Value`.

Only what is safe to know without running code is evaluated: literals, names
bound once at module level, arithmetic on known numbers, ``timedelta``,
schedule and queue constructors, and environment look-ups with a default (the
default is the value, marked overridable).  Everything else is unknown.

A known value is what Python would compute, never an approximation: where the
plain data of a value cannot tell Python's types apart (a tuple and a list are
both lists here, a ``timedelta`` is a tagged dict), an operation whose result
would depend on the difference is unknown.

Evaluation has budgets, so hostile constants cannot hang the linter or exhaust
its memory (``a1 = a0 + a0`` twenty times over, ``'a' * 3000000000``):

- a module-level constant is evaluated once per file and then shared, through at
  most ``MAX_NAME_DEPTH`` other names;
- a value holds at most ``MAX_VALUE_SIZE`` units (an element, a key, a character,
  64 bits of an int), nests at most ``MAX_VALUE_DEPTH`` deep, and an int has at most
  ``MAX_INT_BITS`` bits; the size of a repetition or concatenation is known before
  it is computed;
- per file, at most ``MAX_STEPS`` expression nodes are visited, at most
  ``MAX_FILE_BUILT`` units built, and at most ``MAX_FILE_RESULTS`` units handed out
  as results (a shared value named by a thousand settings is copied into each).

Past any budget the value is unknown.  Values are shared between the facts that
hold them: nothing may mutate a value.
"""
from __future__ import annotations

import operator
import re
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Set, Tuple, Union

import libcst as cst

from celerylint.facts import MAX_VALUE_DEPTH, Known, Unknown, Value

MAX_SOURCE = 80
MAX_VALUE_SIZE = 200_000
MAX_INT_BITS = 256
MAX_NUMBER_TEXT = 320  # characters of an int literal or of a string given to int()/float()
MAX_FORMAT_WIDTH = 99  # '%5d' yes, '%0999999999d' no
MAX_NAME_DEPTH = 64  # a constant defined through more names than this is unknown
MAX_STEPS = 1_000_000
MAX_FILE_BUILT = 4_000_000
MAX_FILE_RESULTS = 2_000_000
# Python's timedelta refuses more than 999999999 days.
MAX_TIMEDELTA_SECONDS = 999_999_999 * 86_400 + 86_399.999999

TIMEDELTA = {"datetime.timedelta"}
TAGGED_CALLS = {
    "celery.schedules.crontab": "celery.schedules.crontab",
    "celery.schedules.schedule": "celery.schedules.schedule",
    "celery.schedules.solar": "celery.schedules.solar",
    "celery.task.schedules.crontab": "celery.schedules.crontab",
    "celery.crontab": "celery.schedules.crontab",
    "kombu.Queue": "kombu.Queue",
    "kombu.Exchange": "kombu.Exchange",
    "kombu.entity.Queue": "kombu.Queue",
    "kombu.entity.Exchange": "kombu.Exchange",
    "celery.Celery": "celery.Celery",
}
TAG_KEYS = {"$call", "$timedelta"}
ENV_GETTERS = {"os.environ.get", "os.getenv", "os.environ.setdefault"}
# django-environ / environs / python-decouple style readers: env("X", default=...)
ENV_READER_NAMES = {"env", "config", "getenv", "env_var"}
ENV_READER_METHODS = {"str", "int", "float", "bool", "list", "json", "dict", "url", "db", "cache"}
CONVERTERS: Dict[str, Callable[[Any], Any]] = {"int": int, "float": float, "str": str, "bool": bool}
TIME_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1,
              "milliseconds": 0.001, "microseconds": 0.000001}
BINARY_OPS: Dict[type, Callable[[Any, Any], Any]] = {
    cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul,
    cst.Divide: operator.truediv, cst.FloorDivide: operator.floordiv, cst.Modulo: operator.mod,
}
LITERAL_NAMES = {"True": True, "False": False, "None": None}

# What Python type a value had: the plain data alone cannot tell a tuple from a list,
# bytes from str, or a timedelta (a tagged dict) from a dict.
NUMBERS = {"int", "float"}
SCALARS = {"int", "float", "bool", "none", "str"}
SEQUENCES = {"str", "bytes", "list", "tuple"}  # concatenated with +, repeated with *
PLAIN = SCALARS | {"bytes", "list", "tuple", "set", "dict"}  # truth value as Python's
KIND_OF_NODE = {cst.List: "list", cst.Tuple: "tuple", cst.Set: "set"}
KIND_OF_TYPE = {int: "int", float: "float", bool: "bool", type(None): "none", str: "str"}
UNBOUNDED_FORMAT = re.compile(
    r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d{3,})|%(?:\([^)]*\))?[#0 +-]*\d*\.(?:\*|\d{3,})"
)


def short_source(module: cst.Module, node: cst.CSTNode) -> str:
    text = " ".join(module.code_for_node(node).split())
    return text if len(text) <= MAX_SOURCE else text[: MAX_SOURCE - 3] + "..."


def dotted_name(node: cst.CSTNode) -> Optional[str]:
    """``a.b.c`` for Name/Attribute chains, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


class Evaluated(NamedTuple):
    """A value during evaluation: its data, its Python kind and what it costs."""

    data: Any
    kind: str  # see KIND_OF_TYPE, SEQUENCES, PLAIN; "call" and "timedelta" for tagged dicts
    size: int = 1  # units once written out in full (shared parts counted each time)
    depth: int = 0  # nesting of lists and dicts
    overridable: bool = False
    flat: bool = False  # a list, tuple or set whose items are all SCALARS


class Evaluator:
    """Evaluates expressions of one module.

    ``resolve`` maps a dotted name to its qualified name through the file's
    imports; ``constants`` holds module-level names bound exactly once.
    """

    def __init__(self, module: cst.Module, resolve: Callable[[str], str],
                 constants: Dict[str, cst.BaseExpression]):
        self.module = module
        self.resolve = resolve
        self.constants = constants
        self._active: Set[str] = set()
        self._names: Dict[str, Optional[Evaluated]] = {}
        self._steps = 0
        self._built = 0
        self._results = 0

    def source(self, node: cst.CSTNode) -> str:
        return short_source(self.module, node)

    def evaluate(self, node: cst.CSTNode) -> Value:
        known = self._attempt(node)
        if known is None or self._results + known.size > MAX_FILE_RESULTS:
            return Unknown(self.source(node))
        self._results += known.size
        return Known(known.data, overridable=known.overridable)

    def _attempt(self, node: cst.CSTNode) -> Optional[Evaluated]:
        try:
            return self._eval(node)
        except (ArithmeticError, ValueError, TypeError, RecursionError):
            return None

    def _new(self, data: Any, kind: str, size: int = 1, depth: int = 0,
             overridable: bool = False, flat: bool = False) -> Optional[Evaluated]:
        """A value just built, or None past a budget."""
        if size > MAX_VALUE_SIZE or depth > MAX_VALUE_DEPTH:
            return None
        self._built += size
        return Evaluated(data, kind, size, depth, overridable, flat)

    def _scalar(self, data: Any, overridable: bool = False) -> Optional[Evaluated]:
        kind = KIND_OF_TYPE.get(type(data))
        if kind is None:
            return None
        if kind == "int":
            bits = data.bit_length()
            if bits > MAX_INT_BITS:
                return None
            return self._new(data, kind, 1 + bits // 64, 0, overridable)
        return self._new(data, kind, 1 + len(data) if kind == "str" else 1, 0, overridable)

    # Each _eval_* returns a Evaluated or None (unknown).
    def _eval(self, node: cst.CSTNode) -> Optional[Evaluated]:
        self._steps += 1
        if self._steps > MAX_STEPS or self._built > MAX_FILE_BUILT:
            return None
        if isinstance(node, cst.Integer):
            text = node.value.replace("_", "")
            return self._scalar(int(text, 0)) if len(text) <= MAX_NUMBER_TEXT else None
        if isinstance(node, cst.Float):
            return self._scalar(float(node.value.replace("_", "")))
        if isinstance(node, cst.SimpleString):
            raw = node.evaluated_value
            if isinstance(raw, bytes):
                return self._new(raw.decode("latin-1"), "bytes", 1 + len(raw))
            return self._scalar(raw)
        if isinstance(node, cst.ConcatenatedString):
            return self._binary(cst.Add(), node.left, node.right)
        if isinstance(node, cst.FormattedString):
            text = "".join(p.value for p in node.parts if isinstance(p, cst.FormattedStringText))
            if all(isinstance(p, cst.FormattedStringText) for p in node.parts) \
                    and not any(c in text for c in "\\{}"):  # escapes: the source is not the value
                return self._scalar(text)
            return None
        if isinstance(node, cst.Name):
            return self._eval_name(node.value)
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            return self._eval_sequence(node)
        if isinstance(node, cst.Dict):
            return self._eval_dict(node)
        if isinstance(node, cst.UnaryOperation):
            return self._eval_unary(node)
        if isinstance(node, cst.BinaryOperation):
            return self._binary(node.operator, node.left, node.right)
        if isinstance(node, cst.Call):
            return self._eval_call(node)
        return None

    def _eval_name(self, name: str) -> Optional[Evaluated]:
        if name in LITERAL_NAMES:
            return self._scalar(LITERAL_NAMES[name])
        if name in self._names:
            return self._names[name]
        bound = self.constants.get(name)
        if bound is None or name in self._active or len(self._active) >= MAX_NAME_DEPTH:
            # In a cycle every name is unknown, whichever is asked first: memoising what
            # a name gave inside the cycle is safe.  Past the depth budget a name is
            # unknown for the rest of the file, wherever it is asked from.
            return None
        self._active.add(name)
        try:
            result = self._attempt(bound)
        finally:
            self._active.discard(name)
        self._names[name] = result
        return result

    def _binary(self, operator_node: cst.CSTNode, left_node: cst.CSTNode,
                right_node: cst.CSTNode) -> Optional[Evaluated]:
        op = BINARY_OPS.get(type(operator_node))
        if op is None:
            return None
        left = self._eval(left_node)
        right = self._eval(right_node) if left is not None else None
        if left is None or right is None:
            return None
        overridable = left.overridable or right.overridable
        if left.kind in NUMBERS and right.kind in NUMBERS:
            return self._scalar(op(left.data, right.data), overridable)
        if op is operator.add and left.kind == right.kind and left.kind in SEQUENCES:
            return self._new(left.data + right.data, left.kind, left.size + right.size - 1,
                             max(left.depth, right.depth), overridable, left.flat and right.flat)
        if op is operator.mul:
            return self._repeat(left, right) if right.kind == "int" else self._repeat(right, left)
        if op is operator.mod and left.kind == "str":
            return self._format(left, right)
        return None

    def _repeat(self, sequence: Evaluated, count: Evaluated) -> Optional[Evaluated]:
        if sequence.kind not in SEQUENCES or count.kind != "int":
            return None
        times = max(count.data, 0)
        size = 1 + (sequence.size - 1) * times
        if size > MAX_VALUE_SIZE:  # known before the repetition is built
            return None
        return self._new(sequence.data * times, sequence.kind, size, sequence.depth,
                         sequence.overridable or count.overridable, sequence.flat)

    def _format(self, template: Evaluated, arguments: Evaluated) -> Optional[Evaluated]:
        """``'...' % x``: a tuple of scalars spreads into the arguments; a list, a dict or
        bytes would print otherwise than their data here, so unknown."""
        if UNBOUNDED_FORMAT.search(template.data):
            return None
        if arguments.kind == "tuple" and arguments.flat:
            data = template.data % tuple(arguments.data)
        elif arguments.kind in SCALARS:
            data = template.data % arguments.data
        else:
            return None
        return self._scalar(data, template.overridable or arguments.overridable)

    def _eval_unary(self, node: cst.UnaryOperation) -> Optional[Evaluated]:
        inner = self._eval(node.expression)
        if inner is None:
            return None
        if isinstance(node.operator, cst.Not):
            return self._scalar(not inner.data, inner.overridable) if inner.kind in PLAIN else None
        if inner.kind not in NUMBERS:
            return None
        if isinstance(node.operator, cst.Minus):
            return self._scalar(-inner.data, inner.overridable)
        if isinstance(node.operator, cst.Plus):
            return inner
        return None

    def _eval_sequence(self, node: Union[cst.List, cst.Tuple, cst.Set]) -> Optional[Evaluated]:
        kind = KIND_OF_NODE[type(node)]
        items = []
        overridable = False
        size, depth, flat = 1, 0, True
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                return None
            value = self._eval(element.value)
            if value is None:
                return None
            size += value.size
            if size > MAX_VALUE_SIZE:
                return None
            depth = max(depth, value.depth)
            flat = flat and value.kind in SCALARS
            overridable = overridable or value.overridable
            items.append(value.data)
        if kind == "set" and not (flat and _distinct(items)):
            return None  # Python's set would have fewer elements, or none at all (TypeError)
        return self._new(items, kind, size, depth + 1, overridable, flat)

    def _eval_dict(self, node: cst.Dict) -> Optional[Evaluated]:
        result: Dict[str, Any] = {}
        size, depth = 1, 0  # a key written twice is counted twice: sizes only ever over-count
        overridable = False
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                spread = self._eval(element.value)
                if spread is None or spread.kind != "dict":
                    return None
                result.update(spread.data)
                size, depth = size + spread.size - 1, max(depth, spread.depth - 1)
                overridable = overridable or spread.overridable
            elif isinstance(element, cst.DictElement):
                key = self._eval(element.key)
                value = self._eval(element.value) if key is not None else None
                if key is None or value is None or key.kind != "str" or key.data in TAG_KEYS:
                    return None  # a "$call" key would read as a tagged value
                result[key.data] = value.data
                size, depth = size + key.size + value.size, max(depth, value.depth)
                overridable = overridable or value.overridable
            if size > MAX_VALUE_SIZE:
                return None
        return self._new(result, "dict", size, depth + 1, overridable)

    def _call_arguments(self, node: cst.Call
                        ) -> Optional[Tuple[List[Any], Dict[str, Any], bool, int, int]]:
        """(args, kwargs, overridable, size, depth) of a call whose arguments are all known."""
        args, kwargs = [], {}
        overridable = False
        size, depth = 0, 0
        for arg in node.args:
            if arg.star:
                return None
            value = self._eval(arg.value)
            if value is None:
                return None
            overridable = overridable or value.overridable
            size += value.size
            depth = max(depth, value.depth)
            if arg.keyword is not None:
                kwargs[arg.keyword.value] = value.data
                size += len(arg.keyword.value)
            else:
                args.append(value.data)
            if size > MAX_VALUE_SIZE:
                return None
        return args, kwargs, overridable, size, depth

    def _eval_call(self, node: cst.Call) -> Optional[Evaluated]:
        name = dotted_name(node.func)
        if name is None:
            return None
        qualname = self.resolve(name)
        if qualname in TIMEDELTA:
            return self._eval_timedelta(node)
        if qualname in TAGGED_CALLS:
            parsed = self._call_arguments(node)
            if parsed is None:
                return None
            args, kwargs, overridable, size, depth = parsed
            return self._new({"$call": TAGGED_CALLS[qualname], "args": args, "kwargs": kwargs},
                             "call", size + 4, depth + 2, overridable)
        if qualname in ENV_GETTERS or self._is_env_reader(name):
            return self._eval_env_default(node, qualname in ENV_GETTERS)
        if qualname in CONVERTERS and len(node.args) == 1 and not node.args[0].keyword:
            inner = self._eval(node.args[0].value)
            if inner is None or (
                inner.kind not in SCALARS and not (qualname == "bool" and inner.kind in PLAIN)
            ):
                return None
            if (
                qualname in ("int", "float")
                and inner.kind == "str"
                and len(inner.data) > MAX_NUMBER_TEXT
            ):
                return None
            # the builtins themselves: bool("false") is True, unlike env.bool("X", default="false")
            return self._scalar(CONVERTERS[qualname](inner.data), inner.overridable)
        if qualname == "dict" and all(a.keyword is not None for a in node.args):
            parsed = self._call_arguments(node)
            if parsed is None or any(key in TAG_KEYS for key in parsed[1]):
                return None
            return self._new(parsed[1], "dict", parsed[3] + 1, parsed[4] + 1, parsed[2])
        return None

    def _eval_timedelta(self, node: cst.Call) -> Optional[Evaluated]:
        parsed = self._call_arguments(node)
        if parsed is None:
            return None
        args, kwargs, overridable = parsed[:3]
        positional = [
            "days",
            "seconds",
            "microseconds",
            "milliseconds",
            "minutes",
            "hours",
            "weeks",
        ]
        total = 0.0
        for unit, amount in list(zip(positional, args)) + list(kwargs.items()):
            if (
                unit not in TIME_UNITS
                or not isinstance(amount, (int, float))
                or isinstance(amount, bool)
            ):
                return None
            total += amount * TIME_UNITS[unit]
        if not -MAX_TIMEDELTA_SECONDS <= total <= MAX_TIMEDELTA_SECONDS:  # OverflowError in Python
            return None
        return self._new({"$timedelta": total}, "timedelta", 2, 1, overridable)

    def _is_env_reader(self, name: str) -> bool:
        parts = name.split(".")
        if len(parts) == 1:
            return parts[0] in ENV_READER_NAMES
        return len(parts) == 2 and parts[0] in ENV_READER_NAMES and parts[1] in ENV_READER_METHODS

    def _eval_env_default(self, node: cst.Call, positional_default: bool) -> Optional[Evaluated]:
        default = None
        for index, arg in enumerate(node.args):
            if arg.keyword is not None and arg.keyword.value == "default":
                default = arg.value
            elif arg.keyword is None and index == 1 and positional_default:
                default = arg.value
        if default is None:
            return None
        value = self._eval(default)
        if value is None:
            return None
        name = dotted_name(node.func) or ""
        method = name.split(".")[-1] if "." in name and not positional_default else ""
        if method not in CONVERTERS:
            return value._replace(overridable=True)
        if value.kind not in SCALARS or (method in ("int", "float") and value.kind == "str"
                                         and len(value.data) > MAX_NUMBER_TEXT):
            return None
        try:
            return self._scalar(_convert(method, value.data), overridable=True)
        except (TypeError, ValueError):
            return None


def _distinct(items: List[Any]) -> bool:
    """True when no two scalars are equal (Python's ``{1, 1.0}`` has one element)."""
    return len(set(items)) == len(items)


def _convert(name: str, value: Any) -> Any:
    if name == "bool" and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on", "y", "t"):
            return True
        if lowered in ("0", "false", "no", "off", "n", "f", ""):
            return False
        raise ValueError(value)
    return CONVERTERS[name](value)

