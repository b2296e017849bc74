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
import gc
import re
import sys
import threading
import traceback
import warnings
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional, TypeVar

from celerylint.facts import ErrorKind, FileFacts, Loc

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
    found: Dict[int, List[str]] = {}
    if "noqa" not in text.lower():
        return found
    from celerylint.syntax import line_groups, physical_lines

    lines = physical_lines(text)
    for first, last in line_groups(text):
        match = NOQA_RE.search("".join(lines[first - 1:last]))
        if match:
            codes = match.group("codes")
            named = sorted({c.upper() for c in re.split(r"[,\s]+", codes) if c}) if codes else []
            for number in range(first, last + 1):
                found[number] = named
    return found


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
            named = {c.upper() for c in re.split(r"[,\s]+", found.group("codes")) if c}
            codes = sorted(set(codes or []) | named)
    return codes


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
    facts.noqa = noqa_lines(text)
    facts.file_noqa = file_noqa(text)
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
