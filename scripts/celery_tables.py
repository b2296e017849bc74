"""Generate celerylint/data/celery.json from Celery's and kombu's own releases.

The linter never imports Celery or kombu: what it knows of them (setting names, old
names, defaults, types; transport aliases and default visibility timeouts) is this
data file, read from the real releases by this script and proven by the differential
tests (tests/test_differential.py against the Celery releases .ci/run installs,
tests/test_tables.py for the file itself).

How to run (needs pip and network access to PyPI; ``packaging`` must be importable)::

    python scripts/celery_tables.py                    # write celerylint/data/celery.json
    python scripts/celery_tables.py --check            # exit 1 when the shipped file differs
    python scripts/celery_tables.py --downloads DIR    # keep (and reuse) the downloads in DIR

Each release is fetched with ``pip download --no-deps --only-binary=:all:`` (a wheel,
whose sha256 is recorded) and only read, never installed or imported:

- Celery: ``celery/app/defaults.py`` is executed on its own, with small stand-ins for
  the few Celery helpers it imports (``strtobool``, ``memoize``, ``celery.five``) and a
  stand-in ``sys`` that describes CPython, so the tables are the same whatever Python
  runs the script (old releases do not import on Python 3.11).  From the module
  Celery builds, per release: every setting's new-style name, its old (uppercase)
  name, default, type and deprecation (``deprecate_by``/``remove_by``/``alt``, where
  set).  Celery 3.1 has only uppercase names: each is given the new-style name that
  the first later release maps it to as an old name, else the name that release gives
  it without its ``CELERY_``/``CELERYD_``/``CELERYBEAT_``/``CELERYMON_`` prefix
  (``CELERY_ENABLE_UTC`` is ``enable_utc``; 4.x maps ``ENABLE_UTC``), else the
  uppercase name lowercased (settings 4.0 dropped: ``CELERYD_AUTORELOADER``).
- Celery: ``celery/bin/*.py``, parsed, not run: the names its command line reads from
  ``app.conf`` although no setting declares them (``cli_settings``: 5.4 on, a daemon
  option reads ``<command>_<option>``, ``worker_pidfile``; see ``cli_settings``).
- Celery's old task decorators (``OLD_TASK_DECORATORS``: ``from celery import task``,
  ``celery.task.periodic_task``, ``celery.decorators.task``): which of them the release
  defines, read from its modules' ``__all__`` and top-level definitions (parsed, not run).
- kombu: ``kombu/transport/__init__.py``'s ``TRANSPORT_ALIASES`` (parsed, not run) and
  the ``visibility_timeout`` / ``default_visibility_timeout`` class attributes of the
  redis and SQS transports' ``Channel``.

Defaults are stored as JSON: tuples as lists, ``timedelta`` as ``{"$timedelta":
seconds}``, and anything else that is not plain data as ``{"$object": "type name"}``,
which the linter treats as unknown, never as a value.  A type that is a Python class
rather than Celery's type string is ``{"$class": "builtins.int"}``.

kombu is not pinned by the Celery release (4.0.2 allows kombu 4.0.2 to 4.6.11, 5.6 any
kombu >= 5.6), so the linter cannot know which kombu a target Celery runs with: the
file keeps each kombu release's aliases, and the linter uses only what is the same in
every one of them.  An alias names the same kind of transport in every release that
has it (the script stops if that ever changes); an alias an older kombu lacks cannot
connect there at all, so its kind is taken from the releases that have it.  The
default visibility timeouts are the same in every release (the script stops if not).

Output is deterministic: sorted keys, one setting per line, and nothing taken from
the machine (no dates, no paths).

How to add a release: append the newest patch release of the new Celery minor to
CELERY_RELEASES (replace the entry of a minor that got a later patch release), add
the last patch release of every kombu minor that a supported Celery allows to
KOMBU_RELEASES (the script stops when a Celery release allows no listed kombu), run
the script, read the diff of celerylint/data/celery.json, and add the new minor to the
differential runs in .ci/run.  NEWEST_KNOWN and the supported target versions follow
from the file.
"""
from __future__ import annotations

import argparse
import ast
import builtins
import datetime
import hashlib
import json
import math
import re
import subprocess
import sys
import tempfile
import types
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "celerylint" / "data" / "celery.json"
FORMAT = 1

# The last patch release of every Celery minor from 3.1 to 5.7.
CELERY_RELEASES = ("3.1.26.post2", "4.0.2", "4.1.1", "4.2.2", "4.3.1", "4.4.7", "5.0.5", "5.1.2",
                   "5.2.7", "5.3.6", "5.4.0", "5.5.3", "5.6.3", "5.7.0")
