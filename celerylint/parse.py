"""Parse one source text with libcst and extract its facts, containing every failure.

The verdict on a file's syntax never depends on the interpreter running the linter:
libcst parses every grammar up to Python 3.14, :func:`celerylint.syntax.guard` refuses
(as CEL001) text no Python compiles and that would make libcst crash or crawl, and the
constructs newer Pythons introduced are recorded as facts for CEL001 to judge against the
project's Python.  libcst's native parser recurses on the C stack, so parsing runs in a
thread with a large stack.
"""
from __future__ import annotations

import ast
import bisect
import gc
import re
import sys
import threading
import traceback
import warnings
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional, Tuple, TypeVar

from celerylint.facts import ErrorKind, FileFacts, Loc, NoqaComment

BIG_STACK = 512 * 1024 * 1024
RECURSION_LIMIT = 200_000
# A whole file: flake8's own file-level noqa comment (as flake8 matches it: at the start of a
# line, whatever follows), and celerylint's, optionally with codes.
FLAKE8_FILE_NOQA_RE = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)
FILE_NOQA_RE = re.compile(
    r"\s*#\s*celerylint[:=]\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
    re.IGNORECASE)
NOQA_RE = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
                     re.IGNORECASE)
T = TypeVar("T")


def run_with_big_stack(func: Callable[[], T]) -> T:
    """Run func in a thread whose stack is large enough for libcst on deep trees."""
    result: List[T] = []
    error: List[BaseException] = []

    def target() -> None:
        try:
            result.append(func())
        except BaseException as exc:  # handed back to the caller's thread
            error.append(exc)

    # The limit is the process's: raised only while the parse thread runs, so that deep
    # recursion elsewhere (another flake8 plugin in the same process, the main thread's
    # small stack) still ends in RecursionError rather than a crash.
    limit = sys.getrecursionlimit()
    previous = threading.stack_size()
    threading.stack_size(BIG_STACK)
    try:
        sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
        thread = threading.Thread(target=target, name="celerylint-parse")
        thread.start()
        thread.join()
    finally:
        threading.stack_size(previous)
        sys.setrecursionlimit(limit)
    if error:
        raise error[0]
    return result[0]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector out of a parse: libcst allocates a tree of
    many objects that all die by reference counting, so its passes over them are
    wasted (about 8% of parsing and extracting)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def noqa_lines(text: str) -> Dict[int, List[str]]:
    """Line -> codes named by its ``# noqa`` comment ([] means every code).

    As flake8 does, the lines of one token range (a multi-line string, a
    backslash-continued statement) share the first noqa comment found in them; the
    ranges come from our own lexical scan, so they do not depend on the host's tokenizer.
    """
    return noqa_facts(text)[0]


def noqa_facts(text: str) -> Tuple[Dict[int, List[str]], List[NoqaComment]]:
    """:func:`noqa_lines`, and the comments among those noqa matches that name codes
    (a match inside a string suppresses as flake8's does, but is no comment)."""
    found: Dict[int, List[str]] = {}
    comments: List[NoqaComment] = []
    if "noqa" not in text.lower():
        return found, comments
    from celerylint.syntax import comment_spans, line_groups, physical_lines

    lines = physical_lines(text)
    starts = [0]
    for physical in lines:
        starts.append(starts[-1] + len(physical))
    spans: Optional[List[Tuple[int, int]]] = None
    span_starts: List[int] = []
    for first, last in line_groups(text):
        joined = "".join(lines[first - 1:last])
        match = NOQA_RE.search(joined)
        if not match:
            continue
        codes = match.group("codes")
        written = split_codes(codes) if codes else []
        for number in range(first, last + 1):
            found[number] = sorted(set(written))
        if not written:
            continue
        if spans is None:
            spans = comment_spans(text) or []
            span_starts = [begin for begin, _ in spans]
        start = starts[first - 1] + match.start()
        index = bisect.bisect_right(span_starts, start) - 1
        if index >= 0 and start < spans[index][1]:
            line = bisect.bisect_right(starts, start)
            column = start - starts[line - 1] + 1
            loc = Loc(line, column, line, column + match.end() - match.start())
            comments.append(NoqaComment(loc, written, first, last))
    return found, comments


