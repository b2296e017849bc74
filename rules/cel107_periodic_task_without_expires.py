from __future__ import annotations

from typing import Iterator, Set, Tuple

from celerylint.config import OptionSpec
from celerylint.facts import BeatEntry, Loc
from celerylint.project import Project, TaskView
from celerylint.rule import Finding, Rule
from celerylint.schedules import (beat_entry_label, crontab_fields, describe_period,
                                  every_minute_of, format_number, period_seconds)


# The entry options that make its messages expire: under django-celery-beat's
# DatabaseScheduler only expire_seconds; else expires, and expire_seconds too since a
# scheduler chosen on the command line (-S django) is not seen.
DATABASE_EXPIRY = ("expire_seconds",)
EXPIRY_OPTIONS = ("expires", "expire_seconds")


class PeriodicTaskWithoutExpires(Rule):
    """
    ## What it does
    Reports a periodic task that runs at least every `expires-required-below`
    seconds (300 by default) while its messages never expire: neither the
    beat entry's options nor the task itself set `expires`.  The finding
    points at the entry: its key in a `beat_schedule` dict, the
    `add_periodic_task(...)` call, or the `@periodic_task` function's name.

    An expiry counts when it is set in any place Celery reads it from:
    - the entry's options: `"options": {"expires": 60}` in a `beat_schedule`
      entry, `expires=60` passed to `add_periodic_task(...)`, or options on
      the signature it is given (`task.signature(..., expires=60)`,
      `task.s().set(expires=60)`);
    - the task: `@app.task(expires=60)`, `@periodic_task(..., expires=60)`,
      or an `expires` attribute on the task class or one of its base classes;
    - `task_annotations` that set `expires` (any annotations that cannot be
      read statically are assumed to).

    When django-celery-beat's `DatabaseScheduler` runs the entry (the
    `beat_scheduler` setting of the app that reads it names
    `django_celery_beat.schedulers:DatabaseScheduler`, its alias `django`,
    or a project subclass of it), the entry is copied into the database
    keeping only `expire_seconds` of its options: `"expires"` there is
    dropped, so only `"options": {"expire_seconds": 60}` (or `expires` on
    the task) counts, and the message says so.

    The period is the schedule's period (a number of seconds, a `timedelta`,
    `schedule(run_every=...)`); a crontab is judged by the shortest gap
    between two of its runs, so `crontab(minute="*/5")` is 300 seconds.

    ## Why is this bad?
    Beat adds one message per period whether or not the workers keep up.
    When they fall behind (a slow run, a busy or stopped worker, a broker
    hiccup), every period adds another copy of the same job to the queue.  For
    a frequent job such as a cache refresh or a status poll, a run that is
    minutes late is worthless, yet the workers still execute every stale copy
    before reaching fresh ones, so the backlog never drains and keeps growing
    until the broker runs out of memory.  With `expires`, workers discard the
    messages that are already too old and the queue recovers on its own.

    ## Example
    ```python
    from celery import Celery

    app = Celery("example", broker="redis://localhost:6379/0")


    @app.task
    def refresh_cache():
        ...


    app.conf.beat_schedule = {
        "refresh-cache": {
            "task": "example.refresh_cache",
            "schedule": 60.0,
        },
    }
    ```

    ## Use instead
    ```python
    from celery import Celery

    app = Celery("example", broker="redis://localhost:6379/0")


    @app.task
    def refresh_cache():
        ...


    app.conf.beat_schedule = {
        "refresh-cache": {
            "task": "example.refresh_cache",
            "schedule": 60.0,
            "options": {"expires": 60},
        },
    }
    ```

    Or set it once on the task, which also covers other callers:
    `@app.task(expires=60)`.  With `add_periodic_task`, pass it directly:
    `sender.add_periodic_task(60.0, refresh_cache.s(), expires=60)` (an
    `options={...}` dict there is not unpacked by Celery, so it does not
    count).

    ## What it does not flag
    - Entries whose task the project does not define: the task may come from
      a library (`celery.backend_cleanup`, a third-party app) or be resolved
      at run time, and its own `expires` cannot be checked.  An entry is only
      reported when its task is found by name or by reference among the
      project's tasks.
    - Entries whose options are not a literal dict (a variable from another
      module, a function call, a `**` spread that cannot be read), and tasks
      whose `task_annotations` cannot be read.
    - Schedules whose period cannot be known statically, `solar(...)`
      schedules, and schedules longer than `expires-required-below`.
    - An explicit `"expires": None`: that is a visible decision, not an
      omission.
    - A crontab that leaves `minute` out (`crontab(hour=4)` runs every minute
      from 04:00 to 04:59): the fix is `minute=0` (CEL113), after which it
      runs once a day.
    - `"expire_seconds"` in the options of an entry whose scheduler is not
      known to be DatabaseScheduler: the scheduler may be chosen on the
      command line (`celery beat -S django`), which the linter does not read.

    ## References
    - [Celery: Calling Tasks, Expiration](https://docs.celeryq.dev/en/stable/userguide/calling.html#expiration)
    - [Celery: `Task.expires`](https://docs.celeryq.dev/en/stable/reference/celery.app.task.html#celery.app.task.Task.expires)
    - [Celery: Periodic Tasks](https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html)
    """

    code = "CEL107"
    name = "periodic-task-without-expires"
    severity = "warning"
    options = (
        OptionSpec("expires-required-below", float, 300.0,
                   "periodic tasks running at least this often (seconds) must set expires",
                   above=0),
    )

    def check(self, project: Project) -> Iterator[Finding]:
        limit = float(self.option("expires-required-below"))
        reported: Set[Tuple[str, Loc]] = set()
        for view in project.beat:
            entry = view.fact
            period = period_seconds(entry.schedule)
            if period is None or period > limit:
                continue
            fields = crontab_fields(entry.schedule)
            if fields is not None and every_minute_of(fields):
                continue  # crontab(hour=4): a missing minute, CEL113
            database = project.database_scheduler(view) is True
            if any(entry.options.may_set(key)
                   for key in (DATABASE_EXPIRY if database else EXPIRY_OPTIONS)):
                continue
            if view.task is None or _task_may_expire(project, view.task):
                continue
            if (view.path, entry.loc) in reported:
                continue
            reported.add((view.path, entry.loc))
            seconds = format_number(period)
            if database:
                yield self.finding(view.path, entry.loc, _database_message(entry, seconds))
                continue
            yield self.finding(view.path, entry.loc, (
                f"{beat_entry_label(entry)} runs {describe_period(entry, period)} and its "
                f"messages never expire: when workers fall behind, stale runs pile up and the "
                f"backlog never drains; {_fix(entry, seconds)}"))


