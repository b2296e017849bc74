from __future__ import annotations

from typing import Iterator, List, Optional

from celerylint.facts import Call
from celerylint.project import Project, TaskView, body_calls
from celerylint.readings import truthy
from celerylint.rule import Finding, Rule


class RetryWithoutLimit(Rule):
    """
    ## What it does
    Reports `max_retries=None` on a task that retries: its body calls
    `self.retry(...)` (a bound task, or a `Task` subclass's `run`), or it
    sets `autoretry_for`.  The option is read from the decorator, the task
    class, or a base class (`base=`); the finding is where `max_retries =
    None` is written.

    ## Why is this bad?
    `max_retries=None` means "retry for ever".  When the error is not
    transient (a deleted row, a revoked API key, a bug), the task never
    gives up: every retry is a new message, the worker keeps spending time
    on it, the error tracker fills with the same exception, and with a
    growing `countdown` or many such tasks the queue backs up behind
    messages that can never succeed.  Nothing ever reaches the failure
    path (`on_failure`, the result's `FAILURE` state), so nobody is told.

    ## Example
    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost")

    @app.task(bind=True, max_retries=None)
    def sync_account(self, account_id):
        try:
            push(account_id)
        except ConnectionError as exc:
            raise self.retry(exc=exc, countdown=60)
    ```

    ## Use instead
    Give the retries a bound (with backoff if the outage may be long):

    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost")

    @app.task(bind=True, max_retries=10)
    def sync_account(self, account_id):
        try:
            push(account_id)
        except ConnectionError as exc:
            raise self.retry(exc=exc, countdown=60 * 2 ** self.request.retries)
    ```

    ## What it does not flag
    - A task without `max_retries`: Celery's default is 3.
    - `self.retry(max_retries=None)`: `None` there means "the task's own
      limit".  A task whose every `self.retry(...)` call passes its own
      `max_retries=` is not flagged either (the call's limit wins), nor an
      `autoretry_for` task whose `retry_kwargs` sets `max_retries` or
      cannot be read.
    - Tasks that never retry (no `self.retry`, no `autoretry_for`):
      `max_retries` then does nothing.
    - Tasks whose `max_retries` is set in `task_annotations`, which
      override the task's own options.
    - Retries through a name the linter does not recognise (a bound
      task's first parameter not called `self`, a helper that retries).

    ## References
    - [Celery: Retrying](https://docs.celeryq.dev/en/stable/userguide/tasks.html#retrying)
    - [Celery: Task.max_retries](https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.max_retries)
    - [Celery: automatic retry for known exceptions](https://docs.celeryq.dev/en/stable/userguide/tasks.html#automatic-retry-for-known-exceptions)
    """

    code = "CEL111"
    name = "retry-without-limit"
    severity = "warning"

    def check(self, project: Project) -> Iterator[Finding]:
        seen = set()
        for task in project.tasks:
            how = _how_it_retries(project, task)
            if how is None or project.task_annotation(task, "max_retries") is not None:
                continue
            located = project.task_option_site(task, "max_retries")
            if located is None:
                continue
            value, path, loc, where = located
            if not value.known or value.value is not None or (path, loc) in seen:
                continue
            seen.add((path, loc))
            on = "" if where == "decorator" else f" on {where.rpartition('.')[2]}"
            yield self.finding(path, loc, (
                f"task {task.name} retries ({how}) with max_retries = None{on}: it retries for "
                f"ever while the error lasts and never reaches its failure path; set "
                f"max_retries to a number (Celery's default is 3)"))


def _how_it_retries(project: Project, task: TaskView) -> Optional[str]:
    """A short description of how the task retries, or None when it does not (or the
    retry limit comes from somewhere else than the task's max_retries)."""
    autoretry = project.task_option(task, "autoretry_for")
    if autoretry is not None and truthy(autoretry[0]) is not False:
        retry_kwargs = project.task_option(task, "retry_kwargs")
        if retry_kwargs is None or (
            retry_kwargs[0].known
            and isinstance(retry_kwargs[0].value, dict)
            and "max_retries" not in retry_kwargs[0].value
        ):
            return "autoretry_for"
    calls = _retry_calls(project, task)
    if calls and any("max_retries" not in c.keywords for c in calls):
        return f"{calls[0].shape} at line {calls[0].loc.line}"
    return None


def _retry_calls(project: Project, task: TaskView) -> List[Call]:
    body = project.task_body(task)
    if body is None:
        return []
    bound = task.fact.bind or task.fact.decorator == "class"
    shapes = {f"{task.fact.func}.retry()"} | ({"self.retry()"} if bound else set())
    return [c for c in body_calls(body) if c.shape in shapes]
