"""Finding Python files and reading them as text.

``find_files`` (and ``discover``) walk the paths given on the command line and return
the ``*.py`` files to lint, plus one-line reasons for the paths they could not use.
``read_source`` reads one file and decodes it the way Python would (PEP 263),
returning an error with a position instead of raising; ``decode_source`` does the
decoding for a caller that has read (and scanned) the bytes itself.
"""
from __future__ import annotations

import codecs
import io
import os
import re
import stat
import tempfile
import tokenize
from dataclasses import dataclass, field
from fnmatch import translate
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Set, Tuple

from celerylint.gitignore import GitIgnore
from celerylint.report import one_line

BINARY_ERROR = "binary file, not Python source"

# PEP 263: a coding cookie on line 1, or on line 2 when line 1 is blank or a comment.
_COOKIE_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BLANK_RE = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)")
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")


@dataclass
class Source:
    path: Path
    relpath: str
    text: Optional[str]
    error: Optional[str]
    error_line: int = 1
    error_col: int = 1


# --------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------

# A walk that has looked at this many directory entries is worth a note on stderr.
LARGE_WALK_ENTRIES = 100_000


@dataclass
class Discovery:
    files: List[Path] = field(default_factory=list)
    problems: List[Tuple[Path, str]] = field(default_factory=list)
    # Directories below a given one that are projects of their own: not entered.
    nested: List[Path] = field(default_factory=list)


def discover(
    paths: Sequence[Path],
    exclude: Sequence[str],
    extend_exclude: Sequence[str] = (),
    root: Optional[Path] = None,
    **options: Any,
) -> Tuple[List[Path], List[Tuple[Path, str]]]:
    """Return (python files, [(path, reason)]) for the given files and directories
    (see :func:`find_files` for ``options``)."""
    found = find_files(paths, exclude, extend_exclude, root, **options)
    return found.files, found.problems


def find_files(
    paths: Sequence[Path],
    exclude: Sequence[str],
    extend_exclude: Sequence[str] = (),
    root: Optional[Path] = None,
    force_exclude: bool = False,
    gitignore: Optional[GitIgnore] = None,
    starts_project: Optional[Callable[[str, Set[str]], bool]] = None,
    on_large: Optional[Callable[[Path], None]] = None,
) -> Discovery:
    """The ``*.py`` files under the given directories, and the given files (whatever
    their suffix).

    A path given explicitly is always used, even if a pattern excludes it, unless
    ``force_exclude`` (then it is skipped when it, or a directory above it inside
    ``root``, is excluded).  Below a given directory, entries matching ``exclude`` or
    ``extend_exclude`` (relative to ``root``), entries ``gitignore`` ignores, virtual
    environments and symlinked directories are skipped, and so are directories for
    which ``starts_project(directory, names of its entries)`` is true: they are
    listed in ``nested``.  ``on_large(path)`` is called once when the walk of ``path``
    passes LARGE_WALK_ENTRIES entries.
    """
    excluded = Exclusion(_clean_patterns([*exclude, *extend_exclude]), _abs_root(root))
    found = Discovery()
    for given in paths:
        path = Path(given)
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            found.problems.append((path, _strerror(exc)))
            continue
        except ValueError:  # an embedded NUL byte
            found.problems.append((path, "not a usable path"))
            continue
        if force_exclude and _explicit_excluded(path, excluded):
            continue
        if stat.S_ISDIR(mode):
            _Walk(excluded, gitignore, starts_project, on_large, found).run(path)
        elif stat.S_ISREG(mode):
            found.files.append(path)
        else:
            found.problems.append((path, "not a regular file or directory"))
    found.files = _sorted_unique(found.files)
    return found


class _Walk:
    """One walk below a given directory (symlinked directories are not entered)."""

    def __init__(self, excluded: Exclusion, gitignore: Optional[GitIgnore],
                 starts_project: Optional[Callable[[str, Set[str]], bool]],
                 on_large: Optional[Callable[[Path], None]], found: Discovery):
        self.excluded = excluded
        self.gitignore = gitignore
        self.starts_project = starts_project
        self.on_large = on_large
        self.found = found

    def run(self, top: Path) -> None:
        seen = 0
        stack = [(top, os.path.abspath(top), self.excluded.relative_path(top), True)]
        while stack:
            directory, absolute, relative, is_top = stack.pop()
            try:
                with os.scandir(directory) as scan:
                    entries = sorted(scan, key=lambda entry: entry.name)
            except OSError as exc:
                self.found.problems.append((directory, "cannot list directory: " + _strerror(exc)))
                continue
            if not is_top and self._skipped(directory, absolute, {e.name for e in entries}):
                continue
            before, seen = seen, seen + len(entries)
            if self.on_large is not None and before < LARGE_WALK_ENTRIES <= seen:
                self.on_large(top)
            ignored = self._gitignore_test(absolute)
            subdirs = []
            for entry in entries:
                name = entry.name
                child = directory / name
                child_relative = _join_relative(relative, name)
                if self.excluded(child, name, child_relative):
                    continue
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                    if ignored is not None and ignored(name, is_dir):
                        continue
                    if is_dir:
                        subdirs.append((child, os.path.join(absolute, name), child_relative, False))
                    elif name.endswith(".py") and entry.is_file():
                        self.found.files.append(child)
                except OSError:  # e.g. a symlink loop: not a file we can lint
                    continue
            stack.extend(reversed(subdirs))

    def _gitignore_test(self, directory: str) -> Optional[Callable[[str, bool], bool]]:
        """(name, is_dir) -> ignored, for the entries of ``directory``; None: nothing is."""
        if self.gitignore is None:
            return None
        relative = self.gitignore.relative(directory)
        if relative is None:
            return None
        matcher = self.gitignore.matcher(directory)
        if not matcher.patterns:
            return None
        prefix = relative + "/" if relative else ""
        return lambda name, is_dir: matcher.ignored(prefix + name, is_dir)

    def _skipped(self, directory: Path, absolute: str, names: Set[str]) -> bool:
        """A virtual environment, or the root of another project (listed in nested)."""
        if "pyvenv.cfg" in names and os.path.isfile(os.path.join(absolute, "pyvenv.cfg")):
            return True
        if self.starts_project is not None and self.starts_project(absolute, names):
            self.found.nested.append(directory)
            return True
        return False


