from __future__ import annotations

import fnmatch
from typing import Dict, Iterator, List, Optional

from celerylint.config import OptionSpec
from celerylint.project import Project, TaskView
from celerylint.facts import as_seconds
from celerylint.rule import Finding, Rule
from celerylint.schedules import format_number

SLEEP_CALLS = {"time.sleep"}
SUBPROCESS_CALLS = {"subprocess.run", "subprocess.call", "subprocess.check_call",
                    "subprocess.check_output", "subprocess.Popen", "os.system"}
TIME_LIMIT_OPTIONS = ("time_limit", "soft_time_limit")
MAX_NAMED = 3


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

    Every other task of the same queue is fast.  The queue is the task's
    `queue=` option, else its `task_routes` entry (exact names and glob
    patterns), else `task_default_queue`.  The finding is on the slow task
    and names the queue and the fast tasks waiting in it.

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
    - The app-wide `task_time_limit`/`task_soft_time_limit`: they cap every
      task of the app, so they say nothing about which task is slow.  Only a
      task's own limits mark it slow.  `task_annotations` are not read.
    - Sleeps and subprocesses in helper functions the task calls: only the
      task's own body is looked at.
    - Tasks that every call site (and beat entry) sends with an explicit
      `queue=`: they do not go to their default queue.  Routes set with
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
        by_queue: Dict[str, List[TaskView]] = {}
        for task in project.tasks:
            if _sent_only_with_explicit_queue(project, task):
                continue
            queue = project.task_queue(task)
            if queue is not None:
                by_queue.setdefault(queue, []).append(task)
        for queue in sorted(by_queue):
            tasks = by_queue[queue]
            reasons = {id(task): self._slow_reason(project, task) for task in tasks}
            fast = sorted({task.name for task in tasks if reasons[id(task)] is None})
            if not fast:
                continue
            for task in tasks:
                reason = reasons[id(task)]
                if reason is not None:
                    yield self.finding(
                        task.path, task.fact.loc, _message(task, reason, queue, fast)
                    )

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
            name = call.qualname[:-2] if call.qualname.endswith("()") else call.qualname
            if name in SLEEP_CALLS:
                return f"calls {name}() at line {call.loc.line}"
            if name in SUBPROCESS_CALLS:
                return f"runs {name}() at line {call.loc.line}"
        return None


def _sent_only_with_explicit_queue(project: Project, task: TaskView) -> bool:
    """Every dispatch and beat entry of the task names a queue (or may)."""
    sites, entries = project.sends_of(task)
    options = [d.fact.options for d in sites] + [b.fact.options for b in entries]
    return bool(options) and all(o.may_set("queue") for o in options)


def _message(task: TaskView, reason: str, queue: str, fast: List[str]) -> str:
    named = ", ".join(fast[:MAX_NAMED])
    if len(fast) > MAX_NAMED:
        named += f" and {len(fast) - MAX_NAMED} more"
    noun = "task" if len(fast) == 1 else "tasks"
    return (f"slow task {task.name} ({reason}) shares queue '{queue}' with fast {noun} {named}, "
            f"which wait behind it; route it to its own queue (queue= on the task or "
            f"task_routes) and run a dedicated worker for that queue with -Q")
