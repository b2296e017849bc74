from __future__ import annotations

import fnmatch
from typing import Dict, Hashable, Iterator, List, Optional, Set, Tuple

from celerylint.config import OptionSpec
from celerylint.facts import as_seconds
from celerylint.project import Project, TaskView
from celerylint.project.routing import queue_name
from celerylint.rule import Finding, Rule
from celerylint.schedules import format_number

SLEEP_CALLS = {"time.sleep"}
SUBPROCESS_CALLS = {"subprocess.run", "subprocess.call", "subprocess.check_call",
                    "subprocess.check_output", "subprocess.Popen", "os.system"}
TIME_LIMIT_OPTIONS = ("time_limit", "soft_time_limit")
MAX_NAMED = 3
# A task whose own time limit is within this factor of a slow task's limit is not fast
# beside it: limits are caps, and close caps say the tasks are of one kind.
LIMIT_RATIO = 10
QueueKey = Tuple[Hashable, str]  # (the broker, as _broker says it; the queue name)


class MixedSpeedQueueRule(Rule):
    """
    ## What it does
    Reports a slow task that shares its queue with fast tasks.  A task is
    slow when

    - its own `time_limit` or `soft_time_limit` (on the decorator or on a
      base task class) is at least `slow-task-seconds`;
    - its body calls `time.sleep()`, runs a subprocess
      (`subprocess.run/call/check_call/check_output/Popen`, `os.system`);
    - or its name matches a pattern of the `slow-tasks` option.

    Every other task of the same queue is fast.  A queue is a name on one
    broker: tasks of apps with different broker URLs never share a queue,
    whatever its name.  A task's messages go to the `queue=` each dispatch
    and beat entry names, and, when some send it without one (or nothing in
    the project sends it), to its own queue: its `queue=` option, else its
    `task_routes` entry (exact names and glob patterns), else
    `task_default_queue`.  The finding is on the slow task and names the
    queue and the fast tasks waiting in it.

    ## Why is this bad?
    A worker prefetches messages from its queues and runs them in order.
    While its processes are busy with a report that takes ten minutes, the
    password-reset e-mails and webhooks it has already reserved wait behind
    it, and a burst of slow batch work can hold up short, important tasks
    for as long as the batch lasts.  Giving slow work a queue of its own,
    consumed by its own workers, keeps the fast queue fast.

    ## Example
    ```python
    import subprocess

    from celery import Celery

    app = Celery("proj", broker="amqp://localhost//")


    @app.task
    def send_welcome_email(user_id):
        ...


    @app.task(time_limit=1800)
    def render_video(video_id):
        subprocess.run(["ffmpeg", "-i", f"{video_id}.mov", f"{video_id}.mp4"], check=True)
    ```

    ## Use instead
    Route the slow task to its own queue, and run a dedicated worker for it
    (`celery -A proj worker -Q video`) next to the one for the default
    queue:

    ```python
    import subprocess

    from celery import Celery

    app = Celery("proj", broker="amqp://localhost//")
    app.conf.task_routes = {"example.render_video": {"queue": "video"}}


    @app.task
    def send_welcome_email(user_id):
        ...


    @app.task(time_limit=1800)
    def render_video(video_id):
        subprocess.run(["ffmpeg", "-i", f"{video_id}.mov", f"{video_id}.mp4"], check=True)
    ```

    ## What it does not flag
    - Queues whose routing cannot be resolved statically: a router function
      in `task_routes`, a `task_routes` or `queue=` value computed at run
      time, `kombu.Queue` objects.  A fast task whose queue is unknown is not
      counted either.
    - Queues where every task is slow: separating slow tasks from each other
      is a capacity question, not a blocking one.
    - A task marked slow only by its time limit, beside tasks whose own time
      limits are more than a tenth of it (`time_limit=300` beside
      `time_limit=120`): limits are caps, not run times, and caps that close
      say the tasks are of one kind.
    - The app-wide `task_time_limit`/`task_soft_time_limit`: they cap every
      task of the app, so they say nothing about which task is slow.  Only a
      task's own limits mark it slow.  `task_annotations` are not read.
    - Sleeps and subprocesses in helper functions the task calls: only the
      task's own body is looked at.
    - Sleeps and subprocesses that a Django setting switches on or sizes
      (`if settings.TEST_DELAY: time.sleep(...)`, `time.sleep(getattr(settings,
      "DELAY", 0))`) unless the project's settings module turns them on (a
      true or non-zero value): a delay that tests switch on says nothing about
      production.
    - Tasks of different apps whose broker URLs differ, or whose broker
      cannot be known (from the environment): their queues are not the same
      queue even when the names are.
    - Queues of a task's senders that cannot be known (`queue=` computed at
      run time, options passed as `**options`).  Routes set with
      `.set(queue=...)` on a signature are not seen.
    - Which queues each worker consumes (`-Q` on the command line): the rule
      reads code and settings only.

    ## References
    - [Celery: routing tasks](https://docs.celeryq.dev/en/stable/userguide/routing.html)
    - [Celery: prefetch limits](https://docs.celeryq.dev/en/stable/userguide/optimizing.html#prefetch-limits)
    - [Celery: task time limits](https://docs.celeryq.dev/en/stable/userguide/workers.html#time-limits)
    """

    code = "CEL105"
    name = "mixed-speed-queue"
    severity = "warning"
    options = (
        OptionSpec("slow-task-seconds", int, 300,
                   "a task whose own `time_limit` or `soft_time_limit` is at least this many "
                   "seconds is slow", at_least=1),
        OptionSpec("slow-tasks", list, [],
                   "task names or fnmatch patterns (`proj.reports.*`) of tasks known to be slow"),
    )

    def check(self, project: Project) -> Iterator[Finding]:
        by_queue: Dict[QueueKey, List[TaskView]] = {}
        for task in project.tasks:
            broker = _broker(task)
            if broker is None:
                continue
            for queue in sorted(_queues(project, task)):
                by_queue.setdefault((broker, queue), []).append(task)
        reported: Set[str] = set()
        for key in sorted(by_queue, key=lambda k: (k[1], str(k[0]))):
            tasks = by_queue[key]
            reasons = {id(task): self._slow_reason(project, task) for task in tasks}
            others = [task for task in tasks if reasons[id(task)] is None]
            for task in tasks:
                reason = reasons[id(task)]
                if reason is None or task.fact.qualname in reported:
                    continue
                by_limit = reason.startswith(TIME_LIMIT_OPTIONS)
                limit = _own_limit(project, task) if by_limit else None
                fast = sorted({other.name for other in others
                               if not _close_limits(limit, _own_limit(project, other))})
                if fast:
                    reported.add(task.fact.qualname)
                    yield self.finding(task.path, task.fact.loc,
                                       _message(task, reason, key[1], fast))

    def _slow_reason(self, project: Project, task: TaskView) -> Optional[str]:
        if any(fnmatch.fnmatchcase(task.name, pattern) for pattern in self.option("slow-tasks")):
            return "listed in slow-tasks"
        threshold = self.option("slow-task-seconds")
        for key in TIME_LIMIT_OPTIONS:
            option = project.task_option(task, key)
            if option is None or not option[0].known:
                continue
            seconds = as_seconds(option[0].value)
            if seconds is not None and seconds >= threshold:
                return f"{key}={format_number(seconds)}s"
        function = project.task_body(task)
        for call in function.calls if function is not None else ():
            if call.switch is not None and project.switched_on(call.switch) is not True:
                continue  # off unless a setting turns it on: no evidence
            name = call.qualname[:-2] if call.qualname.endswith("()") else call.qualname
            if name in SLEEP_CALLS:
                return f"calls {name}() at line {call.loc.line}"
            if name in SUBPROCESS_CALLS:
                return f"runs {name}() at line {call.loc.line}"
        return None


