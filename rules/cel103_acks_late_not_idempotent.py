from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, List, Optional, Set, Tuple

from celerylint.config import OptionSpec
from celerylint.facts import Call, FunctionFact, Loc
from celerylint.project import Project, TaskView, body_calls
from celerylint.readings import shown
from celerylint.rule import Finding, Rule

FOLLOW_DEPTH = 2  # the task body, its helpers, and their helpers
SENDING_METHODS = {"delay", "apply_async", "send_task"}
MAIL_FUNCTIONS = {"send_mail", "send_mass_mail", "mail_admins", "mail_managers", "send_email",
                  "send_sms", "send_templated_mail", "sendmail", "send_message",
                  "chat_postMessage", "post_message", "postMessage"}
MESSAGE_WORDS = ("mail", "sms", "twilio", "slack", "message", "msg", "notif", "push",
                 "telegram")
HTTP_MODULES = {"requests", "httpx", "aiohttp", "urllib3"}
HTTP_WRITES = {"post", "put", "patch", "delete"}
HTTP_CLIENT_WORDS = ("session", "client", "http", "api")
COUNTER_METHODS = {"incr", "incrby", "incrbyfloat", "hincrby", "hincrbyfloat", "zincrby",
                   "decr", "decrby"}
F_EXPRESSIONS = {"django.db.models.F()", "django.db.models.expressions.F()"}
GUARD_METHODS = {"get_or_create", "update_or_create", "select_for_update"}
LOCK_WORDS = {"lock", "locked", "locking", "mutex", "semaphore", "setnx", "acquire"}
ONCE_WORDS = {"once", "singleton", "idempotent", "unique", "lock", "locked"}


@dataclass
class SideEffect:
    what: str  # "sends a message (send_mail())"
    line: int
    function: str  # where it happens ("" = the task body)


class AcksLateNotIdempotent(Rule):
    """
    ## What it does
    Reports a task that runs with late acknowledgement (`acks_late=True` on
    the task or a base class, or the app's `task_acks_late = True`; any true
    value counts, as in Celery, and `acks_late=None` leaves it to the app
    setting) and does something that is not safe to do twice: sends mail or messages, makes an
    HTTP POST/PUT/PATCH/DELETE, creates database rows, increments a counter
    (`F("n") + 1` in `update()`, Redis `incr`), or sends other tasks, with no
    idempotency guard in sight.  The task body and the functions of the same
    module it calls (two levels deep) are looked at.

    ## Why is this bad?
    With late acks the message is acknowledged only after the task returns.
    When the worker process dies, the connection to the broker drops, or (on
    Redis and SQS) the task runs longer than the visibility timeout, the
    message is delivered again and the task runs again from the start: the
    customer's card is charged twice, the same email goes out twice, the
    counter counts double.  Late acks are only safe for idempotent tasks.

    ## Example
    ```python
    import requests
    from celery import Celery

    app = Celery("shop", broker="redis://localhost")


    @app.task(acks_late=True)
    def charge(order_id, amount):
        requests.post("https://payments.example/charge", json={"order": order_id, "amount": amount})
    ```

    ## Use instead
    ```python
    import requests
    from celery import Celery

    app = Celery("shop", broker="redis://localhost")


    @app.task(acks_late=True)
    def charge(order_id, amount):
        if Charge.objects.filter(order_id=order_id).exists():
            return  # already charged: a redelivery does nothing
        requests.post("https://payments.example/charge",
                      json={"order": order_id, "amount": amount},
                      headers={"Idempotency-Key": f"order-{order_id}"})
        Charge.objects.create(order_id=order_id)
    ```

    Other guards: `get_or_create`/`update_or_create`, `select_for_update`, a
    lock (`cache.add(key, ...)`, `redis.lock(...)`, `with lock(...):`), a
    once/singleton base class such as celery-once's `QueueOnce`.  Or drop
    `acks_late` for the task (`acks_late=False` overrides `task_acks_late`).

    ## What it does not flag
    - Side effects in functions of other modules (they are not followed), and
      through calls that are not a bare function name of the same module (or
      `self.method()` in a Task class).
    - Safe calls: `requests.get`, `objects.filter().update(status=...)`
      without `F()` (setting a value twice is harmless).
    - Tasks with any guard anywhere in the looked-at code (even after the side
      effect), with an early `if ...: return` before the side effect, or with
      a call named in the `idempotency-guards` option.
    - Tasks whose `acks_late` cannot be resolved (an unresolved config source,
      a computed value), and tasks whose `task_annotations` cannot be read.

    ## References
    - [Celery FAQ: should I use retry or acks_late?](https://docs.celeryq.dev/en/stable/faq.html#faq-acks-late-vs-retry)
    - [Celery: Task.acks_late](https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.acks_late)
    - [Celery: task_acks_late](https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-acks-late)
    - [celery-once](https://github.com/cameronmaske/celery-once)
    """

    code = "CEL103"
    name = "acks-late-not-idempotent"
    severity = "warning"
    options = (
        OptionSpec("idempotency-guards", list, [],
                   "names of project functions that make a task idempotent (a lock or "
                   "'already done' check), e.g. [\"claim_job\"]"),
    )

    def check(self, project: Project) -> Iterator[Finding]:
        guards = set(self.option("idempotency-guards"))
        for task in project.tasks:
            late = _late_ack_source(project, task)
            if late is None or _has_once_base(project, task):
                continue
            body = project.task_body(task)
            if body is None:
                continue
            reached = _reachable(project, task, body)
            if any(_is_guard(call, guards) for function, _ in reached
                   for call in body_calls(function)) \
                    or any(_words(item) & LOCK_WORDS or _named(item, guards)
                           for function, _ in reached for item in function.with_items):
                continue
            effect = _first_unguarded_effect(project, task, reached)
            if effect is None:
                continue
            where = f" in {effect.function}()" if effect.function else ""
            yield self.finding(task.path, task.fact.loc, (
                f"task '{task.name}' runs with late acks ({late}) and {effect.what} on line "
                f"{effect.line}{where} with no idempotency guard: a redelivered task does it "
                f"again; add a guard (get_or_create, a lock, an early return when already "
                f"done) or drop acks_late for this task"))


