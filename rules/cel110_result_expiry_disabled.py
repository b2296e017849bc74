from __future__ import annotations

from typing import Iterator, Optional

from celerylint.brokers import backend_scheme
from celerylint.facts import as_seconds
from celerylint.project import AppView, Project
from celerylint.rule import Finding, Rule, first_per_location

# Result backends that keep every result as a key in memory until it expires.
REDIS_BACKENDS = frozenset({"redis", "rediss", "sentinel"})
CACHE_BACKENDS = frozenset({"cache", "memcache", "memcached", "pylibmc"})


class ResultExpiryDisabled(Rule):
    """
    ## What it does
    Reports `result_expires = None` (or `0`, or `timedelta(0)`; old name
    `CELERY_TASK_RESULT_EXPIRES`) on an app whose result backend keeps
    results in memory: Redis (`redis://`, `rediss://`, `sentinel://`) or a
    cache (`cache+memcached://`, `cache+memory://`, `cache`).  The finding
    is on the `result_expires` assignment.

    ## Why is this bad?
    Each task result is a key in the backend.  Celery normally gives it a
    TTL of `result_expires` (one day); with `None` or `0` it writes the key
    with no TTL at all, so every result of every task stays for ever.  On
    Redis, memory grows until `maxmemory` is hit: then either writes fail
    (the broker too, when it shares the instance, so task dispatch stops)
    or the eviction policy starts dropping keys, including queued
    messages.  On memcached, results push the application's own cache
    entries out.

    ## Example
    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost/0", backend="redis://localhost/1")
    app.conf.result_expires = None
    ```

    ## Use instead
    Keep results only as long as something reads them (or ignore results of
    tasks nobody reads, see CEL102):

    ```python
    from datetime import timedelta

    from celery import Celery

    app = Celery("proj", broker="redis://localhost/0", backend="redis://localhost/1")
    app.conf.result_expires = timedelta(hours=6)
    ```

    ## What it does not flag
    - Database backends (`db+...`, `django-db`, MongoDB, ...): results
      take disk, not memory, and are removed by the `celery.backend_cleanup`
      periodic task, which `None` turns off; that is a slower, different
      problem.
    - The `rpc://` backend: results are messages to the caller, not stored
      keys.
    - Apps whose result backend is unknown (read from the environment
      without a default, a config source the linter cannot resolve) or not
      configured, and `result_expires` values the linter cannot read.

    ## References
    - [Celery settings: result_expires](https://docs.celeryq.dev/en/stable/userguide/configuration.html#result-expires)
    - [Celery: Redis result backend](https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html)
    - [Redis: key eviction](https://redis.io/docs/latest/develop/reference/eviction/)
    """

    code = "CEL110"
    name = "result-expiry-disabled"
    severity = "warning"

    def check(self, project: Project) -> Iterator[Finding]:
        findings = (self._check_app(app) for app in project.apps)
        return first_per_location(finding for finding in findings if finding is not None)

    def _check_app(self, app: AppView) -> Optional[Finding]:
        expires = app.get("result_expires")
        if expires is None or not expires.value.known or not _disabled(expires.value.value):
            return None
        scheme = backend_scheme(app)
        if scheme in REDIS_BACKENDS:
            consequence = ("every task result stays in Redis for ever, until it runs out of memory "
                           "or starts evicting keys")
        elif scheme in CACHE_BACKENDS:
            consequence = ("every task result stays in the cache for ever and pushes other "
                           "entries out")
        else:
            return None
        value = expires.value.value
        shown = "None" if value is None else "timedelta(0)" if isinstance(value, dict) else "0"
        return self.finding(expires.path, expires.assign.loc, (
            f"{expires.assign.key} = {shown} turns off result expiry on the {scheme} result "
            f"backend: {consequence}; set it to how long results are needed (Celery's default "
            f"is one day), or ignore results nobody reads"))


def _disabled(value: object) -> bool:
    return value is None or as_seconds(value) == 0