def _own_limit(project: Project, task: TaskView) -> Optional[float]:
    """The longest of the task's own time limits that can be read; None when it has none."""
    limits = []
    for key in TIME_LIMIT_OPTIONS:
        option = project.task_option(task, key)
        if option is not None and option[0].known:
            seconds = as_seconds(option[0].value)
            if seconds is not None:
                limits.append(seconds)
    return max(limits) if limits else None


def _close_limits(slow: Optional[float], other: Optional[float]) -> bool:
    """Whether a task marked slow only by its time limit and another task have limits
    too close to call the other one fast."""
    return slow is not None and other is not None and other * LIMIT_RATIO > slow


def _broker(task: TaskView) -> Optional[Hashable]:
    """Which broker the task's messages go to, as far as grouping needs: the broker URL
    its app sets (or Celery's default), else the app itself (an unknown URL, or one
    from the environment, may be any broker).  None when the task's apps disagree."""
    keys = set()
    for app in task.apps:
        url = app.value("broker_url")
        keys.add(("url", url.value) if url.known and not url.overridable
                 and isinstance(url.value, (str, type(None))) else ("app", app.fact.qualname))
    if not task.apps:
        return ("no app",)
    return keys.pop() if len(keys) == 1 else None


def _queues(project: Project, task: TaskView) -> Set[str]:
    """The queues the task's messages go to: the ``queue=`` each dispatch and beat entry
    names, and the task's own queue when one of them names none (or nothing sends it).
    A queue that cannot be known is left out."""
    sites, entries = project.sends_of(task)
    options = [d.fact.options for d in sites] + [b.fact.options for b in entries]
    queues = {queue_name(o.values["queue"]) for o in options if "queue" in o.values}
    if not options or any(not o.may_set("queue") for o in options):
        queues.add(project.task_queue(task))
    return {queue for queue in queues if queue is not None}


def _message(task: TaskView, reason: str, queue: str, fast: List[str]) -> str:
    named = ", ".join(fast[:MAX_NAMED])
    if len(fast) > MAX_NAMED:
        named += f" and {len(fast) - MAX_NAMED} more"
    noun = "task" if len(fast) == 1 else "tasks"
    return (f"slow task {task.name} ({reason}) shares queue '{queue}' with fast {noun} {named}, "
            f"which wait behind it; route it to its own queue (queue= on the task or "
            f"task_routes) and run a dedicated worker for that queue with -Q")
