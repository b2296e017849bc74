from __future__ import annotations

from typing import Iterator, List, Optional

from celerylint.facts import Value
from celerylint.project import AppView, Project
from celerylint.rule import Finding, Rule, first_per_location
from celerylint.tables import table
from celerylint.versions import LOWERCASE_SETTINGS_SINCE, setting_default

PICKLE_NAMES = frozenset({"pickle", "application/x-python-serialize"})
SERIALIZER_SETTINGS = ("task_serializer", "result_serializer", "event_serializer")
ACCEPT_SETTINGS = ("accept_content", "result_accept_content")
JSON_VALUES = {"CELERY_TASK_SERIALIZER": '"json"', "CELERY_RESULT_SERIALIZER": '"json"',
               "CELERY_ACCEPT_CONTENT": '["json"]'}
RISK = "anyone who can write to the broker can run code on your workers"


class PickleSerializer(Rule):
    """
    ## What it does
    Reports pickle used for Celery messages:

    - `task_serializer`, `result_serializer` or `event_serializer` set to
      `"pickle"`;
    - `accept_content` or `result_accept_content` admitting `"pickle"` or
      `"application/x-python-serialize"`;
    - a task (`@app.task(serializer="pickle")`, a task class attribute) or a
      dispatch (`apply_async(..., serializer="pickle")`) choosing pickle;
    - a project that targets Celery before 4.0 and leaves
      `CELERY_TASK_SERIALIZER`, `CELERY_RESULT_SERIALIZER` or
      `CELERY_ACCEPT_CONTENT` unset: Celery 3.1 serialised with pickle and
      accepted pickle by default.  This is reported once per app, at the
      app, naming the defaults in force.

    Settings are read from every source Celery reads (`Celery(...)`,
    `config_from_object`, `conf.update`, Django settings with a
    namespace); the finding is on the assignment.

    ## Why is this bad?
    Unpickling runs code: a pickle payload can call any function with any
    arguments.  A worker that accepts pickle executes whatever a message
    on its queues says, so anyone who can publish to the broker (a leaked
    Redis password, a broker open on the network, a compromised service
    that shares the broker) gets remote code execution on every worker,
    with the worker's credentials and database access.  With
    `result_accept_content`, the same holds for processes that read
    results.  JSON carries the same ids and plain values without the risk.

    ## Example
    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost")
    app.conf.update(
        task_serializer="pickle",
        accept_content=["pickle", "json"],
    )
    ```

    ## Use instead
    Send ids and plain values, serialised as JSON (Celery's default since
    4.0), and accept nothing else:

    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost")
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
    )
    ```

    With Celery 3.1, set `CELERY_TASK_SERIALIZER = "json"`,
    `CELERY_RESULT_SERIALIZER = "json"` and `CELERY_ACCEPT_CONTENT =
    ["json"]` explicitly.

    ## What it does not flag
    - Settings whose value the linter cannot read (read from the
      environment without a default, built by a function), and apps whose
      settings come partly from a config source it cannot resolve when the
      defaults would be the problem.
    - Other serializers that can run code when misused (`yaml` with an
      unsafe loader, custom ones registered with kombu).

    ## References
    - [Celery: Security, serializers](https://docs.celeryq.dev/en/stable/userguide/security.html#serializers)
    - [Celery settings: accept_content](https://docs.celeryq.dev/en/stable/userguide/configuration.html#accept-content)
    - [What's new in Celery 4.0: JSON is now the default serializer](https://docs.celeryq.dev/en/stable/history/whatsnew-4.0.html#json-is-now-the-default-serializer)
    - [Python: pickle security warning](https://docs.python.org/3/library/pickle.html)
    """

    code = "CEL108"
    name = "pickle-serializer"
    severity = "error"

    def check(self, project: Project) -> Iterator[Finding]:
        return first_per_location(self._findings(project))

    def _findings(self, project: Project) -> Iterator[Finding]:
        for app in project.apps:
            yield from self._settings(app)
            finding = self._version_defaults(project, app)
            if finding is not None:
                yield finding
        for task in project.tasks:
            site = project.task_option_site(task, "serializer")
            if site is None or not _is_pickle(site[0]):
                continue
            _, path, loc, _ = site
            yield self.finding(path, loc, (
                f"task {task.name} is sent with serializer=\"pickle\", so workers must accept "
                f"pickle: {RISK}; use serializer=\"json\" and pass ids or plain values"))
        for dispatch in project.dispatches:
            value = dispatch.fact.options.values.get("serializer")
            if value is not None and _is_pickle(value):
                yield self.finding(dispatch.path, dispatch.fact.loc, (
                    f"this message is sent with serializer=\"pickle\", so workers must accept "
                    f"pickle: {RISK}; use serializer=\"json\" and pass ids or plain values"))

    def _settings(self, app: AppView) -> Iterator[Finding]:
        for key in SERIALIZER_SETTINGS:
            found = app.get(key)
            if found is not None and _is_pickle(found.value):
                yield self.finding(found.path, found.assign.loc, (
                    f"{found.assign.key} = \"pickle\": {RISK}; use \"json\" and accept only "
                    f"json"))
        for key in ACCEPT_SETTINGS:
            found = app.get(key)
            if found is not None and _admits_pickle(found.value):
                yield self.finding(found.path, found.assign.loc, (
                    f"{found.assign.key} admits pickle: {RISK}; accept only [\"json\"]"))

    def _version_defaults(self, project: Project, app: AppView) -> Optional[Finding]:
        version = project.target_version
        if version >= LOWERCASE_SETTINGS_SINCE or app.unresolved_sources:
            return None
        defaults: List[str] = []
        for key in ("task_serializer", "result_serializer", "accept_content"):
            if app.get(key) is None and _admits_pickle(setting_default(key, version)):
                defaults.append(table(version).new_to_old.get(key, key.upper()))
        if not defaults:
            return None
        names = ", ".join(defaults)
        fixes = ", ".join(f"{name} = {JSON_VALUES[name]}" for name in defaults)
        return self.finding(app.path, app.fact.loc, (
            f"{names} {'is' if len(defaults) == 1 else 'are'} not set, so Celery "
            f"{version[0]}.{version[1]}'s pickle defaults apply: {RISK}; set {fixes}"))


def _is_pickle(value: Value) -> bool:
    return (
        value.known and isinstance(value.value, str) and value.value.strip().lower() in PICKLE_NAMES
    )


def _admits_pickle(value: Value) -> bool:
    if not value.known:
        return False
    items = value.value if isinstance(value.value, list) else [value.value]
    return any(isinstance(item, str) and item.strip().lower() in PICKLE_NAMES for item in items)
