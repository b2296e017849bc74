"""Which paths git ignores: ``.gitignore`` files and ``.git/info/exclude``, read as git reads them.

Rules apply only inside a git work tree, from its top (the directory holding ``.git``):
the top's ``info/exclude``, then every ``.gitignore`` from the top down to the directory
of the path; a later pattern wins over an earlier one, a deeper file over a higher one.
Patterns follow gitignore(5) and git's own wildmatch: ``!`` re-includes, a leading or
middle ``/`` anchors a pattern to its file's directory, a trailing ``/`` matches only
directories, ``**`` spans directories, ``[...]`` classes, backslash escapes, trailing
spaces dropped unless escaped.  Matching is done on the UTF-8 bytes of the path, as git
does (``?`` is one byte).  A pattern git can never match (an unclosed ``[``, a trailing
backslash) never matches here either.

Not read, on purpose: git's global excludes file (``core.excludesFile``), which lives on
one machine and not in the project (the files checked must not depend on the machine);
``.gitignore`` files that are symlinks (git refuses them too).  Whether a file is tracked
is not known without running git, so a tracked file that matches a pattern is ignored
as well.

A directory that is ignored is not entered (``files.discover`` does that), so, as in git,
nothing below it can be re-included.
"""
from __future__ import annotations

import os
import re
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

GITIGNORE = ".gitignore"
# A path is matched as  <path relative to the top> NUL <d|f>: NUL never occurs in a
# path, and the type letter lets a directory-only pattern demand "d".
_DIR, _FILE = b"\0d", b"\0f"
_ANY_BYTE = b"[^\0]"
_NOT_SLASH = b"[^/\0]"


def work_tree_top(directory: str) -> Optional[str]:
    """The nearest directory at or above ``directory`` that holds ``.git`` (a directory,
    or the file a worktree or submodule has), else None.  ``directory`` is absolute."""
    current = directory
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _git_dir(top: str) -> Optional[str]:
    """The repository directory whose ``info/exclude`` applies: ``.git`` itself, or for a
    worktree the common directory its ``gitdir:`` file leads to."""
    dot_git = os.path.join(top, ".git")
    if os.path.isdir(dot_git):
        return dot_git
    text = _read(dot_git, 4096)
    if text is None or not text.startswith(b"gitdir:"):
        return None
    git_dir = os.path.join(top, os.fsdecode(text[len(b"gitdir:"):].strip()))
    common = _read(os.path.join(git_dir, "commondir"), 4096)
    if common is not None and common.strip():
        return os.path.join(git_dir, os.fsdecode(common.strip()))
    return git_dir


def _read(path: str, limit: int = 1 << 20) -> Optional[bytes]:
    """The bytes of a regular file that is not a symlink (at most ``limit``), else None."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except (OSError, ValueError):
        return None
    try:
        with os.fdopen(descriptor, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return None


# --------------------------------------------------------------------------- patterns


class Pattern(NamedTuple):
    source: bytes  # a regex for  <subject> NUL <d|f>
    negated: bool
    # True: the subject is the entry's name (a pattern without "/" matches at any depth
    # below its file, and every entry it is asked about lies below it); False: the
    # subject is the path from the top, and the regex starts with the file's directory.
    on_name: bool


def parse(data: bytes, base: bytes) -> List[Pattern]:
    """The patterns of a gitignore file whose directory is ``base`` (relative to the
    top, b"" for the top itself), in file order."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    patterns = []
    for line in data.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line or line.startswith(b"#"):
            continue
        compiled = _pattern(_trim_trailing_spaces(line), base)
        if compiled is not None:
            patterns.append(compiled)
    return patterns


def _trim_trailing_spaces(line: bytes) -> bytes:
    """git's trim_trailing_spaces: drop the final run of spaces unless escaped."""
    last_space = None
    index = 0
    while index < len(line):
        char = line[index:index + 1]
        if char == b" ":
            if last_space is None:
                last_space = index
        elif char == b"\\":
            index += 1
            if index >= len(line):
                return line
            last_space = None
        else:
            last_space = None
        index += 1
    return line if last_space is None else line[:last_space]


