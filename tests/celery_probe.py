"""Ask a real Celery what the linter must agree with, and print it as JSON.

Run as a script, in a subprocess, under the interpreter of the Celery version to
compare with (tests/test_differential.py)::

    python tests/celery_probe.py FIXTURE_ROOT MODULE:APP   # an app's settings
    python tests/celery_probe.py tables                    # the setting tables
    python tests/celery_probe.py crontab SPECS.json        # crontab field expansions

``tables`` prints Celery's own tables (``celery.app.defaults``: SETTING_KEYS,
_TO_NEW_KEY, _TO_OLD_KEY, _OLD_SETTING_KEYS, _OLD_DEFAULTS, DEFAULTS and each
option's type and deprecation), the path of that module, the names the click
command line's option callbacks read from ``app.conf`` (5.0 on), and kombu's
TRANSPORT_ALIASES with the source files of its redis and SQS transports (found,
not imported: they need the redis and boto3 packages).  Defaults that are not plain
data are printed as ``{"$not_plain": type name}``.

``crontab`` reads a JSON list of ``[field, spec]`` and prints, for each, the sorted
numbers ``crontab(**{field: spec})`` expands the field to, or None when it raises.

For an app, prints one JSON object:

- ``version``: the Celery version;
- ``error``: the ImproperlyConfigured message when Celery refuses the settings;
- ``values``: for every setting a source provides (not a default), its value;
- ``provided``: for every such setting, ``[map, raw key]`` that provided it
  (``changes``: set on the app, ``conf``: the config object);
- ``read``: every ``[map, raw key]`` that some setting lookup returned;
- ``setting_keys``: the setting names this Celery has.

The keys a fixture's sources define but ``read`` does not hold are those Celery
ignores.  Django need not be installed: when it is not, ``django.conf.settings``
is imitated (the DJANGO_SETTINGS_MODULE's uppercase names, as Django keeps them).
"""
from __future__ import annotations

import datetime
import importlib
import inspect
import json
import math
import os
import sys
import types
import warnings

if not hasattr(inspect, "formatargspec"):
    # Celery 4.x pins vine 1.3.0, whose vine/five.py imports inspect.formatargspec
    # (removed in Python 3.11) at import time; nothing on the settings path calls it.
    inspect.formatargspec = lambda *args, **kwargs: "(...)"

warnings.simplefilter("ignore")

import celery  # noqa: E402
from celery.app.defaults import SETTING_KEYS  # noqa: E402
from celery.exceptions import ImproperlyConfigured  # noqa: E402

PROPERTIES = ("broker_url", "result_backend", "timezone")


class _Recorder:
    """A settings map that records which keys lookups found in it."""

    def __init__(self, inner, name, hits):
        self.inner, self.name, self.hits = inner, name, hits

    def __getitem__(self, key):
        value = self.inner[key]
        self.hits.append((self.name, key))
        return value

    def __contains__(self, key):
        try:
            self.inner[key]
        except KeyError:
            return False
        return True

    def __getattr__(self, name):
        return getattr(self.inner, name)


class _FakeDjangoSettings:
    """django.conf.settings without Django: the settings module's uppercase names."""

    def _module(self):
        return importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])

    def __dir__(self):
        return [name for name in dir(self._module()) if name.isupper()]

    def __getattr__(self, name):
        if not name.isupper():
            raise AttributeError(name)
        return getattr(self._module(), name)


def _install_fake_django() -> None:
    try:
        importlib.import_module("django.conf")
        return
    except ImportError:
        pass
    django = types.ModuleType("django")
    conf = types.ModuleType("django.conf")
    conf.settings = _FakeDjangoSettings()
    django.conf = conf
    sys.modules["django"] = django
    sys.modules["django.conf"] = conf


