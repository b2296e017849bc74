"""Crontab schedules made in code, wherever they are (a beat entry, a constant, a helper,
a data migration): ``celery.schedules.crontab(...)`` and django-celery-beat's
``CrontabSchedule`` model, constructed or made with ``CrontabSchedule.objects.create``,
``get_or_create`` or ``update_or_create`` (whose ``defaults={...}`` give fields too).
"""
from __future__ import annotations

from typing import Dict

import libcst as cst

from celerylint.extract.context import FileContext
from celerylint.facts import CrontabFact, CrontabKind, Value
from celerylint.schedules import CRONTAB_FIELDS
from celerylint.values import TAGGED_CALLS

CRONTAB_CALLS = frozenset(name for name, tag in TAGGED_CALLS.items()
                          if tag == "celery.schedules.crontab")
CRONTAB_MODEL = "django_celery_beat.models.CrontabSchedule"
MODEL_MAKERS = frozenset({CRONTAB_MODEL} | {f"{CRONTAB_MODEL}.objects.{method}" for method in
                                            ("create", "get_or_create", "update_or_create")})


def is_crontab_maker(qualname: str) -> bool:
    return qualname in CRONTAB_CALLS or qualname in MODEL_MAKERS


def crontab_call(ctx: FileContext, node: cst.Call, qualname: str) -> None:
    kind: CrontabKind = "crontab" if qualname in CRONTAB_CALLS else "CrontabSchedule"
    fields: Dict[str, Value] = {}
    unreadable = False
    position = 0
    for arg in node.args:
        if arg.star:
            unreadable = True
        elif arg.keyword is None:
            if kind == "CrontabSchedule" or position >= len(CRONTAB_FIELDS):
                unreadable = True  # a model's positional fields: not read
            else:
                fields[CRONTAB_FIELDS[position]] = ctx.evaluate(arg.value)
            position += 1
        elif arg.keyword.value in CRONTAB_FIELDS:
            fields[arg.keyword.value] = ctx.evaluate(arg.value)
        elif arg.keyword.value == "defaults" and kind == "CrontabSchedule":
            unreadable |= not _defaults(ctx, arg.value, fields)
    ctx.facts.crontabs.append(CrontabFact(loc=ctx.loc(node), kind=kind, fields=fields,
                                          unreadable=unreadable))


def _defaults(ctx: FileContext, node: cst.CSTNode, fields: Dict[str, Value]) -> bool:
    """Add the crontab fields of a ``defaults={...}`` literal; False when it is not one."""
    node = ctx.follow_constant(node)
    if not isinstance(node, cst.Dict):
        return False
    for element in node.elements:
        if not isinstance(element, cst.DictElement) or not isinstance(element.key,
                                                                       cst.SimpleString):
            return False
        key = element.key.evaluated_value
        if key in CRONTAB_FIELDS:
            fields[str(key)] = ctx.evaluate(element.value)
    return True
