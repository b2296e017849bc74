from __future__ import annotations

from typing import Iterator, Set, Tuple

from celerylint.config import OptionSpec
from celerylint.facts import Loc
from celerylint.project import Project
from celerylint.rule import Finding, Rule
from celerylint.schedules import beat_entry_label, describe_period, describe_seconds, period_seconds


class BeatIntervalTooShort(Rule):
    """
    ## What it does
    Reports a periodic task whose schedule fires more often than
    `min-beat-interval` seconds (10 by default).  The finding points at the
    schedule value.

    Every form of beat entry the linter reads is checked: `beat_schedule`
    (through `app.conf.beat_schedule = ...`, `app.conf.update(...)`, a config
    module or Django settings, including the old `CELERYBEAT_SCHEDULE` and
    the `CELERY_BEAT_SCHEDULE` namespaced name), `app.add_periodic_task(...)`
    and the old `@periodic_task(run_every=...)`.  A schedule can be a number
    of seconds, a `timedelta`, `schedule(run_every=...)` or a `crontab(...)`,
    written in place or through a module-level constant.

    A crontab is judged by the shortest gap between two of its runs, computed
    from the fields as Celery's own `celery.schedules.crontab` expands them:
    `crontab()` runs every minute, `crontab(minute="*/5")` every 5 minutes,
    and `crontab(hour=4)` every minute from 04:00 to 04:59 (a 1-minute gap).
    Since no crontab runs more often than once a minute, a crontab is only
    reported when `min-beat-interval` is above 60.

    When the schedule comes from the default of an environment lookup
    (`float(os.environ.get("SYNC_EVERY", "2"))`), the default is judged and
    the message says so: the deployed value may differ.

    ## Why is this bad?
    Beat sends one task message per period whether or not the workers keep
    up.  When a run takes longer than the period, or the workers are busy or
    down, messages accumulate in the broker faster than they are consumed.  In
    one production incident a cache refresh scheduled every second outran its
    workers: two weeks later the Redis broker held over 2 million queued
    copies of the task, ran out of memory and took every worker down with it.

    Very short periods are usually polling for something that could be
    pushed: a signal, a database trigger, or a task dispatched when the data
    actually changes.

    ## Example
    ```python
    from celery import Celery

    app = Celery("screen", broker="redis://localhost:6379/0")

    app.conf.beat_schedule = {
        "flush-cluster-status": {
            "task": "screen.tasks.flush_cluster_status",
            "schedule": 1.0,
        },
    }
    ```

    ## Use instead
    A period the workers can sustain, with an expiry so late copies are
    dropped rather than piling up (see CEL107):

    ```python
    from celery import Celery

    app = Celery("screen", broker="redis://localhost:6379/0")

    app.conf.beat_schedule = {
        "flush-cluster-status": {
            "task": "screen.tasks.flush_cluster_status",
            "schedule": 30.0,
            "options": {"expires": 30},
        },
    }
    ```

    Or dispatch the task when the data changes instead of polling.  If the
    short period is deliberate and measured, raise `min-beat-interval` in
    `[tool.celerylint]` or add `# noqa: CEL104` on the schedule's line.

    ## What it does not flag
    - Schedules whose period cannot be known statically: a function call's
      result, a name imported from another module, an environment lookup
      without a default, a crontab field Celery cannot parse.
    - `solar(...)` schedules (their period depends on the date and place).
    - A crontab that can never fire (`crontab(day_of_month=31,
      month_of_year=2)`), and periods of zero or less.
    - Schedules added at run time (for example by django-celery-beat from
      its database tables).

    ## References
    - [Celery: Periodic Tasks](https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html)
    - [Celery: `celery.schedules.crontab`](https://docs.celeryq.dev/en/stable/reference/celery.schedules.html#celery.schedules.crontab)
    - [Celery: Calling Tasks, Expiration](https://docs.celeryq.dev/en/stable/userguide/calling.html#expiration)
    """

    code = "CEL104"
    name = "beat-interval-too-short"
    severity = "warning"
    options = (
        OptionSpec("min-beat-interval", float, 10.0,
                   "shortest period, in seconds, a beat schedule may have", above=0),
    )

    def check(self, project: Project) -> Iterator[Finding]:
        threshold = float(self.option("min-beat-interval"))
        reported: Set[Tuple[str, Loc]] = set()
        for view in project.beat:
            entry = view.fact
            period = period_seconds(entry.schedule)
            if period is None or period >= threshold or (view.path, entry.schedule_loc) in reported:
                continue
            reported.add((view.path, entry.schedule_loc))
            yield self.finding(view.path, entry.schedule_loc, (
                f"{beat_entry_label(entry)} runs {describe_period(entry, period)}, more often "
                f"than min-beat-interval ({describe_seconds(threshold)}): beat queues a message "
                f"every period even when workers fall behind; use a longer interval or make the "
                f"work event-driven (raise min-beat-interval if this rate is intended)"))