# The last patch release of every kombu minor that one of those allows.
KOMBU_RELEASES = ("3.0.37", "4.0.2", "4.1.0", "4.2.2.post1", "4.3.0", "4.4.0", "4.5.0", "4.6.11",
                  "5.0.2", "5.1.0", "5.2.4", "5.3.7", "5.4.2", "5.5.4", "5.6.2", "5.7.0")

OLD_PREFIXES = ("CELERY_", "CELERYD_", "CELERYBEAT_", "CELERYMON_")
# How the linter groups kombu transports: the transport class each alias names.
TRANSPORT_KINDS = (("kombu.transport.pyamqp:", "amqp"), ("kombu.transport.librabbitmq:", "amqp"),
                   ("kombu.transport.redis:", "redis"), ("kombu.transport.SQS:", "sqs"))
VISIBILITY_TIMEOUTS = (("redis", "redis", "visibility_timeout"),
                       ("sqs", "SQS", "default_visibility_timeout"))


# -- downloads ------------------------------------------------------------------

def download(project: str, release: str, directory: Path) -> Path:
    """The wheel of ``project==release`` in ``directory``, fetched from PyPI if absent."""
    found = _wheel_in(project, release, directory)
    if found is None:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                               "--only-binary=:all:", "--disable-pip-version-check", "--quiet",
                               "--dest", str(directory), f"{project}=={release}"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
        found = _wheel_in(project, release, directory)
        if done.returncode != 0 or found is None:
            raise SystemExit(f"pip download {project}=={release} failed:\n{done.stdout}")
    return found


def download_all(wanted: List[Tuple[str, str]], directory: Path) -> Dict[Tuple[str, str], Path]:
    """Every (project, release) wheel, several pip processes at a time (each waits on PyPI)."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        paths = pool.map(lambda item: download(item[0], item[1], directory), wanted)
        return dict(zip(wanted, paths))


def _wheel_in(project: str, release: str, directory: Path) -> Optional[Path]:
    wheels = sorted(directory.glob(f"{project}-{release}-*.whl"))
    return wheels[0] if wheels else None


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_member(wheel: Path, *names: str) -> str:
    """The text of the first of ``names`` that the wheel holds."""
    with zipfile.ZipFile(wheel) as archive:
        members = set(archive.namelist())
        for name in names:
            if name in members:
                return archive.read(name).decode("utf-8")
    raise SystemExit(f"{wheel.name} holds none of {names}")


def kombu_requirement(wheel: Path) -> str:
    """The kombu version specifier of a Celery wheel (its unconditional Requires-Dist)."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode("utf-8")
    from packaging.requirements import Requirement

    for line in text.splitlines():
        if line.startswith("Requires-Dist: kombu"):
            requirement = Requirement(line.split(":", 1)[1].strip())
            if requirement.name == "kombu" and requirement.marker is None:
                return str(requirement.specifier)
    raise SystemExit(f"{wheel.name} does not require kombu")


# -- Celery: celery/app/defaults.py -------------------------------------------------

def _standins() -> Dict[str, types.ModuleType]:
    """What celery/app/defaults.py imports, as far as building its tables needs."""
    celery_stub = types.ModuleType("celery-standin")
    vars(celery_stub).update(
        items=lambda mapping: list(mapping.items()),  # celery.five
        keys=lambda mapping: list(mapping.keys()),
        python_2_unicode_compatible=lambda cls: cls,
        strtobool=lambda value: value,  # only Option.to_python calls it
        memoize=lambda *args, **kwargs: (lambda function: function),
    )
    sys_stub = types.ModuleType("sys-standin")
    # CPython on Linux: DEFAULT_POOL is 'prefork'
    vars(sys_stub).update(platform="linux", version_info=(3, 9, 0))
    return {"celery": celery_stub, "sys": sys_stub}


def run_defaults_module(source: str, filename: str = "celery/app/defaults.py") -> Dict[str, Any]:
    """Execute one release's celery/app/defaults.py alone and return its namespace."""
    standins = _standins()
    real_import = builtins.__import__

    def standin_import(name: str, globals: Any = None, locals: Any = None,
                       fromlist: Sequence[str] = (), level: int = 0) -> types.ModuleType:
        top = name.split(".")[0]
        if top == "celery":
            return standins["celery"]
        if name == "sys":
            return standins["sys"]
        return real_import(name, globals, locals, fromlist, level)

    namespace: Dict[str, Any] = {"__builtins__": dict(vars(builtins), __import__=standin_import),
                                 "__name__": "celery.app.defaults", "__file__": filename}
    exec(compile(source, filename, "exec", dont_inherit=True), namespace)
    return namespace


