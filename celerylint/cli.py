"""The ``celerylint`` command: check, clean, rule, rules.

Every failure the command can meet ends as one line on stderr and exit code 2, never a
traceback: bad arguments or configuration, a removed working directory, an output that
cannot be written (a full disk, a closed stdout).  A reader that stops reading (``|
head``) ends the run quietly, with exit code 2.  Text the output's encoding cannot
represent is backslash-escaped rather than lost.
"""
from __future__ import annotations

import argparse
import gc
import os
import re
import sys
from pathlib import Path
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Dict, List, NoReturn, Optional, Sequence

from celerylint import __version__
from celerylint.baseline import BaselineError
from celerylint.config import CACHE_DIR_ENV, Config, ConfigError, ProjectRoot, load_config
from celerylint.report import escape_control, one_line

if TYPE_CHECKING:
    from celerylint.baseline import Entry
    from celerylint.engine import Planned, RunResult
    from celerylint.rule import Finding

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMAT_NAMES = ["text", "json", "sarif", "github"]


class OutputError(Exception):
    """The output could not be written: one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line."""

    def error(self, message: str) -> NoReturn:
        _error(f"{escape_control(one_line(message))} (see `{self.prog} --help`)")
        raise SystemExit(EXIT_ERROR)


def _job_count(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,6}", text):
        raise argparse.ArgumentTypeError(f"expected a number of processes, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="celerylint", description="A static linter for Celery code and settings.")
    parser.add_argument("--version", action="version", version=f"celerylint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = commands.add_parser("check", help="lint files and directories")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="default: .")
    check.add_argument("--format", choices=FORMAT_NAMES, default="text")
    for option in ("select", "ignore", "extend-select", "extend-ignore"):
        check.add_argument(f"--{option}", metavar="CODES", help="comma-separated codes or prefixes")
    check.add_argument("--config", type=Path, metavar="PATH",
                       help="read [tool.celerylint] from this file, for every project checked")
    check.add_argument("--target-version", metavar="X.Y", help="Celery version to check against")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    check.add_argument("--statistics", action="store_true",
                       help="count findings per code (after the findings in text format, "
                            "on stderr for the other formats)")
    check.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    check.add_argument("--cache-dir", type=Path, metavar="PATH",
                       help=f"keep the cache here (also {CACHE_DIR_ENV}; "
                            "default: .celerylint_cache in the project root)")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply exclude and extend-exclude to the paths given too")
    check.add_argument("--show-files", action="store_true",
                       help="print the files that would be checked, one per line, and exit")
    check.add_argument("-j", "--jobs", type=_job_count, default=None, metavar="N",
                       help="processes for extraction (default: CPU count)")
    adopt = check.add_argument_group("adopting celerylint on existing code")
    adopt.add_argument("--add-noqa", action="store_true",
                       help="add a `# noqa: CODE` comment for every finding reported, then "
                            "report what is left")
    adopt.add_argument("--baseline", type=Path, metavar="FILE",
                       help="report only the findings this baseline file does not record "
                            "(also: baseline in [tool.celerylint])")
    adopt.add_argument("--write-baseline", type=Path, metavar="FILE",
                       help="record every finding of the run in this baseline file (entries "
                            "of files not checked are kept)")
    adopt.add_argument("--show-stale-baseline", action="store_true",
                       help="list the baseline's entries that no longer match a finding "
                            "(on stderr)")
    clean = commands.add_parser("clean", help="remove the cache of the project")
    clean.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="a path in each project whose cache to remove (default: .)")
    clean.add_argument("--config", type=Path, metavar="PATH", help="as for check (its cache-dir)")
    clean.add_argument("--cache-dir", type=Path, metavar="PATH", help="as for check")
    rule = commands.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code")
    commands.add_parser("rules", help="list every rule")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    _guard_standard_streams()
    try:
        return _main(argv)
    except BrokenPipeError:  # the reader went away (`| head`): nothing left to say
        _discard_stdout()
        return EXIT_ERROR
    except OutputError as error:
        _error(str(error))
        _discard_stdout()
        return EXIT_ERROR


def _main(argv: Optional[Sequence[str]]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_ERROR if exit_.code not in (0, None) else EXIT_CLEAN
    finally:
        _flush_stdout()  # --help and --version print through argparse
    if args.command == "rules":
        return _list_rules()
    if args.command == "rule":
        return _show_rule(args.code)
    if args.command in ("check", "clean"):
        try:
            os.getcwd()
        except OSError as exc:
            _error(f"the current directory is not accessible ({exc.strerror or exc}); "
                   "cd to an existing directory")
            return EXIT_ERROR
        return _check(args) if args.command == "check" else _clean(args)
    _write(parser.format_help())
    return EXIT_ERROR


# -- standard streams ---------------------------------------------------------------------


def _guard_standard_streams() -> None:
    """Keep descriptors 0-2 taken (a closed one would be handed to the next file opened,
    a cache entry say, and receive what is meant for the terminal), and escape rather
    than fail on text the output encoding cannot represent."""
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            try:
                os.open(os.devnull, os.O_RDWR)  # takes the lowest free descriptor: this one
            except OSError:
                pass
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def _write(text: str) -> None:
    """Write to stdout; OutputError (or BrokenPipeError) when it cannot be written.

    Straight to the descriptor when there is one: a buffered stream can drop the rest
    of a large write without an error once the reader has gone."""
    if not text:
        return
    stream = sys.stdout
    if stream is None:
        raise OutputError("cannot write the output: standard output is closed")
    try:
        stream.flush()
        try:
            descriptor = stream.fileno()
        except (AttributeError, OSError, ValueError):  # a stream without one (a test's)
            stream.write(text)
            stream.flush()
            return
        data = text.encode(stream.encoding or "utf-8", "backslashreplace")
        if os.linesep != "\n":  # what the text stream would have done
            data = data.replace(b"\n", os.linesep.encode("ascii"))
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view[:1 << 20]):]
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write the output: {exc.strerror or one_line(exc)}") from None
    except ValueError as exc:  # the stream was closed
        raise OutputError(f"cannot write the output: {one_line(exc)}") from None


