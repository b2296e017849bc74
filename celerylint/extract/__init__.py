"""Extract :class:`~celerylint.facts.FileFacts` from one module's syntax tree, in one walk.

Core: ``tree`` (positions, the multi-visitor ``walk``), ``context`` (the per-file state all
visitors share: imports, constants, scopes, evaluator), ``scope`` (scopes, function bodies),
``shapes``, ``names``, ``switches``.  Subjects: ``apps`` (apps, config sources, settings),
``tasks`` (and ``presets``), ``dispatches``, ``beat``, ``crontabs``, ``reads`` (settings read
back); ``calls`` sends each call to one subject's handler.  To add a fact, add a visitor
method or a call handler in its subject's module (a new visitor: ``VISITORS``).
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from celerylint.extract.apps import AppsVisitor
from celerylint.extract.calls import CallVisitor
from celerylint.extract.context import FileContext
from celerylint.extract.dispatches import DispatchVisitor
from celerylint.extract.reads import ReadsVisitor
from celerylint.extract.scope import ScopeVisitor
from celerylint.extract.tasks import TasksVisitor
from celerylint.extract.tree import LEAF_NODES, node_spans, walk
from celerylint.facts import FileFacts
from celerylint.features import FeatureVisitor
from celerylint.syntax import physical_lines

__all__ = ["LEAF_NODES", "VISITORS", "FileContext", "extract", "node_spans", "walk"]

# The order the visitors see each node in (they leave it in the reverse order):
# ScopeVisitor first, so that the others see the def they visit as the current scope.
VISITORS = (ScopeVisitor, AppsVisitor, TasksVisitor, DispatchVisitor, CallVisitor, ReadsVisitor)


def extract(module: cst.Module, path: str, module_name: str, is_package: bool,
            text: Optional[str] = None) -> FileFacts:
    """The facts of a parsed module; ``text`` is its source (else generated from the tree)."""
    positions = node_spans(module)
    ctx = FileContext(module, positions, path, module_name, is_package)
    features = FeatureVisitor(positions, physical_lines(module.code if text is None else text))
    walk(module, *[visitor(ctx) for visitor in VISITORS], features)
    ctx.evaluator = None  # it refers back to the context: free the tree now, not at a gc
    ctx.facts.syntax = features.features
    return ctx.facts