def json_value(value: Any) -> Any:
    """A default as JSON data; ``{"$object": ...}`` for anything that is not plain data."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$object": f"float {value!r}"}
    if isinstance(value, datetime.timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, (list, tuple)):
        return [json_value(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: json_value(item) for key, item in value.items()}
    return {"$object": f"{type(value).__module__}.{type(value).__qualname__}"}


def type_name(option_type: Any) -> Any:
    """Celery's type string, or ``{"$class": ...}`` where a release gives a Python class."""
    if isinstance(option_type, str):
        return option_type
    return {"$class": f"{option_type.__module__}.{option_type.__qualname__}"}


def _setting(option: Any, old: str) -> Dict[str, Any]:
    entry = {"default": json_value(option.default), "old": old, "type": type_name(option.type)}
    for attribute in ("deprecate_by", "remove_by", "alt"):
        value = getattr(option, attribute, None)
        if value is not None:
            entry[attribute] = value
    return entry


def settings_from_module(namespace: Dict[str, Any]) -> Tuple[bool, Dict[str, Dict[str, Any]]]:
    """(has new-style names?, {name: setting}) from a celery.app.defaults namespace.

    Releases with new-style names (4.0 on) are keyed by them; Celery 3.1's uppercase
    names are keyed as they are (see name_uppercase_release)."""
    options = dict(namespace["flatten"](namespace["NAMESPACES"]))
    defaults = namespace["DEFAULTS"]
    if set(options) != set(defaults):
        raise SystemExit("DEFAULTS and NAMESPACES disagree")
    if "_TO_OLD_KEY" not in namespace:
        return False, {key: _setting(option, key) for key, option in options.items()}
    to_old, to_new = namespace["_TO_OLD_KEY"], namespace["_TO_NEW_KEY"]
    old_defaults, old_keys = namespace["_OLD_DEFAULTS"], namespace["_OLD_SETTING_KEYS"]
    # One old name per setting and back: the file keeps only the old name of each.
    checks = [set(options) == set(namespace["SETTING_KEYS"]) == set(to_old),
              {new: old for old, new in to_new.items()} == to_old,
              set(old_keys) == set(old_defaults) == set(to_new),
              all(old_defaults[to_old[key]] is defaults[key] for key in options),
              all(defaults[key] is option.default for key, option in options.items())]
    if not all(checks):
        raise SystemExit(f"celery.app.defaults tables are not one old name per setting: {checks}")
    return True, {key: _setting(option, to_old[key]) for key, option in options.items()}


def name_uppercase_release(settings: Dict[str, Dict[str, Any]],
                           later: List[Tuple[str, Dict[str, Dict[str, Any]]]]
                           ) -> Dict[str, Dict[str, Any]]:
    """Key a release that has only uppercase names (3.1) by new-style names."""
    old_to_new = [(release, {entry["old"]: key for key, entry in table.items()})
                  for release, table in later]
    named: Dict[str, Dict[str, Any]] = {}
    for old, entry in sorted(settings.items()):
        name, source = _new_name(old, old_to_new)
        if name in named:
            raise SystemExit(f"two uppercase names become {name}")
        named[name] = dict(entry, named_by=source)
    return named


def _new_name(old: str, old_to_new: List[Tuple[str, Dict[str, str]]]) -> Tuple[str, str]:
    for release, mapping in old_to_new:
        if old in mapping:
            return mapping[old], release
    for prefix in OLD_PREFIXES:
        bare = old[len(prefix):] if old.startswith(prefix) else None
        for release, mapping in old_to_new:
            if bare and bare in mapping:
                return mapping[bare], f"{release} without {prefix}"
    return old.lower(), "lowercased"


# -- Celery: settings its command line reads (celery/bin/*.py) ---------------------------

CLICK_SUFFIXES = ("_command", "_cmd", "_group", "_grp")  # click 8.2 strips these, 8.1 does not


