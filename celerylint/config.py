"""Configuration: the project root, ``[tool.celerylint]``, CLI overrides, target version.

``find_root`` finds the project a path belongs to from the path itself (never from the
current directory); ``load_config`` reads that project's ``pyproject.toml`` (or
``--config``), checks every key and value, applies command-line overrides and settles
the Celery version the rules should assume.  Any problem raises ``ConfigError`` with a
one-line message naming the file and the key; the CLI prints it and exits 2.

``detect_celery_version`` reads (never executes) the project's dependency
declarations to find the lowest Celery version they allow.
"""
from __future__ import annotations

import configparser
import copy
import difflib
import fnmatch
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set,
                    Tuple)

from celerylint.report import one_line
from celerylint.tables import NEWEST_KNOWN, SUPPORTED_VERSIONS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

Version = Tuple[int, int]

DEFAULT_EXCLUDE = [
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", ".env", "env", "virtualenv",
    "__pycache__", "node_modules", "build", "dist", ".eggs", "*.egg-info", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".celerylint_cache", "site-packages",
    "*{{*",  # a template directory (cookiecutter, copier): not Python until rendered
]

CODE_LIST_KEYS = ("select", "ignore", "extend-select", "extend-ignore")
STRING_LIST_KEYS = ("exclude", "extend-exclude", "src")
BOOL_KEYS = ("respect-gitignore", "force-exclude")
EXTEND_KEYS = ("extend-select", "extend-ignore", "extend-exclude")
CORE_KEYS = (CODE_LIST_KEYS + STRING_LIST_KEYS + BOOL_KEYS
             + ("per-file-ignores", "target-version", "cache-dir", "baseline"))

CODE_RE = re.compile(r"[A-Z]{1,3}[0-9]{0,3}")
# ASCII digits only (\d also takes other scripts' digits), a few of them (a 5,000-digit
# number is not a version), nothing after the last one (fullmatch: no "5.3\n").
TARGET_VERSION_RE = re.compile(r"([0-9]{1,4})\.([0-9]{1,4})(?:\.([0-9]{1,6}))?")
MAX_PATH_TEXT = 4096

CACHE_DIR_NAME = ".celerylint_cache"
CACHE_DIR_ENV = "CELERYLINT_CACHE_DIR"
PYPROJECT = "pyproject.toml"
VCS_MARKERS = (".git", ".hg")


class ConfigError(Exception):
    """One-line message naming the offending key (or file); CLI prints it and exits 2."""


@dataclass
class OptionSpec:
    name: str  # kebab-case, e.g. "min-beat-interval"
    type: type  # int, float, str, bool, list (list of str)
    default: Any
    help: str = ""
    # The valid range of a number: at least ``at_least``, strictly above ``above``.
    at_least: Optional[float] = None
    above: Optional[float] = None

    def range_text(self) -> str:
        """The valid range, as the docs and error messages say it ("" if any)."""
        if self.above is not None:
            return f"> {_number_text(self.above)}"
        if self.at_least is not None:
            return f">= {_number_text(self.at_least)}"
        return ""


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass
class Config:
    root: Path
    config_file: Optional[Path] = None
    # How the root was found (see ProjectRoot.marker); "none": the paths given are the project.
    marker: str = "none"
    respect_gitignore: bool = True
    force_exclude: bool = False
    cache_dir: Optional[Path] = None  # None: no cache
    baseline: Optional[Path] = None  # the baseline file (absolute), None: no baseline
    select: List[str] = field(default_factory=lambda: ["CEL"])
    ignore: List[str] = field(default_factory=list)
    extend_select: List[str] = field(default_factory=list)
    extend_ignore: List[str] = field(default_factory=list)
    per_file_ignores: Dict[str, List[str]] = field(default_factory=dict)
    exclude: List[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: List[str] = field(default_factory=list)
    target_version: Version = NEWEST_KNOWN
    target_version_source: str = "default"
    src: List[str] = field(default_factory=lambda: ["."])
    options: Dict[str, Any] = field(default_factory=dict)
    # the lowest Python the project supports (requires-python), None when it says none
    python_version: Optional[Version] = None

    def is_selected(self, code: str) -> bool:
        """flake8's rule: the longest matching prefix wins; on a tie, ignore wins."""
        selected = _longest_prefix(code, self.select + self.extend_select)
        ignored = _longest_prefix(code, self.ignore + self.extend_ignore)
        return selected > ignored

    def is_ignored_for_path(self, code: str, relpath: str) -> bool:
        """True if a per-file-ignores pattern matching ``relpath`` lists a prefix of ``code``.

        ``relpath`` is relative to ``root``.  A pattern with a "/" is matched against the
        path and each of its parent directories ("tests/*", "tests/unit"); a pattern
        without one is matched against every path component ("test_*.py", "migrations").
        """
        path = _normalise_path(relpath)
        return any(
            _path_matches(pattern, path) and any(code.startswith(prefix) for prefix in prefixes)
            for pattern, prefixes in self.per_file_ignores.items()
        )


def _longest_prefix(code: str, prefixes: Iterable[str]) -> int:
    return max((len(prefix) for prefix in prefixes if code.startswith(prefix)), default=-1)


def _normalise_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.strip("/")


def _path_matches(pattern: str, path: str) -> bool:
    pattern = _normalise_path(pattern)
    parts = path.split("/")
    if "/" in pattern:
        candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    else:
        candidates = parts
    return any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates)


