"""CEL002 unused-noqa: a `# noqa: CEL...` comment that suppresses nothing."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List

from conftest import FIXTURES, expected_markers, lint, positions, write_tree
from celerylint.config import load_config, project_at
from celerylint.engine import check
from celerylint.rule import Finding, option_specs

TREE = FIXTURES / "CEL002"
BEAT = '''
    from celery import Celery

    app = Celery("proj", broker="redis://localhost:6379/0")
    app.conf.beat_schedule = {
        "poll": {"task": "t", "schedule": 1.0, "options": {"expires": 5}},  # noqa: CEL104
        "report": {"task": "t", "schedule": 3600.0, "options": {"expires": 60}},  # noqa: CODES
    }
'''


def run(root: Path, files: Dict[str, str], **overrides: str) -> List[Finding]:
    """The findings of a tree with command-line style overrides (select, ignore...)."""
    write_tree(root, files)
    old = os.getcwd()
    os.chdir(root)
    try:
        config = load_config(root, None, option_specs(),
                             {key.replace("_", "-"): value for key, value in overrides.items()},
                             project=project_at(root))
        return check([Path(".")], config).findings
    finally:
        os.chdir(old)


def test_fixture_tree():
    """Every rule runs beside CEL002 (it judges their findings); its markers are exact."""
    findings = lint(TREE, select="CEL,CEL002")
    assert set(positions(findings, "CEL002")) == expected_markers(TREE, "CEL002")


def test_off_by_default_and_not_turned_on_by_a_prefix():
    for select in ("CEL", "CEL0", "CEL00"):
        assert not positions(lint(TREE, select=select), "CEL002"), select


def test_extend_select_turns_it_on(tmp_path):
    findings = run(tmp_path, {"app.py": BEAT.replace("CODES", "CEL104")}, extend_select="CEL002")
    assert positions(findings, "CEL002") == [("app.py", 6, 79, "CEL002")]


def test_message_names_the_unused_codes(tmp_path):
    findings = run(tmp_path, {"app.py": BEAT.replace("CODES", "CEL104, CEL101")},
                   select="CEL,CEL002")
    assert [f.message for f in findings if f.code == "CEL002"] == [
        "`# noqa` names CEL104, CEL101, which report nothing on this line"]


def test_codes_of_rules_that_did_not_run_are_not_judged(tmp_path):
    """CEL104 is not selected: its noqa comments may serve another configuration."""
    files = {"app.py": BEAT.replace("CODES", "CEL104")}
    assert not run(tmp_path, files, select="CEL002,CEL101")
    assert not positions(run(tmp_path, files, select="CEL,CEL002", ignore="CEL104"), "CEL002")


def test_a_prefix_is_judged_only_when_every_rule_it_covers_ran(tmp_path):
    files = {"app.py": BEAT.replace("CODES", "CEL1")}
    assert positions(run(tmp_path, files, select="CEL,CEL002"), "CEL002") == [
        ("app.py", 6, 79, "CEL002")]
    assert not positions(run(tmp_path, files, select="CEL,CEL002", ignore="CEL105"), "CEL002")


def test_a_finding_ignored_for_the_file_still_uses_the_comment(tmp_path):
    """per-file-ignores hides the CEL104 finding, but one is there: not reported."""
    files = {"app.py": BEAT.replace("CODES", "CEL104"),
             "pyproject.toml": '[tool.celerylint]\nper-file-ignores = {"app.py" = ["CEL104"]}\n'}
    findings = run(tmp_path, files, select="CEL,CEL002")
    assert positions(findings) == [("app.py", 6, 79, "CEL002")]


def test_its_own_finding_can_be_suppressed(tmp_path):
    files = {"app.py": BEAT.replace("CODES", "CEL104, CEL002")}
    assert not positions(run(tmp_path, files, select="CEL,CEL002"), "CEL002")
