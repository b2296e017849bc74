"""The ``celerylint`` command, run as a real process: exit codes, formats, selection,
suppression, configuration, paths and determinism.

CEL001 (a file that does not parse) is the finding every run can produce; the
cases for the beat rule (CEL104) run when that rule is installed.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import List, Optional

import pytest

from conftest import FIXTURES, write_tree
from celerylint.rule import all_rules, rule_by_code

# A broken file celerylint needs (it dispatches a task): CEL001 concerns only such files.
BROKEN = "def broken(:\n    pass\nadd.delay(1)\n"
SYNTAX_ERROR = "CEL001 syntax error for Python 3.14: '(' was never closed"
REPORTED = [  # what `celerylint check` reports in tests/fixtures/cli_project
    f"proj/broken.py:1:11: {SYNTAX_ERROR}",
    f"proj/noqa_other.py:1:11: {SYNTAX_ERROR}",
]
JSON_FIELDS = {"code", "name", "message", "path", "line", "column", "end_line", "end_column",
               "severity", "fix"}
BEAT_EVERY_SECOND = '''
    from celery import Celery

    app = Celery("proj", broker="redis://localhost:6379/0")
    app.conf.beat_schedule = {"x": {"task": "t", "schedule": 1.0}}
'''

needs_cel104 = pytest.mark.skipif(rule_by_code("CEL104") is None, reason="CEL104 not written yet")


def run(*args: str, cwd: Path, script: bool = False) -> subprocess.CompletedProcess:
    """`celerylint ARGS` in `cwd`, through the console script or `python -m celerylint`."""
    if script:
        command = [str(Path(sysconfig.get_path("scripts")) / "celerylint")]
    else:
        command = [sys.executable, "-m", "celerylint"]
    return subprocess.run(command + list(args), cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=300)


def lines(text: str) -> List[str]:
    return text.splitlines()


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(lines(result.stderr)) == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr


@pytest.fixture
def cli_project(tmp_path) -> Path:
    root = tmp_path / "cli_project"
    shutil.copytree(FIXTURES / "cli_project", root)
    # a default-excluded directory (made here: .gitignore keeps build/ out of the repo)
    write_tree(root, {"build/lib.py": "def built(:\n    pass\nadd.delay(1)\n"})
    return root


def make_project(root: Path, files: dict, config: Optional[str] = "") -> Path:
    """A project in `root`; its pyproject.toml ([tool.celerylint] + `config`) pins the root."""
    if config is not None:
        files = dict(files, **{"pyproject.toml": "[tool.celerylint]\n" + config})
    write_tree(root, files)
    return root


# ------------------------------------------------------------------ exit codes


def test_clean_project_exits_0_and_prints_nothing(tmp_path):
    make_project(tmp_path, {"app.py": "from celery import Celery\n\napp = Celery('app')\n"})

    result = run("check", cwd=tmp_path)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_findings_exit_1_in_text_format(cli_project):
    result = run("check", cwd=cli_project)

    assert result.returncode == 1, result.stderr
    assert lines(result.stdout) == REPORTED
    assert result.stderr == ""


def test_console_script_and_module_give_the_same_output(cli_project):
    by_module = run("check", cwd=cli_project)
    by_script = run("check", cwd=cli_project, script=True)

    assert (by_script.returncode, by_script.stdout) == (by_module.returncode, by_module.stdout)


def test_no_paths_means_the_current_directory(cli_project):
    assert run("check", cwd=cli_project).stdout == run("check", ".", cwd=cli_project).stdout


def test_exit_zero_keeps_the_findings(cli_project):
    result = run("check", "--exit-zero", cwd=cli_project)

    assert result.returncode == 0
    assert lines(result.stdout) == REPORTED


def test_unknown_config_key_is_a_one_line_error(tmp_path):
    make_project(tmp_path, {"a.py": BROKEN}, 'selekt = ["CEL"]\n')

    result = run("check", cwd=tmp_path)

    assert_one_line_error(result, "selekt", "pyproject.toml")
    assert result.stdout == ""


def test_config_value_of_the_wrong_type_is_an_error(tmp_path):
    make_project(tmp_path, {"a.py": "x = 1\n"}, 'exclude = "build"\n')

    assert_one_line_error(run("check", cwd=tmp_path), "exclude")


def test_invalid_toml_is_an_error(tmp_path):
    make_project(tmp_path, {"a.py": "x = 1\n"}, "select = [\n")

    assert_one_line_error(run("check", cwd=tmp_path), "pyproject.toml")


@pytest.mark.parametrize("args, needle", [
    (["--select", "CEL1,bogus"], "bogus"),
    (["--ignore", "CEL0001"], "CEL0001"),
    (["--target-version", "five"], "five"),
    (["--config", "missing.toml"], "missing.toml"),
    (["--jobs", "0"], "--jobs"),
])
def test_bad_command_line_values_are_errors(tmp_path, args, needle):
    make_project(tmp_path, {"a.py": "x = 1\n"})

    assert_one_line_error(run("check", *args, cwd=tmp_path), needle)


def test_unknown_option_is_a_usage_error(tmp_path):
    result = run("check", "--no-such-option", cwd=tmp_path)

    assert result.returncode == 2
    assert "--no-such-option" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_path_is_named_and_the_other_files_are_still_checked(cli_project):
    result = run("check", "nowhere/gone.py", "proj/broken.py", cwd=cli_project)

    assert result.returncode == 2
    assert "nowhere/gone.py" in result.stderr
    assert "Traceback" not in result.stderr
    assert lines(result.stdout) == [REPORTED[0]]


# ------------------------------------------------------------------ formats


def test_json_format(cli_project):
    result = run("check", "--format", "json", cwd=cli_project)

    assert result.returncode == 1
    findings = json.loads(result.stdout)
    assert [set(f) for f in findings] == [JSON_FIELDS] * len(findings)
    assert [(f["path"], f["line"], f["column"], f["code"]) for f in findings] == [
        ("proj/broken.py", 1, 11, "CEL001"), ("proj/noqa_other.py", 1, 11, "CEL001")]
    first = findings[0]
    assert first["name"] == "syntax-error"
    assert first["severity"] == "error"
    assert first["fix"] is None
    assert (first["end_line"], first["end_column"]) == (1, 11)
    assert first["message"] == "syntax error for Python 3.14: '(' was never closed"


def test_json_is_sorted_by_path_line_column_code(tmp_path):
    make_project(tmp_path, {
        "b.py": "x = 1\ny = (\nadd.delay(1)\n",
        "a/z.py": BROKEN,
        "a/b.py": "\n\n" + BROKEN,
        "a.py": "x = 1\n)\nadd.delay(1)\n",
    })

    findings = json.loads(run("check", "--format", "json", cwd=tmp_path).stdout)

    keys = [(f["path"], f["line"], f["column"], f["code"]) for f in findings]
    assert keys == sorted(keys)
    assert [f["path"] for f in findings] == ["a.py", "a/b.py", "a/z.py", "b.py"]


def test_json_with_no_findings_is_an_empty_array(tmp_path):
    make_project(tmp_path, {"a.py": "x = 1\n"})

    result = run("check", "--format", "json", cwd=tmp_path)

    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_github_format(cli_project):
    result = run("check", "--format", "github", cwd=cli_project)

    assert result.returncode == 1
    assert lines(result.stdout) == [
        "::error title=CEL001 syntax-error,file=proj/broken.py,line=1,col=11,endLine=1,endColumn=11"
        "::CEL001 syntax error for Python 3.14: '(' was never closed",
        "::error title=CEL001 syntax-error,file=proj/noqa_other.py,line=1,col=11,endLine=1,endColumn=11"
        "::CEL001 syntax error for Python 3.14: '(' was never closed",
    ]


def test_sarif_format(cli_project):
    result = run("check", "--format", "sarif", cwd=cli_project)

    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["version"] == "2.1.0"
    (sarif_run,) = document["runs"]
    driver = sarif_run["tool"]["driver"]
    assert driver["name"] == "celerylint"
    assert [rule["id"] for rule in driver["rules"]] == [rule.code for rule in all_rules()]
    results = sarif_run["results"]
    assert [r["ruleId"] for r in results] == ["CEL001", "CEL001"]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "proj/broken.py"
    assert location["region"]["startLine"] == 1
    assert location["region"]["startColumn"] == 11
    assert results[0]["level"] == "error"
    assert results[0]["message"]["text"] == "syntax error for Python 3.14: '(' was never closed"


def test_statistics(cli_project):
    result = run("check", "--statistics", cwd=cli_project)

    assert result.returncode == 1
    assert lines(result.stdout) == REPORTED + ["2     CEL001 syntax-error"]


def test_rule_and_rules_commands(tmp_path):
    listed = run("rules", cwd=tmp_path)
    page = run("rule", "cel001", cwd=tmp_path)
    unknown = run("rule", "CEL999", cwd=tmp_path)

    assert listed.returncode == 0
    assert [line.split()[0] for line in lines(listed.stdout)] == [r.code for r in all_rules()]
    assert page.returncode == 0
    assert page.stdout.startswith("# CEL001: syntax-error\n")
    assert_one_line_error(unknown, "CEL999")


# ------------------------------------------------------------------ selection


@pytest.mark.parametrize("args, reported", [
    ([], True),
    (["--select", "CEL1"], False),
    (["--select", "CEL0"], True),
    (["--ignore", "CEL0"], False),
    (["--ignore", "CEL"], False),
    (["--extend-ignore", "CEL00"], False),
    (["--extend-ignore", "CEL1"], True),
    (["--select", "CEL1", "--extend-select", "CEL001"], True),
    (["--ignore", "CEL", "--extend-select", "CEL001"], True),  # the longer prefix wins
    (["--select", "CEL001", "--ignore", "CEL001"], False),  # a tie: ignore wins
    (["--ignore", "CEL0", "--select", "CEL001"], True),
])
def test_select_and_ignore_on_the_command_line(tmp_path, args, reported):
    make_project(tmp_path, {"a.py": BROKEN})

    result = run("check", *args, cwd=tmp_path)

    assert result.returncode == (1 if reported else 0), result.stderr
    assert ("a.py:1:11: CEL001" in result.stdout) is reported


def test_select_from_config_and_extend_from_the_command_line(tmp_path):
    make_project(tmp_path, {"a.py": BROKEN}, 'ignore = ["CEL0"]\n')

    assert run("check", cwd=tmp_path).returncode == 0
    assert run("check", "--extend-select", "CEL001", cwd=tmp_path).returncode == 1
    assert run("check", "--ignore", "CEL1", cwd=tmp_path).returncode == 1  # replaces the file's


# ------------------------------------------------------------------ suppression


def test_noqa_comments(cli_project):
    reported = {line.split(":")[0] for line in lines(run("check", cwd=cli_project).stdout)}

    assert "proj/noqa_all.py" not in reported  # bare noqa
    assert "proj/noqa_code.py" not in reported  # noqa: CEL001
    assert "proj/noqa_prefix.py" not in reported  # NOQA:CEL0 (a prefix, any case of noqa)
    assert "proj/noqa_other.py" in reported  # noqa for another code


def without_broken_proj(root: Path) -> Path:
    """The cli_project without the broken files outside legacy/ that would make every
    run that does not report them exit 2 (see test_broken_files_outside_the_paths...)."""
    for name in ("broken.py", "noqa_other.py"):
        (root / "proj" / name).unlink()
    return root


def test_per_file_ignores_from_pyproject(cli_project):
    without_broken_proj(cli_project)
    everywhere = run("check", "legacy", cwd=cli_project)
    explicit = run("check", "legacy/old.py", cwd=cli_project)

    assert (everywhere.returncode, everywhere.stdout, everywhere.stderr) == (0, "", "")
    assert (explicit.returncode, explicit.stdout, explicit.stderr) == (0, "", "")


def test_per_file_ignores_apply_from_a_subdirectory(cli_project):
    without_broken_proj(cli_project)
    result = run("check", cwd=cli_project / "legacy")

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_broken_files_outside_the_paths_are_named_and_exit_2(cli_project):
    """A file celerylint needs but cannot parse, outside the paths asked for (the
    pre-commit case), may hide findings in them: say so, exit 2.  Files whose CEL001 the
    user silenced (noqa, per-file-ignores) are known to be broken: no warning."""
    result = run("check", "proj/tasks.py", cwd=cli_project)

    assert (result.returncode, result.stdout) == (2, "")
    assert lines(result.stderr) == [
        f"celerylint: {name}: cannot analyse ('(' was never closed); "
        "findings that depend on it may be missing" for name in ("proj/broken.py", "proj/noqa_other.py")]


def test_extend_exclude_and_default_exclude(cli_project):
    without_broken_proj(cli_project)
    explicit_excluded = run("check", "generated/gen.py", "build/lib.py", cwd=cli_project)

    assert (explicit_excluded.returncode, explicit_excluded.stdout) == (0, "")
    reported = run("check", cwd=cli_project).stdout
    assert "generated/" not in reported and "build/" not in reported


def test_exclude_replaces_the_defaults(cli_project):
    pyproject = cli_project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(
        'extend-exclude = ["generated"]', 'exclude = ["generated", "legacy"]'), encoding="utf-8")

    result = run("check", cwd=cli_project)

    assert lines(result.stdout) == [f"build/lib.py:1:10: {SYNTAX_ERROR}"] + REPORTED


def test_config_option_points_at_another_pyproject(cli_project, tmp_path):
    other = tmp_path / "strict.toml"
    other.write_text('[tool.celerylint]\nignore = ["CEL001"]\n', encoding="utf-8")

    result = run("check", "--config", str(other), cwd=cli_project)

    assert (result.returncode, result.stdout) == (0, "")


# ------------------------------------------------------------------ paths


def test_paths_are_relative_to_a_subdirectory_cwd(cli_project):
    result = run("check", "--format", "json", cwd=cli_project / "proj")

    paths = [f["path"] for f in json.loads(result.stdout)]
    assert paths == ["broken.py", "noqa_other.py"]


def test_paths_outside_the_cwd(cli_project):
    (cli_project / "proj" / "noqa_other.py").unlink()
    result = run("check", "../proj/broken.py", cwd=cli_project / "legacy")

    assert result.returncode == 1
    (line,) = lines(result.stdout)
    assert line.endswith(f"proj/broken.py:1:11: {SYNTAX_ERROR}")


def test_a_file_given_twice_is_reported_once(cli_project):
    result = run("check", "proj/broken.py", "./proj/broken.py", "proj", cwd=cli_project)

    assert lines(result.stdout) == REPORTED


# ------------------------------------------------------------------ determinism


def test_output_is_byte_identical_across_runs_and_job_counts(tmp_path):
    files = {}
    for package in range(4):
        for number in range(10):
            name = f"pkg{package}/mod{number}.py"
            files[name] = BROKEN if (package + number) % 3 == 0 else f"VALUE_{number} = {number}\n"
        files[f"pkg{package}/__init__.py"] = ""
    files["pkg0/celeryapp.py"] = BEAT_EVERY_SECOND
    make_project(tmp_path, files)

    outputs = {}
    for fmt, job_counts in (("json", ("1", "1", "2", "4")), ("text", ("1", "4"))):
        for jobs in job_counts:
            result = run("check", "--format", fmt, "-j", jobs, cwd=tmp_path)
            assert result.returncode == 1 and result.stderr == ""
            outputs.setdefault(fmt, set()).add(result.stdout)
    assert all(len(variants) == 1 for variants in outputs.values())
    (text,) = outputs["text"]
    assert len([line for line in lines(text) if " CEL001 " in line]) == 14


# ------------------------------------------------------------------ CEL104


@needs_cel104
def test_beat_rule_through_the_cli(tmp_path):
    make_project(tmp_path, {"proj/__init__.py": "", "proj/celeryapp.py": BEAT_EVERY_SECOND})

    result = run("check", "--select", "CEL104", "--format", "json", cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)
    assert (finding["path"], finding["line"], finding["column"], finding["code"]) == (
        "proj/celeryapp.py", 4, 58, "CEL104")
    assert finding["name"] == "beat-interval-too-short"


@needs_cel104
@pytest.mark.parametrize("config, comment, reported", [
    ("", "", True),
    ("", "  # noqa: CEL104", False),
    ("", "  # noqa: CEL1", False),
    ("", "  # noqa: CEL001", True),
    ("min-beat-interval = 0.5\n", "", False),
    ('[tool.celerylint.per-file-ignores]\n"proj/*" = ["CEL10"]\n', "", False),
    ('ignore = ["CEL1"]\n', "", False),
])
def test_beat_rule_suppression_and_options(tmp_path, config, comment, reported):
    source = BEAT_EVERY_SECOND.rstrip() + comment + "\n"
    make_project(tmp_path, {"proj/__init__.py": "", "proj/celeryapp.py": source}, config)

    result = run("check", "--extend-ignore", "CEL107", cwd=tmp_path)

    assert ("proj/celeryapp.py:4:58: CEL104 " in result.stdout) is reported, result.stdout + result.stderr
    assert result.stderr == ""


@needs_cel104
def test_rule_option_of_the_wrong_type_is_an_error(tmp_path):
    make_project(tmp_path, {"a.py": "x = 1\n"}, 'min-beat-interval = "ten"\n')

    assert_one_line_error(run("check", cwd=tmp_path), "min-beat-interval")


@needs_cel104
def test_beat_rule_reads_settings_from_another_file_than_the_one_checked(tmp_path):
    """What pre-commit does: only the changed file is passed, the project view is whole."""
    make_project(tmp_path, {
        "proj/__init__.py": "",
        "proj/celeryapp.py": '''
            from celery import Celery

            app = Celery("proj")
            app.config_from_object("proj.celeryconfig")
        ''',
        "proj/celeryconfig.py": '''
            broker_url = "redis://localhost:6379/0"
            beat_schedule = {"x": {"task": "t", "schedule": 1.0}}
        ''',
        "proj/other.py": "x = 1\n",
    })

    on_config = run("check", "--select", "CEL104", "proj/celeryconfig.py", cwd=tmp_path)
    on_other = run("check", "--select", "CEL104", "proj/other.py", cwd=tmp_path)

    assert on_config.returncode == 1, on_config.stdout + on_config.stderr
    assert re.match(r"proj/celeryconfig\.py:2:\d+: CEL104 ", on_config.stdout)
    assert (on_other.returncode, on_other.stdout) == (0, "")


def test_python_m_never_imports_the_checked_project(tmp_path):
    """`python -m` puts the cwd on sys.path; a top-level celery.py there must not run."""
    make_project(tmp_path, {"celery.py": "open('IMPORTED', 'w').close()\nraise SystemExit(99)\n",
                            "tasks.py": "x = 1\n"})

    result = run("check", cwd=tmp_path)

    assert (result.returncode, result.stderr) == (0, "")
    assert not (tmp_path / "IMPORTED").exists()
