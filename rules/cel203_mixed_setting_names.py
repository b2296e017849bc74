from __future__ import annotations

from typing import Iterator

from celerylint.facts import SettingAssign
from celerylint.project import Project
from celerylint.rule import Finding, Rule, first_per_location
from celerylint.tables import SettingTable


class MixedSettingNamesRule(Rule):
    """
    ## What it does
    Reports a config object (the module, class or Django settings given to
    `config_from_object`, without a namespace) that mixes old uppercase
    setting names with new lowercase ones.  Celery counts both kinds, keeps
    the majority style, and refuses to start over the others; this rule
    points at exactly those minority keys, decided as Celery's own
    `detect_settings` does.

    ## Why is this bad?
    Celery raises `ImproperlyConfigured: Cannot mix new and old setting
    keys` when it first reads its configuration: the worker, beat and every
    process that sends a task fail at start-up.  It typically happens after
    a partial migration to the new names, or when a new setting is pasted
    from the documentation into an old-style file, and is found at deploy
    time.

    ## Example
    ```python
    from celery import Celery


    class Config:
        broker_url = "redis://localhost:6379/0"
        task_acks_late = True
        CELERYD_CONCURRENCY = 4


    app = Celery("proj")
    app.config_from_object(Config)
    ```

    ## Use instead
    ```python
    from celery import Celery


    class Config:
        broker_url = "redis://localhost:6379/0"
        task_acks_late = True
        worker_concurrency = 4


    app = Celery("proj")
    app.config_from_object(Config)
    ```

    ## What it does not flag
    - A key given in both spellings (`result_expires` and
      `CELERY_TASK_RESULT_EXPIRES`): Celery accepts that.
    - Config objects read with a namespace (`namespace="CELERY"`): Celery
      then always uses the new names and never raises.
    - Keys set on the app (`Celery(broker=...)`, `app.conf.update(...)`):
      Celery converts those to the config object's style.

    ## References
    - [Celery configuration: new lowercase settings](https://docs.celeryq.dev/en/stable/userguide/configuration.html#new-lowercase-settings)
    """

    code = "CEL203"
    name = "mixed-setting-names"
    severity = "error"

    def check(self, project: Project) -> Iterator[Finding]:
        names = project.settings_table
        return first_per_location(self._finding(path, assign, names) for app in project.apps
                                  for path, assign in app.mix_error)

    def _finding(self, path: str, assign: SettingAssign, names: SettingTable) -> Finding:
        key = assign.key
        if key in names.new_keys:
            advice = (f"Celery wants {names.new_to_old.get(key, key)} (most names here are old); "
                      f"better, move every name of this config to the new lowercase style")
        else:
            advice = f"rename it to {names.old_to_new.get(key, key)}"
        return self.finding(path, assign.loc, (
            f"{key} mixes an old-style name with new-style names in the same config: "
            f"Celery raises ImproperlyConfigured at start-up; {advice}"))