def _pattern(line: bytes, base: bytes) -> Optional[Pattern]:
    negated = line.startswith(b"!")
    if negated:
        line = line[1:]
    directory_only = line.endswith(b"/")
    if directory_only:
        line = line[:-1]
    if not line:
        return None
    anchored = b"/" in line
    if line.startswith(b"/"):
        line = line[1:]
    body = _wildmatch(line, pathname=anchored)
    if body is None:
        return None
    kind = re.escape(_DIR) if directory_only else b"\\x00[df]"
    if not anchored:
        return Pattern(body + kind, negated, True)
    prefix = re.escape(base + b"/") if base else b""
    return Pattern(prefix + body + kind, negated, False)


def _wildmatch(pattern: bytes, pathname: bool) -> Optional[bytes]:
    """A regex for git's wildmatch of ``pattern`` (under WM_PATHNAME when ``pathname``;
    a basename pattern is matched on one path component, so neither ``*`` nor ``**``
    crosses a "/"), or None when the pattern can never match."""
    out: List[bytes] = []
    index, length = 0, len(pattern)
    while index < length:
        char = pattern[index:index + 1]
        if char == b"\\":
            if index + 1 >= length:
                return None
            out.append(re.escape(pattern[index + 1:index + 2]))
            index += 2
        elif char == b"?":
            out.append(_NOT_SLASH)
            index += 1
        elif char == b"*":
            end = index
            while end < length and pattern[end:end + 1] == b"*":
                end += 1
            after = pattern[end:end + 1]
            bounded = (end - index >= 2 and pathname
                       and (index == 0 or pattern[index - 1:index] == b"/"))
            if bounded and end == length:
                out.append(_ANY_BYTE + b"*")
                index = end
            elif bounded and after == b"/":
                out.append(b"(?:" + _ANY_BYTE + b"*/)?")
                index = end + 1
            elif bounded and pattern[end:end + 2] == b"\\/":
                out.append(_ANY_BYTE + b"*")  # no empty match here: git skips only a plain "/"
                index = end
            else:
                out.append(_NOT_SLASH + b"*")
                index = end
        elif char == b"[":
            parsed = _bracket(pattern, index + 1)
            if parsed is None:
                return None
            matching, index = parsed
            out.append(_byte_class(matching))
        else:
            out.append(re.escape(char))
            index += 1
    return b"".join(out)


_CLASSES: Dict[bytes, Callable[[int], bool]] = {
    b"alnum": lambda c: chr(c).isascii() and chr(c).isalnum(),
    b"alpha": lambda c: chr(c).isascii() and chr(c).isalpha(),
    b"blank": lambda c: c in (0x20, 0x09),
    b"cntrl": lambda c: c < 0x20 or c == 0x7F,
    b"digit": lambda c: 0x30 <= c <= 0x39,
    b"graph": lambda c: 0x21 <= c <= 0x7E,
    b"lower": lambda c: 0x61 <= c <= 0x7A,
    b"print": lambda c: 0x20 <= c <= 0x7E,
    b"punct": lambda c: 0x21 <= c <= 0x7E and not chr(c).isalnum(),
    b"space": lambda c: c in (0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D),
    b"upper": lambda c: 0x41 <= c <= 0x5A,
    b"xdigit": lambda c: chr(c) in "0123456789abcdefABCDEF",
}


def _bracket(pattern: bytes, index: int) -> Optional[Tuple[List[int], int]]:
    """The bytes a ``[...]`` starting after its "[" matches (never "/"), and the index
    after its "]"; None when it is unclosed or names an unknown class (wildmatch's
    abort: the pattern cannot match)."""
    def at(position: int) -> int:
        return pattern[position] if position < len(pattern) else 0

    matched = [False] * 256
    char = at(index)
    negated = char in (ord("!"), ord("^"))
    if negated:
        index += 1
        char = at(index)
    previous = 0
    while True:
        if not char:
            return None
        if char == ord("\\"):
            index += 1
            char = at(index)
            if not char:
                return None
            matched[char] = True
        elif char == ord("-") and previous and at(index + 1) and at(index + 1) != ord("]"):
            index += 1
            char = at(index)
            if char == ord("\\"):
                index += 1
                char = at(index)
                if not char:
                    return None
            for value in range(previous, char + 1):
                matched[value] = True
            char = 0
        elif char == ord("[") and at(index + 1) == ord(":"):
            start = index + 2
            end = start
            while at(end) and at(end) != ord("]"):
                end += 1
            if not at(end):
                return None
            if end - start - 1 < 0 or pattern[end - 1] != ord(":"):
                matched[ord("[")] = True  # not a "[:class:]": a plain "["
                index = start - 2
                char = ord("[")
            else:
                test = _CLASSES.get(pattern[start:end - 1])
                if test is None:
                    return None
                for value in range(256):
                    if test(value):
                        matched[value] = True
                index = end
                char = 0
        else:
            matched[char] = True
        previous = char
        index += 1
        char = at(index)
        if char == ord("]"):
            break
    members = [value for value in range(1, 256)
               if matched[value] != negated and value != ord("/")]
    return members, index + 1