def _late_ack_source(project: Project, task: TaskView) -> Optional[str]:
    """How the task gets late acks, quoting the value as written ("acks_late=1", ...);
    None when it does not or that cannot be known."""
    late = project.acks_late(task)
    if late is None:
        return None
    value = shown(late.value.value) if late.value.known else late.value.source
    if late.where == "task_annotations":
        return f"acks_late={value} in task_annotations"
    if late.where == "decorator":
        return f"acks_late={value}"
    if late.where == "class":
        return f"acks_late = {value} on {late.name}"
    return f"{late.name} = {value}"


def _has_once_base(project: Project, task: TaskView) -> bool:
    chain: List[str] = []
    for base in task.fact.bases:
        chain.extend(project.base_chain(base))
    return any(_words(klass.rpartition(".")[2]) & ONCE_WORDS for klass in chain)


CallPath = Tuple[Tuple[FunctionFact, int], ...]  # ((caller, call line), ...)
Reached = Tuple[FunctionFact, CallPath]


def _reachable(project: Project, task: TaskView, body: FunctionFact) -> List[Reached]:
    """The task body and the same-module functions it calls, each with the call
    path that reaches it: ((caller, call line), ...)."""
    klass = task.fact.function.rpartition(".")[0]
    found: List[Reached] = [(body, ())]
    seen = {body.name}
    todo: List[Tuple[FunctionFact, CallPath, int]] = [(body, (), 0)]
    while todo:
        function, path, depth = todo.pop(0)
        if depth >= FOLLOW_DEPTH:
            continue
        for call in body_calls(function):
            name = _local_callee(call.shape, klass)
            callee = project.function(task.path, name) if name else None
            if callee is None or callee.name in seen:
                continue
            seen.add(callee.name)
            callee_path = (*path, (function, call.loc.line))
            found.append((callee, callee_path))
            todo.append((callee, callee_path, depth + 1))
    return found


def _local_callee(shape: str, klass: str) -> str:
    match = re.fullmatch(r"([A-Za-z_]\w*)\(\)", shape)
    if match:
        return match.group(1)
    match = re.fullmatch(r"self\.([A-Za-z_]\w*)\(\)", shape)
    if match and klass:
        return f"{klass}.{match.group(1)}"
    return ""