def _flush_stdout() -> None:
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:
        raise OutputError(f"cannot write the output: {one_line(exc)}") from None


def _discard_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush has nowhere to fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


def _error(message: str) -> None:
    """One line on stderr; nothing if stderr itself cannot be written."""
    try:
        if sys.stderr is not None:
            sys.stderr.write(f"celerylint: {message}\n")
            sys.stderr.flush()
    except (OSError, ValueError):
        pass


# -- rules --------------------------------------------------------------------------------


def _list_rules() -> int:
    from celerylint.rule import all_rules

    lines = []
    for rule in all_rules():
        summary = (rule.__doc__ or "").split("## What it does", 1)[-1].strip().split("\n\n")[0]
        off = "" if rule.default_enabled else " (off by default)"
        lines.append(f"{rule.code}  {rule.name:<32} {' '.join(summary.split())}{off}\n")
    _write("".join(lines))
    return EXIT_CLEAN


def _show_rule(code: str) -> int:
    from celerylint.rule import rule_by_code

    rule = rule_by_code(code)
    if rule is None:
        _error(f"unknown rule code {code!r}; `celerylint rules` lists them")
        return EXIT_ERROR
    _write(rule.page())
    return EXIT_CLEAN


# -- check --------------------------------------------------------------------------------

# A run allocates hundreds of thousands of long-lived, acyclic fact objects; with the
# default thresholds the cyclic collector walks them again and again (a fifth of a warm
# run).  Collections stay on, only rarer: cycles are still freed.
GC_THRESHOLDS = (100_000, 50, 50)


def _config_loader(args: argparse.Namespace, overrides: Dict[str, object]
                   ) -> Callable[[ProjectRoot], Config]:
    from celerylint.rule import all_rules, option_specs

    specs = option_specs()
    known_codes = [rule.code for rule in all_rules()]

    def config_for(project: ProjectRoot) -> Config:
        return load_config(project.directory, args.config, specs, overrides, known_codes, project)
    return config_for