def cli_settings(sources: Dict[str, str], setting_keys: Set[str]) -> List[str]:
    """Names the ``celery`` command line reads from ``app.conf`` that are not settings of
    the release's defaults table, from the release's ``celery/bin/*.py`` sources (module
    file name -> text), parsed, never run.

    Celery 5.4 added click options whose callback reads the setting named after the
    command and the option, ``getattr(ctx.obj.app.conf, f"{ctx.command.name}_{self.name}",
    None)`` (``DaemonOption``: ``worker_pidfile``, ``beat_logfile``); a command class adds
    such options to every command made with it (``CeleryDaemonCommand``).  Found here by
    that shape, not by name: the option classes whose body makes that ``getattr``, the
    command classes whose body makes those options, the commands (``@click.command(cls=
    ...)``) made with such a class or given such an option (``@click.option(..., cls=
    ...)``), and every literal ``<...>.conf.NAME`` read of a name that is no setting."""
    trees = {name: ast.parse(text) for name, text in sorted(sources.items())}
    classes = [node for tree in trees.values() for node in ast.walk(tree)
               if isinstance(node, ast.ClassDef)]
    option_classes = _subclasses({c.name for c in classes if _reads_command_setting(c)}, classes)
    command_options: Dict[str, Set[str]] = {}
    for cls in classes:
        made = {_click_name(call) for call in ast.walk(cls) if isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name) and call.func.id in option_classes}
        if made:
            command_options[cls.name] = made
    for name in _subclasses(set(command_options), classes) - set(command_options):
        bases = next(c for c in classes if c.name == name).bases
        command_options[name] = set().union(*(command_options.get(getattr(b, "id", ""), set())
                                              for b in bases))
    names: Set[str] = set()
    for tree in trees.values():
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.update(_command_settings(function, command_options, option_classes))
        called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) \
                    and node.value.attr == "conf" and isinstance(node.ctx, ast.Load) \
                    and id(node) not in called:
                names.add(node.attr)
    return sorted(names - set(setting_keys))


def _reads_command_setting(cls: ast.ClassDef) -> bool:
    """Whether the class body calls ``getattr(<...>.conf, f"{ctx.command.name}_{self.name}")``."""
    for call in ast.walk(cls):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                and call.func.id == "getattr" and len(call.args) >= 2):
            continue
        conf, name = call.args[0], call.args[1]
        if not (isinstance(conf, ast.Attribute) and conf.attr == "conf"
                and isinstance(name, ast.JoinedStr)):
            continue
        parts = [ast.unparse(v.value) if isinstance(v, ast.FormattedValue) else v.value
                 for v in name.values if isinstance(v, (ast.FormattedValue, ast.Constant))]
        if parts == ["ctx.command.name", "_", "self.name"]:
            return True
    return False


def _subclasses(roots: Set[str], classes: List[ast.ClassDef]) -> Set[str]:
    found = set(roots)
    grew = True
    while grew:
        grew = False
        for cls in classes:
            if cls.name not in found and any(getattr(b, "id", None) in found for b in cls.bases):
                found.add(cls.name)
                grew = True
    return found


def _click_name(call: ast.Call) -> str:
    """The name click gives an option declared as ``Option("--log-file", "-f")``: an
    identifier declaration, else the first of the longest-prefixed (``--``) ones, with
    dashes as underscores."""
    decls = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if len(decls) != len(call.args) or not decls:
        raise SystemExit(f"an option declared other than by literal strings: {ast.unparse(call)}")
    for decl in decls:
        if decl.isidentifier():
            return decl
    longest = sorted(decls, key=lambda d: -len(d) + len(d.lstrip("-")))[0]
    return longest.lstrip("-").replace("-", "_").lower()


def _command_settings(function: ast.AST, command_options: Dict[str, Set[str]],
                      option_classes: Set[str]) -> Set[str]:
    """``<command>_<option>`` for a ``@click.command(cls=...)`` function."""
    command, options = None, set()
    for decorator in getattr(function, "decorator_list", []):
        if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
            continue
        cls = next((k.value for k in decorator.keywords if k.arg == "cls"), None)
        cls_name = getattr(cls, "id", None)
        if decorator.func.attr == "command":
            command = _command_name(function, decorator)
            options |= command_options.get(cls_name or "", set())
        elif decorator.func.attr == "option" and cls_name in option_classes:
            options.add(_click_name(ast.Call(func=decorator.func, keywords=[],
                                             args=decorator.args)))
    if command is None or not options:
        return set()
    return {f"{command}_{option}" for option in options}


