"""Per-file facts cache, in ``.celerylint_cache/`` at the project root by default.

Where it is (``config.Config.cache_dir``): ``--cache-dir``, ``CELERYLINT_CACHE_DIR``,
the ``cache-dir`` key, else ``.celerylint_cache`` in the root of a project that was
found; no cache at all when no project was found and none of those is given.  It is
written only into a directory celerylint made: never through a symlink standing where
the directory should be, never into an existing directory that holds other files and
no ``CACHEDIR.TAG`` of celerylint's (:func:`cache_refusal`); ``celerylint clean``
(:func:`remove_cache`) removes only what celerylint writes there.

One JSON entry per file, named by a hash of the file's absolute path and of what
shapes its facts (linter version, a digest of the package's code, FACTS_VERSION,
display path, module name).  An entry holds the file's facts, a digest of its decoded text,
and its size and modification time:

- fast path: the size and ``mtime_ns`` still match -> the stored facts, no read;
- else the file is read and its text digest compared: same text -> the stored facts;
- a missing, corrupt (garbage, truncated or too deeply nested JSON, invalid UTF-8) or
  foreign-version entry, one whose fields have the wrong types or keys (see
  ``celerylint.facts.from_data``), and anything that is not a regular file (a symlink,
  a FIFO, a device, a directory) or is larger than ``MAX_ENTRY_BYTES`` is ignored and
  replaced after the file is parsed again.  Entries are opened without following a
  symlink and without blocking: nothing an entry holds can crash or hang a run.

A modification time less than two seconds old is not trusted for the fast path (a
write within the file system's timestamp granularity could go unseen), so such an
entry is always checked by digest.

Writes go to a temporary file in the cache directory, then ``os.replace``: readers
(parallel flake8 workers, concurrent runs) see an old entry or a new one, never a
half-written one, and a symlink in the entry's place is replaced, never written
through.  A cache directory that is a symlink (or not a directory) is not used at all:
a checked-out repository cannot point the linter's writes elsewhere.  Any OS error (a
read-only project, a full disk) turns the cache off for the rest of the run; the run
itself goes on.  Entries of deleted or renamed
files stay until the directory is removed.  Never pickle: entries are read back with
``celerylint.facts.from_data``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from types import FrameType

from celerylint import __version__
from celerylint.config import CACHE_DIR_NAME  # noqa: F401  (the default directory's name)
from celerylint.facts import FACTS_VERSION, FileFacts, from_data, to_data

CACHEDIR_TAG = (b"Signature: 8a477f597d28d172789f06886806bc55\n"
                b"# This file is a cache directory tag created by celerylint.\n"
                b"# For information about cache directory tags see https://bford.info/cachedir/\n")
ENTRY_FORMAT = 1
RECENT_SECONDS = 2.0
MAX_ENTRY_BYTES = 32 * 1024 * 1024
# Nesting json.loads may go through beyond the caller's frames: entries nest about 45 deep.
# The process-wide recursion limit may be far higher (celerylint.parse raises it for its
# big-stack thread), and json's C recursion would then overflow this thread's stack.
JSON_RECURSION = 250
ENTRY_KEYS = frozenset(("format", "context", "stamp", "digest", "full", "facts"))
READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
              | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def context_key(relpath: str, module: str, is_package: bool) -> str:
    """What, besides the text, shapes a file's facts."""
    return (f"celerylint {__version__}+{_extractor_fingerprint()}|facts {FACTS_VERSION}"
            f"|{relpath}|{module}|{int(is_package)}")


# Module-level memo, one value per process: the code that extracts facts is the code this
# process loaded, and it does not change while the process runs.
@lru_cache(maxsize=1)
def _extractor_fingerprint() -> str:
    """A digest of the package's code, so that an edited (development or patched)
    extractor never reads facts an older one wrote under the same version.  Every module
    of the package counts, not a list of the extraction's modules: a list goes stale
    when extraction starts using another module or moves into a package (a module
    missing from it would let edited code read facts the old code wrote)."""
    digest = hashlib.blake2b(digest_size=8)
    package = Path(__file__).parent
    for path in fingerprinted_files():
        digest.update(path.relative_to(package).as_posix().encode("utf-8", "surrogatepass"))
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"\0unreadable")
    return digest.hexdigest()


def fingerprinted_files() -> List[Path]:
    """The files whose bytes name the cache entries: every Python module of the package."""
    package = Path(__file__).parent
    return sorted(package.rglob("*.py"), key=lambda path: path.relative_to(package).as_posix())