def _check(args: argparse.Namespace) -> int:
    from celerylint.engine import check_planned, display_path, plan

    gc.set_threshold(*GC_THRESHOLDS)
    from celerylint.report import FORMATS, format_statistics

    overrides: Dict[str, object] = {}
    for option in ("select", "ignore", "extend-select", "extend-ignore", "target-version"):
        value = getattr(args, option.replace("-", "_"))
        if value is not None:
            overrides[option] = value
    if args.force_exclude:
        overrides["force-exclude"] = True
    if args.cache_dir is not None:
        overrides["cache-dir"] = os.path.abspath(args.cache_dir)
    if args.baseline is not None:
        overrides["baseline"] = os.path.abspath(args.baseline)
    if args.jobs is not None and args.jobs < 1:
        _error("--jobs must be at least 1")
        return EXIT_ERROR
    if args.add_noqa and args.write_baseline is not None:
        _error("--add-noqa and --write-baseline each accept the current findings: use one")
        return EXIT_ERROR
    paths: List[Path] = args.paths or [Path(".")]
    notes: List[str] = []
    try:
        planned = plan(paths, _config_loader(args, overrides), on_large=_large_walk_note(notes))
    except ConfigError as error:
        _error(str(error))
        return EXIT_ERROR
    if args.show_files:
        files = sorted({display_path(path) for item in planned for path in item.selection.files})
        _write("".join(escape_control(name) + "\n" for name in files))
        problems = sorted((display_path(path), reason) for item in planned
                          for path, reason in item.selection.problems)
        for path, reason in problems:
            _error(f"{escape_control(path)}: {reason}")
        return EXIT_ERROR if problems else EXIT_CLEAN
    try:
        baselines = _read_baselines(args, planned)
    except BaselineError as error:
        _error(escape_control(str(error)))
        return EXIT_ERROR
    use_cache = not args.no_cache
    if use_cache:
        _refuse_unsafe_caches([item.config for item in planned])
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    result = check_planned(planned, jobs=jobs, use_cache=use_cache,
                           on_large=_large_walk_note(notes))
    if args.add_noqa:
        _add_noqa(_new_findings(result, planned, baselines, quiet=True).findings, result)
        result = check_planned(planned, jobs=jobs, use_cache=use_cache,
                               on_large=_large_walk_note(notes))
    try:
        adopted = _new_findings(result, planned, baselines, args.write_baseline,
                                args.show_stale_baseline)
    except BaselineError as error:
        _error(escape_control(str(error)))
        return EXIT_ERROR
    findings = adopted.findings
    _write(FORMATS[args.format](findings))
    if args.statistics:
        statistics = format_statistics(findings)
        if args.format == "text":
            _write(statistics)
        else:  # never inside a machine-readable format
            for line in statistics.splitlines():
                _error(f"statistics: {line}")
    for path, reason in result.unreadable:
        _error(f"{escape_control(path)}: {reason}")
    for path, message in result.internal_errors:
        _error(f"internal error on {escape_control(path)}: {escape_control(one_line(message))}")
    for path, reason in result.incomplete:
        _error(f"{escape_control(path)}: cannot analyse ({escape_control(one_line(reason))}); "
               "findings that depend on it may be missing")
    adopted.report()
    if result.internal_errors or result.unreadable or result.incomplete or adopted.failed:
        return EXIT_ERROR
    if findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


# -- baselines and --add-noqa -----------------------------------------------------------


def _read_baselines(args: argparse.Namespace, planned: List[Planned]) -> Dict[Path, List[Entry]]:
    """The entries of each baseline in force (--baseline, or each project's baseline),
    or of the one --write-baseline replaces (empty when it does not exist yet)."""
    from celerylint.baseline import existing, load

    if args.write_baseline is not None:
        path = Path(os.path.abspath(args.write_baseline))
        try:
            return {path: existing(path) or []}
        except BaselineError as error:
            raise BaselineError(f"{error}; it is not overwritten (remove it to write a new one)"
                                ) from None
    files = sorted({item.config.baseline for item in planned if item.config.baseline is not None})
    if args.show_stale_baseline and not files:
        raise BaselineError("--show-stale-baseline needs a baseline: --baseline FILE, or "
                            "baseline in [tool.celerylint]")
    return {path: load(path) for path in files}


@dataclass
class _Adopted:
    """The findings to report after the baselines, and what to say on stderr."""

    findings: List[Finding] = field(default_factory=list)
    lines: List[str] = field(default_factory=list)
    failed: bool = False

    def report(self) -> None:
        for line in self.lines:
            _error(line)