def _join_relative(parent: Optional[str], name: str) -> Optional[str]:
    if parent is None:
        return None
    return name if parent == "." else parent + "/" + name


def _clean_patterns(patterns: Sequence[str]) -> List[str]:
    cleaned = []
    for pattern in patterns:
        pattern = pattern.strip().replace(os.sep, "/")
        while pattern.startswith("./"):
            pattern = pattern[2:]
        if len(pattern) > 1:
            pattern = pattern.rstrip("/")
        if pattern:
            cleaned.append(pattern)
    return cleaned


def _abs_root(root: Optional[Path]) -> str:
    try:
        return os.path.abspath(root if root is not None else os.getcwd())
    except OSError:  # the working directory was removed
        return os.path.abspath(os.sep)


class Exclusion:
    """Exclude patterns, compiled once, matched with ``fnmatch`` as ruff matches them: a
    pattern without "/" on the name of a file or directory ("build", "*_pb2.py": a
    directory's name, not the names above it, so the files of a template directory given
    explicitly are still found), one with "/" on the path relative to the root
    ("pkg/generated", "*/migrations/*"), an absolute one on the absolute path."""

    def __init__(self, patterns: List[str], root_dir: str):
        absolute = [p for p in patterns if os.path.isabs(p) or p.startswith("/")]
        relative = [p for p in patterns if p not in absolute]
        self.absolute = _compile(absolute)
        self.name = _compile([p for p in relative if "/" not in p])
        self.relative = _compile([p for p in relative if "/" in p])
        self.root_dir = root_dir

    def relative_path(self, path: Path) -> Optional[str]:
        return _relative_to(path, self.root_dir)

    def __call__(self, path: Path, name: str, relative: Optional[str]) -> bool:
        """True when a pattern matches; ``relative`` is ``path`` relative to the root."""
        if self.name is not None and self.name.match(os.path.normcase(name)):
            return True
        if (self.relative is not None and relative is not None
                and self.relative.match(os.path.normcase(relative))):
            return True
        if self.absolute is not None:
            absolute = _posix(os.path.abspath(path))
            return self.absolute.match(os.path.normcase(absolute)) is not None
        return False


def _compile(patterns: List[str]) -> Optional[re.Pattern[str]]:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{translate(os.path.normcase(p))})" for p in patterns))


def _explicit_excluded(path: Path, excluded: Exclusion) -> bool:
    """An explicit path is skipped if it, or a directory above it inside root, is excluded."""
    absolute = Path(os.path.abspath(path))
    relative = excluded.relative_path(absolute)
    if relative == ".":  # the root itself, whatever its name
        return False
    if excluded(absolute, absolute.name, relative):
        return True
    if relative is None:
        return False
    parent = absolute.parent
    for _ in relative.split("/")[:-1]:
        if excluded(parent, parent.name, excluded.relative_path(parent)) or _is_venv(parent):
            return True
        parent = parent.parent
    return False


def _is_venv(directory: Path) -> bool:
    return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))


