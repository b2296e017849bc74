"""Names the code reads back from an app's settings, wherever the app comes from:
``<...>.conf.NAME``, ``<...>.conf["NAME"]``, ``<...>.conf.get("NAME")`` and
``getattr(<...>.conf, "NAME")`` (``app.conf``, ``self.app.conf``, ``current_app.conf``).

A key the project reads back is the project's own setting even when Celery has no such
setting (CEL201).  Writes (``app.conf.NAME = v``, ``del app.conf.NAME``) and methods of
the settings object (``app.conf.update(...)``) are not reads.
"""
from __future__ import annotations

from typing import Optional, Set

import libcst as cst

from celerylint.extract.context import FileContext, positional, string
from celerylint.values import dotted_name


class ReadsVisitor(cst.CSTVisitor):
    def __init__(self, ctx: FileContext):
        self.ctx = ctx
        self.not_reads: Set[int] = set()  # ids of written targets and called attributes

    def visit_Assign(self, node: cst.Assign) -> None:
        self.not_reads.update(id(target.target) for target in node.targets)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.not_reads.add(id(node.target))

    def visit_Del(self, node: cst.Del) -> None:
        self.not_reads.add(id(node.target))

    def visit_Call(self, node: cst.Call) -> None:
        self.not_reads.add(id(node.func))
        args = positional(node)
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "get" and _is_conf(func.value):
            self._read(string(args[0].value) if args else None)
        elif dotted_name(func) == "getattr" and len(args) >= 2 and _is_conf(args[0].value):
            self._read(string(args[1].value))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if id(node) not in self.not_reads and _is_conf(node.value):
            self._read(node.attr.value)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if id(node) in self.not_reads or not _is_conf(node.value) or len(node.slice) != 1:
            return
        index = node.slice[0].slice
        if isinstance(index, cst.Index):
            self._read(string(index.value))

    def _read(self, name: Optional[str]) -> None:
        reads = self.ctx.facts.conf_reads
        if name and name not in reads:
            reads.append(name)


def _is_conf(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value == "conf"