def _command_name(function: Any, decorator: ast.Call) -> str:
    given = [k.value for k in decorator.keywords if k.arg == "name"] + decorator.args[:1]
    if given:
        name = given[0].value if isinstance(given[0], ast.Constant) else None
        if not isinstance(name, str):
            raise SystemExit(f"command {function.name}: a name that is not a literal")
        return name
    function_name: str = function.name
    if function_name.endswith(CLICK_SUFFIXES):
        raise SystemExit(f"command {function_name}: click releases name it differently")
    return function_name.lower().replace("_", "-")


# -- kombu -----------------------------------------------------------------------------

def transport_aliases(source: str) -> Dict[str, Optional[str]]:
    """kombu.transport.TRANSPORT_ALIASES: alias -> transport path (None when not a string)."""
    for node in ast.parse(source).body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
                and [getattr(t, "id", None) for t in node.targets] == ["TRANSPORT_ALIASES"]):
            return {key.value: value.value if isinstance(value, ast.Constant)
                    and isinstance(value.value, str) else None
                    for key, value in zip(node.value.keys, node.value.values)
                    if isinstance(key, ast.Constant) and isinstance(key.value, str)}
    raise SystemExit("no TRANSPORT_ALIASES dict literal")


def transport_kind(path: Optional[str]) -> str:
    for prefix, kind in TRANSPORT_KINDS:
        if path is not None and path.startswith(prefix):
            return kind
    return "other"


def channel_attribute(source: str, attribute: str) -> float:
    """A number assigned to ``attribute`` in the body of the module's ``class Channel``.

    Read line by line, not parsed: kombu 3.0's redis transport names a parameter
    ``async``, which Python 3.7 and later cannot parse."""
    in_channel = False
    for line in source.splitlines():
        if line[:1].strip():  # a top-level line starts or ends the class
            in_channel = re.match(r"class Channel\b", line) is not None
            continue
        found = re.match(rf"    {attribute} = (\d+(?:\.\d+)?)\s*(?:#.*)?$", line)
        if in_channel and found:
            return float(found.group(1))
    raise SystemExit(f"no Channel.{attribute} number")


def kombu_release(wheel: Path) -> Dict[str, Any]:
    aliases = transport_aliases(read_member(wheel, "kombu/transport/__init__.py"))
    timeouts = {}
    for kind, module, attribute in VISIBILITY_TIMEOUTS:
        source = read_member(wheel, f"kombu/transport/{module}.py",
                             f"kombu/transport/{module}/__init__.py")
        timeouts[kind] = channel_attribute(source, attribute)
    return {"file": wheel.name, "sha256": sha256(wheel), "transport_aliases": aliases,
            "visibility_timeout": timeouts}