# --------------------------------------------------------------------------- the project root


@dataclass(frozen=True)
class ProjectRoot:
    """The project a path belongs to.

    ``marker`` says how it was found: "config" (the nearest pyproject.toml with a
    [tool.celerylint] table), "pyproject" (no such table: the nearest pyproject.toml),
    "vcs" (no pyproject.toml: the top of the git or Mercurial work tree), "pinned" (the
    caller chose the directory), or "none": no project, the paths given are the project
    and ``directory`` is the path itself (a file's directory).  ``directory`` is absolute
    and not resolved through symlinks: it is the directory the user named or sees."""

    directory: Path
    pyproject: Optional[Path] = None
    marker: str = "none"

    @property
    def found(self) -> bool:
        return self.marker != "none"


class RootFinder:
    """:func:`find_root` for many paths: each pyproject.toml is read once per finder."""

    def __init__(self) -> None:
        self._has_table: Dict[str, bool] = {}
        self._roots: Dict[str, ProjectRoot] = {}
        self._barriers = _search_barriers()

    def find(self, path: Any) -> ProjectRoot:
        absolute = os.path.abspath(path)
        start = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
        if start not in self._roots:
            self._roots[start] = self._search(start)
        return self._roots[start]

    def _search(self, start: str) -> ProjectRoot:
        nearest: Optional[str] = None
        directory: Optional[str] = start
        while directory is not None:
            candidate = os.path.join(directory, PYPROJECT)
            if os.path.isfile(candidate):
                if self.has_table(candidate):
                    return ProjectRoot(Path(directory), Path(candidate), "config")
                nearest = nearest or directory
            if _holds_vcs_marker(directory):
                break
            directory = self._parent(directory)
        if nearest is not None:
            return ProjectRoot(Path(nearest), Path(nearest, PYPROJECT), "pyproject")
        if directory is not None:
            return ProjectRoot(Path(directory), None, "vcs")
        return ProjectRoot(Path(start))

    def _parent(self, directory: str) -> Optional[str]:
        """The next directory to look in, or None: the search never climbs into the
        file system's root or the home directory (a pyproject.toml or a dotfiles
        repository there would make everything below it one project)."""
        parent = os.path.dirname(directory)
        if parent == directory or os.path.dirname(parent) == parent or parent in self._barriers:
            return None
        return parent

    def has_table(self, pyproject: str) -> bool:
        """Whether a pyproject.toml has [tool.celerylint]; ConfigError when it cannot be
        read as TOML (it might have one)."""
        if pyproject not in self._has_table:
            data = _read_toml(Path(pyproject))
            tool = data.get("tool")
            self._has_table[pyproject] = isinstance(tool, dict) and "celerylint" in tool
        return self._has_table[pyproject]

    def starts_project(self, directory: str, names: Iterable[str], marker: str) -> bool:
        """Whether ``directory`` (holding ``names``), met while walking a project found
        by ``marker``, is the root of a project of its own: the one find_root gives for
        the files below it.  A work tree (``.git``, ``.hg``) always is; a pyproject.toml
        is when it has [tool.celerylint] or the walked project has none."""
        names = set(names)
        if any(vcs in names for vcs in VCS_MARKERS):
            return True
        candidate = os.path.join(directory, PYPROJECT)
        if PYPROJECT not in names or not os.path.isfile(candidate):
            return False
        return marker != "config" or self.has_table(candidate)