def _sorted_unique(files: List[Path]) -> List[Path]:
    seen = set()
    unique = []
    for path in sorted(files, key=lambda p: p.as_posix()):
        key = _identity(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


# --------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------


def _identity(path: Path) -> object:
    """What makes two paths the same file: device and inode where the OS has them
    (one stat instead of realpath's stat per path component)."""
    try:
        status = os.stat(path)
    except OSError:
        return os.path.realpath(path)
    if status.st_ino == 0:  # file systems without inode numbers
        return os.path.realpath(path)
    return (status.st_dev, status.st_ino)


def _posix(path: str) -> str:
    return Path(path).as_posix()


def _relative_to(path: Path, base_dir: str) -> Optional[str]:
    """``path`` relative to ``base_dir`` with "/" separators, or None if outside it."""
    try:
        relative = os.path.relpath(os.path.abspath(path), base_dir)
    except (OSError, ValueError):  # no working directory; another drive on Windows
        return None
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return None
    return _posix(relative)


def _display_path(path: Path, base: Optional[Path]) -> str:
    """``path`` relative to ``base`` (default: the current directory), with ".." when it
    lies outside; through symlinks only when that makes it lie inside; as given when
    there is no current directory."""
    try:
        base_dir = os.path.abspath(base if base is not None else os.getcwd())
        relative = _relative_to(path, base_dir)
        if relative is None:
            relative = _relative_to(Path(os.path.realpath(path)), os.path.realpath(base_dir))
        if relative is None:
            relative = _posix(os.path.relpath(os.path.abspath(path), base_dir))
        return relative
    except (OSError, ValueError):
        return Path(path).as_posix()


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def read_source(path: Path, base: Optional[Path] = None) -> Source:
    """Read and decode one file; problems come back in ``error``, never raised."""
    relpath = _display_path(path, base)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return unreadable_source(path, relpath, exc)
    return decode_source(path, relpath, data)


def unreadable_source(path: Path, relpath: str, exc: OSError) -> Source:
    """The Source of a file that could not be read."""
    return Source(path, relpath, None, "cannot read: " + _strerror(exc))


def decode_source(path: Path, relpath: str, data: bytes) -> Source:
    """A file's bytes, already read, decoded as by :func:`read_source` (for callers that
    scan the bytes first); problems come back in ``error``, never raised."""
    try:
        text, error, line, col = _decode(data)
    except Exception as exc:  # a misbehaving codec must not stop the run
        text, error, line, col = None, "cannot decode: " + _one_line(exc), 1, 1
    return Source(path, relpath, text, error, line, col)


def _decode(data: bytes) -> Tuple[Optional[str], Optional[str], int, int]:
    """Return (text, error, error_line, error_col)."""
    if b"\0" in data:
        return None, BINARY_ERROR, 1, 1
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        cookie = _find_cookie(data)
        if cookie is not None:
            name, line, col = cookie
            try:
                codecs.lookup(name)
            except LookupError:
                return None, f"unknown encoding: {name}", line, col
            if data.startswith(codecs.BOM_UTF8):
                return None, f"UTF-8 byte order mark conflicts with coding cookie {name}", line, col
        # An undecodable first or second line: let the UTF-8 decode find the byte.
        encoding = "utf-8-sig"
    if encoding == "utf-8-sig":
        # Decode as plain UTF-8 after the BOM: utf-8-sig reports error offsets
        # relative to the text after the BOM, not to ``data``.
        encoding = "utf-8"
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line, col = _position(data[: exc.start], encoding)
        byte = data[exc.start]
        return None, f"cannot decode as {encoding}: invalid byte 0x{byte:02x}", line, col
    return text, None, 1, 1


def _find_cookie(data: bytes) -> Optional[Tuple[str, int, int]]:
    """The PEP 263 coding cookie as (name, line, col), or None."""
    readline = io.BytesIO(data).readline
    for number in (1, 2):
        raw = readline()
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        match = _COOKIE_RE.match(raw)
        if match:
            col = len(raw[: match.start(1)].decode("latin-1")) + 1
            return match.group(1).decode("latin-1"), number, col
        if not _BLANK_RE.match(raw):
            return None
    return None


def _position(prefix: bytes, encoding: str) -> Tuple[int, int]:
    """1-based (line, column in characters) just after ``prefix``."""
    text = prefix.decode(encoding, errors="replace")
    lines = _NEWLINE_RE.split(text)
    return len(lines), len(lines[-1]) + 1


def _strerror(exc: OSError) -> str:
    return exc.strerror or _one_line(exc)


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line, or its type's name when it has none."""
    return one_line(str(exc) or type(exc).__name__)


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


class FileChanged(Exception):
    """The file no longer holds what it held when it was read."""


def replace_file(path: Path, data: bytes, expected: Optional[bytes] = None) -> None:
    """Replace the file's content with ``data`` (or make the file, and its directory)
    through a temporary file beside it, so that an interrupted write leaves the old
    content whole; a symlink is written through, the permissions are kept.  With
    ``expected``, the file must still hold those bytes (FileChanged otherwise); OSError
    when it cannot be written."""
    target = os.path.realpath(path)
    directory = os.path.dirname(target) or "."
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".celerylint-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        try:
            mode: Optional[int] = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = None
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
        if expected is not None:
            with open(target, "rb") as current:
                if current.read() != expected:
                    raise FileChanged(target)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise


def source_encoding(data: bytes) -> str:
    """The encoding :func:`decode_source` decodes the bytes with, without the byte order
    mark's part ("utf-8" for a file that starts with one)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return "utf-8"
    return "utf-8" if encoding == "utf-8-sig" else encoding


# --------------------------------------------------------------------------
# flake8
# --------------------------------------------------------------------------


def decode_lines(lines: Sequence[str]) -> str:
    """Join the lines flake8 hands a plugin back into the file's text."""
    text = "".join(lines)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text