def _task_may_expire(project: Project, task: TaskView) -> bool:
    """True when the task, or another project task of the same name, sets expires."""
    same_name = [task] + [t for t in project.tasks if t.name == task.name and t is not task]
    for candidate in same_name:
        if project.task_option(candidate, "expires") is not None:
            return True
        if project.written_annotation(candidate, "expires") is not None:  # set, or unreadable
            return True
    return False


def _fix(entry: BeatEntry, seconds: str) -> str:
    if entry.setting == "periodic_task":
        return f"add expires={seconds} to @periodic_task"
    if entry.setting == "add_periodic_task":
        fix = f"pass expires={seconds} to add_periodic_task, or set expires={seconds} on the task"
        if "options" in entry.options.values:
            fix += " (add_periodic_task does not unpack options={...})"
        return fix
    return f'add "options": {{"expires": {seconds}}} to the entry, or expires={seconds} on the task'


def _database_message(entry: BeatEntry, seconds: str) -> str:
    """For an entry django-celery-beat's DatabaseScheduler runs, which keeps only
    ``expire_seconds`` of the entry's options."""
    label = beat_entry_label(entry)
    if entry.options.may_set("expires"):
        fix = "use expire_seconds" if entry.setting == "add_periodic_task" else \
            f'use "expire_seconds": {seconds}'
        return f'{label}: DatabaseScheduler drops "expires"; {fix}'
    fix = f"pass expire_seconds={seconds}" if entry.setting == "add_periodic_task" else \
        f'add options "expire_seconds": {seconds}'
    return f"{label} never expires under DatabaseScheduler; {fix}"
