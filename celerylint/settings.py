"""How Celery resolves its settings: which raw key provides each setting.

The names, old names and defaults come from the target release's table
(:class:`celerylint.tables.SettingTable`, generated from the real releases); this
module holds only the lookup logic, each step named after the Celery code it follows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set, Tuple

from celerylint.tables import SettingTable

# -- resolution as Celery does it --------------------------------------------
# celery/utils/collections.py ConfigurationView.__getitem__: up to 5.6 each key is
# tried in every map in turn (defaults included), so the plain name found among the
# defaults hides an old name under a namespace; 5.7 tries every key in one map
# before the next map.
MAP_MAJOR_LOOKUP_SINCE = (5, 7)

# celery/app/utils.py Settings properties: when the setting is unset (None), the
# property reads another key (``timezone`` falls back to Django's TIME_ZONE).
PROPERTY_FALLBACKS = {"broker_url": "broker_host", "result_backend": "CELERY_RESULT_BACKEND",
                      "timezone": "TIME_ZONE"}


def namespace_prefix(namespace: Optional[str]) -> Optional[str]:
    """celery/utils/collections.py ConfigurationView: ``prefix.rstrip('_') + '_'``."""
    return namespace.rstrip("_") + "_" if namespace else None


def _match_case(text: str, other: str) -> str:
    """celery/utils/text.py match_case."""
    if other.isupper():
        return text.upper()
    if other.islower():
        return text.lower()
    return text


def lookup_keys(key: str, prefix: Optional[str], table: SettingTable) -> List[str]:
    """The raw keys ``app.conf[key]`` tries, in order (ConfigurationView._to_keys plus
    Settings' key converters ``_old_key_to_new`` and ``_new_key_to_old``)."""
    if prefix:
        pkey = key if key.startswith(prefix) else prefix + key
        keys = [_match_case(pkey, prefix), key]
    else:
        keys = [key]
    return [*keys, table.old_to_new.get(key, key), table.new_to_old.get(key, key)]


@dataclass
class Resolution:
    """What a real app.conf makes of its sources.

    ``values`` maps each setting (new-style name) that a source provides to
    (map name, raw key); ``read`` holds every (map name, raw key) some setting
    lookup returns; ``mix_error`` lists the keys Celery's detect_settings rejects
    (ImproperlyConfigured: mixing old and new names), sorted as Celery prints them."""

    values: Dict[str, Tuple[str, str]] = field(default_factory=dict)
    read: Set[Tuple[str, str]] = field(default_factory=set)
    mix_error: List[str] = field(default_factory=list)
    old_style: bool = False


def detect_style(conf_keys: Iterable[str], auto_keys: Iterable[str], prefix: Optional[str],
                 table: SettingTable) -> Tuple[bool, List[str]]:
    """celery/app/utils.py detect_settings: (old style?, keys that raise the mixing error)."""
    have = set(conf_keys) - set(auto_keys)
    is_in_new = have & table.new_keys
    is_in_old = have & table.old_keys
    old_style, left = False, is_in_old
    if is_in_new:
        if is_in_old and len(is_in_old) > len(is_in_new):
            old_style, left = True, is_in_new
    if is_in_old:
        if not is_in_new:
            old_style, left = True, is_in_new
        if is_in_new and len(is_in_new) > len(is_in_old):
            old_style, left = False, is_in_old
    if prefix:
        old_style, left = False, set()
    convert = table.new_to_old if old_style else table.old_to_new
    return old_style, sorted(k for k in left if convert[k] not in have)


def resolve(changes: Iterable[str], conf: Iterable[str], auto_keys: Iterable[str],
            namespace: Optional[str], table: SettingTable) -> Resolution:
    """Which raw key provides each setting, as the table's Celery release looks them up.

    ``changes`` are the keys written on the app (Celery keywords, ``conf`` writes and
    updates), ``conf`` the keys of the config object (None-free list of its names)."""
    prefix = namespace_prefix(namespace)
    conf_keys = set(conf)
    setting_keys = table.new_keys
    old_style, mix_error = detect_style(conf_keys, auto_keys, prefix, table)
    convert = table.new_to_old if old_style else table.old_to_new
    change_keys = {convert.get(k, k) for k in changes}
    raw_change = {convert.get(k, k): k for k in changes}
    defaults = table.old_default_keys if old_style else setting_keys
    maps = [("changes", change_keys), ("conf", conf_keys), ("defaults", defaults)]
    result = Resolution(old_style=old_style, mix_error=mix_error)

    def lookup(key: str) -> Optional[Tuple[str, str]]:
        keys = lookup_keys(key, prefix, table)
        if table.version >= MAP_MAJOR_LOOKUP_SINCE:
            order = [(name, k) for name, present in maps for k in keys if k in present]
        else:
            order = [(name, k) for k in keys for name, present in maps if k in present]
        if not order:
            return None
        name, k = order[0]
        if name == "changes":
            k = raw_change[k]
        return name, k

    for key in sorted(setting_keys):
        hit = lookup(key)
        if hit is None or hit[0] == "defaults":
            continue
        result.values[key] = hit
        result.read.add(hit)
    for key, fallback in PROPERTY_FALLBACKS.items():
        if key not in result.values:  # unset: Celery's default for these is None
            hit = lookup(fallback)
            if hit is not None and hit[0] != "defaults":
                result.read.add(hit)
    return result



# Old-style uppercase names start with these (celery/app/defaults.py NAMESPACES).
OLD_PREFIXES = ("CELERY_", "CELERYD_", "CELERYBEAT_", "CELERYMON_", "BROKER_")


def celery_like(key: str, namespace: Optional[str], table: SettingTable) -> bool:
    """Whether a config object's name is meant as a Celery setting.

    Config objects hold other names too (a Django settings module has DEBUG and
    DATABASES; a config module has helper variables): under a namespace only
    names with its prefix, and Celery's own names, count."""
    if key in table.new_keys or key in table.old_keys:
        return True
    prefix = namespace_prefix(namespace)
    if prefix:
        return key.startswith(prefix)
    if key.isupper():
        return key.startswith(OLD_PREFIXES)
    return key.islower() and "_" in key and key.split("_", 1)[0] in table.new_groups


def read_alone(key: str, source: str, auto_keys: Iterable[str], namespace: Optional[str],
               table: SettingTable) -> bool:
    """Whether Celery would read ``key`` if it were the only key of its source."""
    changes, conf = ([key], []) if source == "changes" else ([], [key])
    alone = resolve(changes, conf, auto_keys, namespace, table)
    return bool(alone.read)


def meaning(key: str, namespace: Optional[str], table: SettingTable) -> Optional[str]:
    """The new-style setting a key names under some reading of the table's release: as
    written, as an old name, or with the namespace prefix (or Django's ``CELERY_``)
    taken off."""
    if key in table.new_keys:
        return key
    if key in table.old_to_new:
        return table.old_to_new[key]
    for prefix in (namespace_prefix(namespace), "CELERY_"):
        if prefix and key.startswith(prefix) and len(key) > len(prefix):
            rest = key[len(prefix):]
            if rest.isupper() and rest.lower() in table.new_keys:
                return rest.lower()
            if rest in table.old_to_new:
                return table.old_to_new[rest]
    return None


def spelled_for(setting: str, namespace: Optional[str]) -> str:
    """How a config object under ``namespace`` must spell a setting (``CELERY_TASK_ACKS_LATE``)."""
    prefix = namespace_prefix(namespace)
    return _match_case(prefix + setting, prefix) if prefix else setting


# Keys of well-known Celery add-ons, read from app.conf by the add-on (without a
# namespace prefix, lowercase): celery_once ("ONCE"), celery-redbeat ("redbeat_*"),
# celery-singleton ("singleton_*"), django-celery-email ("CELERY_EMAIL_*"),
# celery-sqlalchemy-scheduler ("beat_dburi", "beat_schema").
ADDON_NAMES = frozenset({"once", "beat_dburi", "beat_schema", "beat_engine_options"})
ADDON_PREFIXES = ("redbeat_", "singleton_", "email_", "once_")


def addon_key(key: str, namespace: Optional[str]) -> bool:
    name = key
    for prefix in (namespace_prefix(namespace), "CELERY_"):
        if prefix and name.startswith(prefix):
            name = name[len(prefix):]
            break
    name = name.lower()
    return name in ADDON_NAMES or name.startswith(ADDON_PREFIXES)
