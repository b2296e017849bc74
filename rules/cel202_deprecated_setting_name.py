from __future__ import annotations

from typing import Iterator

from celerylint.project import Project
from celerylint.rule import Finding, Rule
from celerylint.settings import spelled_for
from celerylint.versions import LOWERCASE_SETTINGS_SINCE


class DeprecatedSettingNameRule(Rule):
    """
    ## What it does
    Reports a setting written with its old uppercase name (`CELERY_ACKS_LATE`,
    `CELERYD_CONCURRENCY`, `BROKER_URL`) when the target Celery version has a
    new one, and gives the exact replacement for that source: the lowercase
    name (`task_acks_late`), or under a namespace the prefixed new name
    (`CELERY_TASK_ACKS_LATE` in Django settings with `namespace="CELERY"`).

    ## Why is this bad?
    Celery 4.0 renamed its settings; the old names still work but are
    deprecated and will stop working in Celery 6.0, at which point the
    setting silently falls back to its default.  Old names are also the
    usual cause of mixing old and new names in one file, which stops Celery
    at start-up (CEL203), and the old and new names are not simple prefixes
    of each other (`CELERYD_TASK_TIME_LIMIT` is `task_time_limit`), so
    renaming by hand goes wrong.

    ## Example
    ```python
    from celery import Celery

    app = Celery("proj")
    app.conf.update(CELERY_ACKS_LATE=True)
    ```

    ## Use instead
    ```python
    from celery import Celery

    app = Celery("proj")
    app.conf.update(task_acks_late=True)
    ```

    ## What it does not flag
    - Projects that target Celery before 4.0, which know only the old names.
    - Old names that Celery ignores (an old name under a namespace before
      Celery 5.7, or one overridden by another spelling): CEL204 and CEL201
      deal with keys that do nothing.
    - Names that are both an old name and the prefixed new name
      (`CELERY_RESULT_BACKEND` under `namespace="CELERY"`).
    - Config objects that mix old and new names (CEL203 reports those).
    - When a config object uses old names throughout, rename them all at
      once: renaming only some makes the file mixed.

    ## References
    - [Celery: new lowercase settings](https://docs.celeryq.dev/en/stable/userguide/configuration.html#new-lowercase-settings)
    - [What's new in Celery 4.0: lowercase setting names](https://docs.celeryq.dev/en/stable/history/whatsnew-4.0.html#lowercase-setting-names)
    """

    code = "CEL202"
    name = "deprecated-setting-name"
    severity = "warning"

    def check(self, project: Project) -> Iterator[Finding]:
        if project.target_version < LOWERCASE_SETTINGS_SINCE:
            return
        seen = set()
        old_keys = project.settings_table.old_keys
        for app in project.apps:
            if app.mix_error:
                continue
            for setting, resolved in sorted(app.settings.items()):
                key = resolved.assign.key
                if key not in old_keys or key == setting:
                    continue
                from_conf = resolved.assign.kind in ("module", "class")
                replacement = spelled_for(setting, app.namespace) if from_conf else setting
                if key == replacement:
                    continue
                where = (resolved.path, resolved.assign.loc.line, resolved.assign.loc.col)
                if where in seen:
                    continue
                seen.add(where)
                together = " (rename every old name of this file together: Celery refuses a mix)" \
                    if from_conf and app.old_style else ""
                yield self.finding(resolved.path, resolved.assign.loc, (
                    f"{key} is the old name of {setting}, deprecated since Celery 4.0 and gone in "
                    f"6.0: write {replacement}{together}"))
