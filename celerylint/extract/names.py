"""The Celery names the extractor compares resolved names with.

celerylint/prefilter.py relies on this list being the only one: every name here
needs the word ``celery`` in an import, and its modules are ``CELERY_MODULES``.
Names that become a kind in the facts map to it (``DISPATCH_METHODS``, ``BEAT_KEYS``),
so that the kind the extractor stores is one of its type's members by construction.
"""
from typing import Dict

from celerylint.facts import BeatSource, DispatchMethod

CELERY_CLASSES = {"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"}
# Old releases' decorators among these (``celery.task``, ``celery.decorators.task``) make a
# task only for a target release that has them (the project view asks the shipped tables).
SHARED_TASK = {"celery.shared_task", "celery.app.shared_task", "celery.decorators.task",
               "celery.task.task", "celery.task", "celery.task.base.task"}
PERIODIC_TASK = {"celery.task.periodic_task", "celery.decorators.periodic_task",
                 "celery.task.base.periodic_task"}
SIGNATURE_FUNCS = {"celery.signature", "celery.canvas.signature", "celery.canvas.Signature",
                   "celery.Signature", "celery.subtask", "celery.canvas.subtask"}
CANVAS_FUNCS: Dict[str, DispatchMethod] = {
    "celery.chain": "chain", "celery.canvas.chain": "chain",
    "celery.group": "group", "celery.canvas.group": "group",
    "celery.chord": "chord", "celery.canvas.chord": "chord"}
DISPATCH_METHODS: Dict[str, DispatchMethod] = {
    "delay": "delay", "apply_async": "apply_async", "s": "s", "si": "si",
    "signature": "signature", "send_task": "send_task"}
CANVAS_METHODS = {"s", "si", "signature"}
BEAT_KEYS: Dict[str, BeatSource] = {"beat_schedule": "beat_schedule",
                                    "CELERYBEAT_SCHEDULE": "CELERYBEAT_SCHEDULE",
                                    "CELERY_BEAT_SCHEDULE": "CELERY_BEAT_SCHEDULE"}
# Celery(...) keywords that are constructor arguments, not settings.
CELERY_CTOR_ARGS = {"main", "loader", "amqp", "events", "log", "control", "set_as_current",
                    "tasks", "fixups", "task_cls", "autofinalize", "namespace", "strict_typing",
                    "config_source", "config_source_silent", "changes"}
CELERY_CTOR_SETTINGS = {"broker": "broker_url", "backend": "result_backend", "include": "include"}
BUILTIN_WRAPPERS = {"list", "tuple", "set", "sorted", "dict", "frozenset"}
# Other task queues whose objects have a `.task` decorator too (`huey = RedisHuey(); @huey.task()`).
OTHER_TASK_LIBRARIES = {"huey", "dramatiq", "rq", "taskiq", "arq", "procrastinate", "django_q",
                        "dask", "prefect", "ray"}