def _first_unguarded_effect(project: Project, task: TaskView, reached: List[Reached]
                            ) -> Optional[SideEffect]:
    http_imported = any(i.target.split(".")[0] in HTTP_MODULES for i in project.imports(task.path))
    sends = [d.fact for d in project.dispatches_in(task.path) if d.fact.method in SENDING_METHODS]
    effects: List[Tuple[Tuple[int, ...], SideEffect]] = []
    for function, path in reached:
        found = [(call.loc.line, what) for call, what in _side_effects(function, http_imported)]
        found += [(d.loc.line, f"sends another task ({_short(d.receiver)}.{d.method}())")
                  for d in sends if d.function == function.name]
        label = "" if not path else function.name
        for line, what in found:
            if _early_return_before(path, function, line):
                continue
            order = (*(call_line for _, call_line in path), line)
            effects.append((order, SideEffect(what, line, label)))
    if not effects:
        return None
    return min(effects, key=lambda item: item[0])[1]


def _early_return_before(path: CallPath, function: FunctionFact, line: int) -> bool:
    steps = [*path, (function, line)]
    return any(0 < f.early_return_line < at for f, at in steps)


def _side_effects(function: FunctionFact, http_imported: bool) -> Iterator[Tuple[Call, str]]:
    calls = body_calls(function)
    updates = [c for c in calls if _segments(c.shape)[-1] == "update"]
    for call in calls:
        what = _side_effect(call, http_imported)
        if what is not None:
            yield call, what
        elif call.qualname in F_EXPRESSIONS:
            update = next((u for u in updates if _inside(call.loc, u.loc)), None)
            if update is not None:
                yield update, f"increments a counter (F() in {_short(update.shape)})"


def _side_effect(call: Call, http_imported: bool) -> Optional[str]:
    segments = _segments(call.shape)
    method = segments[-1]
    receiver = segments[-2].lower() if len(segments) > 1 else ""
    head = call.qualname.split(".")[0].replace("()", "")
    shown = _short(call.shape)
    if method in MAIL_FUNCTIONS:
        return f"sends a message ({shown})"
    if method in ("send", "send_messages", "create") and any(w in receiver for w in MESSAGE_WORDS):
        return f"sends a message ({shown})"
    if method in HTTP_WRITES and (head in HTTP_MODULES or (
            http_imported and any(w in receiver for w in HTTP_CLIENT_WORDS))):
        return f"makes an HTTP {method.upper()} request ({shown})"
    if (method == "create" and "objects" in segments[:-1]) or method == "bulk_create" or (
            method in ("add", "add_all") and receiver.endswith("session")):
        return f"creates rows ({shown})"
    if method in COUNTER_METHODS:
        return f"increments a counter ({shown})"
    return None


def _is_guard(call: Call, guards: Set[str]) -> bool:
    segments = _segments(call.shape)
    method = segments[-1]
    receiver = segments[-2].lower() if len(segments) > 1 else ""
    if method in GUARD_METHODS or _words(method) & LOCK_WORDS:
        return True
    if method == "add" and "cache" in receiver:
        return True
    if method == "set" and "nx" in call.keywords:
        return True
    return _named(call.shape, guards) or _named(call.qualname, guards)


def _named(shape: str, names: Set[str]) -> bool:
    """The call's name, or its dotted path, is one of `names`."""
    dotted = shape[:-2] if shape.endswith("()") else shape
    return any(dotted == name or dotted.endswith("." + name) for name in names)


def _segments(shape: str) -> List[str]:
    return [s[:-2] if s.endswith("()") else s for s in shape.split(".")]


def _words(name: str) -> Set[str]:
    """Lower-case words of a snake_case or CamelCase name ("QueueOnce" -> queue, once)."""
    name = re.sub(r"\(\)|\[\]", "", name.rpartition(".")[2])
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return {w.lower() for w in spaced.split("_") if w}


def _inside(inner: Loc, outer: Loc) -> bool:
    return (outer.line, outer.col) <= (inner.line, inner.col) and \
        (inner.end_line, inner.end_col) <= (outer.end_line, outer.end_col)


def _short(shape: str) -> str:
    return shape if len(shape) <= 60 else "..." + shape[-57:]
