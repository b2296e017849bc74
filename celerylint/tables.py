"""What the linter knows of Celery and kombu, per supported Celery release.

Read from ``celerylint/data/celery.json``, which ``scripts/celery_tables.py`` generates
from the real releases and the differential tests prove against them.  Nothing here
imports Celery or kombu: findings never depend on the Celery installed beside the
linter.

A target version the file has no table for uses the table of the newest supported
release before it (the oldest table for versions before 3.1): every Celery minor from
3.1 to :data:`NEWEST_KNOWN` has its own table.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, Mapping, Tuple

from celerylint.facts import Known, Unknown, Value

Version = Tuple[int, int]


@dataclass(frozen=True)
class SettingTable:
    """One Celery release's settings (celery/app/defaults.py), keyed by new-style names.

    ``old_to_new`` and ``new_to_old`` are Celery's ``_TO_NEW_KEY`` and ``_TO_OLD_KEY``,
    ``old_keys`` its ``_OLD_SETTING_KEYS`` and ``old_default_keys`` the keys of its
    ``_OLD_DEFAULTS``.  ``defaults`` are JSON data (``{"$timedelta": s}`` for a timedelta,
    ``{"$object": ...}`` for what the linter cannot know as a value).  Celery 3.1 has
    only uppercase names (``lowercase_names`` is False): its new-style names are those
    later releases give its settings."""

    version: Version
    release: str
    lowercase_names: bool
    new_keys: FrozenSet[str]
    old_to_new: Mapping[str, str]
    new_to_old: Mapping[str, str]
    defaults: Mapping[str, Any]
    types: Mapping[str, Any]
    old_keys: FrozenSet[str]
    old_default_keys: FrozenSet[str]
    new_groups: FrozenSet[str]  # first words of the new-style names (``task``, ``worker``)
    # names the release's ``celery`` command line reads from app.conf that no setting
    # declares: ``<command>_<option>`` of its daemon options (``worker_pidfile``, 5.4 on)
    cli_settings: FrozenSet[str] = frozenset()

    def default(self, key: str) -> Value:
        """Celery's default for a setting of this release.

        A key the release does not have is read by no code of it: ``app.conf.get``
        gives None.  A default that is not plain data is unknown."""
        if key not in self.defaults:
            return Known(None)
        value = self.defaults[key]
        if _holds_object(value):
            return Unknown(f"{key} (Celery {self.release}'s default is not plain data)")
        return Known(value)


def _holds_object(value: Any) -> bool:
    if isinstance(value, dict):
        return "$object" in value or any(_holds_object(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_object(v) for v in value)
    return False


DATA_FILE = Path(__file__).with_name("data") / "celery.json"  # shipped as package data


@cache
def _data() -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


def _version(text: str) -> Version:
    major, minor = text.split(".")
    return int(major), int(minor)


SUPPORTED_VERSIONS: Tuple[Version, ...] = tuple(sorted(_version(v) for v in _data()["celery"]))
NEWEST_KNOWN: Version = SUPPORTED_VERSIONS[-1]


def supported_version(version: Version) -> Version:
    """The supported release whose table answers for ``version``."""
    older = [v for v in SUPPORTED_VERSIONS if v <= tuple(version)]
    return older[-1] if older else SUPPORTED_VERSIONS[0]


def table(version: Version) -> SettingTable:
    """The setting table of the Celery release the target ``version`` runs."""
    return _table(supported_version(version))


@cache
def _table(version: Version) -> SettingTable:
    data = _data()["celery"]["{}.{}".format(*version)]
    settings: Dict[str, Dict[str, Any]] = data["settings"]
    new_to_old = {key: entry["old"] for key, entry in settings.items()}
    old_to_new = {old: key for key, old in new_to_old.items()}
    named = settings if data["lowercase_names"] else _names_of_later_releases(settings)
    return SettingTable(
        version=version, release=data["release"], lowercase_names=data["lowercase_names"],
        new_keys=frozenset(settings), old_to_new=old_to_new, new_to_old=new_to_old,
        defaults={key: entry["default"] for key, entry in settings.items()},
        types={key: entry["type"] for key, entry in settings.items()},
        old_keys=frozenset(old_to_new), old_default_keys=frozenset(old_to_new),
        new_groups=frozenset(key.split("_", 1)[0] for key in named if "_" in key),
        cli_settings=frozenset(data["cli_settings"]))


def _names_of_later_releases(settings: Mapping[str, Any]) -> FrozenSet[str]:
    """The names of a release without new-style names (3.1) that are real new-style names:
    those of settings later releases kept, not of the ones they dropped."""
    later = set()
    for data in _data()["celery"].values():
        if data["lowercase_names"]:
            later.update(data["settings"])
    return frozenset(key for key in settings if key in later)


def task_decorators(version: Version) -> FrozenSet[str]:
    """Celery's old task decorators (``celery.task``, ``celery.task.periodic_task``, ...)
    that the release the target ``version`` runs still defines."""
    data = _data()["celery"]["{}.{}".format(*supported_version(version))]
    return frozenset(data["task_decorators"])


def old_task_decorators() -> FrozenSet[str]:
    """The old task decorators of every supported release."""
    return frozenset(name for data in _data()["celery"].values()
                     for name in data["task_decorators"])


def tables() -> Tuple[SettingTable, ...]:
    """Every supported release's table, oldest first."""
    return tuple(_table(version) for version in SUPPORTED_VERSIONS)


# -- kombu ------------------------------------------------------------------------------
# The same in every kombu release a supported Celery allows (the generator checks):
# each transport alias's kind, lower-cased as the linter reads URL schemes, and the
# default visibility timeouts of the redis and SQS transports.
TRANSPORT_KINDS: Dict[str, str] = {
    alias.lower(): kind for alias, kind in sorted(_data()["kombu"]["transport_kinds"].items())}
DEFAULT_VISIBILITY_TIMEOUT: Dict[str, float] = dict(_data()["kombu"]["visibility_timeout"])