def _byte_class(members: List[int]) -> bytes:
    if not members:
        return b"(?!)"
    return b"[" + b"".join(b"\\x%02x" % value for value in members) + b"]"


# --------------------------------------------------------------------------- matching


class Matcher:
    """The patterns that apply to the entries of one directory.  Name patterns and path
    patterns are compiled into one regex each, alternatives in reverse order, so the
    first alternative that matches is the last pattern that does (git's rule)."""

    def __init__(self, patterns: List[Pattern]):
        self.patterns = _without_repeats(patterns)
        self._compiled: Optional[List[Tuple[Optional[re.Pattern[bytes]], List[int]]]] = None

    def ignored(self, relative: str, is_dir: bool) -> bool:
        """``relative``: the path from the work tree top, "/"-separated."""
        if not self.patterns:
            return False
        if self._compiled is None:
            self._compiled = [self._compile(on_name) for on_name in (True, False)]
        path = os.fsencode(relative)
        kind = _DIR if is_dir else _FILE
        deciding = -1
        for (regex, index), subject in zip(self._compiled, (path[path.rfind(b"/") + 1:], path)):
            match = regex.fullmatch(subject + kind) if regex is not None else None
            if match is not None and match.lastindex is not None:
                # Each alternative is one group holding no other: lastindex names it.
                deciding = max(deciding, index[match.lastindex - 1])
        return deciding >= 0 and not self.patterns[deciding].negated

    def _compile(self, on_name: bool) -> Tuple[Optional[re.Pattern[bytes]], List[int]]:
        chosen = [(i, p) for i, p in enumerate(self.patterns) if p.on_name == on_name][::-1]
        if not chosen:
            return None, []
        regex = re.compile(b"|".join(b"(" + pattern.source + b")" for _, pattern in chosen))
        return regex, [i for i, _ in chosen]


def _without_repeats(patterns: List[Pattern]) -> List[Pattern]:
    """An earlier copy of a pattern can never decide: the later one matches the same."""
    last = {pattern: index for index, pattern in enumerate(patterns)}
    return [pattern for index, pattern in enumerate(patterns) if last[pattern] == index]


class GitIgnore:
    """The ignore rules of one git work tree, read lazily, one directory at a time."""

    def __init__(self, top: str):
        self.top = top
        self._matchers: Dict[str, Matcher] = {}

    def relative(self, path: str) -> Optional[str]:
        """``path`` (absolute) relative to the top with "/" separators; None outside."""
        relative = os.path.relpath(path, self.top)
        if relative == os.curdir:
            return ""
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            return None
        return relative.replace(os.sep, "/")

    def ignored(self, path: str, is_dir: bool) -> bool:
        """True when the rules of the directories above ``path`` ignore it.  Its parent
        directories are not looked at: a walk does not enter an ignored directory."""
        relative = self.relative(path)
        if not relative:
            return False
        return self.matcher(os.path.dirname(path)).ignored(relative, is_dir)

    def matcher(self, directory: str) -> Matcher:
        """The rules for the entries of ``directory`` (absolute, at or below the top)."""
        found = self._matchers.get(directory)
        if found is not None:
            return found
        relative = self.relative(directory)
        if relative is None:
            matcher = Matcher([])
        elif relative == "":
            patterns: List[Pattern] = []
            git_dir = _git_dir(self.top)
            if git_dir is not None:
                patterns += parse(_read(os.path.join(git_dir, "info", "exclude")) or b"", b"")
            patterns += parse(_read(os.path.join(directory, GITIGNORE)) or b"", b"")
            matcher = Matcher(patterns)
        else:
            parent = self.matcher(os.path.dirname(directory))
            own = _read(os.path.join(directory, GITIGNORE))
            matcher = (Matcher(parent.patterns + parse(own, os.fsencode(relative)))
                       if own else parent)
        self._matchers[directory] = matcher
        return matcher
