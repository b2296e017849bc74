from __future__ import annotations

from typing import Iterator, List, Optional, Set, Tuple

from celerylint.brokers import scheme_of_backend
from celerylint.project import DispatchView, Project, TaskView
from celerylint.readings import truthy
from celerylint.rule import Finding, Rule

# Backends that store nothing, and django-celery-results' database backend,
# whose results are usually read in the Django admin rather than in code.
NOT_WASTED_BACKENDS = {"disabled", "django-db"}
RESULT_READERS = {"AsyncResult()", "GroupResult()", "ResultSet()", "get_task_meta()"}


class UnusedTaskResult(Rule):
    """
    ## What it does
    Reports a task whose result is stored in the result backend although no
    part of the project ever reads it: a result backend is configured for its
    app, the task does not ignore results, and every place that sends it
    throws the `AsyncResult` away (a bare `task.delay(...)` statement, or a
    local variable never read again) or sends it from beat.

    ## Why is this bad?
    With a result backend, every task run writes a result key (state, return
    value, traceback) that lives for `result_expires`, one day by default.
    Results nobody reads are pure load: a write per task on Redis or the
    database, memory held for a day, and on the RPC backend a message per
    task.  At a few hundred tasks a second this is millions of dead keys and
    a backend sized for data nobody looks at.  `ignore_result=True` on the
    task stops the writes.

    ## Example
    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost", backend="redis://localhost/1")


    @app.task
    def send_welcome_email(user_id):
        ...


    def signup(user_id):
        send_welcome_email.delay(user_id)
    ```

    ## Use instead
    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost", backend="redis://localhost/1")


    @app.task(ignore_result=True)
    def send_welcome_email(user_id):
        ...


    def signup(user_id):
        send_welcome_email.delay(user_id)
    ```

    Or set `task_ignore_result = True` for the whole app and
    `ignore_result=False` on the few tasks whose results are read.

    ## What it does not flag
    - Tasks the project never sends (no `delay`/`apply_async`/`send_task`/
      signature and no beat entry): they may be sent from elsewhere.
    - A task with any send site that keeps the result: `r = t.delay(); return
      r.id`, `t.delay().get()`, a result stored on an object or passed on,
      `.s()`/`.si()`/`.signature()` (canvas: chords need their members'
      results), an explicit `task_id=` (the caller can look it up later), or
      `t.AsyncResult(...)` anywhere in the project.
    - A bound task when the project reads results by id (`AsyncResult(id)`):
      the task can hand its own id out.  Tasks that call `update_state`.
    - No result backend, `result_backend` that cannot be resolved (an
      unresolved config source), the `disabled` backend, and
      django-celery-results' `django-db` backend (its results are usually read
      in the admin).
    - Tasks with `ignore_result` set either way (decorator, base class,
      `task_annotations`): `ignore_result=False` is read as a deliberate
      choice.  Apps with `task_ignore_result = True`.
    - Send sites that pass `ignore_result=True` do not count as discarding.

    ## References
    - [Celery: ignore_result](https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.ignore_result)
    - [Celery: result_expires](https://docs.celeryq.dev/en/stable/userguide/configuration.html#result-expires)
    - [Celery: Tips and best practices – ignore results you don't want](https://docs.celeryq.dev/en/stable/userguide/tasks.html#ignore-results-you-don-t-want)
    """

    code = "CEL102"
    name = "unused-task-result"
    severity = "warning"

    def check(self, project: Project) -> Iterator[Finding]:
        read_tasks, reads_by_id = _result_readers(project)
        for task in project.tasks:
            if task.fact.qualname in read_tasks or not _stores_results(project, task):
                continue
            if reads_by_id and _knows_own_id(project, task):
                continue
            sites = _discarding_sites(project, task)
            if sites is None:
                continue
            dispatches, beat = sites
            yield self.finding(task.path, task.fact.loc, (
                f"task '{task.name}' stores its result in the result backend but nothing "
                f"reads it ({_describe(dispatches, beat)}); set ignore_result=True on the task"))


