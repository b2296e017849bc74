"""Parse one source text with libcst and extract its facts, containing every failure.

libcst's native parser recurses on the C stack and crashes the process (not
an exception) on very deep nesting, so parsing runs in a thread with a large
stack, and text that CPython itself would refuse for its nesting is turned
into a CEL001 finding before libcst sees it.
"""
from __future__ import annotations

import ast
import gc
import io
import re
import symtable
import sys
import threading
import tokenize
import traceback
import warnings
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional, Tuple, TypeVar

from celerylint.facts import FileFacts, Loc

BIG_STACK = 512 * 1024 * 1024
RECURSION_LIMIT = 200_000
MAX_BRACKET_DEPTH = 200  # CPython: "too many nested parentheses"
MAX_TREE_DEPTH = 1000  # libcst slows down sharply on deeper trees
RISKY_LINE_LENGTH = 4000
NOQA_RE = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
                     re.IGNORECASE)
T = TypeVar("T")


def run_with_big_stack(func: Callable[[], T]) -> T:
    """Run func in a thread whose stack is large enough for libcst on deep trees."""
    result: List = []
    error: List[BaseException] = []

    def target() -> None:
        try:
            result.append(func())
        except BaseException as exc:  # handed back to the caller's thread
            error.append(exc)

    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    previous = threading.stack_size()
    threading.stack_size(BIG_STACK)
    try:
        thread = threading.Thread(target=target, name="celerylint-parse")
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
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
    backslash-continued statement) share the first noqa comment found in them.
    """
    found: Dict[int, List[str]] = {}
    if "noqa" not in text.lower():
        return found
    lines = text.splitlines(keepends=True)
    for first, last in _noqa_ranges(text, len(lines)):
        match = NOQA_RE.search("".join(lines[first - 1:last]))
        if match:
            codes = match.group("codes")
            named = sorted({c.upper() for c in re.split(r"[,\s]+", codes) if c}) if codes else []
            for number in range(first, last + 1):
                found[number] = named
    return found


def _noqa_ranges(text: str, line_count: int) -> List[Tuple[int, int]]:
    """(first, last) line of each range flake8 matches noqa comments against."""
    ranges: List[Tuple[int, int]] = []
    try:
        low, high = line_count + 2, -1
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            low, high = min(low, token.start[0]), max(high, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                ranges.append((low, high))
                low, high = line_count + 2, -1
        if high >= low:
            ranges.append((low, high))
    except (tokenize.TokenError, SyntaxError):
        return [(n, n) for n in range(1, line_count + 1)]
    return ranges


def _max_bracket_depth(text: str) -> int:
    depth = deepest = 0
    for match in re.finditer(r"[\[\](){}]", text):
        if match.group() in "([{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
    return deepest


def _looks_risky(text: str) -> bool:
    opening = text.count("(") + text.count("[") + text.count("{")
    if opening > MAX_BRACKET_DEPTH and _max_bracket_depth(text) > MAX_BRACKET_DEPTH // 2:
        return True
    return any(len(line) > RISKY_LINE_LENGTH for line in text.splitlines())


def _cpython_refusal(text: str) -> Optional[FileFacts]:
    """A CEL001-style error when CPython itself cannot compile the text's nesting."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = exc.offset or 1
        return _error_facts(exc.msg, line, col)
    except (RecursionError, MemoryError):
        return _error_facts("expression nested too deeply to parse", 1, 1)
    if _max_bracket_depth(text) > MAX_BRACKET_DEPTH:
        return _error_facts("too many nested parentheses", 1, 1)
    depth, line = _deepest_node(tree)
    if depth > MAX_TREE_DEPTH:
        return _error_facts(f"expression nested too deeply to analyse (depth {depth})", line, 1)
    return None


def _deepest_node(tree: ast.AST) -> Tuple[int, int]:
    """Depth of the deepest syntax node and its line, without recursion."""
    deepest, line = 0, 1
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest, line = depth, getattr(node, "lineno", line)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest, line


def _error_facts(message: str, line: int, col: int) -> FileFacts:
    facts = FileFacts(path="", module="")
    facts.error = message
    facts.error_loc = Loc(line, max(col, 1), line, max(col, 1))
    return facts


def parse_and_extract(text: str, path: str, module: str, is_package: bool) -> FileFacts:
    """Facts of one file; syntax problems become ``error``, crashes ``internal_error``."""
    facts = _parse_and_extract(text, path, module, is_package)
    facts.path, facts.module = path, module
    facts.noqa = noqa_lines(text)
    return facts


def check_syntax(text: str, path: str, module: str) -> FileFacts:
    """Facts of a file the prefilter skipped: no libcst, only CPython's verdict.

    The error (message and position) is the one ``parse_and_extract`` reports,
    since it turns a libcst refusal into CPython's own message; only syntax that
    CPython accepts and libcst refuses goes unreported here.
    """
    refused: Optional[FileFacts] = None
    if _looks_risky(text):
        refused = _cpython_refusal(text)
    else:
        try:
            # CPython's parser without building Python objects for the tree (about a third
            # faster than ast.parse); what it refuses gets ast.parse's verdict below, so
            # errors only the symbol table finds (`def f(a, a)`) stay unreported, as with libcst.
            with warnings.catch_warnings():  # PYTHONWARNINGS=error must not turn
                warnings.simplefilter("ignore")  # an invalid escape into a syntax error
                symtable.symtable(text, path or "<unknown>", "exec")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            refused = _cpython_refusal(text)
    facts = refused if refused is not None else FileFacts(path=path, module=module)
    facts.path, facts.module = path, module
    if facts.error is not None:
        facts.noqa = noqa_lines(text)
    return facts


def _parse_and_extract(text: str, path: str, module: str, is_package: bool) -> FileFacts:
    if _looks_risky(text):
        refused = _cpython_refusal(text)
        if refused is not None:
            return refused
    with warnings.catch_warnings():  # libcst 1.1 warns on import (mypy_extensions.TypedDict):
        warnings.simplefilter("ignore")  # under PYTHONWARNINGS=error that would be a crash
        import libcst as cst  # only files that must be parsed pay for importing libcst

        from celerylint.extract import extract

    def work() -> FileFacts:
        tree = cst.parse_module(text)
        return extract(tree, path, module, is_package)

    try:
        with warnings.catch_warnings():  # literal_eval of "\d" must not fail under -W error
            warnings.simplefilter("ignore")
            with gc_paused():
                return run_with_big_stack(work)
    except cst.ParserSyntaxError as exc:
        # CPython's message and position are the ones users know; libcst's are a fallback
        # for syntax CPython accepts but libcst does not.
        refused = _cpython_refusal(text)
        if refused is not None:
            return refused
        message = str(exc.message).strip().splitlines()[0] if exc.message else "invalid syntax"
        return _error_facts(message, exc.raw_line, exc.raw_column + 1)
    except RecursionError:
        return _error_facts("expression nested too deeply to parse", 1, 1)
    except Exception as exc:  # a bug of ours: report it on this file, keep going
        facts = FileFacts(path=path, module=module)
        last = traceback.extract_tb(exc.__traceback__)[-1]
        facts.internal_error = (f"{type(exc).__name__}: {exc} "
                                f"(at {last.filename.rsplit('/', 1)[-1]}:{last.lineno})")
        return facts
