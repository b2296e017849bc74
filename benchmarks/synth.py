"""A deterministic synthetic project for the benchmark: N small modules, about 10% Celery.

The Celery part looks like a Django project's: one app module (``proj/celery.py``), a
settings module with ``CELERY_`` settings and a beat schedule, ``tasks.py`` modules with
``@shared_task`` functions, and views that dispatch them.  The other 90% is ordinary
Python (models, helpers, dataclasses, tests) that mentions nothing Celery-related, as in
real projects where 4-18% of files do.  The same ``seed`` and ``count`` give the same tree
byte for byte.

    python benchmarks/synth.py OUT_DIR --files 5000 [--seed 1] [--celery-share 0.1]
"""
from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path
from typing import List

MODULES_PER_PACKAGE = 50

APP_MODULE = '''import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")

app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
'''

SETTINGS_HEAD = '''from celery.schedules import crontab

DEBUG = False
ALLOWED_HOSTS = ["*"]
SECRET_KEY = "not-a-secret"
INSTALLED_APPS = [
{apps}
]

CELERY_BROKER_URL = "amqp://guest:guest@localhost:5672//"
CELERY_RESULT_BACKEND = "redis://localhost:6379/0"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = {acks_late}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ROUTES = {{
{routes}
}}
CELERY_BEAT_SCHEDULE = {{
{beat}
}}
'''

TASK_TEMPLATES = [
    '''@shared_task(bind=True, max_retries={n})
def sync_{name}(self, {arg}_id):
    obj = {model}.objects.get(pk={arg}_id)
    obj.refresh()
    return obj.pk
''',
    '''@shared_task(ignore_result=True)
def cleanup_{name}(days={n}):
    cutoff = timezone.now() - timedelta(days=days)
    {model}.objects.filter(created__lt=cutoff).delete()
''',
    '''@shared_task(acks_late=True, queue="{queue}")
def send_{name}_mail({arg}_id):
    obj = {model}.objects.get(pk={arg}_id)
    send_mail("Subject {n}", obj.body, "noreply@example.com", [obj.email])
''',
    '''@shared_task(rate_limit="{n}/m", time_limit={limit})
def export_{name}(report_id, fmt="csv"):
    rows = list({model}.objects.values_list("pk", "name"))
    return {{"report": report_id, "rows": len(rows), "format": fmt}}
''',
]

DISPATCH_TEMPLATES = [
    '''def {name}_view(request, pk):
    {task}.delay(pk)
    return JsonResponse({{"queued": pk}})
''',
    '''def {name}_bulk(request):
    for pk in request.POST.getlist("ids"):
        {task}.apply_async(args=(pk,), countdown={n})
    return JsonResponse({{"ok": True}})
''',
    '''def {name}_result(request, pk):
    result = {task}.delay(pk)
    return JsonResponse({{"id": result.id}})
''',
]

PLAIN_TEMPLATES = [
    '''class {cls}:
    """A {word} record kept in memory."""

    def __init__(self, name, size={n}):
        self.name = name
        self.size = size
        self.items = []

    def add(self, item):
        if item in self.items:
            return False
        self.items.append(item)
        return True

    def total(self):
        return sum(getattr(item, "weight", 1) for item in self.items) * self.size
''',
    '''def parse_{word}(text, sep=","):
    """Split ``text`` into stripped, non-empty fields."""
    fields = [part.strip() for part in text.split(sep)]
    return [field for field in fields if field]


def format_{word}(values, width={n}):
    lines = []
    for index, value in enumerate(values):
        lines.append(f"{{index:>4}} {{str(value):<{{width}}}}")
    return "\\n".join(lines)
''',
    '''@dataclass(frozen=True)
class {cls}Config:
    name: str
    retries: int = {n}
    timeout: float = {limit}.0
    tags: Tuple[str, ...] = ()

    def with_tag(self, tag):
        return {cls}Config(self.name, self.retries, self.timeout, self.tags + (tag,))
''',
    '''class {cls}Tests(unittest.TestCase):
    def setUp(self):
        self.values = list(range({n}))

    def test_sum(self):
        self.assertEqual(sum(self.values), {n} * ({n} - 1) // 2)

    def test_sorted(self):
        self.assertEqual(sorted(self.values, reverse=True)[0], {n} - 1)
''',
    '''class {cls}Model(models.Model):
    name = models.CharField(max_length={limit})
    created = models.DateTimeField(auto_now_add=True)
    owner = models.ForeignKey("auth.User", on_delete=models.CASCADE)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return self.name
''',
]

PLAIN_HEADER = '''"""Module {module} of the synthetic benchmark project."""
from __future__ import annotations

import os
import unittest
from dataclasses import dataclass
from typing import Tuple

from django.db import models

'''

WORDS = ["order", "invoice", "account", "report", "ticket", "upload", "profile", "shipment",
         "payment", "comment", "metric", "session", "product", "voucher", "address"]
QUEUES = ["default", "mail", "exports", "priority"]


