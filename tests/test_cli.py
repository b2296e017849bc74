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
    return subprocess.run(command + list(args), cwd=cwd, capture_output=True,
                          text=True, timeout=300)


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


@pytest.mark.slow
def test_clean_project_exits_0_and_prints_nothing(tmp_path):
    make_project(tmp_path, {"app.py": "from celery import Celery\n\napp = Celery('app')\n"})

    result = run("check", cwd=tmp_path)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_findings_exit_1_in_text_format(cli_project):
    result = run("check", cwd=cli_project)

    assert result.returncode == 1, result.stderr
    assert lines(result.stdout) == REPORTED
    assert result.stderr == ""


@pytest.mark.slow
def test_console_script_and_module_give_the_same_output(cli_project):
    by_module = run("check", cwd=cli_project)
    by_script = run("check", cwd=cli_project, script=True)

    assert (by_script.returncode, by_script.stdout) == (by_module.returncode, by_module.stdout)


@pytest.mark.slow
def test_no_paths_means_the_current_directory(cli_project):
    assert run("check", cwd=cli_project).stdout == run("check", ".", cwd=cli_project).stdout


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_github_format(cli_project):
    result = run("check", "--format", "github", cwd=cli_project)

    assert result.returncode == 1
    assert lines(result.stdout) == [
        "::error title=CEL001 syntax-error,file=proj/broken.py,line=1,col=11,endLine=1,endColumn=11"
        "::CEL001 syntax error for Python 3.14: '(' was never closed",
        "::error title=CEL001 "
        "syntax-error,file=proj/noqa_other.py,line=1,col=11,endLine=1,endColumn=11"
        "::CEL001 syntax error for Python 3.14: '(' was never closed",
    ]


@pytest.mark.slow
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
    assert lines(result.stdout) == [*REPORTED, "2     CEL001 syntax-error"]


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


@pytest.mark.slow
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
    assert "proj/noqa_code.py" not in reported  # its noqa names CEL001
    assert "proj/noqa_prefix.py" not in reported  # "NOQA:CEL0": a prefix, any case of noqa
    assert "proj/noqa_other.py" in reported  # its noqa names another code


def without_broken_proj(root: Path) -> Path:
    """The cli_project without the broken files outside legacy/ that would make every
    run that does not report them exit 2 (see test_broken_files_outside_the_paths...)."""
    for name in ("broken.py", "noqa_other.py"):
        (root / "proj" / name).unlink()
    return root


@pytest.mark.slow
def test_per_file_ignores_from_pyproject(cli_project):
    without_broken_proj(cli_project)
    everywhere = run("check", "legacy", cwd=cli_project)
    explicit = run("check", "legacy/old.py", cwd=cli_project)

    assert (everywhere.returncode, everywhere.stdout, everywhere.stderr) == (0, "", "")
    assert (explicit.returncode, explicit.stdout, explicit.stderr) == (0, "", "")


@pytest.mark.slow
def test_per_file_ignores_apply_from_a_subdirectory(cli_project):
    without_broken_proj(cli_project)
    result = run("check", cwd=cli_project / "legacy")

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.slow
def test_broken_files_outside_the_paths_are_named_and_exit_2(cli_project):
    """A file celerylint needs but cannot parse, outside the paths asked for (the
    pre-commit case), may hide findings in them: say so, exit 2.  Files whose CEL001 the
    user silenced (noqa, per-file-ignores) are known to be broken: no warning."""
    result = run("check", "proj/tasks.py", cwd=cli_project)

    assert (result.returncode, result.stdout) == (2, "")
    assert lines(result.stderr) == [
        f"celerylint: {name}: cannot analyse ('(' was never closed); "
        "findings that depend on it may be missing"
        for name in ("proj/broken.py", "proj/noqa_other.py")
    ]


