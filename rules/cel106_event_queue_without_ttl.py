from __future__ import annotations

from typing import Iterator, Optional, Tuple

from celerylint.brokers import broker_kind
from celerylint.project import AppView, Project, ResolvedSetting
from celerylint.readings import truthy
from celerylint.rule import Finding, Rule, first_per_location
from celerylint.tables import table
from celerylint.versions import LOWERCASE_SETTINGS_SINCE, setting_default

EVENT_SWITCHES = ("worker_send_task_events", "task_send_sent_event")
CONSEQUENCE = ("on RabbitMQ, events that monitors do not consume pile up in their queues until "
               "the broker runs out of memory")


class EventQueueWithoutTtlRule(Rule):
    """
    ## What it does
    Reports task events sent to a RabbitMQ (AMQP) broker while the event
    queues have no message TTL:

    - events are enabled by `worker_send_task_events` or
      `task_send_sent_event` (old names `CELERY_SEND_EVENTS`,
      `CELERY_SEND_TASK_SENT_EVENT`, or the `CELERY_`-prefixed names of a
      Django namespace);
    - the broker is AMQP: `broker_url` with scheme `amqp`, `amqps`,
      `pyamqp` or `librabbitmq`, or no broker setting at all (Celery's
      default broker is `amqp://localhost`);
    - and `event_queue_ttl` is off: not set on a project that targets
      Celery before 4.0, whose default was no TTL, or set to `None` in any
      version.

    When the TTL is switched off explicitly the finding is on that
    assignment; otherwise it is on the setting that enables events.  The
    target version comes from `--target-version`, `target-version` or the
    project's dependency pins (`celery==3.1.25` in requirements.txt).

    ## Why is this bad?
    Every monitor (Flower, `celery events`) gets its own `celeryev.*` queue
    on the broker, and every task sends several events into each of them.
    Without a message TTL, events that a slow, stuck or vanished monitor
    does not consume stay in RabbitMQ.  In production that is millions of
    messages: RabbitMQ's memory grows until it hits its watermark, blocks
    every publisher (task dispatch slows to seconds, then stops), and can
    run out of memory.  Celery 4.0 made event messages expire after 5
    seconds (`event_queue_ttl`) and idle event queues after 60
    (`event_queue_expires`); Celery 3.1 projects must set them.

    ## Example
    ```python
    from celery import Celery

    app = Celery("proj", broker="amqp://guest@rabbitmq//")
    app.conf.update(
        worker_send_task_events=True,
        event_queue_ttl=None,
    )
    ```

    ## Use instead
    Keep a TTL on event messages and an expiry on idle event queues
    (`CELERY_EVENT_QUEUE_TTL = 5` and `CELERY_EVENT_QUEUE_EXPIRES = 60`
    with Celery 3.1 or uppercase settings):

    ```python
    from celery import Celery

    app = Celery("proj", broker="amqp://guest@rabbitmq//")
    app.conf.update(
        worker_send_task_events=True,
        event_queue_ttl=5,
        event_queue_expires=60,
    )
    ```

    ## What it does not flag
    - Redis, SQS and other non-AMQP brokers: Redis delivers events by
      pub/sub and stores none, the others do not use RabbitMQ queue
      arguments.  A broker URL the linter cannot evaluate is not flagged.
    - `event_queue_ttl = 0`: RabbitMQ then drops every event that cannot be
      delivered at once, so the queue cannot grow (Celery and kombu pass
      only `None` through as "no TTL").
    - Events enabled on the command line (`celery worker -E`): this rule
      reads settings only; deployment files are checked separately.
    - Worker heartbeat events, which are sent even without task events and
      are much rarer.
    - A broker URL or TTL that only the deployment's environment sets
      (`CELERY_BROKER_URL`): values read from the environment with a
      default in code are judged by that default.
    - Apps whose settings come partly from a config source the linter
      cannot resolve, when the TTL is not set where it can see.

    ## References
    - [Celery settings: event_queue_ttl](https://docs.celeryq.dev/en/stable/userguide/configuration.html#event-queue-ttl)
    - [Celery settings: event_queue_expires](https://docs.celeryq.dev/en/stable/userguide/configuration.html#event-queue-expires)
    - [What's new in Celery 4.0: events](https://docs.celeryq.dev/en/stable/history/whatsnew-4.0.html)
    - [RabbitMQ: time-to-live and expiration](https://www.rabbitmq.com/docs/ttl)
    """

    code = "CEL106"
    name = "event-queue-without-ttl"
    severity = "warning"

    def check(self, project: Project) -> Iterator[Finding]:
        findings = (self._check_app(project, app) for app in project.apps)
        return first_per_location(finding for finding in findings if finding is not None)

    def _check_app(self, project: Project, app: AppView) -> Optional[Finding]:
        switch = _events_switch(app)
        if switch is None or broker_kind(app) != "amqp":
            return None
        version = project.target_version
        ttl = app.get("event_queue_ttl")
        if ttl is not None:
            if not ttl.value.known or ttl.value.value is not None:
                return None
            where = "" if switch.path == ttl.path else f" ({switch.path}:{switch.assign.loc.line})"
            return self.finding(ttl.path, ttl.assign.loc, (
                f"{ttl.assign.key} = None turns off the message TTL of the event queues while "
                f"task events are enabled by {switch.assign.key}{where}: {CONSEQUENCE}; set "
                f"{ttl.assign.key} = 5{_expires_advice(app, ttl, version)}"))
        default = setting_default("event_queue_ttl", version)
        if app.unresolved_sources or not default.known or default.value is not None:
            return None
        return self.finding(switch.path, switch.assign.loc, (
            f"task events are enabled by {switch.assign.key} but the event queues have no message "
            f"TTL (Celery {version[0]}.{version[1]} sets none by default): {CONSEQUENCE}; set "
            f"{_spelling(switch, 'event_queue_ttl', version)} = 5"
            f"{_expires_advice(app, switch, version)}"))


def _events_switch(app: AppView) -> Optional[ResolvedSetting]:
    """The setting that turns task events on, or None when they are off or unknown."""
    for key in EVENT_SWITCHES:
        found = app.get(key)
        if found is not None and truthy(found.value):
            return found
    return None


def _expires_advice(app: AppView, written: ResolvedSetting, version: Tuple[int, int]) -> str:
    """Advice to also expire idle event queues, unless they already do."""
    expires = app.get("event_queue_expires")
    current = setting_default("event_queue_expires", version) if expires is None else expires.value
    if not current.known or current.value is not None:
        return ""
    return f" and {_spelling(written, 'event_queue_expires', version)} = 60"


def _spelling(written: ResolvedSetting, key: str, version: Tuple[int, int]) -> str:
    """How to write setting `key` in the style the project already uses for `written`."""
    old_name = table(version).new_to_old.get(key, key.upper())
    if version < LOWERCASE_SETTINGS_SINCE:
        return old_name
    name = written.assign.key
    if name == written.key:
        return key
    if name.endswith(written.key.upper()):
        return name[: len(name) - len(written.key)] + key.upper()
    return old_name
