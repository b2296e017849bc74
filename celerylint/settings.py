"""Celery's own setting tables: names, old names and defaults.

Taken from the installed Celery (``celery.app.defaults``), never copied by
hand, so they follow the Celery release the linter runs with.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from celery.app.defaults import DEFAULTS as _CELERY_DEFAULTS
from celery.app.defaults import SETTING_KEYS, _TO_NEW_KEY, _TO_OLD_KEY

NEW_KEYS = frozenset(SETTING_KEYS)
OLD_TO_NEW: Dict[str, str] = dict(_TO_NEW_KEY)
NEW_TO_OLD: Dict[str, str] = dict(_TO_OLD_KEY)
DEFAULTS: Dict[str, Any] = {k: v for k, v in _CELERY_DEFAULTS.items() if k in NEW_KEYS}


def normalise_key(key: str, namespace: Optional[str]) -> Optional[str]:
    """The new-style setting name a key sets, or None when Celery ignores it.

    With a namespace (Django's ``namespace="CELERY"``) only prefixed keys are
    read, and the prefix is dropped before the name is looked up.
    """
    if namespace:
        prefix = namespace + "_"
        if not key.startswith(prefix):
            return None
        stripped = key[len(prefix):]
        if stripped.lower() in NEW_KEYS and stripped.isupper():
            return stripped.lower()
        return OLD_TO_NEW.get(key) or OLD_TO_NEW.get(stripped)
    if key in NEW_KEYS:
        return key
    return OLD_TO_NEW.get(key)