def generate(out: Path, files: int, seed: int = 1, celery_share: float = 0.10) -> List[Path]:
    """Write the tree under ``out`` (replaced if it exists); return the files written."""
    if out.exists():
        shutil.rmtree(out)
    rng = random.Random(seed)
    written: List[Path] = []

    def write(relpath: str, text: str) -> None:
        path = out / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    packages = max(1, files // MODULES_PER_PACKAGE)
    celery_files = max(3, round(files * celery_share))
    # proj/__init__.py, proj/celery.py, proj/settings.py are fixed; the rest of the Celery
    # share is split between tasks modules and dispatching views.
    task_modules = max(1, (celery_files - 3) // 2)
    view_modules = max(1, celery_files - 3 - task_modules)
    write(
        "proj/__init__.py", 'from .celery import app as celery_app\n\n__all__ = ("celery_app",)\n'
    )
    write("proj/celery.py", APP_MODULE)

    task_names: List[str] = []
    routes: List[str] = []
    beat: List[str] = []
    for index in range(task_modules):
        package = f"app{index % packages}"
        lines = ["from datetime import timedelta", "", "from celery import shared_task",
                 "from django.core.mail import send_mail", "from django.utils import timezone", "",
                 f"from .models import {WORDS[index % len(WORDS)].title()}Model", "", ""]
        for number in range(rng.randint(2, 4)):
            template = TASK_TEMPLATES[rng.randrange(len(TASK_TEMPLATES))]
            word = WORDS[rng.randrange(len(WORDS))]
            name = f"{word}_{index}_{number}"
            lines.append(
                template.format(
                    name=name,
                    n=rng.randint(2, 9),
                    arg=word,
                    model=f"{WORDS[index % len(WORDS)].title()}Model",
                    queue=QUEUES[rng.randrange(len(QUEUES))],
                    limit=rng.choice([30, 60, 300, 900]),
                )
            )
            lines.append("")
            function = template.split("def ", 1)[1].split("(", 1)[0].format(name=name)
            task_names.append(f"{package}.tasks{index}.{function}")
        write(f"{package}/tasks{index}.py", "\n".join(lines))
        routes.append(
            f'    "{package}.tasks{index}.*": {{"queue": "{QUEUES[index % len(QUEUES)]}"}},'
        )
    for index, task in enumerate(task_names[: max(2, len(task_names) // 10)]):
        every = rng.choice(["crontab(minute=0)", "crontab(minute='*/15')", "300.0", "3600.0"])
        beat.append(f'    "beat-{index}": {{"task": "{task}", "schedule": {every}}},')
    for index in range(view_modules):
        package = f"app{index % packages}"
        chosen = [task_names[rng.randrange(len(task_names))] for _ in range(rng.randint(1, 3))]
        lines = ["from django.http import JsonResponse", ""]
        for dotted in sorted(set(chosen)):
            module, function = dotted.rsplit(".", 1)
            lines.append(f"from {module} import {function}")
        lines += ["", ""]
        for number, dotted in enumerate(chosen):
            template = DISPATCH_TEMPLATES[rng.randrange(len(DISPATCH_TEMPLATES))]
            lines.append(template.format(name=f"v{index}_{number}", task=dotted.rsplit(".", 1)[1],
                                         n=rng.randint(1, 60)))
            lines.append("")
        write(f"{package}/views{index}.py", "\n".join(lines))
    apps = "\n".join(f'    "app{index}",' for index in range(packages))
    write(
        "proj/settings.py",
        SETTINGS_HEAD.format(
            apps=apps,
            acks_late=rng.choice(["True", "False"]),
            routes="\n".join(routes),
            beat="\n".join(beat),
        ),
    )
    for index in range(packages):
        write(f"app{index}/__init__.py", "")

    plain = files - len(written) - packages  # each package also gets a models.py below
    for index in range(max(0, plain)):
        package = f"app{index % packages}"
        module = f"{package}/mod{index}.py" if index % 7 else f"{package}/models{index}.py"
        parts = [PLAIN_HEADER.format(module=module)]
        for number in range(rng.randint(1, 3)):
            template = PLAIN_TEMPLATES[rng.randrange(len(PLAIN_TEMPLATES))]
            word = WORDS[rng.randrange(len(WORDS))]
            parts.append(
                template.format(
                    cls=f"{word.title()}{index}x{number}",
                    word=f"{word}_{index}_{number}",
                    n=rng.randint(2, 99),
                    limit=rng.choice([30, 60, 120, 255]),
                )
            )
            parts.append("\n")
        write(module, "\n".join(parts))
    # Every tasks module imports its model from ``.models``; give each package one.
    for index in range(packages):
        names = "\n".join(
            f"class {word.title()}Model(models.Model):\n    name = "
            "models.CharField(max_length=50)\n"
            for word in WORDS
        )
        write(f"app{index}/models.py", "from django.db import models\n\n\n" + names)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--celery-share", type=float, default=0.10)
    args = parser.parse_args()
    written = generate(args.out, args.files, args.seed, args.celery_share)
    size = sum(path.stat().st_size for path in written)
    print(f"{len(written)} files, {size / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()