def find_root(path: Any) -> ProjectRoot:
    """The project ``path`` (a file or directory, existing or not) belongs to.

    From the path's directory upwards: the nearest directory whose pyproject.toml has
    [tool.celerylint], else the nearest holding any pyproject.toml, else the top of the
    git or Mercurial work tree.  The search stops at the top of the work tree holding
    the path, and never looks in the home directory or the file system's root unless
    the path is that directory.  Nothing found: the path itself is the project
    (marker "none").  The current directory plays no part."""
    return RootFinder().find(path)


def project_at(directory: Any) -> ProjectRoot:
    """``directory`` as a project root, whatever lies above it (tests pin fixture trees)."""
    directory = Path(os.path.abspath(directory))
    pyproject = directory / PYPROJECT
    if pyproject.is_file():
        table = RootFinder().has_table(str(pyproject))
        return ProjectRoot(directory, pyproject, "config" if table else "pyproject")
    return ProjectRoot(directory, None, "pinned")


def _holds_vcs_marker(directory: str) -> bool:
    return any(os.path.lexists(os.path.join(directory, marker)) for marker in VCS_MARKERS)


def _search_barriers() -> Set[str]:
    home = os.path.expanduser("~")
    return {os.path.abspath(home)} if home != "~" and os.path.isabs(home) else set()


# --------------------------------------------------------------------------- loading


def load_config(
    start: Any,
    config_path: Optional[Path] = None,
    option_specs: Sequence[OptionSpec] = (),
    overrides: Optional[Dict[str, Any]] = None,
    known_codes: Optional[Sequence[str]] = None,
    project: Optional[ProjectRoot] = None,
    environ: Optional[Dict[str, str]] = None,
) -> Config:
    """Build the Config of the project ``start`` (a file or directory) belongs to.

    ``project``: that project when the caller has found it already (else
    ``find_root(start)``).  ``config_path`` (``--config``) is read instead of the
    project's pyproject.toml; the root still comes from the files.  ``overrides`` holds
    command-line values keyed by core key ("select", "extend-ignore", "target-version"
    as "X.Y", "cache-dir" as an absolute path, ...); lists may be given as
    comma-separated strings.  They replace the file's values, except extend-* which are
    appended to them.  With ``known_codes`` (the rules' codes), a code or prefix that
    matches none of them is an error.  ``environ`` is where CELERYLINT_CACHE_DIR is
    read (default: ``os.environ``).
    """
    if project is None:
        project = find_root(start)
    root = project.directory
    if config_path is not None:
        config_file: Optional[Path] = _checked_config_path(Path(config_path))
    else:
        config_file = project.pyproject
    specs = {spec.name: spec for spec in option_specs}
    known = tuple(known_codes) if known_codes is not None else None

    from_file: Dict[str, Any] = {}
    if config_file is not None:
        where = f"{_display(config_file)}: [tool.celerylint]"
        from_file = _check_table(_read_celerylint_table(config_file), specs, where, known)
    from_cli = _check_overrides(overrides or {}, specs, known)

    merged = dict(from_file)
    for key, value in from_cli.items():
        merged[key] = merged.get(key, []) + value if key in EXTEND_KEYS else value

    if "target-version" in from_cli:
        target_version, source = from_cli["target-version"], "cli"
    elif "target-version" in from_file:
        target_version, source = from_file["target-version"], "config"
    else:
        target_version, source = detect_celery_version(root) or (NEWEST_KNOWN, "default")
        target_version = _known_release(target_version)

    default_src = ["."] + (["src"] if (root / "src").is_dir() else [])
    return Config(
        python_version=detect_python_version(root),
        root=root,
        config_file=config_file,
        marker=project.marker,
        respect_gitignore=merged.get("respect-gitignore", True),
        force_exclude=merged.get("force-exclude", False),
        cache_dir=_cache_dir(
            from_cli, from_file, project, os.environ if environ is None else environ
        ),
        baseline=_baseline(from_cli, from_file, project),
        select=merged.get("select", ["CEL"]),
        ignore=merged.get("ignore", []),
        extend_select=merged.get("extend-select", []),
        extend_ignore=merged.get("extend-ignore", []),
        per_file_ignores=merged.get("per-file-ignores", {}),
        exclude=merged.get("exclude", list(DEFAULT_EXCLUDE)),
        extend_exclude=merged.get("extend-exclude", []),
        target_version=target_version,
        target_version_source=source,
        src=merged.get("src", default_src),
        options={
            name: merged[name] if name in merged else copy.deepcopy(spec.default)
            for name, spec in specs.items()
        },
    )


