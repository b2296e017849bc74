"""What an app's broker and result backend are, as far as its settings tell.

Every helper answers None when the answer cannot be known statically (a URL read
from the environment without a default, a config source the linter cannot follow).
"""
from __future__ import annotations

from typing import List, Optional

from celerylint.project import AppView, ResolvedSetting
from celerylint.tables import DEFAULT_VISIBILITY_TIMEOUT, TRANSPORT_KINDS

DEFAULT_TRANSPORT = "amqp"  # kombu's default when neither URL nor transport names one
BROKER_URL_KEYS = ("broker_url", "broker_read_url", "broker_write_url")


def broker_schemes(app: AppView) -> Optional[List[str]]:
    """The transport aliases (`amqp`, `redis`, `sqs`, ...) of every broker URL the app
    may use, lower-cased; None when any of them is unknown."""
    transport = app.get("broker_transport")
    if transport is not None and not (transport.value.known and
                                      isinstance(transport.value.value, (str, type(None)))):
        return None
    default_scheme = transport.value.value if transport is not None else None
    urls: List[ResolvedSetting] = [s for s in (app.get(k) for k in BROKER_URL_KEYS) if s is not None]
    if app.get("broker_url") is None and app.get("broker_host") is not None:
        urls.append(app.get("broker_host"))
    schemes: List[str] = []
    for setting in urls:
        if not setting.value.known:
            return None
        found = _url_schemes(setting.value.value, default_scheme)
        if found is None:
            return None
        schemes.extend(found)
    if not schemes:
        if app.unresolved_sources:
            return None
        schemes.append(default_scheme or DEFAULT_TRANSPORT)
    return [s.lower() for s in schemes]


def _url_schemes(value, default_scheme: Optional[str]) -> Optional[List[str]]:
    """URL schemes of a broker URL value: a string (`;`-separated failover list), or a list."""
    if value is None:
        return []
    schemes: List[str] = []
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, str):
            return None
        for url in item.split(";"):
            url = url.strip()
            if "://" in url:
                schemes.append(url.split("://", 1)[0].split("+", 1)[0])
            elif url:
                schemes.append(default_scheme or DEFAULT_TRANSPORT)
    return schemes


def broker_kind(app: AppView) -> Optional[str]:
    """"amqp", "redis", "sqs" or "other" when every broker URL of the app is of that kind;
    None when unknown or mixed."""
    schemes = broker_schemes(app)
    if not schemes:
        return None
    kinds = {_kind(s) for s in schemes}
    return kinds.pop() if len(kinds) == 1 else None


def _kind(scheme: str) -> str:
    """The kind of a transport alias (kombu's TRANSPORT_ALIASES, via celerylint.tables)."""
    return TRANSPORT_KINDS.get(scheme, "other")


def visibility_timeout(app: AppView) -> Optional[float]:
    """Seconds a Redis or SQS broker waits for an ack before redelivering a message;
    None for other brokers or when unknown."""
    kind = broker_kind(app)
    if kind not in DEFAULT_VISIBILITY_TIMEOUT:
        return None
    options = app.value("broker_transport_options")
    if not options.known:
        return None
    table = options.value if options.value is not None else {}
    if not isinstance(table, dict) or "$call" in table:
        return None
    if kind == "sqs" and "predefined_queues" in table:
        return None  # queues made outside Celery carry their own timeouts
    if "visibility_timeout" not in table:
        return DEFAULT_VISIBILITY_TIMEOUT[kind]
    return seconds(table["visibility_timeout"])


def seconds(value) -> Optional[float]:
    """A number of seconds from a known value: a number or a timedelta."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict) and isinstance(value.get("$timedelta"), (int, float)):
        return float(value["$timedelta"])
    return None


def backend_scheme(app: AppView) -> Optional[str]:
    """The result backend's scheme (`redis`, `cache`, `db`, `django-db`, ...), lower-cased;
    None when no backend is configured or it is unknown."""
    backend = app.value("result_backend")
    if not backend.known or not isinstance(backend.value, str) or not backend.value.strip():
        return None
    url = backend.value.strip()
    scheme = url.split("://", 1)[0] if "://" in url else url
    return scheme.split("+", 1)[0].lower()
