"""What an app's broker and result backend are, as far as its settings tell.

Every helper answers None when the answer cannot be known statically (a URL read
from the environment without a default, a config source the linter cannot follow).
"""
from __future__ import annotations

from typing import List, Optional, Union

from celerylint.facts import Value, as_seconds
from celerylint.project.views import AppView, ResolvedSetting
from celerylint.tables import DEFAULT_VISIBILITY_TIMEOUT, TRANSPORT_KINDS

DEFAULT_TRANSPORT = "amqp"  # kombu's default when neither URL nor transport names one
BROKER_URL_KEYS = ("broker_url", "broker_read_url", "broker_write_url")


class _Unreadable:
    """A setting that is set to something that cannot be read."""


_UNREADABLE = _Unreadable()


def broker_schemes(app: AppView) -> Optional[List[str]]:
    """The transport aliases (`amqp`, `redis`, `sqs`, ...) of every broker URL the app
    may use, lower-cased; None when any of them is unknown."""
    default_scheme = _transport(app)
    if isinstance(default_scheme, _Unreadable):
        return None
    schemes: List[str] = []
    for setting in _broker_urls(app):
        found = _url_schemes(setting.value.value, default_scheme) if setting.value.known else None
        if found is None:
            return None
        schemes.extend(found)
    if not schemes:
        if app.unresolved_sources:
            return None
        schemes.append(default_scheme or DEFAULT_TRANSPORT)
    return [s.lower() for s in schemes]


def _transport(app: AppView) -> Union[str, _Unreadable, None]:
    """``broker_transport``: the transport alias it names, None when unset, or _UNREADABLE."""
    transport = app.get("broker_transport")
    if transport is None:
        return None
    value = transport.value
    if value.known and isinstance(value.value, (str, type(None))):
        return value.value
    return _UNREADABLE


def _broker_urls(app: AppView) -> List[ResolvedSetting]:
    """The broker URL settings the app sets (``broker_host`` stands in for an unset
    ``broker_url``, as Celery's Settings.broker_url reads it)."""
    urls = [s for s in (app.get(k) for k in BROKER_URL_KEYS) if s is not None]
    host = app.get("broker_host")
    if app.get("broker_url") is None and host is not None:
        urls.append(host)
    return urls


def _url_schemes(value: object, default_scheme: Optional[str]) -> Optional[List[str]]:
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
    return as_seconds(table["visibility_timeout"])


def backend_scheme(app: AppView) -> Optional[str]:
    """The app's result backend's scheme (see :func:`scheme_of_backend`)."""
    return scheme_of_backend(app.value("result_backend"))


def scheme_of_backend(backend: Value) -> Optional[str]:
    """A result backend's scheme (`redis`, `cache`, `db`, `django-db`, `disabled`, ...),
    lower-cased; None when no backend is configured or it is unknown."""
    if not backend.known or not isinstance(backend.value, str) or not backend.value.strip():
        return None
    url = backend.value.strip()
    scheme = url.split("://", 1)[0] if "://" in url else url
    return scheme.split("+", 1)[0].lower()