def _cache_dir(from_cli: Dict[str, Any], from_file: Dict[str, Any], project: ProjectRoot,
               environ: Mapping[str, str]) -> Optional[Path]:
    """--cache-dir, else CELERYLINT_CACHE_DIR (both relative to the current directory),
    else cache-dir (relative to the root), else .celerylint_cache in the root of a
    project that was found; without a project, no cache."""
    if "cache-dir" in from_cli:
        return Path(os.path.abspath(from_cli["cache-dir"]))
    from_environment = environ.get(CACHE_DIR_ENV, "")
    if from_environment:
        return Path(os.path.abspath(os.path.expanduser(from_environment)))
    if "cache-dir" in from_file:
        configured = os.path.expanduser(from_file["cache-dir"])
        return Path(os.path.abspath(os.path.join(project.directory, configured)))
    return project.directory / CACHE_DIR_NAME if project.found else None


def _baseline(from_cli: Dict[str, Any], from_file: Dict[str, Any],
              project: ProjectRoot) -> Optional[Path]:
    """--baseline (relative to the current directory, made absolute by the caller), else
    baseline (relative to the root)."""
    if "baseline" in from_cli:
        return Path(os.path.abspath(from_cli["baseline"]))
    if "baseline" in from_file:
        configured = os.path.expanduser(from_file["baseline"])
        return Path(os.path.abspath(os.path.join(project.directory, configured)))
    return None


def _checked_config_path(path: Path) -> Path:
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    if not path.is_file():
        raise ConfigError(f"{path}: config path is not a file")
    return Path(os.path.abspath(path))


def _display(path: Path) -> str:
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):  # outside the current directory, or it was removed
        return str(path)


# Tokens of TOML that matter for nesting: comments and strings (whose brackets do not
# count), and brackets.
_TOML_NESTING_TOKEN = re.compile(
    r'#[^\n]*|"""(?:[^\\]|\\.)*?"""|\'\'\'.*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|[\[\]{}]',
    re.DOTALL)
MAX_TOML_NESTING = 100


class TomlTooDeep(ValueError):
    """Arrays or inline tables nested more than MAX_TOML_NESTING deep."""


def _load_toml_text(text: str) -> Dict[str, Any]:
    """tomllib.loads, refusing deep nesting before parsing: the parser recurses, and
    how deep it gets depends on the recursion limit of the moment (parsing Python
    raises it), so the same file must not parse in one process and fail in another."""
    depth = 0
    for token in _TOML_NESTING_TOKEN.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_TOML_NESTING:
                raise TomlTooDeep("arrays or tables nested too deeply")
        elif char in "]}":
            depth = max(depth - 1, 0)
    data: Dict[str, Any] = tomllib.loads(text)
    return data


