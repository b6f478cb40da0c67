"""What `mllint check` does per file beyond linting, and after the run:
`--fix` / `--unsafe-fixes` / `--diff`, `--add-noqa`, baselines
(`--baseline`, `--write-baseline`, config `baseline =`) and warnings about
noqa comments. `process_file` replaces the runner's `lint_file` (it is
picklable via functools.partial, so the process pool still works).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mllint.core.config import Config
from mllint.core.findings import Finding
from mllint.engine.runner import FileResult, lint_file
from mllint.fix.baseline import Baseline, BaselineError


@dataclass
class FileOptions:
    fix: bool = False
    unsafe: bool = False
    diff: bool = False  # compute the fixes and a diff, write nothing
    add_noqa: bool = False
    baseline: Baseline | None = None
    warn_noqa: bool = True
    # The linted tree (config root and the directories named on the command
    # line): a symlink may only be written through to a file inside it.
    root: tuple[str, ...] = ()
    known_codes: frozenset[str] = frozenset()
    # The plain per-file lint (e.g. through the result cache); None: runner.lint_file.
    lint: Callable[[str, Config], FileResult] | None = None


@dataclass
class ProcessedFile(FileResult):
    fixed: int = 0
    noqa_added: int = 0
    diff: str = ""
    warnings: list[str] = field(default_factory=list)


def _keep(opts: FileOptions):
    return opts.baseline.filter if opts.baseline is not None else None


def process_file(path: str, config: Config, opts: FileOptions, data: bytes | None = None) -> ProcessedFile:
    """Never raises: anything unexpected becomes an ML001 finding. `data`:
    the file's bytes, already read (a Dask worker gets them so; only
    without --fix, --diff and --add-noqa)."""
    try:
        if data is not None:
            return _plain(path, config, opts, data)
        return _process(path, config, opts)
    except Exception as exc:  # last line of defence
        from mllint.engine.runner import file_internal_error

        return ProcessedFile(path, [file_internal_error(path, exc, "processing")])


def _plain(path: str, config: Config, opts: FileOptions, data: bytes | None = None) -> ProcessedFile:
    lint = opts.lint or lint_file
    r = lint(path, config) if data is None else lint(path, config, data=data)
    findings = r.findings
    if opts.baseline is not None:
        findings = opts.baseline.filter(findings)
    out = ProcessedFile(r.path, findings, r.info)
    if opts.warn_noqa:
        out.warnings = _noqa_warnings(path, data, opts)
    return out


def _noqa_warnings(path: str, data: bytes | None, opts: FileOptions, source=None) -> list[str]:
    from mllint.core.sources import SourceError, load_source, read_source_bytes
    from mllint.fix.noqa import check_noqa_comments

    if source is None:
        try:
            if data is None:
                data = read_source_bytes(path)  # refuses FIFOs and devices
            if b"noqa" not in data.lower():
                return []
            source = load_source(path, data)
        except (OSError, SourceError):
            return []
    return check_noqa_comments(source, opts.known_codes)


def _process(path: str, config: Config, opts: FileOptions) -> ProcessedFile:
    from mllint.core.fsutil import WriteError, atomic_write
    from mllint.core.sources import SourceError, load_source, read_source_bytes
    from mllint.fix.apply import fix_data, unified_diff

    if not (opts.fix or opts.diff or opts.add_noqa):
        return _plain(path, config, opts)
    try:
        data = read_source_bytes(path)
        source = load_source(path, data)
    except (OSError, SourceError):
        return _plain(path, config, opts)  # reports ML000 as usual
    if source.skip_reason:
        return _plain(path, config, opts)

    if opts.add_noqa:
        return _add_noqa(path, data, source, config, opts)

    outcome = fix_data(path, data, config, unsafe=opts.unsafe, keep=_keep(opts))
    result = ProcessedFile(path, outcome.findings)
    result.warnings.extend(outcome.problems)
    if opts.diff:
        result.diff = unified_diff(outcome)
        result.fixed = outcome.fixed
        if opts.warn_noqa:
            result.warnings.extend(_noqa_warnings(path, outcome.original, opts))
        return result
    if outcome.changed:
        try:
            atomic_write(path, outcome.data, root=opts.root, expected=data)
        except WriteError as exc:
            result = _plain(path, config, opts)
            result.warnings.append(f"{exc}")
            return result
    result.fixed = outcome.fixed
    if opts.warn_noqa:
        result.warnings.extend(_noqa_warnings(path, outcome.data, opts, outcome.source))
    return result


def _add_noqa(path: str, data: bytes, source, config: Config, opts: FileOptions) -> ProcessedFile:
    from mllint.core.catalog import default_catalog
    from mllint.core.fsutil import WriteError, atomic_write
    from mllint.engine.lint import lint_source
    from mllint.fix.noqa import add_noqa_data

    findings = lint_source(source, config, default_catalog())
    if opts.baseline is not None:
        findings = opts.baseline.filter(findings)
    new, added, problems = add_noqa_data(source, data, findings)
    if new != data:
        try:
            atomic_write(path, new, root=opts.root, expected=data)
        except WriteError as exc:
            problems.append(str(exc))
            added = 0
    result = _plain(path, config, opts)
    result.noqa_added = added
    result.warnings = problems + result.warnings
    return result


# ---------------------------------------------------------------------------
# Run level (called by cli.cmd_check)
# ---------------------------------------------------------------------------

def worker(opts: FileOptions, lint: Callable[[str, Config], FileResult] | None = None):
    """The per-file function for runner.lint_files (picklable)."""
    opts.lint = lint
    return functools.partial(process_file, opts=opts)


def dask_functions(opts: FileOptions, cached=None):
    """The per-file functions of a `--dask` run (engine.distributed):
    `remote` runs on the workers: lint and the noqa warnings, no baseline
    (the client caches what comes back, and a cache entry holds every
    finding); `local` answers a cache hit on the client exactly as a serial
    run does; `finish` applies the baseline on the client to what a worker
    sent (baseline paths are resolved against the client's directory)."""
    from dataclasses import replace

    remote = functools.partial(process_file, opts=replace(opts, baseline=None, lint=None))
    local = worker(replace(opts), cached)
    baseline = opts.baseline

    def finish(result: FileResult) -> FileResult:
        if baseline is not None:
            result.findings = baseline.filter(result.findings)
        return result

    return remote, local, finish


def options_from_args(args, config: Config) -> FileOptions:
    """Validate the flags and build the per-file options. Raises the CLI's
    UsageError for contradictory flags or an unreadable baseline."""
    from mllint.cli.status import UsageError
    from mllint.core.catalog import default_catalog

    fix = bool(getattr(args, "fix", False))
    diff = bool(getattr(args, "diff", False))
    add_noqa = bool(getattr(args, "add_noqa", False))
    write_baseline = getattr(args, "write_baseline", None)
    if add_noqa and (fix or diff):
        raise UsageError("--add-noqa cannot be combined with --fix or --diff (fix first, then add noqa)")
    if write_baseline is not None and (fix or diff or add_noqa):
        raise UsageError("--write-baseline cannot be combined with --fix, --diff or --add-noqa")
    baseline = None
    baseline_file = getattr(args, "baseline", None)
    if baseline_file is None and config.baseline and write_baseline is None:
        base = config.root or Path.cwd()
        baseline_file = Path(config.baseline) if Path(config.baseline).is_absolute() else base / config.baseline
        if not Path(baseline_file).exists():
            raise UsageError(
                f"{baseline_file}: baseline file (from `baseline =` in {config.source or 'the config'}) not found; "
                "create it with `mllint check --write-baseline FILE`"
            )
    if baseline_file is not None and write_baseline is None:
        try:
            baseline = Baseline.load(baseline_file)
        except BaselineError as exc:
            raise UsageError(str(exc)) from None
    roots = [str(config.root) if config.root is not None else str(Path.cwd())]
    for given in getattr(args, "paths", None) or []:
        p = Path(given)
        if p.is_dir() and not p.is_symlink():
            roots.append(str(p))
        elif p.exists():
            roots.append(str(p.absolute().parent))
    return FileOptions(
        fix=fix or diff,
        unsafe=bool(getattr(args, "unsafe_fixes", False)),
        diff=diff,
        add_noqa=add_noqa,
        baseline=baseline,
        root=tuple(roots),
        known_codes=frozenset(default_catalog().codes),
    )


def finish_run(args, opts: FileOptions, results: list, findings: list[Finding], summary) -> int | None:
    """Print warnings and the side outputs of the run; fill the summary's fix
    counts. Returns an exit status when the run ends here (--diff,
    --write-baseline), else None and the normal report follows."""
    from mllint.cli.status import EXIT_FINDINGS, EXIT_OK, UsageError

    quiet = bool(getattr(args, "quiet", False))
    warnings = [w for r in results for w in getattr(r, "warnings", [])]
    for w in warnings:
        print(f"mllint: warning: {w}", file=sys.stderr)
    summary.fixed = sum(getattr(r, "fixed", 0) for r in results)
    if not opts.unsafe:
        summary.fixable_unsafe = sum(
            1 for f in findings if f.fix is not None and f.fix.edits and f.fix.applicability == "unsafe"
        )
    write_baseline = getattr(args, "write_baseline", None)
    if write_baseline is not None:
        from mllint.core.fsutil import WriteError
        from mllint.fix.baseline import write_baseline as write

        try:
            n = write(findings, write_baseline)
        except WriteError as exc:
            raise UsageError(f"cannot write baseline: {exc}") from None
        if not quiet:
            print(f"mllint: wrote {n} finding{'s' if n != 1 else ''} to baseline {write_baseline}", file=sys.stderr)
        if any(f.code == "ML001" for f in findings):
            from mllint.cli.status import EXIT_INCOMPLETE

            print("mllint: warning: internal errors (ML001) are not baselined; the run was incomplete", file=sys.stderr)
            return EXIT_INCOMPLETE
        return EXIT_OK
    if opts.diff:
        diffs = "".join(getattr(r, "diff", "") for r in results)
        sys.stdout.write(diffs)
        sys.stdout.flush()
        if not quiet:
            n = summary.fixed
            files = sum(1 for r in results if getattr(r, "diff", ""))
            msg = f"mllint: {n} fix{'es' if n != 1 else ''} would be applied in {files} file{'s' if files != 1 else ''}"
            if summary.fixable_unsafe:
                msg += f"; {summary.fixable_unsafe} more with --unsafe-fixes"
            print(msg, file=sys.stderr)
        return EXIT_FINDINGS if diffs else EXIT_OK
    fmt = getattr(args, "format", None) or "text"
    if opts.fix and fmt != "text" and not quiet and (summary.fixed or summary.fixable_unsafe):
        msg = f"mllint: fixed {summary.fixed} finding{'s' if summary.fixed != 1 else ''}"
        if summary.fixable_unsafe:
            msg += f"; {summary.fixable_unsafe} more fixable with --unsafe-fixes"
        print(msg, file=sys.stderr)
    if getattr(args, "add_noqa", False) and not quiet:
        n = sum(getattr(r, "noqa_added", 0) for r in results)
        print(f"mllint: added noqa comments to {n} line{'s' if n != 1 else ''}", file=sys.stderr)
    return None
