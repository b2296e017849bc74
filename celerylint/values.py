"""Static evaluation of expressions into :class:`~celerylint.facts.Value`.

Only what is safe to know without running code is evaluated: literals, names
bound once at module level, arithmetic on known numbers, ``timedelta``,
schedule and queue constructors, and environment look-ups with a default (the
default is the value, marked overridable).  Everything else is unknown.
"""
from __future__ import annotations

import operator
from typing import Any, Callable, Dict, Optional

import libcst as cst

from celerylint.facts import Value

MAX_SOURCE = 80

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
ENV_GETTERS = {"os.environ.get", "os.getenv", "os.environ.setdefault"}
# django-environ / environs / python-decouple style readers: env("X", default=...)
ENV_READER_NAMES = {"env", "config", "getenv", "env_var"}
ENV_READER_METHODS = {"str", "int", "float", "bool", "list", "json", "dict", "url", "db", "cache"}
CONVERTERS: Dict[str, Callable[[Any], Any]] = {"int": int, "float": float, "str": str, "bool": bool}
TIME_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1,
              "milliseconds": 0.001, "microseconds": 0.000001}
BINARY_OPS = {cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul,
              cst.Divide: operator.truediv, cst.FloorDivide: operator.floordiv,
              cst.Modulo: operator.mod}


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
        self._active: set = set()

    def source(self, node: cst.CSTNode) -> str:
        return short_source(self.module, node)

    def evaluate(self, node: cst.CSTNode) -> Value:
        try:
            value = self._eval(node)
        except (ArithmeticError, ValueError, TypeError, OverflowError, RecursionError):
            value = None
        if value is None:
            return Value.unknown(self.source(node))
        return value

    # Each _eval_* returns a Value or None (unknown).
    def _eval(self, node: cst.CSTNode) -> Optional[Value]:
        if isinstance(node, cst.Integer):
            return Value(True, int(node.value.replace("_", ""), 0))
        if isinstance(node, cst.Float):
            return Value(True, float(node.value.replace("_", "")))
        if isinstance(node, cst.SimpleString):
            raw = node.evaluated_value
            return Value(True, raw.decode("latin-1") if isinstance(raw, bytes) else raw)
        if isinstance(node, cst.ConcatenatedString):
            return self._combine([node.left, node.right], operator.add)
        if isinstance(node, cst.FormattedString):
            if all(isinstance(p, cst.FormattedStringText) for p in node.parts):
                return Value(True, "".join(p.value for p in node.parts))
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
            op = BINARY_OPS.get(type(node.operator))
            if op is None:
                return None
            return self._combine([node.left, node.right], op)
        if isinstance(node, cst.Call):
            return self._eval_call(node)
        return None

    def _eval_name(self, name: str) -> Optional[Value]:
        if name in ("True", "False", "None"):
            return Value(True, {"True": True, "False": False, "None": None}[name])
        bound = self.constants.get(name)
        if bound is None or name in self._active:
            return None
        self._active.add(name)
        try:
            return self._eval(bound)
        finally:
            self._active.discard(name)

    def _combine(self, nodes, op) -> Optional[Value]:
        parts = [self._eval(n) for n in nodes]
        if any(p is None or not p.known for p in parts):
            return None
        a, b = parts[0].value, parts[1].value
        if isinstance(a, dict) or isinstance(b, dict):
            return None
        if isinstance(a, bool) or isinstance(b, bool):
            return None
        return Value(True, op(a, b), overridable=parts[0].overridable or parts[1].overridable)

    def _eval_unary(self, node: cst.UnaryOperation) -> Optional[Value]:
        inner = self._eval(node.expression)
        if inner is None:
            return None
        if isinstance(node.operator, cst.Not):
            return Value(True, not inner.value, overridable=inner.overridable)
        if not isinstance(inner.value, (int, float)) or isinstance(inner.value, bool):
            return None
        if isinstance(node.operator, cst.Minus):
            return Value(True, -inner.value, overridable=inner.overridable)
        if isinstance(node.operator, cst.Plus):
            return inner
        return None

    def _eval_sequence(self, node) -> Optional[Value]:
        items = []
        overridable = False
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                return None
            value = self._eval(element.value)
            if value is None:
                return None
            overridable = overridable or value.overridable
            items.append(value.value)
        return Value(True, items, overridable=overridable)

    def _eval_dict(self, node: cst.Dict) -> Optional[Value]:
        result: Dict[str, Any] = {}
        overridable = False
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                spread = self._eval(element.value)
                if spread is None or not isinstance(spread.value, dict):
                    return None
                result.update(spread.value)
                continue
            key = self._eval(element.key)
            value = self._eval(element.value)
            if key is None or value is None or not isinstance(key.value, str):
                return None
            overridable = overridable or value.overridable
            result[key.value] = value.value
        return Value(True, result, overridable=overridable)

    def _call_arguments(self, node: cst.Call):
        args, kwargs = [], {}
        overridable = False
        for arg in node.args:
            if arg.star:
                return None
            value = self._eval(arg.value)
            if value is None:
                return None
            overridable = overridable or value.overridable
            if arg.keyword is not None:
                kwargs[arg.keyword.value] = value.value
            else:
                args.append(value.value)
        return args, kwargs, overridable

    def _eval_call(self, node: cst.Call) -> Optional[Value]:
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
            args, kwargs, overridable = parsed
            return Value(True, {"$call": TAGGED_CALLS[qualname], "args": args, "kwargs": kwargs},
                         overridable=overridable)
        if qualname in ENV_GETTERS or self._is_env_reader(name):
            return self._eval_env_default(node, qualname in ENV_GETTERS)
        if qualname in CONVERTERS and len(node.args) == 1 and not node.args[0].keyword:
            inner = self._eval(node.args[0].value)
            if inner is None:
                return None
            # the builtins themselves: bool("false") is True, unlike env.bool("X", default="false")
            return Value(True, CONVERTERS[qualname](inner.value), overridable=inner.overridable)
        if qualname == "dict" and all(a.keyword is not None for a in node.args):
            parsed = self._call_arguments(node)
            return None if parsed is None else Value(True, parsed[1], overridable=parsed[2])
        return None

    def _eval_timedelta(self, node: cst.Call) -> Optional[Value]:
        parsed = self._call_arguments(node)
        if parsed is None:
            return None
        args, kwargs, overridable = parsed
        positional = ["days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"]
        total = 0.0
        for unit, amount in list(zip(positional, args)) + list(kwargs.items()):
            if unit not in TIME_UNITS or not isinstance(amount, (int, float)) or isinstance(amount, bool):
                return None
            total += amount * TIME_UNITS[unit]
        return Value(True, {"$timedelta": total}, overridable=overridable)

    def _is_env_reader(self, name: str) -> bool:
        parts = name.split(".")
        if len(parts) == 1:
            return parts[0] in ENV_READER_NAMES
        return len(parts) == 2 and parts[0] in ENV_READER_NAMES and parts[1] in ENV_READER_METHODS

    def _eval_env_default(self, node: cst.Call, positional_default: bool) -> Optional[Value]:
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
        converted = value.value
        if method in CONVERTERS:
            try:
                converted = _convert(method, value.value)
            except (TypeError, ValueError):
                return None
        return Value(True, converted, overridable=True)


def _convert(name: str, value: Any) -> Any:
    if name == "bool" and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on", "y", "t"):
            return True
        if lowered in ("0", "false", "no", "off", "n", "f", ""):
            return False
        raise ValueError(value)
    return CONVERTERS[name](value)

