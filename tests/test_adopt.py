"""Adopting celerylint on existing code: baselines (--baseline, --write-baseline,
--show-stale-baseline, ``baseline`` in the configuration) and --add-noqa, run as real
processes (the pre-commit hook with a baseline: tests/test_precommit.py)."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from conftest import write_tree
from test_cli import assert_one_line_error, lines, make_project, run

APP = '''
    from celery import Celery

    app = Celery("proj", broker="redis://localhost:6379/0")
    app.conf.beat_schedule = {"x": {"task": "t", "schedule": 1.0, "options": {"expires": 5}}}
    app.conf.task_serializer = "pickle"
'''
BEAT_LINE = ('app.conf.beat_schedule = '
             '{"x": {"task": "t", "schedule": 1.0, "options": {"expires": 5}}}')
FOUND = [("app.py", 4, "CEL104"), ("app.py", 5, "CEL108")]


def found(result: subprocess.CompletedProcess) -> List[Tuple[str, int, str]]:
    """(path, line, code) of each finding of a text-format run."""
    out = []
    for line in lines(result.stdout):
        path, number, _, rest = line.split(":", 3)
        out.append((path, int(number), rest.split()[0]))
    return out


def json_findings(cwd: Path, *args: str) -> List[Dict]:
    result = run("check", "-j", "1", "--format", "json", *args, cwd=cwd)
    return json.loads(result.stdout)


@pytest.fixture
def proj(tmp_path) -> Path:
    return make_project(tmp_path / "proj", {"app.py": APP})


# ------------------------------------------------------------------ baselines


def test_a_written_baseline_hides_every_finding_and_the_file_is_exact(proj):
    before = json_findings(proj)
    assert [(f["path"], f["line"], f["code"]) for f in before] == FOUND

    written = run("check", "-j", "1", "--write-baseline", "baseline.json", cwd=proj)

    assert (written.returncode, written.stdout) == (0, "")
    assert written.stderr == "celerylint: baseline.json: wrote 2 entries\n"
    from celerylint.fingerprint import fingerprint

    text = (proj / "app.py").read_text(encoding="utf-8").splitlines()
    expected = {"version": 1, "entries": [
        {"code": f["code"], "path": "app.py", "fingerprint": fingerprint(text[f["line"] - 1]),
         "occurrence": 0, "message": f["message"]} for f in before]}
    data = (proj / "baseline.json").read_bytes()
    assert data == (json.dumps(expected, indent=2, sort_keys=True) + "\n").encode("ascii")
    checked = run("check", "-j", "1", "--baseline", "baseline.json", cwd=proj)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
    again = run("check", "-j", "1", "--write-baseline", "baseline.json", cwd=proj)
    assert again.returncode == 0 and (proj / "baseline.json").read_bytes() == data


def test_the_baseline_survives_lines_inserted_above_the_findings(proj):
    run("check", "-j", "1", "--write-baseline", "baseline.json", cwd=proj)
    app = proj / "app.py"
    app.write_text('"""Docs."""\nimport os\n\n\n' + app.read_text(encoding="utf-8").replace(
        "app.conf.task", "\n\napp.conf.task"), encoding="utf-8")

    assert found(run("check", "-j", "1", cwd=proj)) == [("app.py", 8, "CEL104"),
                                                        ("app.py", 11, "CEL108")]
    result = run("check", "-j", "1", "--baseline", "baseline.json", "--show-stale-baseline",
                 cwd=proj)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.slow
def test_a_new_finding_is_reported_and_the_entry_it_replaced_is_stale(proj):
    run("check", "-j", "1", "--write-baseline", "baseline.json", cwd=proj)
    app = proj / "app.py"
    app.write_text(app.read_text(encoding="utf-8").replace('"schedule": 1.0', '"schedule": 2.0'),
                   encoding="utf-8")

    quiet = run("check", "-j", "1", "--baseline", "baseline.json", cwd=proj)
    assert (quiet.returncode, found(quiet), quiet.stderr) == (1, [("app.py", 4, "CEL104")], "")
    stale = run("check", "-j", "1", "--baseline", "baseline.json", "--show-stale-baseline",
                cwd=proj)
    entry = json.loads((proj / "baseline.json").read_text())["entries"][0]
    assert stale.returncode == 1 and found(stale) == [("app.py", 4, "CEL104")]
    assert lines(stale.stderr) == [
        f"celerylint: baseline.json: stale entry: app.py: CEL104 (fingerprint "
        f"{entry['fingerprint']}, occurrence 0)",
        "celerylint: baseline.json: 1 stale entry match no finding any more: remove it to "
        "shrink the baseline"]


RETRYING = """
    @app.task(bind=True, max_retries=None)
    def {name}(self):
        self.retry()
