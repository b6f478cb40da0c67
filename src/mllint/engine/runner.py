"""Lint many files: serially for a handful, over a process pool for many.

`lint_files` returns the results in the order of the paths (the CLI);
`iter_lint_files` yields them as they complete, with a bounded number of
chunks in flight, so a corpus of any size never sits in memory at once (the
Python API's `lint_paths`). The Dask runner is `mllint.engine.distributed`.
"""

from __future__ import annotations

import gc
import os
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from mllint.core.config import Config
from mllint.core.findings import Finding

# Below this many files a pool costs more than it saves.
PARALLEL_THRESHOLD = 24


@dataclass
class FileResult:
    """What linting one file gave. `path`: the file as it was given;
    `findings`: its findings, sorted (`Finding.sort_key`); `info`: a note
    when the file was not analysed, e.g. "skipped: notebook kernel is R"
    (None otherwise). Picklable."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    info: str | None = None


def lint_file(path: str, config: Config, data: bytes | None = None) -> FileResult:
    """Lint one file (its `data` if already read); never raises."""
    from mllint.core.catalog import default_catalog
    from mllint.core.sources import SourceError, load_source
    from mllint.engine.lint import lint_source

    catalog = default_catalog()
    try:
        try:
            source = load_source(path, data)
        except SourceError as err:
            return unreadable_result(path, config, err)
        if source.skip_reason:
            return FileResult(path, [], f"skipped: {source.skip_reason}")
        return FileResult(path, lint_source(source, config, catalog))
    except Exception as exc:  # last line of defence: never lose the run
        return FileResult(path, [file_internal_error(path, exc, "linting")])


def unreadable_result(path: str, config: Config, err: BaseException) -> FileResult:
    """The result for a file that cannot be read or decoded (a `SourceError`):
    one ML000 finding with the reason, unless ML000 is not selected."""
    from mllint.core.catalog import default_catalog
    from mllint.engine.lint import _source_error_finding

    if not config.is_enabled("ML000", path):
        return FileResult(path)
    return FileResult(path, [_source_error_finding(None, path, err, config, default_catalog())])  # type: ignore[arg-type]


def file_internal_error(path: str, exc: BaseException, doing: str) -> Finding:
    """The ML001 finding for an exception that escaped a whole file's processing."""
    from mllint.core.severity import Severity

    return Finding(
        code="ML001",
        message=f"internal error while {doing} this file: {type(exc).__name__}: {exc}; please report it",
        path=path,
        line=1,
        col=0,
        end_line=1,
        end_col=0,
        severity=Severity.HIGH,
        detail="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    )


def _lint_chunk(args: tuple[list[str], Config, Callable[[str, Config], FileResult]]) -> list[FileResult]:
    paths, config, lint = args
    return [lint(p, config) for p in paths]


def _prewarm() -> None:
    """Import the rules and load the catalogue before the pool starts, so
    forked workers inherit them instead of each loading them again."""
    import mllint.engine.lint  # noqa: F401
    from mllint.core.catalog import default_catalog
    from mllint.rules.base import registered_rules

    default_catalog()
    registered_rules()


def tune_gc() -> None:
    """Collector settings for a process that mllint owns (the CLI, the
    language server, pool workers; never the flake8 plugin's host). An
    analysed module is hundreds of thousands of AST nodes and analysis
    values; with the default threshold (a young-generation collection every
    700 allocations) the collector traverses them again and again: a
    quarter of the time on a 50,000-line module (docs/performance.md). What
    is loaded by now (modules, the catalogue) lives until exit, so it is
    frozen out of the collector's view, and young collections run 100x less
    often. Analysis data is freed by reference counting as before; the rare
    cycles are still collected. Once per process."""
    global _gc_tuned
    if _gc_tuned:
        return
    _gc_tuned = True
    gc.freeze()
    gc.set_threshold(70_000, 50, 100)


_gc_tuned = False


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def chunk_size(n_files: int, workers: int) -> int:
    """Chunks big enough to amortise pickling, small enough that the last
    ones do not leave a worker idle: about 16 per worker, 2..32 files each."""
    return max(2, min(32, n_files // (max(1, workers) * 16)))


def lint_files(
    paths: Iterable[str | Path],
    config: Config,
    jobs: int | None = None,
    on_done: Callable[[FileResult], None] | None = None,
    lint: Callable[[str, Config], FileResult] | None = None,
    cheap: Callable[[str], bool] | None = None,
) -> list[FileResult]:
    """Results in the order of `paths`. `cheap(path)` True means the file is
    answered without analysis (a cache hit): such files are done here, and a
    pool is started only if enough expensive files remain."""
    files = [str(p) for p in paths]
    lint = lint or lint_file
    jobs = jobs or config.jobs or default_jobs()
    if cheap is not None and jobs > 1 and len(files) >= PARALLEL_THRESHOLD:
        quick = [p for p in files if cheap(p)]
        if quick:
            quick_set = set(quick)
            rest = [p for p in files if p not in quick_set]
            by_path = {}
            for p in quick:
                r = lint(p, config)
                by_path[p] = r
                if on_done:
                    on_done(r)
            for p, r in zip(rest, lint_files(rest, config, jobs, on_done, lint)):
                by_path[p] = r
            return [by_path[p] for p in files]
    results: list[FileResult] = []
    if jobs <= 1 or len(files) < PARALLEL_THRESHOLD:
        for p in files:
            r = lint(p, config)
            results.append(r)
            if on_done:
                on_done(r)
        return results
    size = chunk_size(len(files), jobs)
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    done: set[str] = set()
    _prewarm()
    try:
        with ProcessPoolExecutor(max_workers=jobs, initializer=tune_gc) as pool:
            for chunk_results in pool.map(_lint_chunk, [(c, config, lint) for c in chunks]):
                for r in chunk_results:
                    results.append(r)
                    done.add(r.path)
                    if on_done:
                        on_done(r)
    except (OSError, RuntimeError, ImportError):  # no working multiprocessing: finish serially
        for p in files:
            if p in done:
                continue
            r = lint(p, config)
            results.append(r)
            if on_done:
                on_done(r)
    return results


def iter_lint_files(
    paths: Iterable[str | Path],
    config: Config,
    jobs: int | None = None,
    lint: Callable[[str, Config], FileResult] | None = None,
) -> Iterator[FileResult]:
    """A generator of per-file results. One job, or fewer files than
    `PARALLEL_THRESHOLD`: linted here, one file per `next()`, in the order of
    `paths`. Otherwise over a process pool, in *completion* order, with at
    most four chunks per worker submitted at a time (each result is handed
    out as its chunk comes back, so memory does not grow with the corpus).
    Closing the generator early cancels the chunks not yet started."""
    files = [str(p) for p in paths]
    lint = lint or lint_file
    jobs = jobs or config.jobs or default_jobs()
    if jobs <= 1 or len(files) < PARALLEL_THRESHOLD:
        for p in files:
            yield lint(p, config)
        return
    size = chunk_size(len(files), jobs)
    starts = iter(range(0, len(files), size))
    done = [False] * len(files)
    _prewarm()
    try:
        with ProcessPoolExecutor(max_workers=jobs, initializer=tune_gc) as pool:
            pending: dict[Future, int] = {}

            def submit() -> None:
                start = next(starts, None)
                if start is not None:
                    fut = pool.submit(_lint_chunk, (files[start : start + size], config, lint))
                    pending[fut] = start

            for _ in range(jobs * 4):
                submit()
            try:
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        start = pending.pop(fut)
                        chunk_results = fut.result()
                        submit()
                        for k, r in enumerate(chunk_results):
                            done[start + k] = True
                            yield r
            except GeneratorExit:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    except (OSError, RuntimeError, ImportError):  # no working multiprocessing: finish serially
        for p, d in zip(files, done):
            if not d:
                yield lint(p, config)
