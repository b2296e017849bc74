from __future__ import annotations

import difflib
from typing import Iterator, List, Optional, Set, Tuple

from celerylint.config import OptionSpec
from celerylint.project import AppView, IgnoredKey, Project, ResolvedSetting
from celerylint.rule import Finding, Rule, first_per_location
from celerylint.settings import addon_key, meaning, namespace_prefix, spelled_for
from celerylint.tables import SettingTable
from celerylint.versions import added_in, cli_setting_since, removed_in, setting_elsewhere

# Settings Celery reads with `app.conf.get(...)` although its defaults table
# (celery.app.defaults) does not declare them, so no table can be imported.
UNDECLARED_SETTINGS = frozenset({
    "result_backend_thread_safe",  # celery/backends/base.py
    "override_backends",  # celery/loaders/base.py
    "cassandra_secure_bundle_path",  # celery/backends/cassandra.py
    "gcs_threadpool_maxsize", "firestore_project",  # celery/backends/gcs.py
})


class UnknownSettingRule(Rule):
    """
    ## What it does
    Reports a key in a Celery settings source that is not a setting of the
    target Celery version, so Celery ignores it: a typo (`task_ack_late`),
    a setting a later release added, one a release removed, or another
    release's name of a setting the target spells differently (Celery 4.0
    reads task events only as `CELERYD_SEND_EVENTS`, 3.1 and 4.1 on as
    `CELERY_SEND_EVENTS`).  The message suggests the nearest real name, names
    the release that added or removed the setting, or gives the spelling the
    target reads.  Which release has which setting comes from the tables of
    every Celery release shipped with the linter, not from the Celery
    installed beside it.

    Settings sources are the places an app reads: `Celery(...)` keywords,
    `app.conf.update(...)`, `app.conf.x = ...`, `app.conf["x"] = ...`, and
    the module, class or Django settings that `config_from_object` loads.
    In a config object only names meant for Celery count: under
    `namespace="CELERY"` the `CELERY_`-prefixed names; without a namespace
    Celery's own names and names that look like them (`task_*`, `worker_*`,
    `CELERY_*`, `CELERYD_*`, `BROKER_*`, ...).

    When the app already sets the setting a key stands for (the name the
    message would suggest), the message says so instead of suggesting it:
    the key is a duplicate to remove (or, when the values differ, one of the
    two to keep).

    ## Why is this bad?
    Celery ignores unknown keys without a word.  A misspelt
    `task_ack_late = True` leaves tasks acknowledged before they run: a
    worker that dies loses them, and nobody finds out until messages are
    missing in production.  A time limit, retry policy or queue setting with
    a typo is just as silently absent.

    ## Example
    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost:6379/0")
    app.conf.update(task_ack_late=True)
    ```

    ## Use instead
    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost:6379/0")
    app.conf.update(task_acks_late=True)
    ```

    ## What it does not flag
    - Names of a config object that are not meant for Celery: `DEBUG`,
      `DATABASES` and other Django settings, helper variables such as
      `REDIS_HOST`.
    - Keys the project's own code reads (`settings.CELERY_APP_NAME`), and keys
      of well-known add-ons: celery_once (`ONCE`), celery-redbeat
      (`redbeat_*`), celery-singleton (`singleton_*`), django-celery-email
      (`CELERY_EMAIL_*`), celery-sqlalchemy-scheduler (`beat_dburi`).  Add
      others with the `known-settings` option (names as written, or with the
      namespace prefix left off).
    - Keys the project's code reads back from the app: `app.conf.my_key`,
      `app.conf["my_key"]`, `app.conf.get("my_key")`, `getattr(app.conf,
      "my_key")` (`self.app.conf`, `current_app.conf` too), looked up as
      Celery looks them up under the app's namespace (`app.conf.my_key` reads
      `CELERY_MY_KEY` under `namespace="CELERY"`).  Removing such a key
      would break the code that reads it.
    - Settings Celery reads although its defaults table does not list them:
      `result_backend_thread_safe`, `override_backends`,
      `cassandra_secure_bundle_path`, `gcs_threadpool_maxsize`,
      `firestore_project`; and the settings the `celery` command line reads
      as `<command>_<option>` (Celery 5.4 on: `worker_pidfile`,
      `beat_logfile`, `events_uid`, ...: the logfile, pidfile, uid, gid,
      umask and executable of `worker`, `beat` and `events`).  Before 5.4 such
      a key is reported as one the command line reads only since 5.4.
    - Real settings that the namespace makes Celery ignore: that is CEL204.
    - A key that Celery does not read because another spelling of the same
      setting wins (`CELERY_TASK_ACKS_LATE` and `CELERY_ACKS_LATE` together).
    - Settings passed in a form the linter cannot read (`**options`).

    ## References
    - [Celery configuration and defaults](https://docs.celeryq.dev/en/stable/userguide/configuration.html)
    """

    code = "CEL201"
    name = "unknown-setting"
    severity = "warning"
    options = (OptionSpec("known-settings", list, [],
                          "extra setting names (of add-ons or the project) that are not errors"),)

    def check(self, project: Project) -> Iterator[Finding]:
        known = set(self.option("known-settings"))
        findings = (self._check_key(project, app, key, known)
                    for app in project.apps for key in app.ignored)
        return first_per_location(finding for finding in findings if finding is not None)

    def _check_key(self, project: Project, app: AppView, ignored: IgnoredKey,
                   known: Set[str]) -> Optional[Finding]:
        key = ignored.assign.key
        version = project.target_version
        if ignored.shadowed or project.reads_back(app, key) or addon_key(key, app.namespace):
            return None
        prefix = namespace_prefix(app.namespace)
        bare = key[len(prefix):] if prefix and key.startswith(prefix) else key
        if key in known or bare in known or bare.lower() in known:
            return None
        read_as = bare.lower() if prefix and key.startswith(prefix) and bare.isupper() else key
        if read_as in UNDECLARED_SETTINGS:
            return None
        names = project.settings_table
        if read_as in names.cli_settings:
            return None
        since = cli_setting_since(read_as, version)
        if since is not None:
            return self.finding(ignored.path, ignored.assign.loc, (
                f"{key} is read by the celery command line only since Celery "
                f"{since[0]}.{since[1]}, so Celery {version[0]}.{version[1]} ignores it"))
        if meaning(key, app.namespace, names) is not None:
            return None  # a real setting the namespace hides: CEL204
        setting = setting_elsewhere(key, app.namespace, version)
        release = "Celery {}.{}".format(*version)
        if setting is not None:
            if setting in names.new_keys:  # a name other releases give a setting this one has
                provided = app.get(setting)
                if provided is not None:
                    return self.finding(ignored.path, ignored.assign.loc,
                                        _duplicate(f"{release} does not read {key}", ignored,
                                                   provided))
                spelled = _spelling(setting, key, app, ignored, names)
                return self.finding(ignored.path, ignored.assign.loc, (
                    f"{release} does not read {key} (other releases' name of {setting}), so "
                    f"Celery ignores it: write {spelled}"))
            removed = removed_in(setting, version)
            if removed is not None:
                return self.finding(ignored.path, ignored.assign.loc, (
                    f"{key} was removed in Celery {removed[0]}.{removed[1]}, so {release} ignores "
                    f"it: remove it"))
            added = added_in(setting, version)
            if added is not None:
                return self.finding(ignored.path, ignored.assign.loc, (
                    f"{key} is not a setting of {release} (it was added in Celery "
                    f"{added[0]}.{added[1]}), so Celery ignores it: upgrade Celery or remove it"))
            return None
        suggestion = _nearest(key, app, ignored, names)
        provided = app.get(suggestion[1]) if suggestion else None
        if provided is not None:
            return self.finding(ignored.path, ignored.assign.loc,
                                _duplicate(f"{key} is not a Celery setting", ignored, provided))
        hint = f"; did you mean {suggestion[0]}?" if suggestion else \
            "; remove it, or add it to known-settings if an add-on reads it"
        return self.finding(ignored.path, ignored.assign.loc,
                            f"{key} is not a Celery setting, so Celery ignores it{hint}")