@pytest.mark.slow
def test_extend_exclude_and_default_exclude(cli_project):
    (cli_project / "generated" / "gen.py").write_text(BROKEN, encoding="utf-8")
    reported = run("check", cwd=cli_project).stdout
    assert "generated/" not in reported and "build/" not in reported

    explicit = run("check", "generated/gen.py", "build/lib.py", cwd=cli_project)
    # explicit paths are always checked; proj/'s broken files, outside them, are named on stderr
    assert explicit.returncode == 2 and "proj/broken.py: cannot analyse" in explicit.stderr
    assert lines(explicit.stdout) == [f"build/lib.py:1:10: {SYNTAX_ERROR}",
                                      f"generated/gen.py:1:11: {SYNTAX_ERROR}"]
    assert run("check", "build", cwd=cli_project).stdout == lines(explicit.stdout)[0] + "\n"

    forced = run("check", "--force-exclude", "generated/gen.py", "build", "proj/broken.py",
                 cwd=cli_project)
    assert lines(forced.stdout) == [REPORTED[0]]


@pytest.mark.slow
def test_exclude_replaces_the_defaults(cli_project):
    pyproject = cli_project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(
        'extend-exclude = ["generated"]', 'exclude = ["generated", "legacy"]'), encoding="utf-8")

    result = run("check", cwd=cli_project)

    assert lines(result.stdout) == [f"build/lib.py:1:10: {SYNTAX_ERROR}", *REPORTED]


@pytest.mark.slow
def test_config_option_points_at_another_pyproject(cli_project, tmp_path):
    other = tmp_path / "strict.toml"
    other.write_text('[tool.celerylint]\nignore = ["CEL001"]\n', encoding="utf-8")

    result = run("check", "--config", str(other), cwd=cli_project)

    assert (result.returncode, result.stdout) == (0, "")


# ------------------------------------------------------------------ paths


@pytest.mark.slow
def test_paths_are_relative_to_a_subdirectory_cwd(cli_project):
    result = run("check", "--format", "json", cwd=cli_project / "proj")

    paths = [f["path"] for f in json.loads(result.stdout)]
    assert paths == ["broken.py", "noqa_other.py"]


@pytest.mark.slow
def test_paths_outside_the_cwd(cli_project):
    (cli_project / "proj" / "noqa_other.py").unlink()
    result = run("check", "../proj/broken.py", cwd=cli_project / "legacy")
    absolute = run("check", str(cli_project / "proj" / "broken.py"), cwd=cli_project / "legacy")

    assert result.returncode == 1
    assert lines(result.stdout) == [f"../proj/broken.py:1:11: {SYNTAX_ERROR}"]
    assert absolute.stdout == result.stdout  # relative to the current directory, however given


@pytest.mark.slow
def test_a_file_given_twice_is_reported_once(cli_project):
    result = run("check", "proj/broken.py", "./proj/broken.py", "proj", cwd=cli_project)

    assert lines(result.stdout) == REPORTED


# ------------------------------------------------------------------ determinism


@pytest.mark.slow
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


@pytest.mark.slow
@needs_cel104
def test_beat_rule_through_the_cli(tmp_path):
    make_project(tmp_path, {"proj/__init__.py": "", "proj/celeryapp.py": BEAT_EVERY_SECOND})

    result = run("check", "--select", "CEL104", "--format", "json", cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)
    assert (finding["path"], finding["line"], finding["column"], finding["code"]) == (
        "proj/celeryapp.py", 4, 58, "CEL104")
    assert finding["name"] == "beat-interval-too-short"


@pytest.mark.slow
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

    assert ("proj/celeryapp.py:4:58: CEL104 " in result.stdout) is reported, (
        result.stdout + result.stderr
    )
    assert result.stderr == ""


@needs_cel104
def test_rule_option_of_the_wrong_type_is_an_error(tmp_path):
    make_project(tmp_path, {"a.py": "x = 1\n"}, 'min-beat-interval = "ten"\n')

    assert_one_line_error(run("check", cwd=tmp_path), "min-beat-interval")


@pytest.mark.slow
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


@pytest.mark.slow
def test_python_m_never_imports_the_checked_project(tmp_path):
    """`python -m` puts the cwd on sys.path; a top-level celery.py there must not run."""
    make_project(tmp_path, {"celery.py": "open('IMPORTED', 'w').close()\nraise SystemExit(99)\n",
                            "tasks.py": "x = 1\n"})

    result = run("check", cwd=tmp_path)

    assert (result.returncode, result.stderr) == (0, "")
    assert not (tmp_path / "IMPORTED").exists()