def _read_toml(path: Path) -> Dict[str, Any]:
    """A TOML file's data; every way it can fail is a one-line ConfigError."""
    try:
        return _load_toml_text(path.read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        raise ConfigError(f"{_display(path)}: cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{_display(path)}: not valid UTF-8 (byte {exc.object[exc.start]:#04x} on line {line})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_display(path)}: invalid TOML: {one_line(exc)}") from None
    except (RecursionError, TomlTooDeep):
        raise ConfigError(
            f"{_display(path)}: invalid TOML: arrays or tables nested too deeply"
        ) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        reason = "a number has too many digits" if "digits" in str(exc) else one_line(exc)
        raise ConfigError(f"{_display(path)}: invalid TOML: {reason}") from None


def _read_celerylint_table(path: Path) -> Dict[str, Any]:
    data = _read_toml(path)
    tool = data.get("tool")
    table = tool.get("celerylint", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(
            f"{_display(path)}: [tool.celerylint] must be a table, got {_show(table)}"
        )
    return table


def _check_table(table: Dict[str, Any], specs: Dict[str, OptionSpec], where: str,
                 known: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    known_keys = list(CORE_KEYS) + list(specs)
    checked = {}
    for key, value in table.items():
        if key not in known_keys:
            raise ConfigError(f"{where} unknown key {_show(key)}{_suggestion(key, known_keys)}")
        checked[key] = _check_value(key, value, specs, f"{where} '{key}'", known)
    return checked


def _check_overrides(overrides: Dict[str, Any], specs: Dict[str, OptionSpec],
                     known: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    checked = {}
    for key, value in overrides.items():
        if key not in CORE_KEYS and key not in specs:
            raise ValueError(f"unknown override key {key!r}")  # a bug in the caller
        if isinstance(value, str) and key in CODE_LIST_KEYS + STRING_LIST_KEYS:
            value = [item.strip() for item in value.split(",") if item.strip()]
        checked[key] = _check_value(key, value, specs, f"--{key}", known)
    return checked


def _suggestion(key: str, known: List[str]) -> str:
    if key.replace("_", "-") in known:
        return f", did you mean '{key.replace('_', '-')}'?"
    close = difflib.get_close_matches(key, known, n=1)
    return f", did you mean '{close[0]}'?" if close else ""


def _show(value: Any) -> str:
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # nested too deeply; too many digits
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _check_value(key: str, value: Any, specs: Dict[str, OptionSpec], label: str,
                 known: Optional[Sequence[str]] = None) -> Any:
    if key in CODE_LIST_KEYS:
        return _check_codes(value, label, known)
    if key in STRING_LIST_KEYS:
        return _check_string_list(value, label)
    if key in BOOL_KEYS:
        if not isinstance(value, bool):
            raise ConfigError(f"{label} must be true or false, got {_show(value)}")
        return value
    if key == "cache-dir":
        return _check_path_text(value, label)
    if key == "baseline":
        return _check_path_text(value, label, "a file")
    if key == "per-file-ignores":
        if not isinstance(value, dict):
            raise ConfigError(f"{label} must be a table of glob = [codes], got {_show(value)}")
        return {
            pattern: _check_codes(codes, f"{label} entry {_show(pattern)}", known)
            for pattern, codes in value.items()
        }
    if key == "target-version":
        return _parse_target_version(value, label)
    return _check_option(value, specs[key], label)


def _check_path_text(value: Any, label: str, what: str = "a directory") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{label} must be a non-empty string ({what}), got {_show(value)}")
    if "\0" in value or len(value) > MAX_PATH_TEXT:
        raise ConfigError(f"{label} is not a usable path, got {_show(value)}")
    return value


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _check_string_list(value: Any, label: str) -> List[str]:
    if not _is_string_list(value):
        raise ConfigError(f"{label} must be a list of strings, got {_show(value)}")
    return list(value)


def _check_codes(value: Any, label: str, known: Optional[Sequence[str]] = None) -> List[str]:
    codes = _check_string_list(value, label)
    for code in codes:
        if not CODE_RE.fullmatch(code):
            raise ConfigError(
                f"{label} has an invalid code {_show(code)} "
                "(expected a code such as CEL104 or a prefix such as CEL1)"
            )
        if known is not None and not any(rule_code.startswith(code) for rule_code in known):
            raise ConfigError(
                f"{label} has an unknown code or prefix {_show(code)}: no rule's code starts "
                "with it (`celerylint rules` lists them)"
            )
    return codes


def _known_release(version: Version) -> Version:
    """A detected version as the release whose tables apply: the newest known release up
    to it (``celery>=5.3.4`` is 5.3), the oldest known below them all, the newest known
    above them all (a Celery newer than the linter)."""
    older = [known for known in SUPPORTED_VERSIONS if known <= version]
    return older[-1] if older else SUPPORTED_VERSIONS[0]


def _parse_target_version(value: Any, label: str) -> Version:
    """A Celery release the linter has tables for (any patch of it: "5.3" or "5.3.6")."""
    match = TARGET_VERSION_RE.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ConfigError(f'{label} must be a version string like "5.3", got {_show(value)}')
    version = int(match.group(1)), int(match.group(2))
    if version not in SUPPORTED_VERSIONS:
        known = ", ".join(f"{major}.{minor}" for major, minor in SUPPORTED_VERSIONS)
        raise ConfigError(f"{label}: no tables for Celery {version[0]}.{version[1]} "
                          f"(known releases: {known})")
    return version


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


OPTION_CHECKS: Dict[type, Tuple[Callable[[Any], bool], str]] = {
    bool: (lambda value: isinstance(value, bool), "true or false"),
    int: (_is_int, "an integer"),
    float: (_is_number, "a number"),
    str: (lambda value: isinstance(value, str), "a string"),
    list: (_is_string_list, "a list of strings"),
}


def _check_option(value: Any, spec: OptionSpec, label: str) -> Any:
    is_valid, expected = OPTION_CHECKS.get(
        spec.type, (lambda value: isinstance(value, spec.type), f"of type {spec.type.__name__}")
    )
    if not is_valid(value):
        raise ConfigError(f"{label} must be {expected}, got {_show(value)}")
    too_small = ((spec.above is not None and not value > spec.above)
                 or (spec.at_least is not None and not value >= spec.at_least))
    if spec.type in (int, float) and too_small:
        raise ConfigError(f"{label} must be {spec.range_text()}, got {_show(value)}")
    if spec.type is float:
        return float(value)
    return list(value) if spec.type is list else value


# --------------------------------------------------------------------------- detection

# One version constraint: optional operator, then a version whose first two numbers
# we keep; the rest of the version (".4", "rc1", ".*") is swallowed.
CONSTRAINT_RE = re.compile(r"(===|==|~=|>=|<=|!=|>|<|\^|~|=)?\s*v?(\d+)(?:\.(\d+|\*))?[\w.*+!-]*",
                           re.ASCII)  # \d: ASCII digits only
LOWER_BOUND_OPERATORS = {None, "=", "==", "===", "~=", ">=", ">", "^", "~"}
REQUIREMENT_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")


def detect_celery_version(root: Path) -> Optional[Tuple[Version, str]]:
    """The lowest Celery (major, minor) the project's declarations allow, and the file
    ("/"-separated, relative to ``root``) it came from.  Lock files come first, then
    requirements files, pyproject.toml and setup.cfg; the first file that pins a lower
    bound wins.  Unreadable or malformed files are skipped; setup.py is never read."""
    root = Path(root)
    for path, read_versions in _declaration_files(root):
        try:
            if not path.is_file():
                continue
            versions = [version for version in read_versions(path) if version is not None]
        except (OSError, ValueError, configparser.Error, RecursionError):
            continue
        if versions:
            return min(versions), path.relative_to(root).as_posix()
    return None


def _declaration_files(
    root: Path,
) -> Iterator[Tuple[Path, Callable[[Path], Iterable[Optional[Version]]]]]:
    for name in ("poetry.lock", "uv.lock", "pdm.lock"):
        yield root / name, _versions_from_toml_lock
    yield root / "Pipfile.lock", _versions_from_pipfile_lock
    for path in _requirements_files(root):
        yield path, _versions_from_requirements
    yield root / "pyproject.toml", _versions_from_pyproject
    yield root / "setup.cfg", _versions_from_setup_cfg


def _requirements_files(root: Path) -> List[Path]:
    try:
        top = sorted(
            root.glob("requirements*.txt"), key=lambda p: (p.name != "requirements.txt", p.name)
        )
        nested = sorted((root / "requirements").glob("*.txt"))
    except OSError:
        return []
    return top + nested


def _is_celery(name: Any) -> bool:
    return isinstance(name, str) and re.sub(r"[-_.]+", "-", name).lower() == "celery"


def _lowest_allowed_version(specifier: str) -> Optional[Version]:
    """Lowest (major, minor) a PEP 440 or Poetry specifier allows, or None if it sets
    no lower bound ("<6", "*", "")."""
    lowest_per_alternative = []
    for alternative in specifier.split("||"):
        bounds = [
            (int(match.group(2)), int(match.group(3)) if match.group(3) not in (None, "*") else 0)
            for match in CONSTRAINT_RE.finditer(alternative)
            if match.group(1) in LOWER_BOUND_OPERATORS
        ]
        if not bounds:
            return None
        lowest_per_alternative.append(max(bounds))
    return min(lowest_per_alternative)


def _requirement_version(line: str) -> Optional[Version]:
    """Version from one PEP 508 / requirements.txt line, if it names celery."""
    line = re.sub(r"(^|\s)#.*", "", line).split(";")[0]
    line = re.split(r"\s--?[A-Za-z]", line)[0]  # drop "--hash=..." and other options
    match = REQUIREMENT_RE.match(line)
    if line.lstrip().startswith("-") or not match or not _is_celery(match.group(1)):
        return None
    specifier = match.group(2)
    return None if specifier.startswith("@") else _lowest_allowed_version(specifier)


def _read_lines(path: Path) -> List[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return text.replace("\\\r\n", " ").replace("\\\n", " ").splitlines()


def _load_toml(path: Path) -> Dict[str, Any]:
    return _load_toml_text(path.read_bytes().decode("utf-8-sig"))


def _table(data: Any, *keys: str) -> Dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _strings(value: Any) -> List[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _versions_from_toml_lock(path: Path) -> Iterator[Optional[Version]]:
    packages = _load_toml(path).get("package")
    for package in packages if isinstance(packages, list) else []:
        if isinstance(package, dict) and _is_celery(package.get("name")):
            version = package.get("version")
            yield _lowest_allowed_version(f"=={version}") if isinstance(version, str) else None


def _versions_from_pipfile_lock(path: Path) -> Iterator[Optional[Version]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    for section in ("default", "develop"):
        for name, entry in _table(data, section).items():
            if (
                _is_celery(name)
                and isinstance(entry, dict)
                and isinstance(entry.get("version"), str)
            ):
                yield _lowest_allowed_version(entry["version"])


def _versions_from_requirements(path: Path) -> Iterator[Optional[Version]]:
    for line in _read_lines(path):
        yield _requirement_version(line)


def _versions_from_pyproject(path: Path) -> Iterator[Optional[Version]]:
    data = _load_toml(path)
    project = _table(data, "project")
    requirements = _strings(project.get("dependencies"))
    for extra in _table(project, "optional-dependencies").values():
        requirements += _strings(extra)
    for group in _table(data, "dependency-groups").values():
        requirements += _strings(group)
    for requirement in requirements:
        yield _requirement_version(requirement)

    poetry = _table(data, "tool", "poetry")
    dependency_tables = [_table(poetry, "dependencies"), _table(poetry, "dev-dependencies")]
    dependency_tables += [
        _table(group, "dependencies") for group in _table(poetry, "group").values()
    ]
    for dependencies in dependency_tables:
        for name, constraint in dependencies.items():
            if _is_celery(name):
                yield _poetry_constraint_version(constraint)


def _poetry_constraint_version(constraint: Any) -> Optional[Version]:
    """celery = "^5.3", {version = "^5.3", extras = [...]}, or a list of those."""
    if isinstance(constraint, dict):
        constraint = constraint.get("version")
    if isinstance(constraint, str):
        return _lowest_allowed_version(constraint)
    if isinstance(constraint, list) and constraint:
        versions = [_poetry_constraint_version(item) for item in constraint]
        known = [version for version in versions if version is not None]
        return min(known) if len(known) == len(versions) else None
    return None


def _versions_from_setup_cfg(path: Path) -> Iterator[Optional[Version]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(path.read_text(encoding="utf-8", errors="replace"), source=str(path))
    values = [parser.get("options", "install_requires", fallback="")]
    if parser.has_section("options.extras_require"):
        values += [value for _, value in parser.items("options.extras_require")]
    for value in values:
        # setuptools also allows ";" between requirements; a marker after ";" names
        # no package, so splitting on it never loses a celery requirement.
        for requirement in re.split(r"[\n;]", value):
            yield _requirement_version(requirement)


def detect_python_version(root: Path) -> Optional[Version]:
    """The lowest Python (major, minor) the project says it supports: ``requires-python``
    in pyproject.toml, Poetry's ``python`` dependency, or setup.cfg's ``python_requires``;
    None when none of them sets a lower bound.  Malformed files are skipped."""
    root = Path(root)
    readers: List[Tuple[Path, Callable[[Path], Optional[str]]]] = [
        (root / "pyproject.toml", _python_from_pyproject),
        (root / "setup.cfg", _python_from_setup_cfg)]
    for path, read in readers:
        try:
            if not path.is_file():
                continue
            specifier = read(path)
        except (OSError, ValueError, configparser.Error, RecursionError):
            continue
        if specifier:
            version = _lowest_allowed_version(specifier)
            if version is not None:
                return version
    return None


def _python_from_pyproject(path: Path) -> Optional[str]:
    data = _load_toml(path)
    requires = _table(data, "project").get("requires-python")
    if isinstance(requires, str):
        return requires
    python = _table(data, "tool", "poetry", "dependencies").get("python")
    return python if isinstance(python, str) else None


def _python_from_setup_cfg(path: Path) -> Optional[str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(path.read_text(encoding="utf-8", errors="replace"), source=str(path))
    return parser.get("options", "python_requires", fallback=None)
