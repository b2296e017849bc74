"""The flake8 plugin, driven through real flake8 (a subprocess unless the test needs one
long-lived process, as editors run it).

The fixture project (tests/fixtures/flake8_project) has an app with a beat schedule
(proj/celery.py), a settings module with a result backend (proj/settings.py), tasks
(proj/tasks.py) and a view discarding one task's result (proj/views.py).  Its
[tool.celerylint] sets min-beat-interval = 5 and ignore = ["CEL104"]: the option must
apply under flake8, the ignore must not (flake8 selects).  Other rules may also fire on
it, so assertions name the codes they are about or compare with the runner.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional, Set, Tuple

import pytest

from celerylint import flake8_plugin
from celerylint.flake8_plugin import CeleryLintPlugin, clear_memo, mentions_celery

FIXTURE = Path(__file__).parent / "fixtures" / "flake8_project"
LINE_RE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<message>.*)$")

Row = Tuple[str, int, int, str]


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "flake8_project"
    shutil.copytree(FIXTURE, root)
    return root


def flake8(cwd: Path, *args: str, stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8", "--isolated", *args], cwd=cwd,
                          input=stdin, capture_output=True, text=True, encoding="utf-8")


def rows(output: str, code: str = "") -> Set[Row]:
    found = set()
    for line in output.splitlines():
        match = LINE_RE.match(line)
        assert match, f"not a flake8 line: {line!r}"
        path = match.group("path")
        path = path[2:] if path.startswith("./") else path
        if match.group("code").startswith(code):
            found.add((path, int(match.group("line")), int(match.group("col")),
                       match.group("code")))
    return found


def runner_rows(cwd: Path, *paths: str) -> Set[Row]:
    """`celerylint check --format json`, with the fixture's ignore lifted (flake8 selects)."""
    done = subprocess.run([sys.executable, "-m", "celerylint", "check", "--format", "json",
                           "--ignore=", "-j1", *paths], cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8")
    assert done.returncode in (0, 1), done.stderr
    return {(d["path"], d["line"], d["column"], d["code"]) for d in json.loads(done.stdout)}


def test_file_mode_reports_code_at_line_and_character_column(proj):
    done = flake8(proj, "--select", "CEL", "proj/celery.py")
    assert done.returncode == 1, done.stderr
    # Line 8 fires at the schedule value; the key before it holds a non-ASCII character
    # and the column still counts characters.  Line 9 (6 s) passes min-beat-interval = 5
    # from [tool.celerylint]; line 10 carries a noqa comment for CEL104; celerylint's own
    # `ignore = ["CEL104"]` does not apply under flake8.
    assert rows(done.stdout, "CEL104") == {("proj/celery.py", 8, 62, "CEL104")}
    line = (proj / "proj/celery.py").read_text(encoding="utf-8").splitlines()[7]
    assert line[61:].startswith("1.0")
    assert "beat entry \"rafraîchir\" runs every 1 second" in done.stdout


@pytest.mark.slow
def test_noqa_is_flake8s(proj):
    done = flake8(proj, "--select", "CEL104", "--disable-noqa", "proj/celery.py")
    assert {row[1] for row in rows(done.stdout)} == {8, 10}


@pytest.mark.slow
def test_flake8_selection_applies(proj):
    done = flake8(proj, "--select", "CEL", "--extend-ignore", "CEL104", "proj/celery.py")
    assert rows(done.stdout, "CEL104") == set()


def test_cross_file_finding_when_only_tasks_is_checked(proj):
    done = flake8(proj, "--select", "CEL", "proj/tasks.py")
    # The result backend is set in settings.py and the result discarded in views.py.
    assert rows(done.stdout, "CEL102") == {("proj/tasks.py", 5, 5, "CEL102")}
    assert "'proj.tasks.add'" in done.stdout


def test_stdin_lints_the_unsaved_text_not_the_file(proj):
    on_disk = (proj / "proj/tasks.py").read_text(encoding="utf-8")
    moved = "# two lines added\n# in the editor\n" + on_disk
    done = flake8(proj, "--select", "CEL", "-", "--stdin-display-name", "proj/tasks.py",
                  stdin=moved)
    assert rows(done.stdout, "CEL102") == {("proj/tasks.py", 7, 5, "CEL102")}

    fixed = on_disk.replace("@app.task\ndef add", "@app.task(ignore_result=True)\ndef add")
    assert fixed != on_disk
    done = flake8(proj, "--select", "CEL", "-", "--stdin-display-name", "proj/tasks.py",
                  stdin=fixed)
    assert rows(done.stdout, "CEL102") == set()
    assert (proj / "proj/tasks.py").read_text(encoding="utf-8") == on_disk


@pytest.mark.slow
def test_stdin_buffer_of_a_new_file(proj):
    text = ("from celery import Celery\n\napp = Celery('extra')\n"
            "app.conf.beat_schedule = {'x': {'task': 't', 'schedule': 1.0}}\n")
    done = flake8(proj, "--select", "CEL104", "-", "--stdin-display-name", "proj/unsaved.py",
                  stdin=text)
    assert rows(done.stdout) == {("proj/unsaved.py", 4, 58, "CEL104")}


@pytest.mark.slow
def test_same_findings_as_the_runner(proj):
    flake8_rows = rows(flake8(proj, "--select", "CEL", ".").stdout)
    assert flake8_rows == runner_rows(proj)
    assert {row[3] for row in flake8_rows} >= {"CEL102", "CEL104"}
    for name in ("celery", "settings", "tasks", "views"):
        path = f"proj/{name}.py"
        one = rows(flake8(proj, "--select", "CEL", path).stdout)
        assert one == {row for row in flake8_rows if row[0] == path}


@pytest.mark.slow
def test_paths_from_another_directory(proj):
    absolute = proj / "proj" / "tasks.py"
    done = flake8(proj.parent, "--select", "CEL", str(absolute))
    assert rows(done.stdout, "CEL102") == {(str(absolute), 5, 5, "CEL102")}
    # `python -m flake8` inside the package puts proj/ (holding celery.py) first on
    # sys.path: the plugin imports nothing the project's modules could shadow.
    done = flake8(proj / "proj", "--select", "CEL", "tasks.py")
    assert rows(done.stdout) == {("tasks.py", 5, 5, "CEL102")}, done.stdout


@pytest.mark.slow
def test_project_without_pyproject_is_rooted_at_its_work_tree(proj, tmp_path):
    (proj / "pyproject.toml").unlink()
    subprocess.run(["git", "init", "-q", str(proj)], check=True)
    done = flake8(proj, "--select", "CEL102", "proj/tasks.py")
    # Rooted at proj/proj instead, "proj.settings" and "proj.tasks" would not resolve.
    assert rows(done.stdout) == {("proj/tasks.py", 5, 5, "CEL102")}
    assert rows(done.stdout) == {row for row in runner_rows(proj) if row[3] == "CEL102"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    absolute = proj / "proj" / "tasks.py"
    done = flake8(elsewhere, "--select", "CEL102", str(absolute))
    assert rows(done.stdout) == {(str(absolute), 5, 5, "CEL102")}


@pytest.mark.slow
def test_the_root_comes_from_the_file_not_the_current_directory(proj, tmp_path):
    """flake8 run from an unrelated project with its own [tool.celerylint] uses the
    checked file's project, as `celerylint check` does."""
    unrelated = tmp_path / "unrelated"
    unrelated.mkdir()
    (unrelated / "pyproject.toml").write_text("[tool.celerylint]\nmin-beat-interval = 0.5\n",
                                              encoding="utf-8")
    relative = os.path.relpath(proj / "proj" / "celery.py", unrelated)
    done = flake8(unrelated, "--select", "CEL", relative)
    from_unrelated = rows(done.stdout)
    assert ("../flake8_project/proj/celery.py", 8, 62, "CEL104") in from_unrelated
    assert from_unrelated == runner_rows(unrelated, relative)
    in_project = rows(flake8(proj, "--select", "CEL", "proj/celery.py").stdout)
    assert {(row[0].replace("../flake8_project/", ""), *row[1:]) for row in from_unrelated} == \
        in_project


@pytest.mark.slow
def test_the_cache_stays_in_the_project_seen_through_a_symlink(proj, tmp_path):
    """A directory symlinked into the project: its files belong to the project the user
    sees, and the cache is written there, never into the symlink's target."""
    target = tmp_path / "shared-code"
    target.mkdir()
    (target / "jobs.py").write_text("from proj.celery import app\n\n\n@app.task\ndef job():\n"
                                    "    return 1\n", encoding="utf-8")
    (proj / "proj" / "shared").symlink_to(target, target_is_directory=True)
    done = flake8(proj, "--select", "CEL", "proj/shared/jobs.py")
    assert "Traceback" not in done.stderr and "CEL000" not in done.stdout, done.stdout + done.stderr
    assert sorted(p.name for p in target.iterdir()) == ["jobs.py"]
    assert (proj / ".celerylint_cache" / "CACHEDIR.TAG").is_file()


@pytest.mark.slow
def test_a_file_outside_any_project_is_checked_on_its_own_without_a_cache(tmp_path):
    from celerylint.config import find_root

    loose = tmp_path / "loose"
    loose.mkdir()
    if find_root(loose).found:
        pytest.skip("a pyproject.toml or a work tree lies above the temporary directory")
    (loose / "beat.py").write_text(
        "from celery import Celery\n\napp = Celery('x')\n"
        "app.conf.beat_schedule = {'x': {'task': 't', 'schedule': 1.0}}\n", encoding="utf-8")
    done = flake8(tmp_path, "--select", "CEL104", "loose/beat.py")
    assert rows(done.stdout) == {("loose/beat.py", 4, 58, "CEL104")}
    assert not (loose / ".celerylint_cache").exists()
    assert not (tmp_path / ".celerylint_cache").exists()


def test_non_celery_file_yields_nothing_without_reading_the_project(proj):
    # A broken config would give CEL000 if the project were built: it is not.
    (proj / "pyproject.toml").write_text("[tool.celerylint]\nunknown-key = 1\n", encoding="utf-8")
    done = flake8(proj, "--select", "CEL", "proj/plain.py")
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""


def test_mentions_celery():
    assert not mentions_celery((FIXTURE / "proj/plain.py").read_text(encoding="utf-8"))
    assert not mentions_celery("import os\n\nresult = os.getcwd()\n")
    for text in ("from celery import shared_task\n", "CELERY_BROKER_URL = 'redis://'\n",
                 "broker_url = 'amqp://'\n", "result_backend = 'redis://'\n",
                 "task_acks_late = True\n", "timezone = 'UTC'\n", "accept_content = ['json']\n",
                 "worker_prefetch_multiplier = 1\n", "event_queue_ttl = None\n",
                 "job.s(1)\n", "job.si ( 1 )\n", "job.delay(1)\n",
                 "class Sync(BaseJob):\n    def run(self):\n        pass\n"):
        assert mentions_celery(text), text
    for path in (FIXTURE / "proj").glob("*.py"):
        if path.name not in ("plain.py", "__init__.py"):
            assert mentions_celery(path.read_text(encoding="utf-8")), path


def test_every_celery_setting_name_passes_the_cheap_exit():
    from celerylint.settings import celery_like
    from celerylint.tables import tables

    # Every name of every supported release, but Celery 3.1's ADMINS, SERVER_EMAIL and
    # EMAIL_*: dropped in 4.0 and prefixed by nothing Celery's, they look like a Celery
    # setting to no later release, and Celery 3.1 reads them, so no rule reports them.
    names = {name for table in tables() for name in list(table.new_keys) + list(table.old_to_new)
             if table.lowercase_names or any(celery_like(name, None, later) for later in tables()
                                             if later.lowercase_names)}
    assert "task_acks_late" in names and "CELERYD_AUTORELOADER" in names
    for name in sorted(names):
        assert mentions_celery(f"{name} = 1\n"), name
        assert mentions_celery(f"CELERY_{name.upper()} = 1\n"), name


def test_broken_config_is_one_cel000_per_file_and_flake8_goes_on(proj):
    (proj / "pyproject.toml").write_text("[tool.celerylint]\nmin-beat-intervl = 5\n",
                                         encoding="utf-8")
    (proj / "proj/views.py").write_text(
        (proj / "proj/views.py").read_text(encoding="utf-8") + "import os\n", encoding="utf-8")
    done = flake8(proj, "--select", "CEL,F", "proj")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    cel = rows(done.stdout, "CEL")
    assert cel == {(f"proj/{name}.py", 1, 1, "CEL000")
                   for name in ("celery", "settings", "tasks", "views")}
    assert "CEL000 celerylint could not check this file: pyproject.toml: [tool.celerylint] " \
           "unknown key 'min-beat-intervl', did you mean 'min-beat-interval'?" in done.stdout
    assert ("proj/views.py", 9, 1, "F401") in rows(done.stdout, "F")


def test_unparsable_file_is_flake8s_e999_and_no_plugin_runs(proj):
    (proj / "proj/broken.py").write_text("from celery import shared_task\ndef f(:\n    pass\n",
                                         encoding="utf-8")
    done = flake8(proj, "--select", "CEL,E999", "proj/broken.py")
    assert [(row[1], row[3]) for row in rows(done.stdout)] == [(2, "E999")]


@pytest.mark.slow
def test_parallel_jobs_give_the_same_output(proj):
    serial = flake8(proj, "--select", "CEL", "-j1", ".")
    parallel = flake8(proj, "--select", "CEL", "-j2", ".")
    assert parallel.returncode == serial.returncode == 1
    assert parallel.stdout == serial.stdout and rows(serial.stdout)


def test_long_lived_process_sees_changes_on_disk(proj, monkeypatch, capsys):
    """One flake8 process checking again and again, as an editor integration does."""
    from flake8.api import legacy
    from flake8.main.options import JobsArgument

    monkeypatch.chdir(proj)
    clear_memo()

    def cel102(*paths: str) -> int:
        style = legacy.get_style_guide(select=["CEL102"], jobs=JobsArgument("1"))
        return style.check_files(list(paths)).total_errors

    # views.py is checked first, so tasks.py's disk text is known when tasks.py is
    # checked: the project built for views.py serves it.
    assert cel102("proj/views.py", "proj/tasks.py") == 1
    assert len(flake8_plugin._PROJECT) == 1  # the shared project was built
    settings = proj / "proj/settings.py"
    settings.write_text("broker_url = 'redis://localhost:6379/0'\n", encoding="utf-8")
    assert cel102("proj/tasks.py") == 0  # no result backend any more
    settings.write_text("broker_url = 'redis://localhost:6379/0'\n"
                        "result_backend = 'redis://localhost:6379/1'\n", encoding="utf-8")
    assert cel102("proj/views.py", "proj/tasks.py") == 1

    tasks = proj / "proj/tasks.py"
    on_disk = tasks.read_text(encoding="utf-8")
    fixed = on_disk.replace("@app.task\ndef add", "@app.task(ignore_result=True)\ndef add")
    # An unsaved editor buffer in the same process: the buffer wins over the disk text
    # the process already knows.
    buffer = CeleryLintPlugin(None, "proj/tasks.py", fixed.splitlines(keepends=True))
    assert [r for r in buffer.run() if r[2].startswith("CEL102")] == []
    assert cel102("proj/tasks.py") == 1
    tasks.write_text(fixed, encoding="utf-8")
    assert cel102("proj/tasks.py") == 0
    assert cel102("proj/views.py", "proj/tasks.py") == 0
    capsys.readouterr()


def test_whole_project_run_parses_only_what_the_runner_parses(proj, monkeypatch, capsys):
    """flake8 checking every file builds the project once, through the runner's prefilter:
    files without Celery facts are not parsed."""
    import celerylint.engine as engine
    from flake8.api import legacy
    from flake8.main.options import JobsArgument

    for number in range(3):
        (proj / f"proj/helpers{number}.py").write_text(f"def helper{number}(x):\n    return x\n",
                                                       encoding="utf-8")
    monkeypatch.chdir(proj)
    clear_memo()
    parsed = []
    real_parse = engine.parse_and_extract
    monkeypatch.setattr(
        engine,
        "parse_and_extract",
        lambda text, path, *rest: parsed.append(path) or real_parse(text, path, *rest),
    )
    walks = []
    real_walk = engine.project_files
    monkeypatch.setattr(engine, "project_files",
                        lambda config, paths: walks.append(1) or real_walk(config, paths))
    style = legacy.get_style_guide(select=["CEL"], jobs=JobsArgument("1"))
    report = style.check_files(["."])
    assert report.total_errors > 0
    assert len(walks) == 1  # the project's files are listed once per run, not once per file
    assert sorted(set(parsed)) == sorted(parsed)  # each file parsed once for the whole run
    assert not any("helpers" in path for path in parsed)
    assert "proj/tasks.py" in parsed
    capsys.readouterr()


def test_plugin_contains_internal_failures(monkeypatch):
    import celerylint.flake8_plugin as plugin

    def explode(filename, text, memo=None):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(plugin, "check_text", explode)
    results = list(CeleryLintPlugin(None, "tasks.py", ["from celery import shared_task\n"]).run())
    assert results == [(1, 0, "CEL000 celerylint could not check this file: "
                              "internal error: RuntimeError: boom second line", CeleryLintPlugin)]


# -- process-wide state: what a flake8 process keeps, and what it leaves as it found it --

GC_PROBE = '''
import gc, json, sys
from flake8.api import legacy
from flake8.main.options import JobsArgument

freezes = []
real_freeze = gc.freeze
gc.freeze = lambda: freezes.append(1) or real_freeze()


def state():
    return [gc.isenabled(), list(gc.get_threshold()), gc.get_freeze_count(),
            sys.getrecursionlimit()]


def run(*paths):
    style = legacy.get_style_guide(select=["CEL"], jobs=JobsArgument("1"))
    return style.check_files(list(paths)).total_errors


report = {"before": state()}
for step in sys.argv[1:]:
    if step.startswith("edit:"):
        with open(step[5:], "a", encoding="utf-8") as handle:
            handle.write("# edited\\n")
        continue
    report[step] = [run(*step.split(",")), len(freezes), state()]
print(json.dumps(report))
'''


def gc_probe(cwd: Path, *steps: str) -> dict:
    done = subprocess.run([sys.executable, "-c", GC_PROBE, *steps], cwd=cwd,
                          capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])  # after flake8's own report


def test_checking_one_file_leaves_the_garbage_collector_as_it_found_it(proj):
    """An editor running flake8 on one file: the project is built once and used once;
    freezing the collector's view of the process would only cost (gc.freeze is global)."""
    report = gc_probe(proj, "proj/tasks.py")
    errors, freezes, after = report["proj/tasks.py"]
    assert errors >= 1  # CEL102: the project was built and the rules ran
    assert freezes == 0 and after == report["before"]


def test_a_process_checking_many_files_freezes_once_whatever_it_rebuilds(proj):
    """A whole-project run reuses one project for every file: the collector is frozen
    once, when the second file is served from it (see flake8_plugin._freeze_once), and
    never again in that process, not even after a rebuild."""
    report = gc_probe(proj, ".", "edit:proj/settings.py", "proj/tasks.py,proj/views.py", ".")
    before = report["before"]
    first, again, last = report["."], report["proj/tasks.py,proj/views.py"], report["."]
    assert first[0] >= 2 and first[1] == 1
    assert again[1] == last[1] == 1
    for _, _, after in (first, again, last):
        # enabled, thresholds and recursion limit untouched; the freeze count moved
        assert after[:2] + after[3:] == before[:2] + before[3:]


def test_direct_use_after_a_flake8_run_reads_the_configuration_again(proj, monkeypatch, capsys):
    """What one flake8 run has read belongs to that run (its options object), not to
    the process: the plugin driven directly afterwards, as tests and tools do, does not
    see the last run's configuration."""
    from flake8.api import legacy
    from flake8.main.options import JobsArgument

    monkeypatch.chdir(proj)
    clear_memo()
    style = legacy.get_style_guide(select=["CEL104"], jobs=JobsArgument("1"))
    assert style.check_files(["proj/celery.py"]).total_errors == 1  # line 8: 1 s < 5 s
    (proj / "pyproject.toml").write_text("[tool.celerylint]\nmin-beat-interval = 0.5\n",
                                         encoding="utf-8")
    lines = (proj / "proj/celery.py").read_text(encoding="utf-8").splitlines(keepends=True)
    found = [r for r in CeleryLintPlugin(None, "proj/celery.py", lines).run()
             if r[2].startswith("CEL104")]
    assert found == []
    capsys.readouterr()


def test_a_runs_memo_goes_with_the_run(proj, monkeypatch, capsys):
    """The configuration, file list and project a run read are released with the run's
    options object; the plugin counts no runs (it has no parse_options)."""
    import gc
    import weakref

    from flake8.api import legacy
    from flake8.main.options import JobsArgument

    monkeypatch.chdir(proj)
    clear_memo()
    assert not hasattr(CeleryLintPlugin, "parse_options")
    style = legacy.get_style_guide(select=["CEL"], jobs=JobsArgument("1"))
    style.check_files(["proj/tasks.py"])
    memo = flake8_plugin._CURRENT_RUN.values
    assert memo  # the run remembered its configuration and files
    watch = weakref.ref(style.options)
    del style
    gc.collect()
    assert watch() is None
    assert flake8_plugin._CURRENT_RUN.values is None
    capsys.readouterr()


def test_projects_kept_between_runs_are_bounded(tmp_path, monkeypatch):
    """A long-lived process checking files of many projects keeps at most
    MAX_PROJECTS of them built (the most recently used), and the findings do not change."""
    roots = []
    for number in range(flake8_plugin.MAX_PROJECTS + 2):
        root = tmp_path / f"project{number}"
        shutil.copytree(FIXTURE, root)
        roots.append(root)
    clear_memo()

    def cel102(root: Path) -> list:
        path = root / "proj" / "tasks.py"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        return [r[:3] for r in CeleryLintPlugin(None, str(path), lines).run()
                if r[2].startswith("CEL102")]

    first = cel102(roots[0])
    assert first
    for root in roots[1:]:
        assert cel102(root) == first
        assert len(flake8_plugin._PROJECT) <= flake8_plugin.MAX_PROJECTS
    assert str(roots[-1]) in flake8_plugin._PROJECT and str(roots[0]) not in flake8_plugin._PROJECT
    assert cel102(roots[0]) == first