def split_codes(codes: str) -> List[str]:
    """The codes of a noqa comment's list, upper-cased, each once, in their order."""
    return list(dict.fromkeys(code.upper() for code in re.split(r"[,\s]+", codes) if code))


def file_noqa(text: str) -> Optional[List[str]]:
    """Codes a whole-file noqa comment names: None when there is none, [] for every code."""
    if "noqa" not in text and "NOQA" not in text.upper():
        return None
    codes: Optional[List[str]] = None
    for line in text.splitlines():
        if FLAKE8_FILE_NOQA_RE.match(line):
            return []
        found = FILE_NOQA_RE.match(line)
        if found is not None:
            if not found.group("codes"):
                return []
            named = set(split_codes(found.group("codes")))
            codes = sorted(set(codes or []) | named)
    return codes


def add_noqa_facts(facts: FileFacts, text: str) -> None:
    """Fill in what the text's noqa comments say (for every file, parsed or not)."""
    facts.noqa, facts.noqa_comments = noqa_facts(text)
    facts.file_noqa = file_noqa(text)


def _error_facts(message: str, line: int, col: int, kind: ErrorKind = "syntax") -> FileFacts:
    facts = FileFacts(path="", module="")
    facts.error = message
    facts.error_loc = Loc(line, max(col, 1), line, max(col, 1))
    facts.error_kind = kind
    return facts


def parse_and_extract(text: str, path: str, module: str, is_package: bool) -> FileFacts:
    """Facts of one file; syntax problems become ``error``, crashes ``internal_error``."""
    facts = _parse_and_extract(text, path, module, is_package)
    facts.path, facts.module = path, module
    add_noqa_facts(facts, text)
    return facts


def _parse_and_extract(text: str, path: str, module: str, is_package: bool) -> FileFacts:
    with warnings.catch_warnings():  # libcst 1.1 warns on import (mypy_extensions.TypedDict):
        warnings.simplefilter("ignore")  # under PYTHONWARNINGS=error that would be a crash
        import libcst as cst  # only files that must be parsed pay for importing libcst

        from celerylint.extract import extract
        from celerylint.syntax import guard, parser_error

    refused = guard(text)
    if refused is not None:
        return _error_facts(*refused)

    def work() -> FileFacts:
        tree = cst.parse_module(text)
        return extract(tree, path, module, is_package, text)

    try:
        with warnings.catch_warnings():  # literal_eval of "\d" must not fail under -W error
            warnings.simplefilter("ignore")
            with gc_paused():
                return run_with_big_stack(work)
    except cst.ParserSyntaxError as exc:
        message, line, col = parser_error(exc, text)
        if _host_accepts(text):
            # Valid Python the parser cannot read (a limit of libcst's, not the file's
            # fault): say so, never call it a syntax error.
            facts = FileFacts(path=path, module=module)
            facts.internal_error = (f"the parser cannot read this file, which Python accepts "
                                    f"({message} at line {line} column {col})")
            return facts
        return _error_facts(message, line, col)
    except RecursionError:
        return _error_facts("expression nested too deeply to analyse", 1, 1, "")
    except Exception as exc:  # a bug of ours: report it on this file, keep going
        facts = FileFacts(path=path, module=module)
        last = traceback.extract_tb(exc.__traceback__)[-1]
        facts.internal_error = (f"{type(exc).__name__}: {exc} "
                                f"(at {last.filename.rsplit('/', 1)[-1]}:{last.lineno})")
        return facts


def _host_accepts(text: str) -> bool:
    """Whether the running Python compiles the text: asked only after libcst refused it,
    to tell libcst's limits from syntax errors."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<celerylint>", "exec", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True
