"""What changed between Celery releases, as the shipped tables tell (celerylint.tables).

Every supported Celery minor has its own table, so a setting is present in a target
version or not: there is no uncertain release between two measured ones.
"""
from __future__ import annotations

from typing import FrozenSet, Optional

from celerylint.facts import Value
from celerylint.tables import SUPPORTED_VERSIONS, Version, table, tables

# Celery 4.0 renamed the settings to lowercase names; 3.x reads only uppercase ones.
LOWERCASE_SETTINGS_SINCE: Version = next(v for v in SUPPORTED_VERSIONS if table(v).lowercase_names)


def setting_keys(version: Version) -> FrozenSet[str]:
    """The (new-style) setting names Celery ``version`` reads."""
    return table(version).new_keys


def setting_default(key: str, version: Version) -> Value:
    """Celery's default for a (new-style) setting in the given release (unknown when it
    is not plain data)."""
    return table(version).default(key)


def added_in(setting: str, version: Version) -> Optional[Version]:
    """For a setting ``version`` lacks: the first later supported release that has it."""
    if setting in setting_keys(version):
        return None
    return next((t.version for t in tables() if t.version > table(version).version
                 and setting in t.new_keys), None)


def removed_in(setting: str, version: Version) -> Optional[Version]:
    """For a setting ``version`` lacks although an earlier release had it: the first
    supported release without it after the last one with it."""
    target = table(version)
    if setting in target.new_keys:
        return None
    earlier = [t for t in tables() if t.version < target.version]
    last_with = next((t for t in reversed(earlier) if setting in t.new_keys), None)
    if last_with is None:
        return None
    return SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.index(last_with.version) + 1]


def setting_elsewhere(key: str, namespace: Optional[str], version: Version) -> Optional[str]:
    """The setting ``key`` names in another supported release, for a key that ``version``
    does not read as any setting.

    ``key`` is read as :func:`celerylint.settings.meaning` reads it with that release's
    names (only its uppercase names in a release that has no others, 3.1); the releases
    nearest the target are asked first, later before earlier."""
    from celerylint.settings import meaning

    target = table(version)
    others = sorted((t for t in tables() if t.version != target.version),
                    key=lambda t: (abs(SUPPORTED_VERSIONS.index(t.version)
                                       - SUPPORTED_VERSIONS.index(target.version)),
                                   t.version < target.version))
    for other in others:
        if not other.lowercase_names and not key.isupper():
            continue
        setting = meaning(key, namespace, other)
        if setting is not None:
            return setting
    return None


def cli_setting_since(name: str, version: Version) -> Optional[Version]:
    """For a name the ``celery`` command line of ``version`` does not read from app.conf
    (``worker_pidfile`` before 5.4): the first later supported release that reads it."""
    if name in table(version).cli_settings:
        return None
    return next((t.version for t in tables() if t.version > table(version).version
                 and name in t.cli_settings), None)
