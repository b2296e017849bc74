"""The prefilter parses fewer files and never changes a finding."""
from __future__ import annotations

import os
from pathlib import Path
from typing import List

import pytest

from celerylint.config import load_config
from celerylint.engine import check, collect_facts, extract_file, project_files
from celerylint.prefilter import may_hold_facts
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


def test_scan_words():
    assert may_hold_facts(b"from celery import shared_task\n")
    assert may_hold_facts(b"x.DELAY(1)\n")
    assert may_hold_facts(b"add.s(1)\n")
    assert may_hold_facts(b"class Sync(Base):\n    def run(self):\n        pass\n")
    assert not may_hold_facts(b"import os\n\ndef main():\n    return os.getcwd()\n")


def test_files_without_celery_are_not_parsed(tmp_path):
    (tmp_path / "plain.py").write_text("import os\nX = os.sep\n", encoding="utf-8")
    facts, parsed = extract_file(str(tmp_path / "plain.py"), str(tmp_path), ["."], need_full=False)
    assert not parsed and facts.imports == [] and facts.error is None
    facts, parsed = extract_file(str(tmp_path / "plain.py"), str(tmp_path), ["."], need_full=True)
    assert parsed and facts.imports


def test_syntax_errors_are_reported_without_parsing(tmp_path):
    (tmp_path / "bad.py").write_text("def f(:\n    pass  # noqa: CEL104\n", encoding="utf-8")
    facts, parsed = extract_file(str(tmp_path / "bad.py"), str(tmp_path), ["."], need_full=False)
    full, _ = extract_file(str(tmp_path / "bad.py"), str(tmp_path), ["."], need_full=True)
    assert (facts.error, facts.error_loc, facts.noqa) == (full.error, full.error_loc, full.noqa)


def test_referenced_files_are_parsed(tmp_path, monkeypatch):
    write_tree(tmp_path, {
        "proj/__init__.py": "from .jobs import add\n",
        "proj/jobs.py": "from proj.base import Base\n\nclass Add(Base):\n    def run(self):\n        pass\n"
                        "\nadd = Add()\n",
        "proj/base.py": "from proj.core import Core\n\nclass Base(Core):\n    pass\n",
        "proj/core.py": "import os\n\nclass Core(object):\n    pass\n",
        "proj/app.py": "from celery import Celery\n\napp = Celery('proj')\n"
                       "app.config_from_object('proj.conf')\n",
        "proj/conf.py": "from proj.conf_base import *\n\nbroker_url = 'redis://'\n",
        "proj/conf_base.py": "X = 1\n",
        "proj/views.py": "from proj import add\n\ndef view():\n    add.delay(1)\n",
        "manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n",
        "site/settings.py": "from site.base import *\n",
        "site/base.py": "Y = 1\n",
        "unrelated.py": "import os\n\ndef f():\n    return os.sep\n",
    })
    assert parsed_paths(tmp_path, monkeypatch) == [
        "manage.py",  # DJANGO_SETTINGS_MODULE
        "proj/__init__.py",  # re-exports the dispatched task
        "proj/app.py", "proj/base.py", "proj/conf.py", "proj/conf_base.py",  # star base
        "proj/core.py",  # a base of a task class
        "proj/jobs.py", "proj/views.py", "site/base.py", "site/settings.py",
    ]  # not unrelated.py