class FactsCache:
    """The cache in one directory; ``None`` directory means switched off."""

    def __init__(self, directory: Path):
        self.directory: Optional[str] = os.path.abspath(directory)
        self._ready = False  # the directory exists and holds its marker files
        self._checked = False  # the directory is a real directory

    def _entry_path(self, path: Path, context: str) -> str:
        name = hashlib.blake2b(
            f"{os.path.abspath(path)}\0{context}".encode("utf-8", "surrogatepass"), digest_size=16
        ).hexdigest()
        return os.path.join(self.directory or "", name + ".json")

    def _read(self, path: Path, context: str) -> Optional[Dict[str, Any]]:
        if self.directory is None or not self._usable():
            return None
        data = _read_regular_file(self._entry_path(path, context), MAX_ENTRY_BYTES)
        if data is None:
            return None
        try:
            entry = _loads(data.decode("utf-8"))
        except (ValueError, RecursionError):  # garbage, invalid UTF-8, nested too deeply
            return None
        if (type(entry) is not dict or entry.keys() != ENTRY_KEYS
                or entry["format"] != ENTRY_FORMAT or entry["context"] != context
                or type(entry["facts"]) is not dict or type(entry["digest"]) is not str
                or type(entry["full"]) is not bool or not _is_stamp(entry["stamp"])):
            return None
        return entry

    def _usable(self) -> bool:
        """False (and the cache off) when the directory is a symlink or not a directory;
        a missing one is fine: it is made on the first store."""
        if self._checked:
            return True
        try:
            status = os.lstat(self.directory or "")
        except FileNotFoundError:
            return True
        except OSError:
            status = None
        if status is None or not stat.S_ISDIR(status.st_mode):
            self.directory = None
            return False
        self._checked = True
        return True

    def lookup_stat(self, path: Path, context: str, status: os.stat_result,
                    need_full: bool) -> Optional[Tuple[FileFacts, bool, str]]:
        """(facts, full, digest) when the entry's size and mtime match the file's stat."""
        entry = self._read(path, context)
        if entry is None or entry.get("stamp") != [status.st_size, status.st_mtime_ns]:
            return None
        return _facts(entry, need_full)

    def lookup_text(self, path: Path, context: str, digest: str,
                    need_full: bool) -> Optional[Tuple[FileFacts, bool, str]]:
        """(facts, full, digest) when the entry was made from the same text."""
        entry = self._read(path, context)
        if entry is None or entry.get("digest") != digest:
            return None
        return _facts(entry, need_full)

    def store(self, path: Path, context: str, status: Optional[os.stat_result],
              digest: str, facts: FileFacts, full: bool) -> None:
        if self.directory is None or not self._prepare():
            return
        stamp = None
        if status is not None and time.time() - status.st_mtime_ns / 1e9 > RECENT_SECONDS:
            stamp = [status.st_size, status.st_mtime_ns]
        entry = {"format": ENTRY_FORMAT, "context": context, "stamp": stamp, "digest": digest,
                 "full": full, "facts": to_data(facts)}
        try:
            data = json.dumps(entry, separators=(",", ":"), sort_keys=True).encode("utf-8")
        except (ValueError, RecursionError):  # not serialisable: such facts are not cached
            return
        if len(data) > MAX_ENTRY_BYTES:  # it would never be read back
            return
        self._write(self._entry_path(path, context), data)

    def _write(self, target: str, data: bytes) -> None:
        """Replace `target` (whatever it is: a symlink is replaced, not followed) with a
        regular file holding `data`."""
        try:
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                if not _replace(temporary, target):
                    _remove(temporary)
            except BaseException:
                _remove(temporary)
                raise
        except OSError:
            self.directory = None  # read-only or full: go on without a cache

    def _prepare(self) -> bool:
        if self._ready:
            return True
        directory = self.directory or ""
        if cache_refusal(directory) is not None:
            self.directory = None
            return False
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError:
            self.directory = None
            return False
        if not self._usable():
            return False
        for name, content in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", b"*\n")):
            target = os.path.join(directory, name)
            try:
                present = stat.S_ISREG(os.lstat(target).st_mode)
            except OSError:
                present = False
            if not present:
                self._write(target, content)
            if self.directory is None:
                return False
        self._ready = True
        return True


