"""The `mllint` command: check, rules, explain.

Exit status of `mllint check`:
  0  no finding at or above `fail-on`
  1  findings at or above `fail-on`
  2  usage or configuration error
  3  the run was incomplete: a rule crashed on some file (ML001), see the report
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mllint.cli.status import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, UsageError
from mllint.core.catalog import CatalogError, default_catalog
from mllint.core.config import Config, ConfigError, discover_config, is_code_or_prefix
from mllint.core.severity import Severity
from mllint.core.version import __version__

SEVERITIES = [s.value for s in Severity]


def _split_codes(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    out: list[str] = []
    for v in values:
        out.extend(c.strip().upper() for c in v.split(",") if c.strip())
    for c in out:
        if not is_code_or_prefix(c):
            raise UsageError(f"{c!r} is not a rule code or prefix (expected e.g. ML1, ML201, or ALL)")
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mllint",
        description="Static analysis for machine-learning code: leakage, reproducibility, "
        "training bugs, unsafe model loading, serving reliability.",
    )
    parser.add_argument("--version", action="version", version=f"mllint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="lint files and notebooks")
    add_check_arguments(check)

    fix = sub.add_parser("fix", help="apply fixes (shorthand for `check --fix`)")
    add_check_arguments(fix)
    fix.set_defaults(fix=True)

    rules = sub.add_parser("rules", help="list the rule catalogue")
    rules.add_argument("--format", choices=["table", "json"], default="table")

    explain = sub.add_parser("explain", help="show one rule's documentation")
    explain.add_argument("rule", help="a code (ML101) or a name (unseeded-randomness)")

    server = sub.add_parser("server", help="run the language server (stdio; --tcp for a socket)")
    server.add_argument("--tcp", action="store_true", help="listen on a TCP socket instead of stdio")
    server.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    server.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    return parser


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", default=None, help="files or directories (default: .)")
    p.add_argument("--format", choices=["text", "concise", "json", "sarif", "github"], default=None)
    p.add_argument("--select", action="append",
                   help="only these codes/prefixes (comma-separated); ALL = every rule, opt-in ones included")
    p.add_argument("--extend-select", action="append",
                   help="add codes/prefixes to the selection (an opt-in rule by its full code)")
    p.add_argument("--ignore", action="append", help="skip these codes/prefixes (comma-separated)")
    p.add_argument("--min-severity", choices=SEVERITIES, help="hide findings below this severity")
    p.add_argument("--fail-on", choices=SEVERITIES, help="exit 1 only for findings at or above this")
    p.add_argument("--statistics", action="store_true", help="print counts per rule")
    p.add_argument("--output-file", "-o", type=Path, help="write the report to this file")
    p.add_argument("--config", type=Path, help="use this config file (pyproject.toml or .mllint.yaml)")
    p.add_argument("--jobs", "-j", type=int, help="worker processes (default: all cores)")
    p.add_argument("--no-show-source", action="store_true", help="do not print source lines (text)")
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-cache", action="store_true", help="analyse every file; do not read or write the result cache")
    p.add_argument("--quiet", "-q", action="store_true", help="only findings, no info lines")
    p.add_argument("--verbose", "-v", action="store_true", help="show tracebacks of internal errors")
    # Fixes, suppressions, baselines (mllint.cli.actions).
    p.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    p.add_argument("--unsafe-fixes", action="store_true", help="with --fix/--diff: also apply unsafe fixes")
    p.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; change nothing")
    p.add_argument("--add-noqa", action="store_true", help="append `# noqa: MLnnn` to every reported line")
    p.add_argument("--baseline", type=Path, metavar="FILE", help="hide the findings recorded in this baseline")
    p.add_argument("--write-baseline", type=Path, metavar="FILE", help="record the current findings as a baseline")
    # Corpus-scale runs on a Dask cluster (mllint.engine.distributed, docs/scale.md).
    p.add_argument(
        "--dask", metavar="ADDRESS",
        help="lint on a Dask cluster: a scheduler address (tcp://host:8786), or `local` for worker "
        "processes on this machine (--jobs of them); needs flake8-mllint[dask]",
    )
    p.add_argument(
        "--dask-ship-sources", action="store_true",
        help="with --dask: send each file's bytes to the workers (they do not share this file system)",
    )
    p.add_argument("--dask-batch-size", type=int, metavar="N", help="with --dask: files per task (default: automatic, at most 32)")
    p.add_argument(
        "--dask-timeout", type=float, metavar="SECONDS",
        help="with --dask: how long to wait for the scheduler (default 10)",
    )


def resolve_config(args: argparse.Namespace) -> Config:
    paths = [Path(p) for p in (args.paths or ["."])]
    config = discover_config(paths, args.config)
    select = _split_codes(args.select)
    if select is not None:
        config.select = select
    extend = _split_codes(args.extend_select)
    if extend:
        config.extend_select = [*config.extend_select, *extend]
    ignore = _split_codes(args.ignore)
    if ignore:
        config.ignore = [*config.ignore, *ignore]
    if args.min_severity:
        config.min_severity = Severity(args.min_severity)
    if args.fail_on:
        config.fail_on = Severity(args.fail_on)
    if args.jobs is not None:
        if args.jobs < 1:
            raise UsageError("--jobs must be at least 1")
        config.jobs = args.jobs
    return config


def _progress(total: int, enabled: bool):
    """A rich progress bar on stderr, or a no-op callback."""
    if not enabled:
        return None, (lambda r: None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("linting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    task = progress.add_task("lint", total=total)
    return progress, (lambda r: progress.advance(task))


def _cached_lint(args: argparse.Namespace, config: Config):
    """The per-file lint function: through the result cache unless --no-cache."""
    if getattr(args, "no_cache", False):
        return None
    from mllint.engine.cache import CachedLint, open_cache

    return CachedLint(open_cache(config))


def cmd_check(args: argparse.Namespace) -> int:
    from mllint.core.discovery import discover
    from mllint.engine.runner import lint_files
    from mllint.report import Report, RunSummary, render

    config = resolve_config(args)
    paths = args.paths or ["."]
    found = discover(paths, config)
    for path, reason in found.problems:
        if not Path(path).exists() and path in paths:
            raise UsageError(f"{path}: {reason}")
    catalog = default_catalog()
    from mllint.cli.actions import finish_run, options_from_args, worker

    extras = options_from_args(args, config)
    _check_dask_options(args, extras)
    show_progress = (
        not args.no_progress and sys.stderr.isatty() and len(found.files) >= 50 and not os.environ.get("CI")
    )
    progress, on_done = _progress(len(found.files), show_progress)
    if progress is not None:
        progress.start()
    try:
        cached = _cached_lint(args, config)
        if args.dask is not None:
            results = _lint_on_dask(args, found.files, config, extras, cached, on_done)
        else:
            results = lint_files(
                found.files, config, on_done=on_done, lint=worker(extras, cached),
                cheap=cached.is_cached if cached is not None and not (extras.fix or extras.diff or extras.add_noqa) else None,
            )
    finally:
        if progress is not None:
            progress.stop()
    findings = sorted((f for r in results for f in r.findings), key=lambda f: f.sort_key())
    summary = RunSummary(files=len(found.files))
    if not args.quiet:
        summary.infos = [f"{r.path}: {r.info}" for r in results if r.info]
        summary.infos += [f"{p}: {why}" for p, why in found.problems]
    done = finish_run(args, extras, results, findings, summary)
    if done is not None:
        return done
    fmt = args.format or "text"
    if args.output_file is not None:
        color = False
    elif args.color == "auto":
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    else:
        color = args.color == "always"
    report = Report(
        findings=findings,
        catalog=catalog,
        summary=summary,
        root=config.root,
        show_source=not args.no_show_source,
        statistics=args.statistics,
    )
    text = render(fmt, report, color=color)
    if args.verbose:
        for f in findings:
            if f.detail:
                print(f"mllint: {f.location()}: {f.code} traceback:\n{f.detail}", file=sys.stderr)
    if fmt != "text":
        for info in summary.infos:
            print(f"mllint: {info}", file=sys.stderr)
    if args.output_file is not None:
        try:
            args.output_file.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output_file}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return exit_status(findings, config, args.exit_zero)


def _check_dask_options(args: argparse.Namespace, extras) -> None:
    given = [
        name for name, on in (
            ("--dask-ship-sources", args.dask_ship_sources),
            ("--dask-batch-size", args.dask_batch_size is not None),
            ("--dask-timeout", args.dask_timeout is not None),
        ) if on
    ]
    if args.dask is None:
        if given:
            raise UsageError(f"{given[0]} needs --dask")
        return
    if not args.dask.strip():
        raise UsageError("--dask needs a scheduler address (tcp://host:8786) or `local`")
    if extras.fix or extras.diff or extras.add_noqa:
        raise UsageError(
            "--dask cannot be combined with --fix, --diff or --add-noqa: they rewrite files, "
            "which is done on this machine (run them without --dask)"
        )
    if args.dask_batch_size is not None and args.dask_batch_size < 1:
        raise UsageError("--dask-batch-size must be at least 1")
    if args.dask_timeout is not None and not args.dask_timeout > 0:
        raise UsageError("--dask-timeout must be a positive number of seconds")


def _lint_on_dask(args: argparse.Namespace, files, config: Config, extras, cached, on_done) -> list:
    """`mllint check --dask`: the same per-file work as a serial run, on a
    Dask cluster; results in the order of `files` (mllint.engine.distributed)."""
    from mllint.cli.actions import dask_functions
    from mllint.engine.distributed import DEFAULT_TIMEOUT, DaskError, dask_client, lint_files_dask

    remote, local, finish = dask_functions(extras, cached)
    timeout = args.dask_timeout if args.dask_timeout is not None else DEFAULT_TIMEOUT
    try:
        with dask_client(args.dask.strip(), config.jobs, timeout) as client:
            return lint_files_dask(
                files, config, client, lint=remote, cached=cached, local=local, finish=finish,
                ship_sources=args.dask_ship_sources, batch_size=args.dask_batch_size, on_done=on_done,
            )
    except DaskError as exc:
        raise UsageError(str(exc)) from None


def exit_status(findings, config: Config, exit_zero: bool = False) -> int:
    if any(f.code == "ML001" for f in findings):
        return EXIT_INCOMPLETE
    if exit_zero:
        return EXIT_OK
    if any(f.severity >= config.fail_on for f in findings):
        return EXIT_FINDINGS
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    catalog = default_catalog()
    if args.format == "json":
        data = [
            {
                "code": s.code,
                "name": s.name,
                "title": s.title,
                "severity": s.severity.value,
                "category": s.category,
                "fix": s.fix,
                "default": s.default,
                "precision": None if s.precision is None else {
                    "tp": s.precision.tp,
                    "judged": s.precision.judged,
                    "files": s.precision.files,
                    "corpus": s.precision.corpus,
                    "date": s.precision.date,
                },
                "summary": " ".join(s.summary.split()),
                "url": s.doc_url,
            }
            for s in catalog
        ]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None)
    for col in ("code", "name", "severity", "category", "fix", "default", "precision"):
        table.add_column(col, no_wrap=True)
    table.add_column("title")
    for s in catalog:
        table.add_row(s.code, s.name, s.severity.value, s.category, s.fix,
                      "on" if s.default else "off", _precision_cell(s), s.title)
    width = None if sys.stdout.isatty() else 180
    console = Console(markup=False, highlight=False, width=width)
    console.print(table)
    off = sum(1 for s in catalog if not s.default)
    console.print(
        f"{len(catalog) - off} rules on by default, {off} opt-in (select them by code, or select = [\"ALL\"]); "
        "precision = findings worth acting on / judged findings on real code (docs/accuracy.md)."
    )
    return EXIT_OK


def _precision_cell(spec) -> str:
    rec = spec.precision
    if rec is None:
        return ""
    if rec.judged == 0:
        return "not measured"
    return f"{rec.tp}/{rec.judged} {rec.tp / rec.judged:.2f}"


def cmd_explain(args: argparse.Namespace) -> int:
    from mllint.docs.rule_pages import rule_page

    catalog = default_catalog()
    key = args.rule.strip()
    spec = catalog.get(key.upper()) or catalog.by_name(key.lower())
    if spec is None:
        raise UsageError(f"unknown rule {key!r}; `mllint rules` lists them")
    page = rule_page(spec)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(page))
    else:
        sys.stdout.write(page)
    return EXIT_OK


COMMANDS = {"check": cmd_check, "rules": cmd_rules, "explain": cmd_explain}
COMMANDS["fix"] = cmd_check


def cmd_server(args: argparse.Namespace) -> int:
    from mllint.lsp.server import serve

    return serve(tcp=args.tcp, host=args.host, port=args.port)


COMMANDS["server"] = cmd_server


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    verbose = getattr(args, "verbose", False)
    if args.command in ("check", "fix"):
        from mllint.engine.runner import tune_gc

        tune_gc()
    try:
        return COMMANDS[args.command](args)
    except (ConfigError, CatalogError, UsageError) as exc:
        print(f"mllint: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mllint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return EXIT_OK
    except Exception as exc:  # never a bare traceback unless asked
        if verbose:
            raise
        print(
            f"mllint: internal error: {type(exc).__name__}: {exc} (run with --verbose for the traceback; please report it)",
            file=sys.stderr,
        )
        return EXIT_INCOMPLETE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
