from __future__ import annotations

from typing import FrozenSet, Iterator, List, Optional

from celerylint.facts import CrontabFact
from celerylint.project import Project
from celerylint.rule import Finding, Rule
from celerylint.schedules import FIELD_RANGES, every_minute_of, expand_cronspec


class CrontabMissingMinute(Rule):
    """
    ## What it does
    Reports a crontab that sets `hour` (or a day field: `day_of_week`,
    `day_of_month`, `month_of_year`) and leaves `minute` out.  A field left
    out is `"*"`, so `crontab(hour=4)` does not run once at four: it runs
    every minute from 04:00 to 04:59, sixty times a day.

    Every crontab made in code is checked, wherever it is written: in a
    `beat_schedule` entry (a Celery config module, Django settings,
    `app.conf`), passed to `add_periodic_task(...)` or
    `@periodic_task(run_every=...)`, bound to a constant, or returned by a
    helper; and django-celery-beat's `CrontabSchedule` made in code
    (`CrontabSchedule(hour="4")`, `CrontabSchedule.objects.get_or_create(
    hour="4")`, `create`, `update_or_create`, whose `defaults={...}` count),
    where every field also defaults to `"*"`.  The finding points at the call.

    ## Why is this bad?
    The job meant to run once a night runs sixty times in a row: a nightly
    report is mailed sixty times, a cleanup or a billing run repeats, and a
    heavy export takes the workers for the whole hour.  Nothing fails, so it
    is found when customers get sixty e-mails.

    ## Example
    ```python
    from celery import Celery
    from celery.schedules import crontab

    app = Celery("proj", broker="redis://localhost:6379/0")
    app.conf.beat_schedule = {
        "nightly-report": {"task": "proj.tasks.nightly_report", "schedule": crontab(hour=4)},
    }
    ```

    ## Use instead
    ```python
    from celery import Celery
    from celery.schedules import crontab

    app = Celery("proj", broker="redis://localhost:6379/0")
    app.conf.beat_schedule = {
        "nightly-report": {
            "task": "proj.tasks.nightly_report",
            "schedule": crontab(minute=0, hour=4),
        },
    }
    ```

    ## What it does not flag
    - A crontab that gives `minute`, even as `"*"` (`crontab(minute="*",
      hour="9-17")` runs every minute of office hours, and says so).
    - A field given as a value that covers every hour or day (`hour="*"`,
      `day_of_week="*"`): `crontab(hour="*")` runs every minute by design.
    - Crontabs whose arguments cannot be read (`crontab(**fields)`,
      `crontab(*fields)`, a model's positional arguments,
      `defaults=DEFAULTS`): `minute` may be among them.  A field whose value
      cannot be known (`hour=local_hour(1)`) still restricts the hours.
    - Other libraries' crontabs (huey's `crontab` defaults minute to `"*"`
      too, but is not Celery's), and `CrontabSchedule` models loaded with
      `apps.get_model(...)` in migrations.

    ## References
    - [Celery: crontab schedules](https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html#crontab-schedules)
    - [django-celery-beat: crontab-based schedules](https://django-celery-beat.readthedocs.io/en/latest/#example-creating-crontab-based-periodic-task)
    - [flake8-pie PIE784: celery-explicit-crontab-rule](https://github.com/sbdchd/flake8-pie#pie784-celery-explicit-crontab-rule)
    """

    code = "CEL113"
    name = "crontab-missing-minute"
    severity = "warning"

    def check(self, project: Project) -> Iterator[Finding]:
        for path, crontab in project.crontabs():
            restricting = every_minute_of(crontab.fields, crontab.unreadable)
            if restricting:
                yield self.finding(path, crontab.loc, _message(crontab, restricting))


def _message(crontab: CrontabFact, restricting: List[str]) -> str:
    zero = '"0"' if crontab.kind == "CrontabSchedule" else "0"
    if "hour" not in restricting:
        return (f"crontab without minute or hour runs every minute of each day it names; "
                f"add minute={zero}, hour={zero}")
    hours = _known_hours(crontab)
    if hours is not None and len(hours) == 1:
        (hour,) = hours
        when = f"from {hour:02d}:00 to {hour:02d}:59"
    else:
        when = "of each hour it names"
    return f"crontab without minute runs every minute {when}; add minute={zero}"


def _known_hours(crontab: CrontabFact) -> Optional[FrozenSet[int]]:
    value = crontab.fields["hour"]
    return expand_cronspec(value.value, *FIELD_RANGES["hour"]) if value.known else None