"""


@pytest.mark.slow
def test_equal_lines_are_told_apart_by_their_occurrence(tmp_path):
    app = APP + RETRYING.format(name="a") + RETRYING.format(name="b")
    make_project(tmp_path, {"app.py": app})
    run("check", "-j", "1", "--write-baseline", "b.json", cwd=tmp_path)
    entries = json.loads((tmp_path / "b.json").read_text())["entries"]
    assert [(e["code"], e["occurrence"]) for e in entries] == [
        ("CEL104", 0), ("CEL108", 0), ("CEL111", 0), ("CEL111", 1)]
    write_tree(tmp_path, {"app.py": RETRYING.format(name="first") + app})

    result = run("check", "-j", "1", "--baseline", "b.json", cwd=tmp_path)

    # one more than recorded: the last in line order is the one reported
    assert found(result) == [("app.py", 15, "CEL111")]


@pytest.mark.slow
def test_paths_are_relative_to_the_project_root_whatever_the_current_directory(proj):
    run("check", "-j", "1", "--write-baseline", "baseline.json", cwd=proj)

    elsewhere = run("check", "-j", "1", "--baseline", "proj/baseline.json", "proj",
                    cwd=proj.parent)
    below = proj / "pkg"
    below.mkdir()
    from_below = run("check", "-j", "1", "--baseline", "../baseline.json", "..", cwd=below)

    assert (elsewhere.returncode, elsewhere.stdout) == (0, "")
    assert (from_below.returncode, from_below.stdout) == (0, "")


@pytest.mark.slow
def test_the_baseline_key_of_the_configuration(proj):
    run("check", "-j", "1", "--write-baseline", "ci/baseline.json", cwd=proj)
    (proj / "pyproject.toml").write_text('[tool.celerylint]\nbaseline = "ci/baseline.json"\n')

    assert run("check", "-j", "1", cwd=proj).returncode == 0
    assert run("check", "-j", "1", "proj", cwd=proj.parent).returncode == 0
    assert run("check", "-j", "1", "app.py", cwd=proj).returncode == 0
    (proj / "ci" / "baseline.json").unlink()
    assert_one_line_error(run("check", "-j", "1", cwd=proj), "ci/baseline.json")


@pytest.mark.parametrize("content, needle", [
    (None, "cannot read the baseline"),
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[]", 'not a celerylint baseline (no "version"'),
    (b'{"version": 2, "entries": []}', "baseline version 2 is not one this celerylint reads (1)"),
    (b'{"version": true, "entries": []}', "baseline version true"),
    (b'{"version": 1}', '"entries" must be a list'),
    (b'{"version": 1, "entries": [5]}', "entry 1 is not an object"),
    (b'{"version": 1, "entries": [{"code": "CEL104", "path": "a.py", "fingerprint": "f"}]}',
     'entry 1 has no "occurrence"'),
    (b'{"version": 1, "entries": [{"code": "CEL104", "path": "a.py", "fingerprint": "f", '
     b'"occurrence": -1}]}', '"occurrence" must be a whole number >= 0, got -1'),
    (b'{"version": 1, "entries": [{"code": "x\\n", "path": "a.py", "fingerprint": "f", '
     b'"occurrence": 0}]}', '"code" must be a code such as CEL104, got "x\\n"'),
    (b"[" * 100_000, "not valid JSON"),
])
def test_a_bad_baseline_is_an_error_naming_the_file(tmp_path, monkeypatch, content, needle):
    from celerylint.baseline import BaselineError, load

    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / "bad.json").write_bytes(content)
    with pytest.raises(BaselineError) as error:
        load(tmp_path / "bad.json")
    assert str(error.value).startswith("bad.json: ") and needle in str(error.value)
    assert "\n" not in str(error.value)


def test_a_bad_baseline_is_a_one_line_error_and_exit_2(proj):
    (proj / "bad.json").write_bytes(b'{"version": 2, "entries": []}')

    result = run("check", "-j", "1", "--baseline", "bad.json", cwd=proj)

    assert_one_line_error(result, "celerylint: bad.json: baseline version 2 is not one")
    assert result.stdout == ""


@pytest.mark.slow
def test_write_baseline_does_not_overwrite_a_file_that_is_no_baseline(proj):
    (proj / "notes.json").write_text('{"mine": 1}\n')

    result = run("check", "-j", "1", "--write-baseline", "notes.json", cwd=proj)

    assert_one_line_error(result, "notes.json", "it is not overwritten")
    assert (proj / "notes.json").read_text() == '{"mine": 1}\n'


@pytest.mark.slow
def test_usage_errors(proj):
    assert_one_line_error(run("check", "--show-stale-baseline", cwd=proj), "needs a baseline")
    assert_one_line_error(run("check", "--add-noqa", "--write-baseline", "b.json", cwd=proj),
                          "--add-noqa", "--write-baseline")
    assert not (proj / "b.json").exists()


@pytest.mark.slow
def test_a_run_over_some_files_judges_and_rewrites_only_their_entries(tmp_path):
    """pre-commit passes the changed files: entries of the others are neither stale nor
    dropped; a run of some rules leaves the other rules' entries alone too."""
    root = make_project(tmp_path, {"app.py": APP, "other.py": APP})
    run("check", "-j", "1", "--write-baseline", "b.json", cwd=root)
    everything = (root / "b.json").read_bytes()

    for args in (["app.py"], ["--select", "CEL108"], ["--select", "CEL108", "app.py"]):
        shown = run("check", "-j", "1", "--baseline", "b.json", "--show-stale-baseline", *args,
                    cwd=root)
        assert (shown.returncode, shown.stdout, shown.stderr) == (0, "", ""), args
        rewritten = run("check", "-j", "1", "--write-baseline", "b.json", *args, cwd=root)
        assert rewritten.returncode == 0, rewritten.stderr
        assert (root / "b.json").read_bytes() == everything, args

    (root / "other.py").unlink()
    partial = run("check", "-j", "1", "--baseline", "b.json", "--show-stale-baseline", "app.py",
                  cwd=root)
    assert partial.stderr == ""
    full = run("check", "-j", "1", "--baseline", "b.json", "--show-stale-baseline", cwd=root)
    assert [line.split(": ")[3] for line in lines(full.stderr)[:-1]] == ["other.py"] * 2
    run("check", "-j", "1", "--write-baseline", "b.json", cwd=root)
    assert {e["path"] for e in json.loads((root / "b.json").read_text())["entries"]} == {"app.py"}


