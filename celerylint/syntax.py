"""Python syntax judged against the project's Python, the same on every interpreter.

libcst parses the grammar of every Python up to 3.14 whatever interpreter runs the
linter, so a file is judged in two steps that never ask the host's own parser:

- :func:`guard` refuses, before libcst sees it, text that no Python compiles and that
  would make libcst crash or crawl: brackets nested deeper than CPython's tokenizer
  allows, a chain of operations so long that compilers give up (and libcst's parser is
  quadratic on it), and a byte order mark inside the code.  It is a lexical scan of our
  own (strings and comments skipped), so its verdict is the same on every host.
- ``celerylint.features.FeatureVisitor`` notes, while the facts are extracted, the
  first place of each construct that only newer Pythons accept (``match``, ``type``
  statements, PEP 701 f-strings, ...), with the release that introduced it.  CEL001 compares
  them with the project's lowest Python (``requires-python``), so ``type X = int`` is an error in a
  project that supports 3.11 and fine in one that requires 3.12.

Constructs older than Python 3.5 and some rarely written ones (PEP 448 unpacking
generalisations, ``await`` in comprehensions) are not dated; syntax that no Python
accepts but libcst does is not caught here either (libcst refuses almost all of it).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from celerylint.facts import ErrorKind, SyntaxFeature

if TYPE_CHECKING:  # libcst is imported only when a file is parsed
    import libcst as cst

Version = Tuple[int, int]

NEWEST_GRAMMAR: Version = (3, 14)  # the newest Python grammar libcst (>= 1.8.4) parses
MAX_BRACKET_DEPTH = 200  # CPython's tokenizer: "too many nested parentheses" (MAXLEVEL)
MAX_CHAIN = 1000  # operations chained in one expression; CPython 3.11 fails at ~3,000


def grammar_name(version: Version) -> str:
    return f"Python {version[0]}.{version[1]}"


# -- the lexical guard --------------------------------------------------------------

_TOKEN_RE = re.compile(r"""
    (?P<string>(?:[rRbBuUfFtT]{1,2})?(?:'''|\"\"\"|'|"))
  | (?P<comment>\#[^\r\n]*)
  | (?P<newline>\r\n|\r|\n)
  | (?P<continuation>\\(?:\r\n|\r|\n))
  | (?P<name>[^\W\d]\w*)
  | (?P<number>(?:\d|\.\d)(?:[eE][-+]|[\w.])*)
  | (?P<operand>\.\.\.)
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<link>(?:\*\*|//|<<|>>|[-+*/%@&|^~])(?!=)|\.(?!\.\.))
  | (?P<bom>\ufeff)
  | (?P<other>\S)
""", re.VERBOSE)
# Tokens that end a chain of operations at their bracket level.
_CHAIN_BREAKERS = frozenset({"and", "or", "not", "if", "else", "for", "in", "is", "lambda",
                             "return", "yield", "await", "del", "assert", "import", "from",
                             "as", "with", "while", "elif", "raise", "print", "exec", "case",
                             "match"})
_STRING_END = {q: re.compile(r"\\(?:\r\n|.)|" + re.escape(q) + (r"|[\r\n]" if len(q) == 1 else ""),
                             re.DOTALL)
               for q in ("'", '"', "'''", '"""')}


def guard(text: str) -> Optional[Tuple[str, int, int, ErrorKind]]:
    """(message, line, column, kind) when the text is beyond what Python compiles or what
    the parser can take in reasonable time; None when it may go to libcst.  ``kind`` is
    "syntax" for what every Python refuses, "" for a limit of the analysis."""
    depth = 0
    chains: List[int] = [0]  # links chained so far at each bracket level
    starts: List[Tuple[int, int]] = [(1, 1)]  # where each level's chain began
    after_operand = False  # the previous token ends an operand: `(` or `[` is a trailer
    line, line_start = 1, 0
    position = 0
    match = _TOKEN_RE.search(text, position)
    while match is not None:
        kind = match.lastgroup
        start = match.start()
        position = match.end()
        if kind == "string":
            position, lines, _ = _skip_string(text, match.group(kind), position)
            if lines:
                line += lines[0]
                line_start = lines[1]
            after_operand = True
        elif kind in ("newline", "continuation"):
            line += 1
            line_start = position
            if kind == "newline" and depth == 0:
                chains[0] = 0
                after_operand = False
        elif kind == "name":
            if match.group(kind) in _CHAIN_BREAKERS:
                chains[-1] = 0
                after_operand = False
            else:
                after_operand = True
        elif kind in ("number", "operand"):
            after_operand = True
        elif kind == "open":
            if after_operand:
                if not chains[-1]:
                    starts[-1] = (line, start - line_start + 1)
                chains[-1] += 1
                if chains[-1] > MAX_CHAIN:
                    return _too_long(*starts[-1])
            depth += 1
            if depth > MAX_BRACKET_DEPTH:
                return (f"too many nested parentheses (more than {MAX_BRACKET_DEPTH} levels)",
                        line, start - line_start + 1, "syntax")
            chains.append(0)
            starts.append((line, start - line_start + 1))
            after_operand = False
        elif kind == "close":
            if depth:
                depth -= 1
                chains.pop()
                starts.pop()
            after_operand = True
        elif kind == "link":
            if not chains[-1]:
                starts[-1] = (line, start - line_start + 1)
            chains[-1] += 1
            if chains[-1] > MAX_CHAIN:
                return _too_long(*starts[-1])
            after_operand = False
        elif kind == "bom":
            return "invalid non-printable character U+FEFF", line, start - line_start + 1, "syntax"
        else:  # , ; : = < > ! and the like end a chain
            chains[-1] = 0
            after_operand = False
        match = _TOKEN_RE.search(text, position)
    return None


def _too_long(line: int, column: int) -> Tuple[str, int, int, ErrorKind]:
    """Reported where the chain's first operation stands."""
    return (f"expression too long to analyse (more than {MAX_CHAIN} chained operations)",
            line, column, "")


def _skip_string(text: str, opener: str, position: int
                 ) -> Tuple[int, Optional[Tuple[int, int]], bool]:
    """Position after the string that ``opener`` (prefix and quote) starts, the (line
    breaks, offset of the last line's start) it spans, and whether it is closed.
    Replacement fields of f- and t-strings may hold strings with the same quote (PEP
    701): they are skipped as code.  An unterminated string ends at its line's end (or
    the text's)."""
    prefix = opener.rstrip("'\"")
    quote = opener[len(prefix):]
    start = position
    if any(c in prefix for c in "fFtT"):
        position = _skip_template(text, quote, position)
        closed = position - len(quote) >= start and text.startswith(quote, position - len(quote))
    else:
        closed = False
        for found in _STRING_END[quote].finditer(text, position):
            if not found.group().startswith("\\"):
                closed = found.group() == quote
                position = found.end() if closed else found.start()
                break
        else:
            position = len(text)
    return position, _line_breaks(text, start, position), closed


_TEMPLATE_TEXT_RE = re.compile(r"""[\\{'"\r\n]""")
_TEMPLATE_FIELD_RE = re.compile(r"""[{}'"#]""")


def _skip_template(text: str, quote: str, position: int) -> int:
    """The end of an f- or t-string body starting at ``position``, nested fields included."""
    fields = 0
    length = len(text)
    while position < length:
        found = (_TEMPLATE_FIELD_RE if fields else _TEMPLATE_TEXT_RE).search(text, position)
        if found is None:
            return length
        position = found.start()
        char = found.group()
        if fields == 0:
            if char == "\\":
                position += 2
            elif text.startswith(quote, position):
                return position + len(quote)
            elif char in "\r\n" and len(quote) == 1:
                return position
            elif char == "{" and not text.startswith("{{", position):
                fields, position = 1, position + 1
            else:
                position += 2 if char == "{" else 1
            continue
        if char in "'\"":
            inner = (
                text[position : position + 3]
                if text[position : position + 3] in ("'''", '"""')
                else char
            )
            prefix_start = position
            while prefix_start > 0 and text[prefix_start - 1] in "rRbBuUfFtT":
                prefix_start -= 1
            position = _skip_string(text, text[prefix_start:position] + inner,
                                    position + len(inner))[0]
        elif char == "#":
            newline = text.find("\n", position)
            position = length if newline < 0 else newline
        else:
            fields += 1 if char == "{" else -1
            position += 1
    return position


def _line_breaks(text: str, start: int, end: int) -> Optional[Tuple[int, int]]:
    chunk = text[start:end]
    if "\n" not in chunk and "\r" not in chunk:
        return None
    breaks = chunk.count("\n") + chunk.count("\r") - chunk.count("\r\n")
    last = max(chunk.rfind("\n"), chunk.rfind("\r"))
    return breaks, start + last + 1


# -- libcst's refusals ------------------------------------------------------------

_LIBCST_POSITION_RE = re.compile(r"^(?:parser error: )?error at (\d+):(\d+): ")
MAX_EXPECTED = 5
_CLOSING = {")": "(", "]": "[", "}": "{"}
_TRIPLE_QUOTES = ("'''", '"""')


def parser_error(exc: cst.ParserSyntaxError, text: str) -> Tuple[str, int, int]:
    """A refusal of libcst's as (message, line, column), the same on every host.

    What a lexical scan can pin down (a bracket never closed or closed by the wrong
    one, an unterminated string) is named where it starts, as CPython names it;
    otherwise libcst's message, placed at the end of the previous line when libcst
    only noticed the error at the start of the next one (a missing colon)."""
    found = diagnose(text)
    if found is not None:
        return found
    first = (str(exc.message).strip().splitlines() or ["invalid syntax"])[0]
    line, column = exc.raw_line, exc.raw_column + 1
    position = _LIBCST_POSITION_RE.match(first)
    if position is not None:
        line, column = int(position.group(1)), int(position.group(2)) + 1
        first = first[position.end():]
    for prefix in ("parser error: ", "tokenizer error: "):
        if first.startswith(prefix):
            first = first[len(prefix):]
    if first.startswith("expected one of ") and first.count(",") >= MAX_EXPECTED:
        first = "invalid syntax"
    if first == "expected INDENT":
        first = "expected an indented block"
    lines = physical_lines(text) or [""]
    line = min(max(line, 1), len(lines))
    content = lines[line - 1].rstrip("\r\n")
    column = min(max(column, 1), len(content) + 1)
    if first == "expected an indented block":
        column = len(content) - len(content.lstrip()) + 1
    elif line > 1 and not content[:column - 1].strip():
        previous = line - 1
        while previous > 1 and not _code_of(lines[previous - 1]):
            previous -= 1
        code = _code_of(lines[previous - 1])
        if code:
            line, column = previous, len(code) + 1
    return first or "invalid syntax", line, column


def _code_of(line: str) -> str:
    """A line without its line break, trailing blanks and a trailing comment (roughly:
    a '#' inside a string counts as a comment here)."""
    return line.split("#", 1)[0].rstrip() if "#" in line else line.rstrip()


def diagnose(text: str) -> Optional[Tuple[str, int, int]]:
    """The first bracket or string error a lexical scan finds, worded as CPython words
    it: asked only about text the parser refused, to say what and where."""
    stack: List[Tuple[str, int, int]] = []
    line, line_start, position = 1, 0, 0
    match = _TOKEN_RE.search(text, position)
    while match is not None:
        kind, start, position = match.lastgroup, match.start(), match.end()
        column = start - line_start + 1
        if kind == "string":
            opener = match.group(kind)
            position, lines, closed = _skip_string(text, opener, position)
            if not closed:
                what = (
                    "triple-quoted string literal"
                    if opener.endswith(_TRIPLE_QUOTES)
                    else "string literal"
                )
                return f"unterminated {what}", line, column
            if lines:
                line, line_start = line + lines[0], lines[1]
        elif kind in ("newline", "continuation"):
            line, line_start = line + 1, position
        elif kind == "open":
            stack.append((match.group(kind), line, column))
        elif kind == "close":
            closing = match.group(kind)
            if not stack:
                return f"unmatched '{closing}'", line, column
            opening = stack.pop()
            if opening[0] != _CLOSING[closing]:
                return (f"closing parenthesis '{closing}' does not match opening parenthesis "
                        f"'{opening[0]}'", line, column)
        match = _TOKEN_RE.search(text, position)
    if stack:
        bracket, line, column = stack[-1]
        return f"'{bracket}' was never closed", line, column
    return None


def line_groups(text: str) -> List[Tuple[int, int]]:
    """(first, last) physical line of each group of lines that one token joins: a
    string over several lines, or a backslash continuation (flake8 matches a noqa
    comment against such a group).  Every line belongs to exactly one group; text with
    an unterminated string gives one group per line."""
    groups: List[Tuple[int, int]] = []
    first = line = 1
    position = 0
    match = _TOKEN_RE.search(text, position)
    while match is not None:
        kind, position = match.lastgroup, match.end()
        if kind == "string":
            position, lines, closed = _skip_string(text, match.group(kind), position)
            if not closed:
                return [(n, n) for n in range(1, len(physical_lines(text)) + 1)]
            if lines:
                line += lines[0]
        elif kind == "continuation":
            line += 1
        elif kind == "newline":
            groups.append((first, line))
            line += 1
            first = line
        match = _TOKEN_RE.search(text, position)
    if text and not text.endswith(("\n", "\r")):
        groups.append((first, line))
    return groups


def comment_spans(text: str) -> Optional[List[Tuple[int, int]]]:
    """(start, end) offsets of every comment in the text, in order (a ``#`` inside a
    string is not one); None when a string is never closed, which leaves the comments
    unknown."""
    spans: List[Tuple[int, int]] = []
    position = 0
    match = _TOKEN_RE.search(text, position)
    while match is not None:
        kind, position = match.lastgroup, match.end()
        if kind == "string":
            position, _, closed = _skip_string(text, match.group(kind), position)
            if not closed:
                return None
        elif kind == "comment":
            spans.append((match.start(), position))
        match = _TOKEN_RE.search(text, position)
    return spans


_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def physical_lines(text: str) -> List[str]:
    """The text's lines with their line breaks, split where libcst counts lines (CR, LF,
    CRLF: not form feeds or Unicode separators, unlike ``str.splitlines``)."""
    return _LINE_RE.findall(text)


def newer_than(features: Sequence[SyntaxFeature], python: Version) -> Optional[SyntaxFeature]:
    """The first construct (in the file's order) that ``python`` cannot parse."""
    for feature in sorted(features, key=lambda f: (f.loc.line, f.loc.col)):
        if tuple(feature.version) > python:
            return feature
    return None
