from __future__ import annotations

from typing import Iterator, Optional

from celerylint.project import AppView, IgnoredKey, Project, ResolvedSetting
from celerylint.rule import Finding, Rule, first_per_location
from celerylint.settings import meaning, namespace_prefix, spelled_for


class NamespaceMismatchRule(Rule):
    """
    ## What it does
    Reports a real Celery setting that Celery ignores because of the app's
    namespace:

    - under `config_from_object(..., namespace="CELERY")` (the Django
      set-up), a name without the prefix (`BROKER_URL`, `CELERYD_CONCURRENCY`)
      or an old name (`CELERY_ACKS_LATE`): Celery before 5.7 reads only
      `CELERY_` plus the new name (`CELERY_TASK_ACKS_LATE`); 5.7 also honours
      old names;
    - without a namespace, a prefixed new-style name
      (`CELERY_TASK_ACKS_LATE`), which Celery only reads under
      `namespace="CELERY"`.

    It decides as the target Celery version looks settings up, so it never
    reports a name that reads the same both ways (`CELERY_RESULT_BACKEND`
    is both the old name and the prefixed new name of `result_backend`).

    When the app already sets the same setting under the name Celery reads
    (`CELERY_TASK_ACKS_LATE = True` above `CELERY_ACKS_LATE = True`), the
    ignored key is only a duplicate: the message names the key that wins and
    says to remove the ignored one, or, when the two values differ (or cannot
    be compared), to keep one of them.

    ## Why is this bad?
    The setting does nothing and Celery says nothing.  The classic case is
    a Django project that follows the Celery-with-Django guide
    (`namespace="CELERY"`) but keeps `CELERY_ACKS_LATE = True` or
    `BROKER_URL` from an older tutorial: tasks are acknowledged early and the
    broker is `amqp://localhost`, found only when messages are lost or the
    worker cannot connect in production.

    ## Example
    ```python
    from celery import Celery

    app = Celery("proj")
    app.conf.update(CELERY_TASK_ACKS_LATE=True)
    ```

    ## Use instead
    ```python
    from celery import Celery

    app = Celery("proj")
    app.conf.update(task_acks_late=True)
    ```

    ## What it does not flag
    - Names that are not Celery settings (CEL201), and settings of a later
      Celery than the target (CEL201).
    - A key that Celery does not read because another spelling of the same
      setting wins.
    - Names Celery 5.7 reads under a namespace (old names there are only
      deprecated: CEL202).

    ## References
    - [First steps with Django: the CELERY_ namespace](https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html)
    - [Celery configuration: new lowercase settings](https://docs.celeryq.dev/en/stable/userguide/configuration.html#new-lowercase-settings)
    """

    code = "CEL204"
    name = "namespace-mismatch"
    severity = "warning"

    def check(self, project: Project) -> Iterator[Finding]:
        findings = (self._check_key(project, app, ignored)
                    for app in project.apps for ignored in app.ignored)
        return first_per_location(finding for finding in findings if finding is not None)

    def _check_key(self, project: Project, app: AppView, ignored: IgnoredKey) -> Optional[Finding]:
        if ignored.shadowed:
            return None
        key = ignored.assign.key
        setting = meaning(key, app.namespace, project.settings_table)
        if setting is None:
            return None
        provided = app.get(setting)
        if provided is not None:
            return self.finding(ignored.path, ignored.assign.loc,
                                _duplicate(key, ignored, provided))
        release = "Celery {}.{}".format(*project.target_version)
        prefix = namespace_prefix(app.namespace)
        if prefix:
            write = spelled_for(setting, app.namespace) if ignored.source == "conf" else setting
            return self.finding(ignored.path, ignored.assign.loc, (
                f"{key} is ignored: the app reads settings with namespace {app.namespace!r}, and "
                f"{release} reads {setting} here only as {write}; write {write}"))
        return self.finding(ignored.path, ignored.assign.loc, (
            f"{key} is ignored: the app has no namespace, so Celery does not take the "
            f"CELERY_ prefix off; write {setting}, or pass namespace='CELERY' to "
            f"config_from_object"))


def _duplicate(key: str, ignored: IgnoredKey, provided: ResolvedSetting) -> str:
    where = f"line {provided.assign.loc.line}" if provided.path == ignored.path else \
        f"{provided.path}:{provided.assign.loc.line}"
    mine, theirs, winner = ignored.assign.value, provided.value, provided.assign.key
    if mine.known and theirs.known and mine.value == theirs.value:
        return f"{key} duplicates {winner} ({where}), the name Celery reads; remove {key}"
    return f"{key} is ignored: {winner} ({where}) wins for the same setting; keep one"
