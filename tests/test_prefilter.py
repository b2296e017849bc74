"""The prefilter parses fewer files and never changes a finding."""
from __future__ import annotations

import os
from pathlib import Path
from typing import List

import pytest

from celerylint.config import load_config
from celerylint.engine import check, collect_facts, extract_file, project_files
from celerylint.modules import absolute_module
from celerylint.prefilter import CELERY_MODULES, may_hold_facts, skipped_summary
from celerylint.rule import option_specs
from conftest import FIXTURES, write_tree


def fixture_roots() -> List[Path]:
    roots = []
    for tree in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        roots.append(tree)
        roots.extend(sorted(p for p in tree.iterdir() if p.is_dir() and not p.name.startswith(".")))
    return roots


def findings(root: Path, prefilter: bool) -> List[tuple]:
    old = os.getcwd()
    os.chdir(root)
    try:
        config = load_config(root, None, option_specs(), {"select": "CEL"})
        if config.root.resolve() != root.resolve():
            config.root = root
            config.src = ["."] + (["src"] if (root / "src").is_dir() else [])
        result = check([Path(".")], config, jobs=1, prefilter=prefilter)
    finally:
        os.chdir(old)
    return [(f.path, f.line, f.column, f.code, f.message) for f in result.findings] + \
        [("internal", path, message) for path, message in result.internal_errors]


