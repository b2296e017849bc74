"""Facts about older Celery releases that the installed Celery cannot tell.

``celerylint.settings`` reads setting names and defaults from the installed
Celery, which knows only its own release.  When a default changed between
releases, the older value is recorded here, each with the Celery source it
comes from, so version-aware rules can ask what applied to the project's
target version.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from celerylint.settings import DEFAULTS

Version = Tuple[int, int]

# setting (new-style name) -> [(first version with the installed default, the default before)]
DEFAULTS_BEFORE: Dict[str, List[Tuple[Version, Any]]] = {
    # Celery 3.1 celery/app/defaults.py: 'EVENT_QUEUE_TTL': Option(None, type='float').
    # Celery 4.0 docs/whatsnew-4.0.rst: "Events: Event messages now uses the RabbitMQ
    # x-message-ttl option to ensure older event messages are discarded. The default
    # is 5 seconds, but can be changed using the event_queue_ttl setting."
    "event_queue_ttl": [((4, 0), None)],
    # Celery 3.1 celery/app/defaults.py: 'EVENT_QUEUE_EXPIRES': Option(None, type='float').
    # Celery 4.0 docs/whatsnew-4.0.rst: "Events: Event monitors now sets the
    # event_queue_expires setting by default. The queues will now expire after
    # 60 seconds after the monitor stops consuming from it."
    "event_queue_expires": [((4, 0), None)],
}

# Celery 4.0 renamed the settings to lowercase names (docs/whatsnew-4.0.rst,
# "Lowercase setting names"); 3.x reads only the old uppercase names.
LOWERCASE_SETTINGS_SINCE: Version = (4, 0)


def setting_default(key: str, version: Version) -> Any:
    """Celery's default for a (new-style) setting in the given release."""
    for since, before in sorted(DEFAULTS_BEFORE.get(key, ())):
        if version < since:
            return before
    return DEFAULTS.get(key)