# ------------------------------------------------------------------ project roots

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"


def relative_findings(result: subprocess.CompletedProcess, prefix: str) -> List[str]:
    assert "Traceback" not in result.stderr
    found = []
    for line in lines(result.stdout):
        assert line.startswith(prefix), (line, prefix)
        found.append(line[len(prefix):])
    return found


@pytest.mark.slow
def test_same_findings_from_any_working_directory(tmp_path):
    """Root, configuration and module names come from the files, not the cwd."""
    project = tmp_path / "work" / "demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".celerylint_cache"))
    (project / "shop" / "broken.py").write_text(BROKEN, encoding="utf-8")
    unrelated = tmp_path / "elsewhere"
    make_project(unrelated, {"other.py": "x = 1\n"}, 'select = ["CEL001"]\n')

    from_project = run("check", "--no-cache", cwd=project)
    from_parent = run("check", "--no-cache", "demo", cwd=project.parent)
    from_unrelated = run("check", "--no-cache", "../work/demo", cwd=unrelated)
    from_absolute = run("check", "--no-cache", str(project), cwd=unrelated)

    expected = relative_findings(from_project, "")
    assert len(expected) >= 11 and any("CEL001" in line for line in expected)
    assert any("'shop.tasks.send_receipt'" in line for line in expected)  # module names
    assert relative_findings(from_parent, "demo/") == expected
    assert relative_findings(from_unrelated, "../work/demo/") == expected
    assert from_absolute.stdout == from_unrelated.stdout
    assert {r.returncode for r in (from_project, from_parent, from_unrelated, from_absolute)} == {1}


def test_the_demo_from_the_repository_root_gives_the_readme_findings():
    readme = (DEMO.parent.parent / "README.md").read_text(encoding="utf-8")
    transcript = re.search(r"```text\n\$ celerylint check\n(.*?)```", readme, re.S).group(1)

    result = run("check", "--no-cache", "examples/demo", cwd=DEMO.parent.parent)

    assert result.returncode == 1, result.stderr
    assert relative_findings(result, "examples/demo/") == lines(transcript)