def _describe(dispatches: int, beat: int) -> str:
    parts = []
    if dispatches:
        parts.append(f"{dispatches} dispatch site{'s' if dispatches != 1 else ''} "
                     f"discard{'s' if dispatches == 1 else ''} it")
    if beat:
        parts.append(
            f"{beat} beat entr{'ies' if beat != 1 else 'y'} send{'s' if beat == 1 else ''} "
            f"it, and beat never reads results"
        )
    return "; ".join(parts)


def _stores_results(project: Project, task: TaskView) -> bool:
    """A result backend is known to be configured and the task is known not to ignore results."""
    backend_option = project.task_option(task, "backend")
    backend = backend_option[0] if backend_option is not None else project.task_setting(
        task, "result_backend")
    scheme = scheme_of_backend(backend)
    if scheme is None or scheme in NOT_WASTED_BACKENDS:
        return False
    if project.task_annotation(task, "ignore_result") is not None:
        return False  # set either way (or unknown): the author decided
    if project.task_option(task, "ignore_result") is not None:
        return False
    app_default = project.task_setting(task, "task_ignore_result")
    if not app_default.known or app_default.value:
        return False
    function = project.task_body(task)
    if function is not None and any(c.shape.endswith("update_state()") for c in function.calls):
        return False  # progress states are published to be read
    return True


def _discarding_sites(project: Project, task: TaskView) -> Optional[Tuple[int, int]]:
    """(dispatch sites, beat entries) that send the task and drop its result;
    None when the task is never sent or some site keeps its result."""
    dispatches = beat = 0
    sites, entries = project.sends_of(task)
    for view in sites:
        if _in_beat_call(project, view):
            continue  # add_periodic_task(10, t.s()): the beat entry below counts it
        options = view.fact.options
        if options.may_set("task_id"):  # the caller can look the result up later
            return None
        ignore_result = options.values.get("ignore_result")
        if ignore_result is not None:
            if truthy(ignore_result):
                continue
            return None
        if view.fact.result_use != "discarded":
            return None
        dispatches += 1
    for entry in entries:
        options = entry.fact.options
        if options.unreadable is not None:
            return None
        ignore_result = options.values.get("ignore_result")
        if ignore_result is not None:
            if truthy(ignore_result):
                continue
            return None
        beat += 1
    if dispatches + beat == 0:
        return None
    return dispatches, beat


def _in_beat_call(project: Project, view: DispatchView) -> bool:
    loc = view.fact.loc
    return any(entry.path == view.path and entry.fact.setting == "add_periodic_task"
               and (entry.fact.loc.line, entry.fact.loc.col) <= (loc.line, loc.col)
               and (loc.end_line, loc.end_col) <= (entry.fact.loc.end_line, entry.fact.loc.end_col)
               for entry in project.beat)


def _result_readers(project: Project) -> Tuple[Set[str], bool]:
    """Tasks whose results are looked up by id (``t.AsyncResult(id)``), and
    whether the project looks results up by id without naming a task."""
    tasks: Set[str] = set()
    by_id = False
    for call in project.calls():
        segments: List[str] = call.qualname.split(".")
        if segments[-1] not in RESULT_READERS:
            continue
        receiver = ".".join(segments[:-1])
        task = project.task_by_qualname(receiver) if receiver else None
        if task is not None:
            tasks.add(task.fact.qualname)
        else:
            by_id = True
    return tasks, by_id


def _knows_own_id(project: Project, task: TaskView) -> bool:
    """The task can see its own id (bound, a Task class, or celery.current_task)."""
    if task.fact.bind or task.fact.decorator == "class":
        return True
    return any(i.target.startswith("celery.current_task")
               or i.target == "celery._state.get_current_task"
               for i in project.imports(task.path))