@pytest.mark.slow
def test_a_file_that_cannot_be_parsed_keeps_its_entries(tmp_path):
    root = make_project(tmp_path, {"app.py": APP})
    run("check", "-j", "1", "--write-baseline", "b.json", cwd=root)
    (root / "app.py").write_text((root / "app.py").read_text() + "def broken(:\n")

    result = run("check", "-j", "1", "--baseline", "b.json", "--show-stale-baseline", cwd=root)

    assert [code for _, _, code in found(result)] == ["CEL001"]
    assert result.stderr == ""


@pytest.mark.slow
def test_json_output_with_a_baseline(proj):
    run("check", "-j", "1", "--write-baseline", "b.json", cwd=proj)
    assert json_findings(proj, "--baseline", "b.json") == []
    assert json_findings(proj, "--baseline", "b.json", "--select", "CEL104",
                         "--write-baseline", "b.json") == []


def test_read_as_checked_refuses_a_file_changed_since(tmp_path):
    from celerylint.adopt import read_as_checked
    from celerylint.cache import text_digest

    path = tmp_path / "a.py"
    path.write_bytes(b"\xef\xbb\xbfx = 1\r\n")
    digest = text_digest("x = 1\r\n")
    checked = read_as_checked(str(path), digest)
    assert checked is not None and checked.text == "x = 1\r\n"
    path.write_bytes(b"x = 2\n")
    assert read_as_checked(str(path), digest) is None
    assert read_as_checked(str(path), None) is None