def test_paths_of_several_projects_each_with_its_own_configuration(tmp_path):
    make_project(tmp_path / "one", {"a.py": BROKEN, "proj/celeryapp.py": BEAT_EVERY_SECOND},
                 'select = ["CEL001"]\n')
    make_project(tmp_path / "two", {"b.py": BROKEN, "proj/celeryapp.py": BEAT_EVERY_SECOND},
                 'ignore = ["CEL001"]\n')

    result = run("check", "two", "one/a.py", "one/proj", cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    reported = lines(result.stdout)
    assert reported == sorted(reported)
    assert reported[0] == f"one/a.py:1:11: {SYNTAX_ERROR}"
    assert not any(line.startswith("two/b.py") for line in reported)  # two ignores CEL001
    assert any(line.startswith("two/proj/celeryapp.py:4:58: CEL104") for line in reported)
    assert not any(line.startswith("one/proj/") for line in reported)  # one selects CEL001

    other = tmp_path / "shared.toml"
    other.write_text('[tool.celerylint]\nselect = ["CEL104"]\n', encoding="utf-8")
    shared = lines(run("check", "--config", str(other), "two", "one", cwd=tmp_path).stdout)
    assert [line.split(":")[0] for line in shared] == ["one/proj/celeryapp.py",
                                                        "two/proj/celeryapp.py"]


@pytest.mark.slow
def test_a_nested_project_is_checked_with_its_own_configuration(tmp_path):
    make_project(tmp_path, {"a.py": BROKEN, "services/billing/b.py": BROKEN,
                            "services/c.py": BROKEN}, 'select = ["CEL001"]\n')
    make_project(tmp_path / "services" / "billing", {}, 'ignore = ["CEL001"]\n')

    result = run("check", cwd=tmp_path)

    assert [line.split(":")[0] for line in lines(result.stdout)] == ["a.py", "services/c.py"]
    shown = run("check", "--show-files", cwd=tmp_path)
    assert lines(shown.stdout) == ["a.py", "services/billing/b.py", "services/c.py"]


@pytest.mark.slow
def test_without_a_project_the_given_paths_are_the_project(tmp_path):
    loose = tmp_path / "loose"
    write_tree(loose, {"celeryapp.py": BEAT_EVERY_SECOND.replace("1.0", "2.0"),
                       "other.py": BROKEN, "deeper/more.py": BROKEN})
    from celerylint.config import find_root
    if find_root(loose).found:
        pytest.skip("a pyproject.toml or a work tree lies above the temporary directory")

    whole = run("check", "--select", "CEL001,CEL104", cwd=loose)
    one_file = run("check", "--select", "CEL001,CEL104", "other.py", cwd=loose)

    assert [line.split(":")[0] for line in lines(whole.stdout)] == [
        "celeryapp.py", "deeper/more.py", "other.py"]
    assert lines(one_file.stdout) == [f"other.py:1:11: {SYNTAX_ERROR}"]
    assert not (loose / ".celerylint_cache").exists()  # no project: no cache
    assert not (tmp_path / ".celerylint_cache").exists()

    named = run("check", "--cache-dir", str(tmp_path / "cache"), cwd=loose)
    assert named.stdout == run("check", cwd=loose).stdout
    assert (tmp_path / "cache" / "CACHEDIR.TAG").is_file()


@pytest.mark.slow
def test_git_work_tree_without_pyproject_is_a_project(tmp_path):
    repo = tmp_path / "repo"
    write_tree(repo, {"proj/__init__.py": "", "proj/celeryapp.py": '''
        from celery import Celery

        app = Celery("proj")
        app.config_from_object("proj.celeryconfig")
    ''', "proj/celeryconfig.py": 'beat_schedule = {"x": {"task": "t", "schedule": 1.0}}\n'})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)

    for cwd, prefix in ((repo, ""), (repo / "proj", ""), (tmp_path, "repo/")):
        given = "celeryconfig.py" if cwd.name == "proj" else prefix + "proj/celeryconfig.py"
        result = run("check", "--select", "CEL104", given, cwd=cwd)
        assert result.returncode == 1, (cwd, result.stdout, result.stderr)
    assert (repo / ".celerylint_cache" / "CACHEDIR.TAG").is_file()


@pytest.mark.slow
def test_gitignore_is_respected_by_default(tmp_path):
    repo = tmp_path / "repo"
    make_project(repo, {"a.py": BROKEN, "out/gen.py": BROKEN, "tmp_x.py": BROKEN,
                        ".gitignore": "out/\ntmp_*.py\n"})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)

    assert lines(run("check", "--show-files", cwd=repo).stdout) == ["a.py"]
    assert lines(run("check", "--show-files", "out", "tmp_x.py", cwd=repo).stdout) == [
        "out/gen.py", "tmp_x.py"]  # given explicitly
    (repo / "pyproject.toml").write_text("[tool.celerylint]\nrespect-gitignore = false\n",
                                         encoding="utf-8")
    assert lines(run("check", "--show-files", cwd=repo).stdout) == ["a.py", "out/gen.py",
                                                                     "tmp_x.py"]
    # outside a git work tree a .gitignore is only a file
    shutil.rmtree(repo / ".git")
    (repo / "pyproject.toml").write_text("[tool.celerylint]\n", encoding="utf-8")
    assert len(lines(run("check", "--show-files", cwd=repo).stdout)) == 3


@pytest.mark.slow
def test_show_files_lists_what_would_be_checked(cli_project):
    result = run("check", "--show-files", cwd=cli_project)

    assert result.returncode == 0 and result.stderr == ""
    assert lines(result.stdout) == ["legacy/old.py", "proj/__init__.py", "proj/broken.py",
                                    "proj/celeryapp.py", "proj/noqa_all.py", "proj/noqa_code.py",
                                    "proj/noqa_other.py", "proj/noqa_prefix.py", "proj/tasks.py"]
    assert not (cli_project / ".celerylint_cache").exists()
    missing = run("check", "--show-files", "proj/tasks.py", "gone.py", cwd=cli_project)
    assert (missing.returncode, lines(missing.stdout)) == (2, ["proj/tasks.py"])
    assert "gone.py" in missing.stderr


