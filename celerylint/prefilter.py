"""Which files are worth parsing: a byte scan, then the files parsed files point to.

libcst is the slow part of a run, and in real projects only a few percent of the
Python files mention Celery at all.  ``may_hold_facts`` scans a file's raw bytes
for the words every fact the rules read starts from (an app, a task, a dispatch,
a beat entry, a result lookup, ``app.conf``, ``config_from_object``,
``DJANGO_SETTINGS_MODULE``).  A file without any of them is never parsed with
libcst; it is only syntax-checked with CPython's own parser (``ast.parse``, about
ten times faster), so it still gets CEL001 with the same message and position.
Only syntax that CPython accepts and libcst refuses goes unreported in such files.

Some facts live in files that need not mention Celery: the module
``config_from_object`` reads, the Django settings module and the bases it
star-imports, a package ``__init__`` that re-exports a task, a base class of a
task class.  ``referenced_names`` lists the dotted names a parsed file points to;
``files_to_parse`` maps them to the project's files, following re-exports through
the imports of the files already parsed.  The engine repeats both until no new
file turns up (a fixed point), so a finding never depends on the scan.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, List, Set

from celerylint.facts import FileFacts

# Matched against the lower-cased bytes of a file.
SCAN_RE = re.compile(
    rb"celery|task|config_from_object|django_settings_module|delay|apply_async|send_task"
    rb"|signature|periodic|beat|schedule|asyncresult|groupresult|resultset|get_task_meta"
    rb"|\.conf\b"
    rb"|\.\s*si?\s*\("  # add.s(1), add.si(1)
    rb"|\bdef\s+run\b"  # a Task subclass whose Task base lives in another module
)


def may_hold_facts(data: bytes) -> bool:
    """False only when the file cannot hold a fact that starts a finding."""
    return SCAN_RE.search(data.lower()) is not None


def referenced_names(facts: FileFacts) -> Set[str]:
    """Dotted names (modules, classes, tasks, apps) a parsed file's facts point to."""
    names: Set[str] = set()
    for source in facts.config_sources:
        if source.target_kind in ("string", "name") and source.target:
            module, _, obj = source.target.partition(":")
            names.add(f"{module}.{obj}" if obj else module)
        names.add(source.app)
    if facts.django_settings_module:
        names.add(facts.django_settings_module)
    for imp in facts.imports:
        if imp.star:
            names.add(imp.target)
    for dispatch in facts.dispatches:
        names.add(dispatch.receiver_qualname)
    for task in facts.tasks:
        names.update(task.bases)
        names.add(task.app)
    for bases in facts.class_bases.values():
        names.update(bases)
    for entry in facts.beat:
        names.add(entry.task_ref)
    for setting in facts.settings:
        names.add(setting.app)
    names.discard("")
    return names


def files_to_parse(names: Iterable[str], modules: Dict[str, List[int]],
                   parsed: Dict[int, FileFacts]) -> Set[int]:
    """Indices of not yet parsed files that ``names`` may resolve to.

    As the project view resolves a dotted name: the name itself may be a module
    (``config_from_object("proj.conf")``), else its parent module holds it, possibly
    as an import that re-exports it from another module (``pkg.add`` ->
    ``pkg.tasks.add``).  ``modules`` maps module names to file indices; ``parsed``
    holds the facts of the files parsed so far.
    """
    wanted: Set[int] = set()
    todo = list(names)
    seen: Set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parent, _, last = name.rpartition(".")
        for index in modules.get(name, ()):
            if index not in parsed:
                wanted.add(index)
        for index in modules.get(parent, ()) if parent else ():
            facts = parsed.get(index)
            if facts is None:
                wanted.add(index)
                continue
            todo.extend(imp.target for imp in facts.imports if not imp.star and imp.local == last)
    return wanted