def _new_findings(result: RunResult, planned: List[Planned],
                  baselines: Dict[Path, List[Entry]], write_to: Optional[Path] = None,
                  show_stale: bool = False, quiet: bool = False) -> _Adopted:
    """The run's findings that no baseline records (all of them without a baseline);
    with ``write_to``, the baseline is written first (and records them all)."""
    from celerylint.adopt import entries_of, finding_keys, judge
    from celerylint.baseline import match, merged, shown, write

    adopted = _Adopted()
    if not baselines:
        adopted.findings = list(result.findings)
        return adopted
    run = finding_keys(result.findings, result, planned)
    for changed in run.changed:
        adopted.lines.append(f"{escape_control(changed)}: changed while it was checked; "
                             "its findings cannot be matched with the baseline: run again")
        adopted.failed = True
    kept = set(range(len(result.findings)))
    for path, entries in baselines.items():
        users = [item for item in planned
                 if write_to is not None or item.config.baseline == path]
        ids = {id(item) for item in users}
        mine = [i for i, owner in enumerate(run.owners) if owner is not None and id(owner) in ids]
        judged = judge(users, result)
        keys = [run.keys[i] for i in mine]
        known = [(i, key) for i, key in zip(mine, keys) if key is not None]
        matched = match([key for _, key in known], entries, judged)
        if write_to is not None:
            current = entries_of([result.findings[i] for i, _ in known], [k for _, k in known])
            written = merged(entries, current, judged)
            write(path, written)
            if not quiet:
                adopted.lines.append(f"{escape_control(shown(path))}: wrote {len(written)} "
                                     f"{'entry' if len(written) == 1 else 'entries'}")
            kept -= {i for i, _ in known}
        else:
            new = {known[n][0] for n in matched.new}
            kept -= {i for i, _ in known} - new
        if show_stale and not quiet:
            adopted.lines += _stale_lines(shown(path), matched.stale, write_to is not None)
    adopted.findings = [finding for i, finding in enumerate(result.findings) if i in kept]
    return adopted


def _stale_lines(name: str, stale: List[Entry], dropped: bool) -> List[str]:
    lines = [f"{escape_control(name)}: stale entry: {escape_control(entry.key.path)}: "
             f"{entry.key.code} (fingerprint {escape_control(entry.key.fingerprint)}, "
             f"occurrence {entry.key.occurrence})" for entry in stale]
    count = f"{len(stale)} stale {'entry' if len(stale) == 1 else 'entries'}"
    if dropped:
        lines.append(f"{escape_control(name)}: {count} dropped")
    elif stale:
        them = "it" if len(stale) == 1 else "them"
        lines.append(f"{escape_control(name)}: {count} match no finding any more: remove "
                     f"{them} to shrink the baseline")
    return lines


def _add_noqa(findings: List[Finding], result: RunResult) -> None:
    from celerylint.noqa_edit import add_noqa

    outcome = add_noqa(findings, result.digests)
    for path, line, reason in outcome.notes:
        _error(f"{escape_control(path)}:{line}: no noqa comment added: {reason}")
    count = "finding" if outcome.findings == 1 else "findings"
    files = "file" if outcome.files == 1 else "files"
    _error(f"added noqa comments for {outcome.findings} {count} in {outcome.files} {files}")


def _large_walk_note(notes: List[str]) -> Callable[[Path], None]:
    """on_large for the engine: one note on stderr per directory, however often walked."""
    from celerylint.engine import display_path
    from celerylint.files import LARGE_WALK_ENTRIES

    def note(top: Path) -> None:
        shown = escape_control(display_path(top))
        if shown not in notes:
            notes.append(shown)
            _error(f"note: {shown} holds more than {LARGE_WALK_ENTRIES:,} files and directories "
                   "to look through; pass the paths to check, or exclude directories "
                   "(extend-exclude)")
    return note


def _refuse_unsafe_caches(configs: List[Config]) -> None:
    """A cache directory that is a symlink, or someone else's directory, is not used."""
    from celerylint.cache import cache_refusal

    for config in configs:
        if config.cache_dir is None:
            continue
        reason = cache_refusal(str(config.cache_dir))
        if reason is not None:
            _error(f"warning: not using the cache in {escape_control(str(config.cache_dir))}: "
                   f"{reason}")
            config.cache_dir = None


# -- clean --------------------------------------------------------------------------------


def _clean(args: argparse.Namespace) -> int:
    """Remove the cache of the project of each path given (its cache-dir, or
    .celerylint_cache in its root); a project that was not found has no cache."""
    from celerylint.cache import remove_cache
    from celerylint.config import RootFinder

    overrides: Dict[str, object] = {}
    if args.cache_dir is not None:
        overrides["cache-dir"] = os.path.abspath(args.cache_dir)
    config_for = _config_loader(args, overrides)
    finder = RootFinder()
    directories = set()
    try:
        for path in args.paths or [Path(".")]:
            cache_dir = config_for(finder.find(path)).cache_dir
            if cache_dir is not None:
                directories.add(str(cache_dir))
    except ConfigError as error:
        _error(str(error))
        return EXIT_ERROR
    status = EXIT_CLEAN
    for directory in sorted(directories):
        problem = remove_cache(directory)
        if problem is not None:
            _error(f"{escape_control(directory)}: {problem}")
            status = EXIT_ERROR
    return status