def kombu_summary(releases: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """What is the same in every kombu release: each alias's kind, the visibility timeouts."""
    kinds: Dict[str, str] = {}
    for release, data in releases.items():
        for alias, path in data["transport_aliases"].items():
            kind = transport_kind(path)
            if kinds.setdefault(alias, kind) != kind:
                raise SystemExit(f"kombu {release}: {alias} is {kind}, elsewhere {kinds[alias]}")
    timeouts = {
        json.dumps(data["visibility_timeout"], sort_keys=True) for data in releases.values()
    }
    if len(timeouts) != 1:
        raise SystemExit(f"kombu releases disagree on visibility timeouts: {sorted(timeouts)}")
    return {"transport_kinds": kinds, "visibility_timeout": json.loads(timeouts.pop())}


# -- the whole file ---------------------------------------------------------------------

def minor(release: str) -> str:
    return ".".join(release.split(".")[:2])


# Task decorators of old releases (the ``celery.task`` compat module, ``celery.decorators``):
# which of them a release defines is read from its wheel (``task_decorators``).
OLD_TASK_DECORATORS = ("celery.task", "celery.task.task", "celery.task.periodic_task",
                       "celery.task.base.task", "celery.task.base.periodic_task",
                       "celery.decorators.task", "celery.decorators.periodic_task")


def _module_tree(wheel: Path, module: str) -> Optional[ast.Module]:
    """The parsed source of a module of the wheel (a package's ``__init__``), None if absent."""
    path = module.replace(".", "/")
    with zipfile.ZipFile(wheel) as archive:
        members = set(archive.namelist())
        for name in (f"{path}.py", f"{path}/__init__.py"):
            if name in members:
                return ast.parse(archive.read(name).decode("utf-8"))
    return None


def _exported(tree: ast.Module) -> List[str]:
    """Names a module defines at its top level or lists in ``__all__``."""
    names: List[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets) \
                and isinstance(node.value, (ast.List, ast.Tuple)):
            names.extend(e.value for e in node.value.elts
                         if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return names


def _callable_module(tree: ast.Module) -> bool:
    """Whether a module replaces itself with a callable one (``class module: __call__``)."""
    return any(isinstance(node, ast.ClassDef) and any(
        isinstance(item, ast.FunctionDef) and item.name == "__call__" for item in node.body)
        for node in tree.body)


def task_decorators(wheel: Path) -> List[str]:
    """The names of OLD_TASK_DECORATORS that a release defines: a function exported by its
    module, or ``celery.task`` itself when ``celery`` exports it and it is callable."""
    found = []
    for name in OLD_TASK_DECORATORS:
        module, _, attr = name.rpartition(".")
        tree = _module_tree(wheel, module)
        if tree is None or attr not in _exported(tree):
            continue
        if name == "celery.task":
            own = _module_tree(wheel, name)
            if own is None or not _callable_module(own):
                continue
        found.append(name)
    return found


def celery_release(wheel: Path) -> Tuple[bool, Dict[str, Dict[str, Any]]]:
    source = read_member(wheel, "celery/app/defaults.py")
    return settings_from_module(run_defaults_module(source))


def bin_sources(wheel: Path) -> Dict[str, str]:
    """The release's ``celery/bin/*.py`` (not its subpackages), file name -> text."""
    with zipfile.ZipFile(wheel) as archive:
        return {name.rpartition("/")[2]: archive.read(name).decode("utf-8")
                for name in sorted(archive.namelist())
                if re.fullmatch(r"celery/bin/\w+\.py", name)}


def generate(downloads: Path) -> Dict[str, Any]:
    from packaging.specifiers import SpecifierSet

    fetched = download_all([("kombu", r) for r in KOMBU_RELEASES]
                           + [("celery", r) for r in CELERY_RELEASES], downloads)
    kombu = {release: kombu_release(fetched["kombu", release]) for release in KOMBU_RELEASES}
    wheels = {release: fetched["celery", release] for release in CELERY_RELEASES}
    tables = {release: celery_release(wheel) for release, wheel in wheels.items()}
    celery: Dict[str, Any] = {}
    for index, release in enumerate(CELERY_RELEASES):
        lowercase, settings = tables[release]
        if not lowercase:
            later = [(r, tables[r][1]) for r in CELERY_RELEASES[index + 1:] if tables[r][0]]
            settings = name_uppercase_release(settings, later)
        allowed = SpecifierSet(kombu_requirement(wheels[release]))
        kombu_releases = [k for k in KOMBU_RELEASES if k in allowed]
        if not kombu_releases:
            raise SystemExit(f"celery {release} allows no kombu of KOMBU_RELEASES ({allowed})")
        keys = set(settings) | {entry["old"] for entry in settings.values()}
        celery[minor(release)] = {
            "release": release, "file": wheels[release].name, "sha256": sha256(wheels[release]),
            "lowercase_names": lowercase, "kombu": kombu_releases, "settings": settings,
            "cli_settings": cli_settings(bin_sources(wheels[release]), keys),
            "task_decorators": task_decorators(wheels[release])}
    return {"format": FORMAT, "generator": "scripts/celery_tables.py", "celery": celery,
            "kombu": dict(kombu_summary(kombu), releases=kombu)}


def dumps(data: Dict[str, Any]) -> str:
    """JSON with sorted keys, indented down to one line per setting or per kombu release."""
    def emit(value: Any, depth: int, path: Tuple[str, ...]) -> str:
        flat = (len(path) >= 4 and path[0] == "celery" and path[2] == "settings") or \
            (len(path) >= 3 and path[:2] == ("kombu", "releases")) or not isinstance(value, dict)
        if flat or not value:
            return json.dumps(value, sort_keys=True, ensure_ascii=True)
        pad = " " * (depth + 1)
        items = [f"{pad}{json.dumps(key)}: {emit(value[key], depth + 1, (*path, key))}"
                 for key in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    return emit(data, 0, ()) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the shipped file instead of writing it")
    parser.add_argument("--downloads", type=Path, help="directory that keeps the downloaded wheels")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        downloads = args.downloads or Path(scratch)
        downloads.mkdir(parents=True, exist_ok=True)
        text = dumps(generate(downloads))
    if args.check:
        same = args.output.is_file() and args.output.read_text(encoding="utf-8") == text
        print(f"{args.output}: {'up to date' if same else 'DIFFERS from the releases'}")
        return 0 if same else 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {args.output} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
