from __future__ import annotations

from typing import Iterator, List, Optional

from celerylint.brokers import broker_kind
from celerylint.facts import Loc, Value
from celerylint.project import AppView, DispatchView, Project
from celerylint.readings import truthy
from celerylint.rule import Finding, Rule, first_per_location

HAS, LACKS, UNKNOWN = "has", "lacks", "unknown"


class PriorityWithoutMaxPriority(Rule):
    """
    ## What it does
    Reports a message priority that RabbitMQ will ignore: a task
    (`@app.task(priority=9)`, a task class attribute) or a dispatch
    (`apply_async(..., priority=9)`) sets `priority` on an AMQP broker,
    while the queue the message goes to is declared without
    `x-max-priority`:

    - `task_queue_max_priority` is not set, and
    - the queue is not in `task_queues` with `max_priority=` or
      `queue_arguments={"x-max-priority": N}` (a queue missing from
      `task_queues`, or any queue when `task_queues` is not set, is created
      by Celery without arguments).

    The queue is the dispatch's `queue=`, else the task's `queue`, else its
    `task_routes` entry, else `task_default_queue`.  The finding is on the
    `priority` option (the dispatch call for a dispatch).

    ## Why is this bad?
    RabbitMQ orders messages by priority only in queues declared with the
    `x-max-priority` argument; in any other queue the priority property is
    stored and ignored, and messages are delivered in arrival order.  The
    urgent task waits behind the whole backlog: exactly the situation the
    priority was meant for.  Nothing warns about it.  Note that RabbitMQ
    cannot add the argument to an existing queue: after setting it, delete
    the queue (or use a new name) so that Celery declares it again.

    ## Example
    ```python
    from celery import Celery

    app = Celery("proj", broker="amqp://guest@rabbitmq//")

    @app.task(priority=9)
    def send_password_reset(user_id):
        ...
    ```

    ## Use instead
    ```python
    from celery import Celery

    app = Celery("proj", broker="amqp://guest@rabbitmq//")
    app.conf.task_queue_max_priority = 10
    app.conf.task_default_priority = 5

    @app.task(priority=9)
    def send_password_reset(user_id):
        ...
    ```

    ## What it does not flag
    - Redis, whose transport emulates priorities with one list per
      priority step and needs no queue argument; SQS and other brokers;
      brokers the linter cannot identify.
    - Messages whose queue cannot be known (routers, `exchange=` /
      `routing_key=` options, a `Queue` object built elsewhere), queues
      declared from settings the linter cannot read, and priorities it
      cannot evaluate.
    - Quorum queues (`task_default_queue_type = "quorum"`,
      `x-queue-type`), which handle priorities differently.
    - `task_default_priority` alone: it sets a priority on every message
      but says nothing about a particular task.

    ## References
    - [Celery: RabbitMQ message priorities](https://docs.celeryq.dev/en/stable/userguide/routing.html#rabbitmq-message-priorities)
    - [Celery settings: task_queue_max_priority](https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-queue-max-priority)
    - [RabbitMQ: priority queues](https://www.rabbitmq.com/docs/priority)
    - [kombu: Redis message priorities](https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.redis.html)
    """

    code = "CEL112"
    name = "priority-without-max-priority"
    severity = "warning"

    def check(self, project: Project) -> Iterator[Finding]:
        return first_per_location(self._findings(project))

    def _findings(self, project: Project) -> Iterator[Finding]:
        for task in project.tasks:
            site = project.task_option_site(task, "priority")
            priority = _priority(site[0]) if site is not None else None
            if site is None or priority is None:
                continue
            _, path, loc, _ = site
            queue = project.task_queue(task)
            if queue is not None and _ignored(task.apps, queue):
                yield self._finding(path, loc, f"task {task.name} has priority={priority}", queue)
        for dispatch in project.dispatches:
            finding = self._dispatch(project, dispatch)
            if finding is not None:
                yield finding

    def _dispatch(self, project: Project, dispatch: DispatchView) -> Optional[Finding]:
        options = dispatch.fact.options
        given = options.values.get("priority")
        priority = _priority(given) if given is not None else None
        if priority is None:
            return None
        if options.may_set("exchange") or options.may_set("routing_key"):
            return None
        queue = project.dispatch_queue(dispatch)
        apps = project.apps_for_dispatch(dispatch)
        if queue is None or not _ignored(apps, queue):
            return None
        return self._finding(dispatch.path, dispatch.fact.loc,
                             f"this message has priority={priority}", queue)

    def _finding(self, path: str, loc: Loc, what: str, queue: str) -> Finding:
        return self.finding(path, loc, (
            f"{what} but its queue {queue!r} is declared without x-max-priority: RabbitMQ "
            f"ignores the priority and delivers in arrival order; set task_queue_max_priority = "
            f"10 (or Queue({queue!r}, max_priority=10) in task_queues), then delete the existing "
            f"queue so that Celery declares it again"))


def _priority(value: Value) -> Optional[int]:
    if value.known and isinstance(value.value, int) and not isinstance(value.value, bool):
        return value.value
    return None


def _ignored(apps: List[AppView], queue: str) -> bool:
    """True when every app sends to an AMQP broker whose `queue` lacks x-max-priority."""
    return bool(apps) and all(broker_kind(app) == "amqp" and _max_priority(app, queue) == LACKS
                              for app in apps)


def _max_priority(app: AppView, queue: str) -> str:
    """Whether Celery declares `queue` with x-max-priority: HAS, LACKS or UNKNOWN."""
    queue_type = app.value("task_default_queue_type")
    if not queue_type.known or queue_type.value not in (None, "classic"):
        return UNKNOWN
    limit = app.value("task_queue_max_priority")
    if not limit.known:
        return UNKNOWN
    if limit.value is not None:
        return HAS
    queues = app.value("task_queues")
    if not queues.known:
        return UNKNOWN
    declared = queues.value
    if not declared:
        return LACKS  # Celery creates every queue from the defaults
    if isinstance(declared, dict) and "$call" not in declared:
        if queue not in declared:
            return _missing(app)
        return _arguments(declared[queue])
    for item in declared if isinstance(declared, list) else [declared]:
        if not isinstance(item, dict) or not str(item.get("$call", "")).endswith("Queue"):
            return UNKNOWN
        args, kwargs = item.get("args") or [], item.get("kwargs") or {}
        name = args[0] if args else kwargs.get("name")
        if not isinstance(name, str):
            return UNKNOWN
        if name == queue:
            return _arguments(kwargs)
    return _missing(app)


def _missing(app: AppView) -> str:
    """A queue that task_queues does not declare: Celery creates it without arguments
    (task_create_missing_queues), or refuses to send."""
    create = app.value("task_create_missing_queues")
    return LACKS if truthy(create) else UNKNOWN


def _arguments(options: object) -> str:
    """HAS/LACKS x-max-priority in a Queue's keyword arguments (or a task_queues dict entry)."""
    if not isinstance(options, dict) or "$call" in options or "**" in options:
        return UNKNOWN
    if options.get("max_priority") is not None:
        return HAS
    arguments = options.get("queue_arguments")
    if arguments is None:
        return LACKS
    if not isinstance(arguments, dict) or "$call" in arguments:
        return UNKNOWN
    if str(arguments.get("x-queue-type", "classic")) != "classic":
        return UNKNOWN
    return HAS if arguments.get("x-max-priority") is not None else LACKS