# ------------------------------------------------------------------ --add-noqa


def test_add_noqa_suppresses_every_finding_and_a_second_run_changes_nothing(proj):
    result = run("check", "-j", "1", "--add-noqa", cwd=proj)

    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "celerylint: added noqa comments for 2 findings in 1 file\n"
    text = (proj / "app.py").read_text()
    assert f"{BEAT_LINE}  # noqa: CEL104\n" in text
    assert 'app.conf.task_serializer = "pickle"  # noqa: CEL108\n' in text
    again = run("check", "-j", "1", "--add-noqa", cwd=proj)
    assert (again.returncode, again.stdout) == (0, "")
    assert again.stderr == "celerylint: added noqa comments for 0 findings in 0 files\n"
    assert (proj / "app.py").read_text() == text


@pytest.mark.slow
def test_add_noqa_merges_with_a_noqa_comment_and_keeps_other_comments(tmp_path):
    make_project(tmp_path, {"app.py": APP.replace(
        '"pickle"\n', '"pickle"  # noqa: E501 (long)\n').replace(
        '"expires": 5}}}\n', '"expires": 5}}}  # every second: see ADR 7\n')})

    assert run("check", "-j", "1", "--add-noqa", cwd=tmp_path).returncode == 0

    text = (tmp_path / "app.py").read_text()
    assert f"{BEAT_LINE}  # every second: see ADR 7  # noqa: CEL104\n" in text
    assert 'app.conf.task_serializer = "pickle"  # noqa: E501, CEL108 (long)\n' in text


@pytest.mark.slow
def test_add_noqa_keeps_every_other_byte(tmp_path):
    """CRLF line endings, a byte order mark, a coding cookie's encoding and trailing
    spaces elsewhere stay as they were."""
    write_tree(tmp_path, {"pyproject.toml": "[tool.celerylint]\n"})
    source = ("\ufeffimport os  \r\n" + "".join(
        line + "\r\n" for line in (
            'from celery import Celery',
            'app = Celery("proj", broker="redis://localhost:6379/0")',
            'app.conf.task_serializer = "pickle"',
            '# é, the end')))
    (tmp_path / "app.py").write_bytes(source.encode("utf-8"))
    latin = ('# -*- coding: latin-1 -*-\nfrom app import app\n'
             'app.conf.accept_content = ["pickle"]  # caf\xe9\n# \xe9t\xe9\n')
    (tmp_path / "latin.py").write_bytes(latin.encode("latin-1"))
    first = b'\xef\xbb\xbffrom app import app; app.conf.result_serializer = "pickle"\r\n'
    (tmp_path / "first.py").write_bytes(first)  # the finding on the line after the mark

    result = run("check", "-j", "1", "--add-noqa", cwd=tmp_path)

    assert result.returncode == 0, (result.stdout, result.stderr)
    assert (tmp_path / "app.py").read_bytes() == source.replace(
        '"pickle"\r\n', '"pickle"  # noqa: CEL108\r\n').encode("utf-8")
    assert (tmp_path / "latin.py").read_bytes() == latin.replace(
        "# caf\xe9\n", "# caf\xe9  # noqa: CEL108\n").encode("latin-1")
    assert (tmp_path / "first.py").read_bytes() == first.replace(b'"\r', b'"  # noqa: CEL108\r')


