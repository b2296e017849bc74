"""Rule pages are generated from the rules; a drifted page fails here."""
import re
import subprocess
import sys

import pytest

from celerylint.docs import rule_pages
from celerylint.rule import all_rules
from conftest import REPO

REQUIRED_SECTIONS = ["## What it does", "## Why is this bad?", "## Example", "## Use instead",
                     "## What it does not flag", "## References", "## Options"]


@pytest.mark.parametrize("name", sorted(rule_pages()))
def test_generated_page_is_committed_and_current(name):
    committed = REPO / "docs" / "rules" / name
    assert committed.exists(), f"run `python -m celerylint.docs` to generate {name}"
    assert committed.read_text(encoding="utf-8") == rule_pages()[name], (
        f"docs/rules/{name} drifted from its rule: run `python -m celerylint.docs`")


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_page_has_every_section(rule):
    page = rule.page()
    for section in REQUIRED_SECTIONS:
        assert section in page, f"{rule.code} page lacks {section}"
    assert re.fullmatch(r"CEL\d{3}", rule.code)
    assert re.fullmatch(r"[a-z0-9-]+", rule.name)


def test_rule_command_prints_the_page():
    rule = all_rules()[0]
    out = subprocess.run([sys.executable, "-m", "celerylint", "rule", rule.code.lower()],
                         capture_output=True, text=True, check=True).stdout
    assert out == rule.page()


def test_rule_command_unknown_code_exits_2():
    proc = subprocess.run([sys.executable, "-m", "celerylint", "rule", "CEL999"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "CEL999" in proc.stderr


def test_rules_command_lists_every_rule():
    out = subprocess.run([sys.executable, "-m", "celerylint", "rules"],
                         capture_output=True, text=True, check=True).stdout
    assert [line.split()[0] for line in out.splitlines()] == [r.code for r in all_rules()]


def _code_block(page: str, section: str):
    match = re.search(section + r"\n(?:(?!\n## ).)*?```python\n(.*?)```", page, re.S)
    return match.group(1) if match else None


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_page_example_fires_and_fix_does_not(rule, tmp_path):
    from conftest import lint_files
    page = rule.page()
    example = _code_block(page, "## Example")
    assert example, f"{rule.code} page has no python example"
    # every rule runs (CEL002 judges the others' findings), findings of this one count
    select = f"CEL,{rule.code}"
    fired = lint_files(tmp_path / "example", {"example.py": example}, select=select)
    assert [f for f in fired if f.code == rule.code], f"{rule.code}: its Example does not fire"
    fixed = _code_block(page, "## Use instead")
    if fixed is not None:
        quiet = lint_files(tmp_path / "fixed", {"example.py": fixed}, select=select)
        assert not [f for f in quiet if f.code == rule.code], f"{rule.code}: its Use instead fires"


def test_readme_shows_the_demo_output_as_it_is():
    """The README's demo transcript is what `celerylint check` prints in examples/demo."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```text\n\$ celerylint check\n(.*?)```", readme, re.S)
    assert match, "README lacks the demo transcript"
    proc = subprocess.run(
        [sys.executable, "-m", "celerylint", "check"],
        cwd=REPO / "examples" / "demo",
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stderr
    codes = {line.split()[1] for line in proc.stdout.splitlines()}
    assert {f"CEL10{i}" for i in range(1, 8)} <= codes, "the demo must show every mission rule"
    assert match.group(1) == proc.stdout, "README demo output drifted: paste the new output"