def _spelling(setting: str, key: str, app: AppView, ignored: IgnoredKey,
              table: SettingTable) -> str:
    """How this source must spell ``setting`` for the target release to read it."""
    if ignored.source != "conf":
        return setting  # keys written on the app are read by their new-style name
    if app.namespace:
        return spelled_for(setting, app.namespace)
    return table.new_to_old.get(setting, setting) if key.isupper() else setting


def _duplicate(what: str, ignored: IgnoredKey, provided: ResolvedSetting) -> str:
    """For a key whose meant setting the app already sets under a name Celery reads."""
    where = f"line {provided.assign.loc.line}" if provided.path == ignored.path else \
        f"{provided.path}:{provided.assign.loc.line}"
    mine, theirs = ignored.assign.value, provided.value
    if mine.known and theirs.known and mine.value == theirs.value:
        return f"{what}; {provided.assign.key} ({where}) already sets it: remove this one"
    return f"{what}; {provided.assign.key} ({where}) sets it and wins: keep one"


def _nearest(key: str, app: AppView, ignored: IgnoredKey,
             table: SettingTable) -> Optional[Tuple[str, str]]:
    """The real name closest to ``key``, spelled the way this source must spell it, and
    the setting it names."""
    names = sorted(table.new_keys)
    prefix = namespace_prefix(app.namespace)
    if prefix and (ignored.source == "conf" or key.startswith(prefix)):
        spelled = {spelled_for(name, app.namespace): name for name in names}
    elif key.isupper():
        spelled = {table.new_to_old[name]: name for name in names if name in table.new_to_old}
    else:
        spelled = {name: name for name in names}
    def bare(name: str) -> str:
        if prefix and name.startswith(prefix):
            name = name[len(prefix):]
        return name.lower()
    by_bare = {bare(name): name for name in sorted(spelled)}
    found: List[str] = difflib.get_close_matches(bare(key), list(by_bare), n=1, cutoff=0.8)
    return (by_bare[found[0]], spelled[by_bare[found[0]]]) if found else None
