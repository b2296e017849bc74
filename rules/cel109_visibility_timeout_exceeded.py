from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Literal, Optional, Sequence, Tuple, Union

from celerylint.brokers import broker_kind, visibility_timeout
from celerylint.facts import Loc, as_seconds
from celerylint.project import AppView, DispatchView, Project, TaskView
from celerylint.rule import Finding, Rule
from celerylint.schedules import format_number

BROKER_NAMES = {"redis": "Redis", "sqs": "SQS"}
LIMITS = (("time_limit", "task_time_limit"), ("soft_time_limit", "task_soft_time_limit"))


@dataclass
class Limit:
    seconds: float
    written: str  # "time_limit=7200", "task_time_limit = 7200"
    path: str
    loc: Loc


@dataclass
class Site:
    limit: Limit
    broker: str
    timeout: float
    tasks: List[str] = field(default_factory=list)
    app_wide: bool = False  # task_acks_late = True: every task of the app


SiteKey = Tuple[str, int, int]  # path, line, column of the limit

class VisibilityTimeoutExceeded(Rule):
    """
    ## What it does
    On a Redis or SQS broker, reports a wait or a run that reaches the
    broker's visibility timeout (3600 s on Redis and 1800 s on SQS unless
    `broker_transport_options={"visibility_timeout": ...}` says otherwise):

    - the time limit of a task with late acknowledgement (`acks_late=True`
      on the task or a base class, or `task_acks_late = True`; any true
      value counts, as in Celery): its
      `time_limit` (or `soft_time_limit` when there is no hard limit),
      from the task or from `task_time_limit` / `task_soft_time_limit`;
    - a dispatch's `countdown` (`apply_async(countdown=7200)`).

    The finding is on the time limit (the task option, the base class
    attribute or the app setting) or on the dispatch.

    ## Why is this bad?
    Redis and SQS have no real acknowledgement: a message a worker has
    taken but not yet acknowledged is handed to another worker when the
    visibility timeout runs out.  A late-ack task still running after an
    hour on Redis therefore starts a second time, on another worker, while
    the first copy is still going (and a third an hour later).  A message
    with a countdown or ETA is held unacknowledged by the worker until it
    is due, so a countdown longer than the timeout is redelivered and
    executed twice or more: duplicate charges, duplicate emails, reports
    built several times.

    ## Example
    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost:6379/0")

    @app.task(acks_late=True, time_limit=2 * 60 * 60)
    def rebuild_search_index():
        ...
    ```

    ## Use instead
    Raise the visibility timeout above the longest time limit and
    countdown (or shorten those):

    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost:6379/0")
    app.conf.broker_transport_options = {"visibility_timeout": 3 * 60 * 60}

    @app.task(acks_late=True, time_limit=2 * 60 * 60)
    def rebuild_search_index():
        ...
    ```

    ## What it does not flag
    - RabbitMQ (AMQP) and other brokers, whose acknowledgements do not time
      out this way, and brokers the linter cannot identify.
    - Time limits of tasks acknowledged early (the default): the message
      is gone before the task starts.
    - Tasks without a time limit: nothing says how long they run.
    - `eta=` values and `self.retry(countdown=...)`, which the linter cannot
      evaluate; countdowns it cannot read.
    - SQS setups with `predefined_queues`, whose queues carry their own
      visibility timeout, and time limits set in `task_annotations`.

    ## References
    - [Celery: Redis visibility timeout](https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout)
    - [Celery: SQS visibility timeout](https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/sqs.html#visibility-timeout)
    - [Celery settings: broker_transport_options](https://docs.celeryq.dev/en/stable/userguide/configuration.html#broker-transport-options)
    """

    code = "CEL109"
    name = "visibility-timeout-exceeded"
    severity = "warning"

    def check(self, project: Project) -> Iterator[Finding]:
        sites: Dict[SiteKey, Site] = {}
        for app in project.apps:
            self._app_wide(project, app, sites)
        for task in project.tasks:
            self._task(project, task, sites)
        for key in sorted(sites):
            yield self._site_finding(sites[key])
        for dispatch in project.dispatches:
            finding = self._dispatch(project, dispatch)
            if finding is not None:
                yield finding

    def _app_wide(self, project: Project, app: AppView, sites: Dict[SiteKey, Site]) -> None:
        """task_acks_late = True with an app-wide time limit that reaches the timeout."""
        timeout = visibility_timeout(app)
        if timeout is None or not project.app_acks_late(app):
            return
        limit = _app_limit(app)
        if limit is not None and limit.seconds >= timeout:
            key = (limit.path, limit.loc.line, limit.loc.col)
            sites.setdefault(
                key, Site(limit, _broker_name(app), timeout, app_wide=True)
            )

    def _task(self, project: Project, task: TaskView, sites: Dict[SiteKey, Site]) -> None:
        timeouts = _timeouts(task.apps)
        if not timeouts or project.acks_late(task) is None:
            return
        if any(project.task_annotation(task, option) is not None for option, _ in LIMITS):
            return
        limit = _task_limit(project, task)
        timeout = max(timeouts)
        if limit is None or limit.seconds < timeout:
            return
        key = (limit.path, limit.loc.line, limit.loc.col)
        site = sites.setdefault(key, Site(limit, _broker_name(task.apps[0]), timeout))
        site.tasks.append(task.name)

    def _site_finding(self, site: Site) -> Finding:
        if site.app_wide or not site.tasks:
            who = "late-ack tasks"
        elif len(site.tasks) == 1:
            who = f"late-ack task {site.tasks[0]}"
        else:
            who = f"late-ack tasks {site.tasks[0]} and {len(site.tasks) - 1} more"
        return self.finding(site.limit.path, site.limit.loc, (
            f"{site.limit.written} lets {who} run past the {site.broker} visibility timeout "
            f"({_duration(site.timeout)}): {site.broker} then redelivers the unacknowledged "
            f"message and the task runs twice at once; raise broker_transport_options"
            f"[\"visibility_timeout\"] above the time limit, or lower the limit"))

    def _dispatch(self, project: Project, dispatch: DispatchView) -> Optional[Finding]:
        countdown = dispatch.fact.options.values.get("countdown")
        if countdown is None or not countdown.known:
            return None
        wait = as_seconds(countdown.value)
        apps = project.apps_for_dispatch(dispatch)
        timeouts = _timeouts(apps)
        if wait is None or not timeouts or wait < max(timeouts):
            return None
        broker = _broker_name(apps[0])
        return self.finding(dispatch.path, dispatch.fact.loc, (
            f"countdown={format_number(wait)} reaches the {broker} visibility timeout "
            f"({_duration(max(timeouts))}): the worker holds the message unacknowledged until it "
            f"is due, {broker} redelivers it meanwhile and the task runs more than once; raise "
            f"broker_transport_options[\"visibility_timeout\"] above the longest countdown, or "
            f"schedule far-off work another way (a periodic task that picks due jobs)"))