MULTI_LINE = '''
    from celery import Celery

    app = Celery("proj", broker="redis://localhost:6379/0")
    app.conf.beat_schedule = {
        "continued": {"task": "t", "schedule": 1.0, \\
                      "options": {"expires": 5}},
        "string": {"schedule": 2.0, "options": {"expires": 5}, "task": """t
    """},
        "bracketed": {"task": "t",
                      "schedule": 3.0, "options": {"expires": 5}},
    }
'''


@pytest.mark.slow
def test_add_noqa_writes_where_celerylint_and_flake8_read(tmp_path):
    """A finding on a line continued by a backslash, or followed by the rest of a
    multi-line string, gets its comment at the end of those lines (a comment cannot
    follow the backslash); one in a bracketed multi-line statement on its own line."""
    make_project(tmp_path, {"app.py": MULTI_LINE})

    def flake8() -> List[Tuple[int, str]]:
        done = subprocess.run([sys.executable, "-m", "flake8", "--select", "CEL", "app.py"],
                              cwd=tmp_path, capture_output=True, text=True)
        return [(int(line.split(":")[1]), line.split()[1]) for line in lines(done.stdout)]

    before = found(run("check", "-j", "1", cwd=tmp_path))
    assert before == [("app.py", 5, "CEL104"), ("app.py", 7, "CEL104"), ("app.py", 10, "CEL104")]
    assert flake8() == [(line, code) for _, line, code in before]

    result = run("check", "-j", "1", "--add-noqa", cwd=tmp_path)

    assert (result.returncode, result.stdout) == (0, "")
    text = (tmp_path / "app.py").read_text().splitlines()
    assert text[5].endswith('"options": {"expires": 5}},  # noqa: CEL104')
    assert text[7] == '"""},  # noqa: CEL104'
    assert text[9].endswith('"schedule": 3.0, "options": {"expires": 5}},  # noqa: CEL104')
    assert flake8() == []


@pytest.mark.slow
def test_add_noqa_after_the_baseline_and_never_for_cel002(tmp_path):
    root = make_project(tmp_path, {"app.py": APP + "    x = 1  # noqa: CEL101\n"},
                        'extend-select = ["CEL002"]\n')
    run("check", "-j", "1", "--write-baseline", "b.json", "--select", "CEL104", cwd=root)

    result = run("check", "-j", "1", "--add-noqa", "--baseline", "b.json", cwd=root)

    assert result.returncode == 1
    assert found(result) == [("app.py", 6, "CEL002")]  # reported, not silenced
    text = (root / "app.py").read_text()
    assert f"{BEAT_LINE}\n" in text  # in the baseline: no comment
    assert '"pickle"  # noqa: CEL108\n' in text


@pytest.mark.slow
def test_add_noqa_leaves_a_file_it_cannot_edit_safely_and_says_why(tmp_path):
    broken = 'from celery import shared_task\nx = """never\n'
    make_project(tmp_path, {"app.py": APP, "broken.py": broken})
    before = (tmp_path / "broken.py").read_bytes()

    result = run("check", "-j", "1", "--add-noqa", cwd=tmp_path)

    assert result.returncode == 1
    assert [code for _, _, code in found(result)] == ["CEL001"]
    assert lines(result.stderr) == [
        "celerylint: broken.py:2: no noqa comment added: a string in the file is never closed",
        "celerylint: added noqa comments for 2 findings in 1 file"]
    assert (tmp_path / "broken.py").read_bytes() == before


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and symlinks")
def test_add_noqa_writes_through_a_symlink_and_keeps_the_permissions(tmp_path):
    make_project(tmp_path, {"real/app.py": APP})
    (tmp_path / "real" / "app.py").chmod(0o640)
    os.symlink("real/app.py", tmp_path / "app.py")

    result = run("check", "-j", "1", "--add-noqa", "app.py", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "app.py").is_symlink()
    assert "# noqa: CEL108" in (tmp_path / "real" / "app.py").read_text()
    assert stat.S_IMODE((tmp_path / "real" / "app.py").stat().st_mode) == 0o640


def test_add_noqa_never_writes_a_file_changed_since_it_was_checked(tmp_path):
    from celerylint.cache import text_digest
    from celerylint.noqa_edit import add_noqa
    from celerylint.rule import Finding

    path = tmp_path / "app.py"
    path.write_text("x = 1\n")
    finding = Finding(str(path), 1, 1, 1, 2, "CEL108", "pickle-serializer", "m", "error")
    digest = text_digest("x = 1\n")
    path.write_text("x = 2\n")

    outcome = add_noqa([finding], {str(path): digest})

    assert outcome.notes == [(str(path), 1, "the file changed after it was checked")]
    assert path.read_text() == "x = 2\n"


def test_with_noqa_on_each_kind_of_line():
    from celerylint.noqa_edit import with_noqa

    text = ('a = 1   \n'  # trailing spaces go
            'b = 2  # type: ignore\r\n'  # CRLF, another comment kept first
            'c = 3  # NOQA:E501 why\n'  # merged into the list, the reason stays
            'd = f(1, \\\n  2)\n'  # the comment after the continuation
            'e = """x\ny"""\n'  # after the multi-line string
            'f = 1  # noqa\n'  # bare: covers everything already
            'g = "# noqa: X1"\n'  # flake8 reads the string's: cannot help
            'h = 1  # noqa: CEL1\n')  # a prefix that covers the code already
    edited = with_noqa(text, {1: {"CEL104", "CEL101"}, 2: {"CEL101"}, 3: {"CEL104"},
                              4: {"CEL104"}, 6: {"CEL101"}, 7: {"CEL101"}, 8: {"CEL101"},
                              9: {"CEL101"}, 10: {"CEL101"}, 99: {"CEL1"}})
    assert edited.text == ('a = 1  # noqa: CEL101, CEL104\n'
                           'b = 2  # type: ignore  # noqa: CEL101\r\n'
                           'c = 3  # NOQA:E501, CEL104 why\n'
                           'd = f(1, \\\n  2)  # noqa: CEL104\n'
                           'e = """x\ny"""  # noqa: CEL101\n'
                           'f = 1  # noqa\n'
                           'g = "# noqa: X1"\n'
                           'h = 1  # noqa: CEL1\n')
    assert edited.skipped == [(99, "the file has no such line"),
                              (9, "a string on the line holds the `# noqa` flake8 reads")]


def test_an_edit_that_would_break_the_file_is_refused():
    from celerylint.noqa_edit import _problem

    assert _problem("x = 1\n", "x = (1  # noqa: CEL101\n", {}) == "the file would no longer parse"
    assert _problem("x = (1\n", "x = (1  # noqa: CEL101\n", {1: {"CEL101"}}) is None
    assert _problem("x = 1\n", "x = 1\n", {1: {"CEL101"}}) == (
        "the comments would not cover every finding")


@pytest.mark.slow
def test_write_baseline_with_show_stale_baseline_names_the_entries_it_drops(proj):
    run("check", "-j", "1", "--write-baseline", "b.json", cwd=proj)
    app = proj / "app.py"
    app.write_text(app.read_text(encoding="utf-8").replace('"pickle"', '"json"'), encoding="utf-8")

    result = run("check", "-j", "1", "--write-baseline", "b.json", "--show-stale-baseline",
                 cwd=proj)

    assert (result.returncode, result.stdout) == (0, "")
    assert lines(result.stderr)[0] == "celerylint: b.json: wrote 1 entry"
    assert lines(result.stderr)[1].startswith("celerylint: b.json: stale entry: app.py: CEL108 ")
    assert lines(result.stderr)[2] == "celerylint: b.json: 1 stale entry dropped"
