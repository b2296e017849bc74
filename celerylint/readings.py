"""How Celery reads a known value, and how a message quotes it.

One home for each reading, so that no two rules disagree on what a value means:
seconds are :func:`celerylint.facts.as_seconds`, numbers in messages
:func:`celerylint.schedules.format_number`, and truth :func:`truthy` here.
"""
from __future__ import annotations

from typing import Any, Optional

from celerylint.facts import Value
from celerylint.schedules import format_number

MAX_SHOWN = 40


def truthy(value: Value) -> Optional[bool]:
    """The truth Celery gives a setting's or an option's value: it tests them with a
    plain ``if`` (``acks_late=1`` acks late, ``ignore_result=0`` keeps results).
    None when the value is unknown, or an object whose truth is its own."""
    if not value.known:
        return None
    data = value.value
    if isinstance(data, dict) and "$call" in data:
        return None
    if isinstance(data, dict) and "$timedelta" in data:
        return bool(data["$timedelta"] != 0)
    return bool(data)


def shown(data: Any) -> str:
    """A known value as Python code writes it (``1``, ``True``, ``'yes'``), cut short."""
    if isinstance(data, dict) and "$timedelta" in data:
        text = f"timedelta(seconds={format_number(data['$timedelta'])})"
    elif isinstance(data, dict) and "$call" in data:
        text = f"{str(data['$call']).rpartition('.')[2]}(...)"
    else:
        text = repr(data)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."