@pytest.mark.parametrize("root", fixture_roots(), ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_no_finding_is_lost_on_fixture_trees(root):
    assert findings(root, prefilter=True) == findings(root, prefilter=False)


def parsed_paths(root: Path, monkeypatch) -> List[str]:
    """Display paths of the files parsed with libcst (not only syntax-checked)."""
    import celerylint.engine as engine

    parsed: List[str] = []
    real = engine.parse_and_extract

    def recording(text, path, module, is_package):
        parsed.append(path)
        return real(text, path, module, is_package)

    monkeypatch.setattr(engine, "parse_and_extract", recording)
    monkeypatch.chdir(root)
    config = load_config(root, None, option_specs(), {})
    config.root, config.src = root, ["."]
    paths, _, _ = project_files(config, [Path(".")])
    collect_facts(paths, config)
    return sorted(parsed)


@pytest.mark.parametrize("text", [
    b"from celery import Celery\napp = Celery('proj')\n",  # an app
    b"import celery\nclass App(celery.Celery):\n    pass\n",  # a subclass of Celery
    b"import celery\nMyCelery = celery.Celery\n",  # an alias of Celery
    b"app.config_from_object('proj.conf')\n",
    b"app.conf.update(task_acks_late=True)\n",
    b"app.conf.broker_url = 'redis://'\n",
    b"app.conf['broker_url'] = 'redis://'\n",
    b"(app.conf\n    .task_default_queue) = 'q'\n",
    b"from celery import shared_task\n",
    b"from celery.task import periodic_task\n",
    b"from celery.decorators import task\n",
    b"from celery import (\n    Celery as _C,\n    task,\n)\n",  # Celery 4's callable module
    b"@app.task(bind=True)\ndef f(self):\n    pass\n",
    b"app.add_periodic_task(10, ping)\n",
    b"add.delay(1)\n",
    b"add.apply_async((1,))\n",
    b"app.send_task('add')\n",
    b"add.s(1)\n",
    b"add.si(1)\n",
    b"(add\n    .s(1))\n",
    b"add.signature((1,))\n",
    b"self.inspect.signature((1,))\n",  # not the standard library's inspect
    b"from celery import group\n",
    b"import celery\nflow = celery.chain(a, b)\n",
    b"from celery.canvas import chord\n",
    b"from celery import subtask\n",
    b"CELERY_BEAT_SCHEDULE = {}\n",
    b"beat_schedule = {}\n",
    b"os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n",
    b"result = AsyncResult(task_id)\n",
    b"result = GroupResult.restore(group_id)\n",
    b"results = ResultSet([])\n",
    b"meta = app.backend.get_task_meta(task_id)\n",
    b"from celery.schedules import crontab\nNIGHTLY = crontab(hour=3)\n",
    b"from django_celery_beat.models import CrontabSchedule\n",
])
def test_scan_passes_every_kind_of_fact(text):
    assert may_hold_facts(text)


@pytest.mark.parametrize("text", [
    b"import os\n\ndef main():\n    return os.getcwd()\n",
    b"x.DELAY(1)\n",  # names are case-sensitive
    b"import inspect\n\ndef arity(f):\n    return len(inspect.signature(f).parameters)\n",
    b"class Sync(Base):\n    def run(self):\n        pass\n",  # followed only when Base is a task
    b"from django.conf import settings\n\nDEBUG = settings.DEBUG\n",
    b"self.conf = conf\nvalue = self.conf.get('x')\n",  # reads no app's settings
    b'"""Runs under Celery: start a celery worker first."""\n',  # Celery not called
    b"import re\nprint(re.match('(a)', 'a').group(1))\n",  # no celery
    b"from huey import crontab\nNIGHTLY = crontab(hour=3)\n",  # huey's crontab
    b"from pretix.base.signals import periodic_task\n",  # no celery
    b"from superset.result_set import SupersetResultSet\n",
    b"from celery import states\nfrom proj import task\n",  # the task of another module
])
def test_scan_rejects_look_alikes(text):
    assert not may_hold_facts(text)


def test_celery_modules_cover_the_names_the_extractor_compares():
    from celerylint.extract import names
    from celerylint.project import TASK_BASE_CLASSES

    compared = (set(names.CELERY_CLASSES) | names.SHARED_TASK | names.PERIODIC_TASK
                | names.SIGNATURE_FUNCS | set(names.CANVAS_FUNCS) | TASK_BASE_CLASSES)
    prefixes = {".".join(name.split(".")[:cut]) for name in compared
                for cut in range(1, name.count(".") + 1)}
    assert prefixes <= CELERY_MODULES


@pytest.mark.parametrize("module, is_package, level, name, expected", [
    ("celery.jobs", False, 1, "", "celery"), ("celery", True, 1, "canvas", "celery.canvas"),
    ("celery.app.x", False, 2, "", "celery"), ("a.b.c", False, 5, "celery.app", "celery.app"),
    ("proj", True, 1, "tasks", "proj.tasks"), ("proj.sub.m", False, 2, "x", "proj.x"),
    ("proj.m", False, 0, "os.path", "os.path"),
])
def test_relative_imports_resolve_as_python_does(module, is_package, level, name, expected):
    """One function names the module of a relative import for the extractor's import
    facts and for the scan of rejected files (``imports_celery``)."""
    assert absolute_module(module, is_package, level, name) == expected


def test_summary_of_a_rejected_file():
    summary = skipped_summary(
        b"from tasks import MyTask as Renamed, Other\n"
        b"import base\n"
        b"Alias = base.Deep\n"
        b"class A(Alias, metaclass=Meta):\n    pass\n"
        b"class B(base.Plain):\n    pass\n"
        b"x = settings.BROKER_HOSTS + my_settings.BROKER_OTHER + self.settings.CELERY_X\n"
        b"y = settings.lower_case\n"
        b"z = (app.conf.worker_port, conf['lock_ttl'], conf.get(u'other'), getattr(app.conf,"
        b" 'fourth'), myconf.not_this, app.conf.r_name)\n"
        b"from . import shared_task\n",
        "celery.jobs", False)
    assert {"MyTask", "Alias", "base", "Deep", "Plain"} <= summary.class_words
    assert "Other" not in summary.class_words  # imported, but no header names it
    assert summary.setting_reads == {"BROKER_HOSTS", "CELERY_X"}
    assert summary.conf_reads == {"worker_port", "lock_ttl", "other", "fourth", "r_name"}
    assert summary.imports_celery
    assert not skipped_summary(b"from . import shared_task\n", "proj.jobs", False).imports_celery


PREFILTER_TREES = FIXTURES / "prefilter"


def equal_findings(root: Path) -> List[tuple]:
    """The findings of a tree, asserted equal with and without the prefilter."""
    with_prefilter = findings(root, prefilter=True)
    assert with_prefilter == findings(root, prefilter=False)
    return with_prefilter


def test_task_subclasses_are_followed_down_through_modules(monkeypatch):
    root = PREFILTER_TREES / "task_base_chain"
    assert [(path, code) for path, _, _, code, _ in equal_findings(root)] == [
        ("proj/hooks.py", "CEL103"), ("proj/jobs.py", "CEL103")]
    assert parsed_paths(root, monkeypatch) == [
        "proj/base.py",  # subclasses celery's Task: not passed by the scan
        "proj/celery.py",
        "proj/compat.py",  # renames MiddleTask on import
        "proj/hooks.py",  # Base = CompatTask
        "proj/jobs.py",  # two levels below Task
        "proj/middle.py",
    ]  # not commands/ (`def run`, no Task up the chain), not tools/ (inspect.signature)


def test_config_modules_conf_writes_and_signatures_are_parsed(monkeypatch):
    root = PREFILTER_TREES / "dispatch_conf"
    assert [(path, code) for path, _, _, code, _ in equal_findings(root)] == [
        ("proj/config_base.py", "CEL108"), ("proj/flows.py", "CEL101"),
        ("proj/tweaks.py", "CEL108"), ("proj/worker_config.py", "CEL108")]
    assert parsed_paths(root, monkeypatch) == [
        "proj/__init__.py",  # the parent of the config module's name
        "proj/config_base.py", "proj/flows.py", "proj/tasks.py", "proj/tweaks.py",
        "proj/worker_app.py", "proj/worker_config.py"]


def test_files_reading_a_written_setting_are_parsed(monkeypatch):
    root = PREFILTER_TREES / "setting_read"
    assert [(path, code) for path, _, _, code, _ in equal_findings(root)] == [
        ("proj/conf.py", "CEL202"), ("proj/conf.py", "CEL201")]  # BROKER_RETRY_LIMIT only
    parsed = parsed_paths(root, monkeypatch)
    assert "proj/failover.py" in parsed and "proj/pool.py" in parsed


def test_relative_imports_inside_a_package_named_celery(tmp_path, monkeypatch):
    # Not a fixture tree: a directory named celery would shadow Celery for
    # anything started in the fixtures directory.
    write_tree(tmp_path, {
        "site_app.py": "from celery import Celery\n\napp = Celery('site', broker='redis://x')\n",
        "celery/__init__.py": "def shared_task(*args, **options):\n    return lambda f: f\n",
        "celery/jobs.py": "import requests\n\nfrom . import shared_task\n\n\n"
                          "@shared_task(acks_late=True)\ndef ping(url):\n    requests.post(url)\n",
        "celery/helpers.py": "from .jobs import ping\n\n\ndef name():\n    return ping.__name__\n",
    })
    assert [(path, code) for path, _, _, code, _ in equal_findings(tmp_path)] == [
        ("celery/jobs.py", "CEL103")]
    assert parsed_paths(tmp_path, monkeypatch) == [
        "celery/__init__.py", "celery/jobs.py", "site_app.py"]


def test_files_without_celery_are_not_parsed(tmp_path):
    (tmp_path / "plain.py").write_text("import os\nX = os.sep\n", encoding="utf-8")
    facts, parsed, _ = extract_file(
        str(tmp_path / "plain.py"), str(tmp_path), ["."], need_full=False
    )
    assert not parsed and facts.imports == [] and facts.error is None
    facts, parsed, _ = extract_file(
        str(tmp_path / "plain.py"), str(tmp_path), ["."], need_full=True
    )
    assert parsed and facts.imports


def test_a_file_without_facts_is_not_parsed_even_when_broken(tmp_path):
    """Its syntax is flake8's and ruff's business: no error, no parse, nothing cached as full."""
    (tmp_path / "bad.py").write_text("def f(:\n    pass  # noqa: CEL104\n", encoding="utf-8")
    facts, parsed, _ = extract_file(str(tmp_path / "bad.py"), str(tmp_path), ["."], need_full=False)
    assert (facts.error, parsed) == (None, False)
    full, parsed, _ = extract_file(str(tmp_path / "bad.py"), str(tmp_path), ["."], need_full=True)
    assert (full.error, full.error_loc.line, parsed) == ("'(' was never closed", 1, True)


def test_a_broken_file_that_can_hold_facts_is_parsed_and_reported(tmp_path):
    (tmp_path / "bad.py").write_text("def f(:\n    pass\nadd.delay(1)\n", encoding="utf-8")
    facts, parsed, _ = extract_file(str(tmp_path / "bad.py"), str(tmp_path), ["."], need_full=False)
    assert (facts.error, facts.error_kind, parsed) == ("'(' was never closed", "syntax", True)


def test_referenced_files_are_parsed(tmp_path, monkeypatch):
    write_tree(
        tmp_path,
        {
            "proj/__init__.py": "from .jobs import add\n",
            "proj/jobs.py": "from proj.base import Base\n\nclass Add(Base):\n"
            "    def run(self):\n        pass\n"
            "\nadd = Add()\n",
            "proj/base.py": "from proj.core import Core\n\nclass Base(Core):\n    pass\n",
            "proj/core.py": "import os\n\nclass Core(object):\n    pass\n",
            "proj/app.py": "from celery import Celery\n\napp = Celery('proj')\n"
            "app.config_from_object('proj.conf')\n",
            "proj/conf.py": "from proj.conf_base import *\n\nbroker_url = 'redis://'\n",
            "proj/conf_base.py": "X = 1\n",
            "proj/views.py": "from proj import add\n\ndef view():\n    add.delay(1)\n",
            "manage.py": "import os\n"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n",
            "site/settings.py": "from site.base import *\n",
            "site/base.py": "Y = 1\n",
            "unrelated.py": "import os\n\ndef f():\n    return os.sep\n",
        },
    )
    assert parsed_paths(tmp_path, monkeypatch) == [
        "manage.py",  # DJANGO_SETTINGS_MODULE
        "proj/__init__.py",  # re-exports the dispatched task
        "proj/app.py", "proj/base.py", "proj/conf.py", "proj/conf_base.py",  # star base
        "proj/core.py",  # a base of a task class
        "proj/jobs.py", "proj/views.py", "site/base.py", "site/settings.py",
    ]  # not unrelated.py
