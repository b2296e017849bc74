"""Facts about older Celery releases that the installed Celery cannot tell.

``celerylint.settings`` reads setting names and defaults from the installed
Celery, which knows only its own release.  When a default changed between
releases, the older value is recorded here, each with the Celery source it
comes from, so version-aware rules can ask what applied to the project's
target version.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from celerylint.settings import DEFAULTS, NEW_KEYS

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
    # Celery 3.1.26 celery/app/defaults.py: 'TASK_SERIALIZER': Option('pickle'),
    # 'RESULT_SERIALIZER': Option('pickle'), and
    # 'ACCEPT_CONTENT': Option(DEFAULT_ACCEPT_CONTENT, type='list') with
    # DEFAULT_ACCEPT_CONTENT = ['json', 'pickle', 'msgpack', 'yaml'].
    # Celery 4.0 docs/whatsnew-4.0.rst: "JSON is now the default serializer".
    "task_serializer": [((4, 0), "pickle")],
    "result_serializer": [((4, 0), "pickle")],
    "accept_content": [((4, 0), ["json", "pickle", "msgpack", "yaml"])],
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


# -- which settings a release has --------------------------------------------
# Settings of the installed Celery that older releases do not have, by the last
# measured release without them: the setting exists in no release up to that one.
# Measured from celery/app/defaults.py SETTING_KEYS of Celery 4.4.7, 5.3.6, 5.6.3
# and 5.7.0 (tests/test_differential.py checks these lists against each Celery
# that .ci/run installs).
SETTINGS_ADDED_AFTER: Dict[Version, Tuple[str, ...]] = {
    (4, 4): ("azureblockblob_base_path", "azureblockblob_connection_timeout",
             "azureblockblob_read_timeout", "beat_cron_starting_deadline",
             "broker_channel_error_retry", "broker_connection_retry_on_startup",
             "cassandra_bundle_path", "redis_username", "security_key_password",
             "task_allow_error_cb_on_chord_header", "task_store_eager_result",
             "worker_cancel_long_running_tasks_on_connection_loss",
             "worker_deduplicate_successful_tasks"),
    (5, 3): ("broker_native_delayed_delivery_queue_type", "control_queue_durable",
             "control_queue_exclusive", "database_create_tables_at_setup",
             "event_queue_durable", "event_queue_exclusive", "gcs_base_path", "gcs_bucket",
             "gcs_project", "gcs_ttl", "task_create_missing_queue_exchange_type",
             "task_create_missing_queue_type", "task_default_queue_type",
             "worker_detect_quorum_queues", "worker_disable_prefetch",
             "worker_enable_prefetch_count_reduction", "worker_enable_soft_shutdown_on_idle",
             "worker_eta_task_limit", "worker_soft_shutdown_timeout"),
    (5, 6): ("beat_enable_remote_control", "beat_remote_control_max_tick_age",
             "broker_pool_acquire_timeout", "database_engine_callback", "result_chord_expires",
             "result_failure_expires", "task_acks_on_failure", "task_acks_on_timeout",
             "task_repr_maxlevels", "task_retry_on_worker_lost", "worker_log_datefmt",
             "worker_pool_start_method", "worker_task_log_datefmt"),
}

# Settings older releases have and the installed Celery does not, with their old
# names: (last measured release with it, first measured release without it).
# Celery 4.4.7 celery/app/defaults.py: riak backend_settings (old name
# CELERY_RIAK_BACKEND_SETTINGS) and task queue_ha_policy (CELERY_QUEUE_HA_POLICY);
# neither is in Celery 5.3.6 (Celery 5.0 dropped the Riak backend and the HA policy).
SETTINGS_REMOVED: Dict[str, Tuple[Version, Version]] = {
    "riak_backend_settings": ((4, 4), (5, 0)),
    "task_queue_ha_policy": ((4, 4), (5, 0)),
}
REMOVED_OLD_NAMES: Dict[str, str] = {
    "CELERY_RIAK_BACKEND_SETTINGS": "riak_backend_settings",
    "CELERY_QUEUE_HA_POLICY": "task_queue_ha_policy",
}


def setting_keys(version: Version) -> frozenset:
    """The (new-style) setting names Celery ``version`` reads.

    Between two measured releases a setting counts as present, so that keys of an
    uncertain release are read rather than reported."""
    keys = set(NEW_KEYS)
    for last_without, added in SETTINGS_ADDED_AFTER.items():
        if version <= last_without:
            keys.difference_update(added)
    for key, (last_with, _) in SETTINGS_REMOVED.items():
        if version <= last_with:
            keys.add(key)
    return frozenset(keys)


def added_after(key: str, version: Version) -> Optional[Version]:
    """For a setting ``version`` surely lacks: the last measured release without it."""
    for last_without, added in SETTINGS_ADDED_AFTER.items():
        if key in added and version <= last_without:
            return last_without
    return None


def removed_in(key: str, version: Version) -> Optional[Version]:
    """For a setting ``version`` surely lacks because it was removed: the release
    that removed it."""
    found = SETTINGS_REMOVED.get(key) or SETTINGS_REMOVED.get(REMOVED_OLD_NAMES.get(key, ""))
    if found is not None and version >= found[1]:
        return found[1]
    return None


def removed_setting(key: str) -> Optional[str]:
    """The setting a key names when that setting is one the installed Celery dropped."""
    if key in SETTINGS_REMOVED:
        return key
    return REMOVED_OLD_NAMES.get(key)
