"""The project setting a call depends on (:class:`~celerylint.facts.CallSwitch`): the
setting its first argument reads (``time.sleep(settings.DELAY)``, ``settings.DELAY /
1000``, ``getattr(settings, "DELAY", 0)``), or the one an ``if`` around it in the same
function tests (``if settings.SLOW_TASKS:``).  A settings object is a name ``settings``
(or ``<...>.settings``), read by an uppercase name as Django settings are."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from celerylint.extract.context import FileContext, positional, string
from celerylint.facts import CallSwitch
from celerylint.values import dotted_name


def setting_read(ctx: FileContext, node: cst.CSTNode) -> Optional[CallSwitch]:
    """``settings.NAME`` or ``getattr(settings, "NAME"[, default])``."""
    if isinstance(node, cst.Attribute) and _is_settings(node.value) \
            and node.attr.value.isupper():
        return CallSwitch(node.attr.value)
    if isinstance(node, cst.Call) and dotted_name(node.func) == "getattr":
        args = positional(node)
        if len(node.args) == len(args) and 2 <= len(args) <= 3 and _is_settings(args[0].value):
            name = string(args[1].value)
            if name and name.isupper():
                if len(args) == 3:
                    return CallSwitch(name, ctx.evaluate(args[2].value))
                return CallSwitch(name)
    return None


def argument_switch(ctx: FileContext, call: cst.Call) -> Optional[CallSwitch]:
    """The setting a call's first argument reads, alone or in arithmetic."""
    args = positional(call)
    if not args:
        return None
    node = args[0].value
    if isinstance(node, cst.BinaryOperation):
        return setting_read(ctx, node.left) or setting_read(ctx, node.right)
    return setting_read(ctx, node)


def _is_settings(node: cst.CSTNode) -> bool:
    name = dotted_name(node) or ""
    return name == "settings" or name.endswith(".settings")