# ------------------------------------------------------------------ the cache

def test_clean_removes_the_cache_of_the_project(cli_project):
    cache = cli_project / ".celerylint_cache"
    run("check", cwd=cli_project)
    assert cache.is_dir()

    result = run("clean", cwd=cli_project / "proj")

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not cache.exists()
    assert run("clean", cwd=cli_project).returncode == 0  # nothing to remove


@pytest.mark.slow
def test_clean_never_removes_a_directory_it_did_not_make(cli_project, tmp_path):
    mine = tmp_path / "mine"
    write_tree(mine, {"notes.txt": "keep me\n"})

    check = run("check", "--cache-dir", str(mine), cwd=cli_project)
    clean = run("clean", "--cache-dir", str(mine), cwd=cli_project)

    assert check.returncode == 1 and "not using the cache" in check.stderr
    assert lines(check.stdout) == REPORTED
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert_one_line_error(clean, str(mine), "not a celerylint cache")
    assert (mine / "notes.txt").is_file()


@pytest.mark.slow
def test_cache_dir_option_and_environment(cli_project, tmp_path):
    import os

    by_option = tmp_path / "by-option"
    by_env = tmp_path / "by-env"
    run("check", "--cache-dir", str(by_option), cwd=cli_project)
    env = dict(os.environ, CELERYLINT_CACHE_DIR=str(by_env))
    done = subprocess.run([sys.executable, "-m", "celerylint", "check"], cwd=cli_project, env=env,
                          capture_output=True, text=True)

    assert lines(done.stdout) == REPORTED
    assert list(by_option.glob("*.json")) and list(by_env.glob("*.json"))
    assert not (cli_project / ".celerylint_cache").exists()
    subprocess.run([sys.executable, "-m", "celerylint", "clean"], cwd=cli_project, env=env,
                   check=True)
    assert not by_env.exists() and by_option.exists()


