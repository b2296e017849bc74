"""The ``celerylint`` command: check, rule, rules."""
from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from celerylint import __version__
from celerylint.config import ConfigError, load_config

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="celerylint",
                                     description="A static linter for Celery code and settings.")
    parser.add_argument("--version", action="version", version=f"celerylint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = commands.add_parser("check", help="lint files and directories")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="default: .")
    check.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")
    for option in ("select", "ignore", "extend-select", "extend-ignore"):
        check.add_argument(f"--{option}", metavar="CODES", help="comma-separated codes or prefixes")
    check.add_argument("--config", type=Path, metavar="PATH", help="pyproject.toml to use")
    check.add_argument("--target-version", metavar="X.Y", help="Celery version to check against")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    check.add_argument("--statistics", action="store_true", help="count findings per code")
    check.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    check.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                       help="processes for extraction (default: CPU count)")
    rule = commands.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code")
    commands.add_parser("rules", help="list every rule")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_ERROR if exit_.code not in (0, None) else EXIT_CLEAN
    if args.command == "rules":
        return _list_rules()
    if args.command == "rule":
        return _show_rule(args.code)
    if args.command == "check":
        return _check(args)
    parser.print_help()
    return EXIT_ERROR


def _list_rules() -> int:
    from celerylint.rule import all_rules

    for rule in all_rules():
        summary = (rule.__doc__ or "").split("## What it does", 1)[-1].strip().split("\n\n")[0]
        sys.stdout.write(f"{rule.code}  {rule.name:<32} {' '.join(summary.split())}\n")
    return EXIT_CLEAN


def _show_rule(code: str) -> int:
    from celerylint.rule import rule_by_code

    rule = rule_by_code(code)
    if rule is None:
        sys.stderr.write(f"celerylint: unknown rule code {code!r}; `celerylint rules` lists them\n")
        return EXIT_ERROR
    sys.stdout.write(rule.page())
    return EXIT_CLEAN


# A run allocates hundreds of thousands of long-lived, acyclic fact objects; with the
# default thresholds the cyclic collector walks them again and again (a fifth of a warm
# run).  Collections stay on, only rarer: cycles are still freed.
GC_THRESHOLDS = (100_000, 50, 50)


def _check(args: argparse.Namespace) -> int:
    from celerylint.engine import check

    gc.set_threshold(*GC_THRESHOLDS)
    from celerylint.report import FORMATS, format_statistics
    from celerylint.rule import option_specs

    overrides: Dict[str, object] = {}
    for option in ("select", "ignore", "extend-select", "extend-ignore", "target-version"):
        value = getattr(args, option.replace("-", "_"))
        if value is not None:
            overrides[option] = value
    if args.jobs is not None and args.jobs < 1:
        sys.stderr.write("celerylint: --jobs must be at least 1\n")
        return EXIT_ERROR
    try:
        config = load_config(Path.cwd(), args.config, option_specs(), overrides)
    except ConfigError as error:
        sys.stderr.write(f"celerylint: {error}\n")
        return EXIT_ERROR
    paths: List[Path] = args.paths or [Path(".")]
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    result = check(paths, config, jobs=jobs, use_cache=not args.no_cache)
    sys.stdout.write(FORMATS[args.format](result.findings))
    if args.statistics:
        sys.stdout.write(format_statistics(result.findings))
    for path, reason in result.unreadable:
        sys.stderr.write(f"celerylint: {path}: {reason}\n")
    for path, message in result.internal_errors:
        sys.stderr.write(f"celerylint: internal error on {path}: {message}\n")
    for path, reason in result.incomplete:
        sys.stderr.write(f"celerylint: {path}: cannot analyse ({reason}); "
                         f"findings that depend on it may be missing\n")
    if result.internal_errors or result.unreadable or result.incomplete:
        return EXIT_ERROR
    if result.findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN
