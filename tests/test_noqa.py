"""`# noqa` follows flake8's semantics in the runner, proven against real flake8."""
import json
import subprocess
import sys

import pytest

from celerylint.parse import file_noqa, noqa_lines

CONTINUED = (
    'from celery import Celery\n'
    'app = Celery("p")\n'
    'app.conf.beat_schedule = {"x": {"task": "t", "schedule": 1.0, \\\n'
    '    "options": {}}}  # noqa: CEL104\n'
)


def test_lines_of_one_token_range_share_the_noqa_comment():
    text = 'a = 1  # noqa: CEL104\nb = """x\ny"""  # NOQA\nc = (1,\n     2)  # noqa\n'
    assert noqa_lines(text) == {1: ["CEL104"], 2: [], 3: [], 5: []}


def test_codes_are_full_codes_not_a_bare_noqa():
    assert noqa_lines("x = 1  # noqa:CEL101,CEL102\n") == {1: ["CEL101", "CEL102"]}


def test_untokenizable_text_falls_back_to_physical_lines():
    assert noqa_lines('x = """never closed  # noqa\n') == {1: []}


def _runner(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "celerylint", "check", "--format", "json", "app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    return sorted((f["line"], f["column"], f["code"]) for f in json.loads(proc.stdout))


def _flake8(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "CEL", "app.py"],
                          cwd=tmp_path, capture_output=True, text=True)
    found = []
    for line in proc.stdout.splitlines():
        _, number, column, rest = line.split(":", 3)
        found.append((int(number), int(column), rest.split()[0]))
    return sorted(found)


@pytest.mark.slow
def test_runner_and_flake8_suppress_the_same_findings(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.celerylint]\n")
    (tmp_path / "app.py").write_text(CONTINUED.replace("  # noqa: CEL104", ""))
    unsuppressed = _runner(tmp_path)
    assert unsuppressed == _flake8(tmp_path) == [(3, 58, "CEL104")]
    (tmp_path / "app.py").write_text(CONTINUED)
    assert _runner(tmp_path) == _flake8(tmp_path) == []


BEAT_AND_PICKLE = (
    'from celery import Celery\n'
    'app = Celery("p")\n'
    'app.conf.beat_schedule = {"x": {"task": "t", "schedule": 1.0},\n'
    '                          "y": {"task": "t", "schedule": 2.0}}\n'
    'app.conf.task_serializer = "pickle"\n'
)
EVERYTHING = [(3, 58, "CEL104"), (4, 58, "CEL104"), (5, 10, "CEL108")]


@pytest.mark.slow
@pytest.mark.parametrize("comment,left", [
    ("# flake8: noqa\n", []),  # flake8's own: the whole file, in every entry point
    ("# FLAKE8: NOQA\n", []),
    ("# celerylint: noqa\n", []),
    ("# celerylint: noqa: CEL104\n", [(5, 10, "CEL108")]),
    ("# celerylint: noqa: CEL1\n", []),
    ("# celerylint: noqa: CEL108\n", [(3, 58, "CEL104"), (4, 58, "CEL104")]),
    ("x = 1  # flake8: noqa\n", EVERYTHING),  # not at the start of a line: flake8 ignores it
    ("# celerylint:noqa:CEL104,CEL108\n", []),
])
def test_file_level_noqa_in_the_runner_and_under_flake8(tmp_path, comment, left):
    (tmp_path / "pyproject.toml").write_text("[tool.celerylint]\n")
    (tmp_path / "app.py").write_text(BEAT_AND_PICKLE)
    assert _runner(tmp_path) == _flake8(tmp_path) == EVERYTHING
    (tmp_path / "app.py").write_text(BEAT_AND_PICKLE + comment)
    assert _runner(tmp_path) == _flake8(tmp_path) == left


def test_file_noqa_is_read_from_whole_lines():
    assert file_noqa("x = 1\n# celerylint: noqa: cel104, CEL107\n") == ["CEL104", "CEL107"]
    assert file_noqa("x = 1  # celerylint: noqa\n") is None
    assert file_noqa("x = 1\n") is None


def _tokenize_ranges(text: str):
    """The ranges flake8 matches noqa comments against, from Python's own tokenizer."""
    import io
    import tokenize

    ranges, low, high = [], None, None
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
            continue
        low = token.start[0] if low is None else min(low, token.start[0])
        high = token.end[0] if high is None else max(high, token.end[0])
        if token.type in (tokenize.NL, tokenize.NEWLINE):
            ranges.append((low, high))
            low = high = None
    if low is not None:
        ranges.append((low, high))
    return ranges


def _corpus():
    from pathlib import Path

    import libcst

    roots = [Path(__file__).parent / "fixtures", Path(libcst.__file__).parent / "_nodes"]
    return sorted(path for root in roots for path in root.rglob("*.py"))


def test_line_groups_equal_the_tokenizers_ranges():
    """Our lexical scan joins exactly the lines Python's tokenizer joins (on text this
    interpreter tokenizes), without depending on the host's tokenizer version."""
    from celerylint.syntax import line_groups

    compared = 0
    for path in _corpus():
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            expected = _tokenize_ranges(text)
        except Exception:  # text this tokenizer refuses
            continue
        covered = [line for first, last in expected for line in range(first, last + 1)]
        if covered != list(range(1, len(covered) + 1)):
            continue  # the tokenizer skipped lines (blank trailing lines): compare what it saw
        assert line_groups(text)[:len(expected)] == expected, path
        compared += 1
    assert compared > 100


def test_noqa_comments_are_located_and_a_noqa_in_a_string_is_no_comment():
    from celerylint.facts import Loc, NoqaComment
    from celerylint.parse import noqa_facts

    text = ('a = 1  # noqa: CEL104\n'
            'b = "# noqa: CEL101"\n'
            'c = 1 + \\\n    2  # why # NOQA:e501,cel1 more\n'
            'd = 2  # noqa\n')
    lines, comments = noqa_facts(text)
    assert lines == {1: ["CEL104"], 2: ["CEL101"], 3: ["CEL1", "E501"], 4: ["CEL1", "E501"],
                     5: []}
    assert comments == [NoqaComment(Loc(1, 8, 1, 22), ["CEL104"], 1, 1),
                        NoqaComment(Loc(4, 14, 4, 30), ["E501", "CEL1"], 3, 4)]


def test_comment_spans_equal_the_tokenizers_comments():
    """Our scan finds exactly the comments Python's tokenizer finds."""
    import io
    import tokenize

    from celerylint.syntax import comment_spans, physical_lines

    compared = 0
    for path in _corpus():
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except Exception:  # text this tokenizer refuses
            continue
        starts = [0]
        for line in physical_lines(text):
            starts.append(starts[-1] + len(line))
        expected = [(starts[t.start[0] - 1] + t.start[1], starts[t.end[0] - 1] + t.end[1])
                    for t in tokens if t.type == tokenize.COMMENT]
        assert comment_spans(text) == expected, path
        compared += 1
    assert compared > 100
    assert comment_spans('x = """never closed  # noqa\n') is None