def normalise(value):
    if isinstance(value, datetime.timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(normalise(v) for v in value)
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return {"$repr": repr(value)}


def probe(root: str, target: str) -> dict:
    sys.path.insert(0, root)
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    app = getattr(module, attr)
    _install_fake_django()  # after the app exists: Celery's Django fixup must not see it
    out = {"version": celery.__version__, "error": None, "values": {}, "provided": {}, "read": [],
           "setting_keys": sorted(SETTING_KEYS)}
    try:
        app.conf.finalize() if hasattr(app.conf, "finalize") else app.conf["__bogus__"]
    except KeyError:
        pass
    except ImproperlyConfigured as exc:
        out["error"] = str(exc)
        return out
    conf = app.conf
    hits = []
    maps = list(conf.maps)
    conf.__dict__["maps"] = [
        _Recorder(maps[0], "changes", hits),
        _Recorder(maps[1], "conf", hits),
        *maps[2:],
    ]
    read = set()
    for key in sorted(SETTING_KEYS):
        del hits[:]
        value = conf.get(key)
        if hits:
            out["provided"][key] = list(hits[0])
            out["values"][key] = normalise(value)
            read.add(hits[0])
    for key in PROPERTIES:
        del hits[:]
        getattr(conf, key)
        read.update(hits)
    out["read"] = sorted(list(hit) for hit in read)
    return out


def plain(value):
    """A default as JSON data, or ``{"$not_plain": ...}`` when it is not plain data."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$not_plain": "float"}
    if isinstance(value, datetime.timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: plain(v) for k, v in value.items()}
    return {"$not_plain": type(value).__name__}


def option_type(option):
    kind = option.type
    return kind if isinstance(kind, str) else {"$class": f"{kind.__module__}.{kind.__qualname__}"}


def tables() -> dict:
    import importlib.util

    import kombu
    import kombu.transport
    from celery.app import defaults

    options = dict(defaults.flatten(defaults.NAMESPACES))
    sources = {}
    for module in ("redis", "SQS"):
        spec = importlib.util.find_spec(f"kombu.transport.{module}")
        sources[module] = spec.origin
    return {
        "version": celery.__version__, "defaults_file": defaults.__file__,
        "setting_keys": sorted(defaults.SETTING_KEYS),
        "to_new": dict(defaults._TO_NEW_KEY), "to_old": dict(defaults._TO_OLD_KEY),
        "old_keys": sorted(defaults._OLD_SETTING_KEYS),
        "old_defaults": {k: plain(v) for k, v in defaults._OLD_DEFAULTS.items()},
        "defaults": {k: plain(v) for k, v in defaults.DEFAULTS.items()},
        "types": {k: option_type(o) for k, o in options.items()},
        "deprecation": {k: {a: getattr(o, a) for a in ("deprecate_by", "remove_by", "alt")
                            if getattr(o, a, None) is not None} for k, o in options.items()},
        "cli": cli_reads(),
        "kombu": {"version": kombu.__version__, "transport_sources": sources,
                  "transport_aliases": {k: v if isinstance(v, str) else None
                                        for k, v in kombu.transport.TRANSPORT_ALIASES.items()}},
    }


def cli_reads():
    """What the ``celery`` command line's option callbacks read from ``app.conf``: each
    callback of each command (groups walked) called with no value given on a stand-in
    context; None for a release whose command line is not click's (before 5.0)."""
    try:
        import click
        from celery.bin import celery as module
        group = module.celery
    except (ImportError, AttributeError):
        return None
    if not isinstance(group, click.Group):
        return None
    reads = set()

    class Conf:
        def __getattr__(self, name):
            reads.add(name)
            return None

    def walk(command):
        for param in command.params:
            if param.callback is None:
                continue
            ctx = types.SimpleNamespace(obj=types.SimpleNamespace(
                app=types.SimpleNamespace(conf=Conf())), command=command)
            try:
                param.callback(ctx, param, None)
            except Exception:  # a callback that needs more than the conf: not a setting read
                pass
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(group)
    return {"reads": sorted(reads), "bin_dir": os.path.dirname(module.__file__)}


def crontab_fields(specs_file: str) -> list:
    from celery.schedules import crontab

    with open(specs_file, encoding="utf-8") as handle:
        specs = json.load(handle)
    expanded = []
    for field, spec in specs:
        try:
            numbers = getattr(crontab(**{field: spec}), field)
            expanded.append(sorted(numbers, key=repr))
        except Exception:  # what Celery rejects, however it says so
            expanded.append(None)
    return expanded


if __name__ == "__main__":
    if sys.argv[1] == "tables":
        result = tables()
    elif sys.argv[1] == "crontab":
        result = crontab_fields(sys.argv[2])
    else:
        result = probe(sys.argv[1], sys.argv[2])
    print(json.dumps(result, sort_keys=True))
