"""Load a fixture project into a real Celery app and print what app.conf makes of it.

Run as a script, in a subprocess, under the interpreter of the Celery version to
compare with (tests/test_differential.py)::

    python tests/celery_probe.py FIXTURE_ROOT MODULE:APP

Prints one JSON object:

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
    conf.__dict__["maps"] = [_Recorder(maps[0], "changes", hits),
                             _Recorder(maps[1], "conf", hits)] + maps[2:]
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


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1], sys.argv[2]), sort_keys=True))