def _read_regular_file(path: str, limit: int) -> Optional[bytes]:
    """The bytes of a regular file of at most `limit` bytes, else None.  A symlink is
    not followed, a FIFO or a device is not waited on (opened non-blocking, then
    refused), and a file that changes size while read is refused."""
    try:
        handle = os.open(path, READ_FLAGS)
    except OSError:
        return None
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode) or status.st_size > limit:
            return None
        chunks = []
        wanted = status.st_size + 1  # one byte more than announced: growth shows
        while wanted > 0:
            chunk = os.read(handle, wanted)
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
    except OSError:
        return None
    finally:
        os.close(handle)
    data = b"".join(chunks) if len(chunks) != 1 else chunks[0]
    return data if len(data) == status.st_size else None


def _loads(text: str) -> Any:
    """json.loads with at most JSON_RECURSION levels of recursion (RecursionError past
    them, never a crashed process)."""
    previous = sys.getrecursionlimit()
    depth = 0
    frame: Optional[FrameType] = sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    wanted = depth + JSON_RECURSION
    if wanted >= previous:
        return json.loads(text)
    sys.setrecursionlimit(wanted)
    try:
        return json.loads(text)
    finally:
        sys.setrecursionlimit(previous)


def _replace(temporary: str, target: str) -> bool:
    """os.replace, once more after removing a directory standing where the target goes;
    False when that fails too (the cache stays on: other entries may be written)."""
    try:
        os.replace(temporary, target)
    except IsADirectoryError:
        shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(temporary, target)
        except OSError:
            return False
    return True


def _is_stamp(stamp: Any) -> bool:
    return stamp is None or (type(stamp) is list and len(stamp) == 2
                             and type(stamp[0]) is int and type(stamp[1]) is int)


def _facts(entry: Dict[str, Any], need_full: bool) -> Optional[Tuple[FileFacts, bool, str]]:
    """(facts, full, digest of the text they came from) of a usable entry."""
    full = entry["full"]
    if need_full and not full:
        return None
    try:
        facts = from_data(entry["facts"])
    except Exception:  # InvalidFacts, RecursionError: a damaged entry that parsed as JSON
        return None
    if not isinstance(facts, FileFacts) or facts.version != FACTS_VERSION:
        return None
    return facts, full, entry["digest"]


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# --------------------------------------------------------------------------- safety, clean

_OWN_NAMES = re.compile(r"[0-9a-f]+\.json|\.tmp-.*|CACHEDIR\.TAG|\.gitignore", re.DOTALL)


def cache_refusal(directory: str) -> Optional[str]:
    """Why the cache must not be written into ``directory``, or None.  A missing
    directory, or one that is not a directory at all, is no refusal: making it fails
    or succeeds, and a failure only switches the cache off."""
    try:
        status = os.lstat(directory)
    except OSError:
        return None
    if stat.S_ISLNK(status.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISDIR(status.st_mode) or _is_ours(directory):
        return None
    try:
        empty = not os.listdir(directory)
    except OSError:
        return None
    return None if empty else "it holds other files and no CACHEDIR.TAG written by celerylint"


def _is_ours(directory: str) -> bool:
    tag = os.path.join(directory, "CACHEDIR.TAG")
    try:
        if not stat.S_ISREG(os.lstat(tag).st_mode):
            return False
        with open(tag, "rb") as handle:
            content = handle.read(4096)
    except OSError:
        return False
    return content.startswith(CACHEDIR_TAG.split(b"\n", 1)[0]) and b"celerylint" in content


def remove_cache(directory: str) -> Optional[str]:
    """Remove the cache in ``directory``: the files celerylint writes there, then the
    directory if that left it empty.  Returns why something was left, or None."""
    try:
        status = os.lstat(directory)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot look at it: {exc.strerror or exc}"
    if stat.S_ISLNK(status.st_mode):
        return "not removed: it is a symbolic link"
    if not stat.S_ISDIR(status.st_mode):
        return "not removed: it is not a directory"
    if not _is_ours(directory):
        return "not removed: it is not a celerylint cache (no CACHEDIR.TAG written by celerylint)"
    try:
        with os.scandir(directory) as scan:
            for entry in scan:
                if (_OWN_NAMES.fullmatch(entry.name) and entry.name != "CACHEDIR.TAG"
                        and not entry.is_dir(follow_symlinks=False)):
                    os.unlink(entry.path)
        if os.listdir(directory) != ["CACHEDIR.TAG"]:
            return "left in place: it holds files celerylint did not write"
        os.unlink(os.path.join(directory, "CACHEDIR.TAG"))  # last: it marks the directory as ours
        os.rmdir(directory)
    except OSError as exc:
        return f"cannot remove it: {exc.strerror or exc}"
    return None