def _timeouts(apps: Sequence[AppView]) -> List[float]:
    """The visibility timeout of each app; empty when any app's is unknown or absent."""
    timeouts = [visibility_timeout(app) for app in apps]
    return [t for t in timeouts if t is not None] if None not in timeouts else []


def _broker_name(app: AppView) -> str:
    """"Redis" or "SQS": only apps with a visibility timeout get here."""
    return BROKER_NAMES[broker_kind(app) or ""]


def _task_limit(project: Project, task: TaskView) -> Optional[Limit]:
    """The longest a task may run: its hard limit, else its soft limit (task option
    first, then the app setting); None when there is none or it cannot be read."""
    for option, setting in LIMITS:
        site = project.task_option_site(task, option)
        if site is not None:
            value, path, loc, where = site
            if not value.known:
                return None
            if value.value is not None:
                amount = as_seconds(value.value)
                if amount is None:
                    return None
                written = f"{option}={format_number(amount)}" if where == "decorator" else \
                    f"{option} = {format_number(amount)} on {where.rpartition('.')[2]}"
                return Limit(amount, written, path, loc)
            continue
        if len(task.apps) != 1:
            shared = project.task_setting(task, setting)
            if not shared.known or shared.value is not None:
                return None  # set in one of several apps, or unknown: not attributable
            continue
        limit = _setting_limit(task.apps[0], setting)
        if limit is not False:
            return limit
    return None


def _app_limit(app: AppView) -> Optional[Limit]:
    for _, setting in LIMITS:
        limit = _setting_limit(app, setting)
        if limit is not False:
            return limit
    return None


def _setting_limit(app: AppView, key: str) -> Union[Limit, Literal[False], None]:
    """The limit an app setting gives: a Limit, None when unreadable, False when unset."""
    found = app.get(key)
    if found is None:
        return None if app.unresolved_sources else False
    if not found.value.known:
        return None
    if found.value.value is None:
        return False
    amount = as_seconds(found.value.value)
    if amount is None:
        return None
    written = f"{found.assign.key} = {format_number(amount)}"
    return Limit(amount, written, found.path, found.assign.loc)


def _duration(amount: float) -> str:
    text = f"{format_number(amount)} s"
    if amount >= 60 and amount % 60 == 0:
        minutes = int(amount // 60)
        text += f", {minutes // 60} h" if minutes % 60 == 0 else f", {minutes} min"
    return text
