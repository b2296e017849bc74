"""Which files are worth parsing: a byte scan, then following from parsed facts.

libcst is the slow part of a run, and in real projects only a few percent of the
Python files hold a Celery fact.  ``may_hold_facts`` scans a file's raw bytes,
case-sensitively (Python names are), for text that every fact the rules start
from must contain.  A rejected file is not parsed at all: whether it is valid Python
is not celerylint's business (CEL001 concerns the files it needs).

Why the triggers are enough.  The extractor (``celerylint.extract``) resolves a
name only by putting an import's target or a module-level alias in place of its
first segment (``FileContext.resolve`` in ``extract/context.py``), so the last
segment of every name it compares (``Celery``, ``shared_task``: the names of
``extract/names.py``; a method name) is written in the file, and a name it
resolves to ``celery.*`` needs the word ``celery`` in an import; only the package
part of a relative import (``modules.absolute_module``, which both use), and the
file's own module name, are not written (see ``skipped_to_parse``).

- ``.delay``, ``.apply_async``, ``.send_task``, ``.s(``, ``.si(``, ``.signature``
  as attributes: dispatches, which the extractor records for any receiver.  Not
  ``inspect.signature``: the standard library's, which the extractor records
  too, has no task and takes none of the options (``serializer``, ``countdown``,
  ``priority``) that rules read from a dispatch without a task.  (A project
  object that a file names ``inspect`` and signs with ``inspect.signature(...)``
  is the one dispatch this misses.)
- ``.task``: ``@app.task`` and ``app.task(f)`` tasks.
- ``.config_from_object``: config sources (and the implicit apps they reveal).
- ``.add_periodic_task``: beat entries in code.
- ``.conf[``, ``.conf.update``, ``.conf.<key> =``: settings written on an app
  (``conf-item``, ``conf-update``, ``conf-attr``); the extractor records them
  only on an attribute named ``conf``, whatever the app's module is called.
- ``beat_schedule``, ``BEAT_SCHEDULE``: beat entries of ``beat_schedule``,
  ``CELERYBEAT_SCHEDULE`` and ``CELERY_BEAT_SCHEDULE``.
- ``DJANGO_SETTINGS_MODULE``: the Django settings module.
- ``AsyncResult``, ``GroupResult``, ``ResultSet``, ``get_task_meta`` (whole
  words): result look-ups (CEL102).
- ``celery`` with ``Celery`` called, subclassed, renamed or aliased (apps and
  their keyword settings), ``shared_task``, ``periodic_task``,
  ``celery.task``/``celery.decorators`` and ``from celery import task`` (task
  decorators, beat entries of ``run_every``), ``crontab``, ``CrontabSchedule``
  (crontabs: a celery or django_celery_beat import names them), ``chain``, ``group``,
  ``chord``, ``signature``, ``Signature``, ``subtask`` (canvas dispatches): all of them
  count only as ``celery.*`` (``CrontabSchedule`` as ``django_celery_beat.*``).

Names written in pieces (``"beat_" "schedule"``, ``"\\x62eat_schedule"``) or with
a comment between a dot and the attribute name are not matched.

Facts without a trigger of their own are reached by following, repeated by the
engine until no new file turns up (a fixed point), so a finding does not depend
on the scan:

- ``referenced_names`` / ``files_to_parse``: the files a parsed file points to:
  the module ``config_from_object`` reads, the Django settings module and the
  bases it star-imports, a module whose task is dispatched or scheduled, a
  package ``__init__`` that re-exports it, the base classes of a parsed class,
  the scheduler class a ``beat_scheduler`` setting names, the module of a decorator
  that may be a task preset, the module of a constant a schedule is written as.
- ``skipped_to_parse``: rejected files whose text points back at parsed facts.
  A class whose base may be a Task class (``task_class_names``: ``Task``, and
  the classes and import names of parsed files that reach it), seen in the class
  header, in what a header name is assigned from, or in an import that renames
  it; a subclass chain across modules takes one round per level.  A decorator
  (``@name``, ``@module.name``) or a renaming import of a task preset that a parsed
  file defines (``preset_names``): a preset's tasks need no Celery name.  A read
  ``settings.KEY``, or ``conf.key``/``conf["key"]``/``conf.get("key"``/``conf,
  "key"`` (any case, under any prefix), of a key that CEL201 could report
  (``read_keys``).  In a
  package named ``celery`` only, a relative import of (or being) a module whose
  names the extractor compares (``CELERY_MODULES``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from celerylint.facts import FileFacts
from celerylint.modules import absolute_module

LAYOUT = rb"[ \t\f\r\n\\]*"  # what may stand between tokens, continuation lines included
ATTRIBUTE_RE = re.compile(
    rb"\." + LAYOUT + rb"(?:delay\b|apply_async\b|send_task\b|task\b|si?" + LAYOUT + rb"\("
    rb"|signature\b(?:(?<!inspect\.signature)|(?<=[\w.]inspect\.signature))"
    rb"|config_from_object\b|add_periodic_task\b"
    rb"|conf" + LAYOUT + rb"(?:\[|\." + LAYOUT + rb"(?:update\b|\w+[ \t\f\r\n\\)]*=(?!=))))")
WORDS = (b"beat_schedule", b"BEAT_SCHEDULE", b"DJANGO_SETTINGS_MODULE")
RESULT_RE = re.compile(  # AsyncResult, GroupResult, ResultSet as whole words
    rb"Result(?:Set\b(?<!\wResultSet)|\b(?<=AsyncResult|GroupResult)(?<!\w(?:Async|Group)Result))")
TASK_META_RE = re.compile(rb"get_task_meta\b(?<!\wget_task_meta)")
# Names that matter only as celery.<...>, searched for in files that mention celery:
# Celery called, subclassed, renamed or aliased; the decorators; canvas and signatures.
CELERY_NAMES_RE = re.compile(
    rb"\bCelery\b(?=" + LAYOUT + rb"(?:[(),]|as\b))|=" + LAYOUT + rb"(?:\w+" + LAYOUT + rb"\."
    + LAYOUT + rb")*Celery\b"
    rb"|\b(?:shared_task|periodic_task|chain|group|chord|signature|Signature|subtask"
    rb"|crontab|CrontabSchedule)\b"
    rb"|celery\.(?:task|decorators)\b"
    rb"|from" + LAYOUT + rb"celery" + LAYOUT + rb"import" + LAYOUT  # Celery 4's task module
    + rb"(?:\([^)]*?|[^\n;(]*?)\btask\b")

# Modules whose names the extractor (celerylint/extract/names.py) and the rules compare
# against (celery.Celery, celery.canvas.group, celery.app.task.Task, ...);
# tests/test_prefilter.py checks the list.
CELERY_MODULES = frozenset({"celery", "celery.app", "celery.app.base", "celery.app.task",
                            "celery.canvas", "celery.decorators", "celery.task",
                            "celery.task.base"})

CLASS_RE = re.compile(rb"class[ \t\f\\]+\w+" + LAYOUT + rb"\(([^:]*)")
IMPORT_RE = re.compile(rb"import[ \t\f\\]+(\([^)]*\)|(?:[^\n;\\]|\\.)*)", re.DOTALL)
RENAME_RE = re.compile(rb"(\w+)[ \t\f\r\n\\]+as[ \t\f\r\n\\]+\w")
ASSIGN_RE = re.compile(rb"[ \t\f\\]*(?::[^=\n]*)?=(?!=)[ \t\f]*(\([^)]*\)|(?:[^\n\\]|\\.)*)",
                       re.DOTALL)
SETTINGS_READ_RE = re.compile(rb"settings[ \t\f\r\n\\)]*\." + LAYOUT + rb"(\w+)")
# ``conf.NAME``, ``conf["NAME"]``, ``conf.get("NAME"``, ``conf, "NAME"`` (getattr)
CONF_READ_RE = re.compile(
    rb"\bconf" + LAYOUT + rb"(?:\." + LAYOUT + rb"(?:get" + LAYOUT + rb"\(" + LAYOUT + rb")?"
    rb"|\[" + LAYOUT + rb"|," + LAYOUT + rb")(?:[rbuRBU]*['\"])?(\w+)")
RELATIVE_RE = re.compile(rb"from[ \t\f\\]+((?:\.[\s\\]*)+)(?:(?!import\b)(\w[\w.]*))?")
WORD_RE = re.compile(rb"\w+")
# The beat_scheduler setting as the settings sources spell it (new, old, namespaced).
SCHEDULER_KEYS = frozenset({"beat_scheduler", "CELERYBEAT_SCHEDULER", "CELERY_BEAT_SCHEDULER"})
DECORATOR_RE = re.compile(rb"^[ \t]*@[ \t]*(\w+)(?:[ \t]*\.[ \t]*(\w+))*", re.MULTILINE)


def may_hold_facts(data: bytes) -> bool:
    """False only when the file cannot hold a fact that starts a finding."""
    if ATTRIBUTE_RE.search(data) or any(word in data for word in WORDS):
        return True
    if RESULT_RE.search(data) or TASK_META_RE.search(data):
        return True
    return b"celery" in data and CELERY_NAMES_RE.search(data) is not None


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
        names.add(task.preset)
    for preset in facts.presets:
        names.update(preset.bases)
    for bases in facts.class_bases.values():
        names.update(bases)
    for entry in facts.beat:
        names.add(entry.task_ref)
        names.add(entry.schedule_ref)
    for setting in facts.settings:
        names.add(setting.app)
        value = setting.value
        if setting.key in SCHEDULER_KEYS and value.known and isinstance(value.value, str):
            names.add(value.value.replace(":", "."))
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


# -- rejected files that point back at parsed facts --------------------------------

@dataclass
class Skipped:
    """What the follow-up needs from a file the scan rejected, read once per run."""

    class_words: Set[str] = field(default_factory=set)  # may name a base class
    decorator_words: Set[str] = field(default_factory=set)  # first and last of `@a.b.c`
    setting_reads: Set[str] = field(default_factory=set)  # NAME of `settings.NAME`
    conf_reads: Set[str] = field(default_factory=set)  # NAME of `conf.NAME`, `conf["NAME"]`
    imports_celery: bool = False  # it is, or relatively imports, a module of CELERY_MODULES


def _last(dotted: str) -> str:
    return dotted.rpartition(".")[2]


def _decoded(words: Iterable[bytes]) -> Set[str]:
    return {word.decode("ascii", "replace") for word in words}


def _assigned_from(data: bytes, name: bytes) -> List[bytes]:
    """Words of what ``name = ...`` assigns, wherever the file assigns it."""
    words: List[bytes] = []
    start = data.find(name)
    while start >= 0:
        end = start + len(name)
        before = data[start - 1:start] if start else b""
        assign = ASSIGN_RE.match(data, end)
        if assign is not None and not (before.isalnum() or before == b"_"):
            words.extend(WORD_RE.findall(assign.group(1)))
        start = data.find(name, end)
    return words


def skipped_summary(data: bytes, module: str, is_package: bool) -> Skipped:
    """What a rejected file's text says about base classes, setting reads and
    relative imports (see :class:`Skipped`).

    A class header's base resolves, as the extractor does it, through an import
    (``from tasks import MyTask as Base``: the renamed name counts) or a
    module-level alias (``Base = tasks.MyTask``: the assigned words count)."""
    summary = Skipped()
    words: Set[bytes] = set()
    for names in IMPORT_RE.findall(data):
        if b"as" in names:
            words.update(RENAME_RE.findall(names))
    heads: Set[bytes] = set()
    for bases in CLASS_RE.findall(data):
        for base in bases.split(b","):
            dotted = WORD_RE.findall(base)
            words.update(dotted)
            heads.update(dotted[:1])
    for head in heads:
        words.update(_assigned_from(data, head))
    summary.class_words = _decoded(words)
    summary.decorator_words = _decoded(
        word for match in DECORATOR_RE.finditer(data) for word in match.groups() if word)
    for match in SETTINGS_READ_RE.finditer(data):
        before = data[match.start() - 1:match.start()] if match.start() else b""
        name = match.group(1).decode("ascii", "replace")
        if name.isupper() and not (before.isalnum() or before == b"_"):
            summary.setting_reads.add(name)
    for match in CONF_READ_RE.finditer(data):
        summary.conf_reads.add(match.group(1).decode("ascii", "replace"))
    if module == "celery" or module.startswith("celery."):
        summary.imports_celery = module in CELERY_MODULES or any(
            absolute_module(module, is_package, dots.count(b"."), name.decode("ascii", "replace"))
            in CELERY_MODULES for dots, name in RELATIVE_RE.findall(data))
    return summary


def task_class_names(parsed: Iterable[FileFacts]) -> Set[str]:
    """Last name segments of the classes that may be Celery Task classes: ``Task``,
    classes of parsed files with such a base, and names parsed files import them as."""
    from celerylint.project import TASK_BASE_CLASSES

    files = list(parsed)
    names = {_last(base) for base in TASK_BASE_CLASSES}
    grew = True
    while grew:
        grew = False
        for facts in files:
            for cls, bases in facts.class_bases.items():
                if cls not in names and any(_last(base) in names for base in bases):
                    names.add(cls)
                    grew = True
            for imp in facts.imports:
                local = _last(imp.local)
                if not imp.star and local not in names and _last(imp.target) in names:
                    names.add(local)
                    grew = True
    return names


def preset_names(parsed: Iterable[FileFacts]) -> Set[str]:
    """Last name segments of the task presets of parsed files, and the names parsed files
    import them as: a rejected file decorating with one holds a task."""
    files = list(parsed)
    names = {_last(preset.name) for facts in files for preset in facts.presets}
    for facts in files:
        for imp in facts.imports:
            if not imp.star and _last(imp.target) in names:
                names.add(_last(imp.local))
    return names


def read_keys(parsed: Iterable[FileFacts]) -> Set[str]:
    """Keys of parsed settings sources that CEL201 could report unless the project
    reads them (``settings.KEY``, ``app.conf.key``): keys written on an app, and keys of
    any module or class that look like Celery settings under a namespace the project
    uses, in any supported Celery release (a superset: parsing one file too many changes
    no finding)."""
    from celerylint.settings import celery_like
    from celerylint.tables import tables

    files = list(parsed)
    namespaces: Set[Optional[str]] = {None}
    for facts in files:
        namespaces.update(app.namespace for app in facts.apps)
        namespaces.update(source.namespace for source in facts.config_sources)
    keys: Set[str] = set()
    for facts in files:
        for setting in facts.settings:
            key = setting.key
            if key not in keys and (
                    setting.app or any(celery_like(key, ns, names) for ns in namespaces
                                       for names in tables())):
                keys.add(key)
    return keys


def _may_read(name: str, lowered: Set[str]) -> bool:
    """Whether ``app.conf.<name>`` may read one of the (lower-cased) keys: as written, or
    under some namespace's prefix (``CELERY_WORKER_PIDFILE`` for ``worker_pidfile``)."""
    name = name.lower()
    return name in lowered or any(key.endswith("_" + name) for key in lowered)


def skipped_to_parse(paths: Sequence[Path], modules: Sequence[Tuple[str, bool]],
                     skipped: Iterable[int], parsed: Dict[int, FileFacts],
                     summaries: Dict[int, Optional[Skipped]]) -> Set[int]:
    """Indices of rejected files that the facts parsed so far make worth parsing.

    ``summaries`` remembers what was read from each rejected file (None when it
    cannot be read), so every file is read at most once per run."""
    class_names = task_class_names(parsed.values())
    presets = preset_names(parsed.values())
    keys = read_keys(parsed.values())
    lowered = {key.lower() for key in keys}
    wanted: Set[int] = set()
    for index in skipped:
        if index not in summaries:
            try:
                data = Path(paths[index]).read_bytes()
            except OSError:
                summaries[index] = None
            else:
                summaries[index] = skipped_summary(data, *modules[index])
        summary = summaries[index]
        if summary is not None and (
            summary.imports_celery or summary.class_words & class_names
            or (summary.decorator_words | summary.class_words) & presets
            or summary.setting_reads & keys
            or any(_may_read(name, lowered) for name in summary.conf_reads)):
            wanted.add(index)
    return wanted