@pytest.mark.slow
def test_the_cache_is_never_written_through_a_symlink(cli_project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (cli_project / ".celerylint_cache").symlink_to(outside, target_is_directory=True)

    result = run("check", cwd=cli_project)

    assert lines(result.stdout) == REPORTED
    assert "not using the cache" in result.stderr and "symbolic link" in result.stderr
    assert list(outside.iterdir()) == []


@pytest.mark.slow
def test_a_symlinked_directory_is_checked_within_the_project_seen(tmp_path):
    """The project is the one the path lies in as named, not the symlink's target's."""
    project = make_project(tmp_path / "proj", {"app.py": "x = 1\n"})
    target = tmp_path / "vendored"
    write_tree(target, {"lib.py": BROKEN})
    (project / "vendor").symlink_to(target, target_is_directory=True)

    result = run("check", "vendor", cwd=project)

    assert lines(result.stdout) == [f"vendor/lib.py:1:11: {SYNTAX_ERROR}"]
    assert (project / ".celerylint_cache").is_dir()
    assert sorted(p.name for p in target.iterdir()) == ["lib.py"]


# ------------------------------------------------------------------ usage and output


@pytest.mark.parametrize("args, needle", [
    (["--select", "CEL999"], "CEL999"),
    (["--select", "FOO"], "FOO"),
    (["--extend-ignore", "CEL0,CEL9"], "CEL9"),
    (["--target-version", "5.3\n"], "5.3\\n"),
    (["--target-version", "\u0665.\u0663"], "--target-version"),
    (["--jobs", "\u0664"], "--jobs"),
    (["--jobs", "many"], "--jobs"),
])
def test_bad_values_are_one_line_errors(tmp_path, args, needle):
    make_project(tmp_path, {"a.py": "x = 1\n"})

    assert_one_line_error(run("check", *args, cwd=tmp_path), needle)


@pytest.mark.parametrize("config, needle", [
    ('select = ["CEL999"]\n', "CEL999"),
    ('per-file-ignores = { "a.py" = ["FOO"] }\n', "FOO"),
    ("min-beat-interval = -5\n", "min-beat-interval"),
    ('target-version = "' + "5" * 5000 + '.0"\n', "target-version"),
    ("select = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ("max-argument-bytes = " + "9" * 5000 + "\n", "too many digits"),
])
def test_bad_configuration_values_are_one_line_errors(tmp_path, config, needle):
    make_project(tmp_path, {"a.py": "x = 1\n"}, config)

    result = run("check", cwd=tmp_path)

    assert_one_line_error(result, needle, "pyproject.toml")
    assert len(result.stderr) < 400


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_statistics_never_corrupt_a_machine_readable_format(cli_project, fmt):
    plain = run("check", "--format", fmt, cwd=cli_project)
    result = run("check", "--format", fmt, "--statistics", cwd=cli_project)

    assert result.stdout == plain.stdout
    if fmt != "github":
        json.loads(result.stdout)
    assert result.stderr == "celerylint: statistics: 2     CEL001 syntax-error\n"


@pytest.mark.slow
def test_non_ascii_file_name_with_an_ascii_output_encoding(tmp_path):
    import os

    make_project(tmp_path, {"caf\u00e9.py": BROKEN})
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    done = subprocess.run([sys.executable, "-m", "celerylint", "check"], cwd=tmp_path, env=env,
                          capture_output=True)

    assert done.returncode == 1, done.stderr
    assert done.stdout == f"caf\\xe9.py:1:11: {SYNTAX_ERROR}\n".encode("ascii")
    assert done.stderr == b""


def run_raw(cwd: Path, shell_command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", "-c", shell_command], cwd=cwd, capture_output=True,
                          text=True, timeout=300,
                          env=dict(__import__("os").environ, PYEXE=sys.executable))


@pytest.mark.slow
def test_stdout_to_a_full_disk(cli_project):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    result = run_raw(cli_project, '"$PYEXE" -m celerylint check > /dev/full')
    assert_one_line_error(result, "cannot write the output", "No space left")


@pytest.mark.slow
def test_stdout_closed(cli_project):
    result = run_raw(cli_project, '"$PYEXE" -m celerylint check >&-')
    assert_one_line_error(result, "standard output is closed")
    without_broken_proj(cli_project)  # else they are named on stderr (outside the path)
    quiet = run_raw(cli_project, '"$PYEXE" -m celerylint check proj/tasks.py >&-')
    assert (quiet.returncode, quiet.stderr) == (0, "")  # nothing to write: no error


@pytest.mark.slow
def test_a_reader_that_stops_early_ends_the_run_quietly(tmp_path):
    make_project(tmp_path, {f"m{number}.py": BROKEN for number in range(3000)})
    result = run_raw(
        tmp_path, '( "$PYEXE" -m celerylint check -j 1; echo "rc=$?" >&2 ) | head -n 1'
    )
    assert lines(result.stdout) == [f"m0.py:1:11: {SYNTAX_ERROR}"]
    assert result.stderr == "rc=2\n"  # quiet, and not a clean exit: the output was cut


@pytest.mark.parametrize("command", ["check", "clean"])
def test_a_removed_working_directory(tmp_path, command):
    gone = tmp_path / "gone"
    gone.mkdir()
    result = run_raw(gone, f'rmdir "{gone}" && "$PYEXE" -m celerylint {command}')
    assert_one_line_error(result, "current directory")


def test_a_large_walk_is_noted_on_stderr(tmp_path, monkeypatch, capsys):
    import celerylint.files as files_module
    from celerylint.cli import main

    make_project(tmp_path, {f"pkg/m{number}.py": "x = 1\n" for number in range(30)})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(files_module, "LARGE_WALK_ENTRIES", 20)

    assert main(["check", "--no-cache", "-j", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("celerylint: note: . holds more than 20 files and directories to look "
                            "through; pass the paths to check, or exclude directories "
                            "(extend-exclude)\n")
