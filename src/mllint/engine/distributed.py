"""Lint many files on a Dask cluster (`mllint check --dask ADDRESS|local`,
docs/scale.md). Dask is an optional dependency (`flake8-mllint[dask]`): it
is imported inside the functions here, never at module level.

What happens where:

* The client (this process) walks the tree, answers cache hits itself, cuts
  the other files into batches and keeps a bounded number of batches in
  flight; it writes new results to the cache and applies `finish` (the
  CLI's baseline) to what comes back. The results are returned in the order
  of the paths, so the report is byte for byte that of a serial run.
* A worker lints a batch: it reads each file itself (the default: a shared
  file system, the client's absolute path) or gets its bytes from the
  client (`ship_sources`), and calls the per-file function on them. The
  path a finding carries is always the path as the client has it.
* A batch that fails (its worker died: `KilledWorker`, a lost connection:
  `CommError`, or any other error) is retried once, file by file, after
  the first pass and one file at a time, so a file that takes its worker
  down cannot take another file's retry with it. A file whose retry fails
  too gets an ML001 finding naming the failure; no file is ever lost. On a
  cluster mllint starts (`local`), Dask does not reschedule a task whose
  worker died (`allowed-failures` 0), so "retried once" is exact; a cluster
  you run reschedules first as its `distributed.scheduler.allowed-failures`
  says (Dask's default: 3).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mllint.core.config import Config
from mllint.core.findings import Finding
from mllint.engine.runner import FileResult, default_jobs, file_internal_error, lint_file, unreadable_result

if TYPE_CHECKING:
    from mllint.engine.cache import CachedLint

EXTRA_HINT = 'pip install "flake8-mllint[dask]"'
DEFAULT_TIMEOUT = 10.0
# Batches in flight per worker thread: enough that a worker never waits for
# the client, few enough that (with --dask-ship-sources) the client holds
# little source text at a time.
IN_FLIGHT_PER_THREAD = 3
# How often a wait for results checks that the scheduler is still there.
POLL_SECONDS = 2.0


class DaskError(Exception):
    """Dask is not installed, the scheduler cannot be reached, or the
    workers cannot run this mllint (the CLI exits 2 with the message)."""


def import_distributed() -> Any:
    """`dask.distributed`, or a DaskError that names the extra to install."""
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError as exc:
        raise DaskError(
            f"--dask needs Dask, which is an optional dependency: {EXTRA_HINT} ({exc})"
        ) from None
    return distributed


def default_batch_size(n_files: int, threads: int) -> int:
    """About eight batches per worker thread, 1..32 files each: a batch
    costs the scheduler a round trip (about a millisecond) while a file
    takes tens of milliseconds to lint, and small batches keep the tail
    short and a retry cheap."""
    return max(1, min(32, n_files // (max(1, threads) * 8)))


# ---------------------------------------------------------------------------
# The cluster
# ---------------------------------------------------------------------------

@contextmanager
def dask_client(address: str, n_workers: int | None = None, timeout: float = DEFAULT_TIMEOUT) -> Iterator[Any]:
    """A `distributed.Client` for `address` (`tcp://host:8786`, any address
    Dask accepts) or, for "local", for a `LocalCluster` started here:
    `n_workers` worker processes (default: all cores), one thread each, no
    dashboard, and a task whose worker dies is not rescheduled by Dask
    (this module retries it). Raises DaskError when Dask is missing or the
    scheduler does not answer within `timeout` seconds."""
    distributed = import_distributed()
    cluster = None
    try:
        if address == "local":
            cluster = start_local_cluster(n_workers or default_jobs(), timeout)
            client = distributed.Client(cluster, set_as_default=False, timeout=timeout)
        else:
            try:
                client = distributed.Client(address, set_as_default=False, timeout=timeout)
            except (OSError, TimeoutError, ValueError) as exc:
                raise DaskError(
                    f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
                    f"({type(exc).__name__}: {exc}); is it running? (--dask-timeout sets the wait)"
                ) from None
        try:
            check_workers(client)
            if cluster is not None:
                client.run(_prepare_worker)
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def start_local_cluster(n_workers: int, timeout: float = DEFAULT_TIMEOUT * 6) -> Any:
    """A `LocalCluster` of `n_workers` single-threaded worker processes on
    this machine, loopback only, no dashboard, quiet, with Dask's
    rescheduling of tasks whose worker died switched off (a failed batch
    errs at once with `KilledWorker` and `lint_files_dask` retries it) and
    one task per worker at a time (a dying worker takes only its own task
    down)."""
    import dask

    distributed = import_distributed()
    settings = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(settings):
        try:
            return distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # No dashboard; the scheduler's small HTTP server (health,
                # metrics) on a free loopback port, not on 8787.
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.CRITICAL,
                timeout=max(timeout, 60.0),
            )
        except (OSError, RuntimeError, TimeoutError) as exc:
            raise DaskError(f"cannot start a local Dask cluster: {type(exc).__name__}: {exc}") from None


def _worker_version() -> str:
    from mllint.core.version import __version__

    return __version__


def _prepare_worker() -> None:
    """On a worker process mllint started: load the rules and the catalogue
    once, and the collector settings of a process mllint owns."""
    from mllint.engine.runner import _prewarm, tune_gc

    _prewarm()
    tune_gc()


def check_workers(client: Any) -> None:
    """The scheduler and every worker run this version of mllint: the
    workers lint (another version would give other findings) and the
    scheduler unpickles each task (Dask does since 2024), which names
    mllint's functions. A cluster with no workers yet (adaptive scaling) is
    left to start them when the batches arrive."""
    from mllint.core.version import __version__

    install = f"install flake8-mllint=={__version__} in the environment the Dask scheduler and workers run in"
    try:
        on_scheduler = client.run_on_scheduler(_worker_version)
    except Exception as exc:  # e.g. mllint not installed there
        raise DaskError(f"the Dask scheduler cannot load mllint ({type(exc).__name__}: {exc}); {install}") from None
    try:
        versions = client.run(_worker_version)
    except Exception as exc:
        raise DaskError(f"the Dask workers cannot load mllint ({type(exc).__name__}: {exc}); {install}") from None
    other = {w: v for w, v in versions.items() if v != __version__}
    if on_scheduler != __version__:
        other = {"the scheduler": on_scheduler, **other}
    if other:
        listed = ", ".join(f"{w} has {v}" for w, v in other.items())
        raise DaskError(f"the Dask cluster must run mllint {__version__}: {listed}; {install}")


# ---------------------------------------------------------------------------
# On a worker
# ---------------------------------------------------------------------------

# One file of a batch: (path as shown, file to read on the worker, bytes
# from the client or None).
Item = tuple[str, str, "bytes | None"]


def lint_batch(
    lint: Callable[..., FileResult], config: Config, items: list[Item]
) -> list[tuple[FileResult, str | None]]:
    """Runs on a worker: each file's result and the sha256 of the bytes it
    linted (None when they could not be read). Never raises for a file."""
    from mllint.core.sources import SourceError, read_source_bytes

    out: list[tuple[FileResult, str | None]] = []
    for path, file, data in items:
        if data is None:
            try:
                data = read_source_bytes(file)
            except SourceError as err:
                out.append((unreadable_result(path, config, err), None))
                continue
        try:
            result = lint(path, config, data=data)
        except Exception as exc:  # a per-file function that raised after all
            result = FileResult(path, [file_internal_error(path, exc, "linting")])
        out.append((result, hashlib.sha256(data).hexdigest()))
    return out


# ---------------------------------------------------------------------------
# On the client
# ---------------------------------------------------------------------------

@dataclass
class _Pending:
    index: int
    item: Item
    key: str | None = None  # cache key of the bytes the client read
    digest: str | None = None  # their sha256


def worker_failure(path: str, exc: BaseException, tried: bool = True) -> Finding:
    """ML001 for a file Dask did not lint: its batch failed and its retry
    failed too (`tried`), or the scheduler went away before it could be
    (re)tried. The exception and its traceback go to `detail` (`--verbose`)."""
    name = type(exc).__name__
    if not tried:
        message = f"not analysed: {exc} before this file was linted; run mllint again"
    else:
        if name == "KilledWorker":
            why = "its worker process died (KilledWorker)"
        elif name == "CommError":
            why = f"the connection to its worker was lost (CommError: {exc})"
        else:
            why = f"{name}: {exc}"
        message = (
            f"not analysed: linting this file on Dask failed twice, {why}; "
            "lint it on its own with `mllint check FILE` to see whether it crashes or exhausts memory"
        )
    return file_internal_error(path, exc, "linting").with_(message=message)


def lint_files_dask(
    paths: Sequence[str | Path],
    config: Config,
    client: Any,
    *,
    lint: Callable[..., FileResult] | None = None,
    cached: "CachedLint | None" = None,
    local: Callable[[str, Config], FileResult] | None = None,
    finish: Callable[[FileResult], FileResult] | None = None,
    ship_sources: bool = False,
    batch_size: int | None = None,
    on_done: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Lint `paths` on the cluster behind `client`; results in the order of
    `paths` (as `runner.lint_files`).

    lint: the per-file function run on the workers, called as
      `lint(path, config, data=bytes)`; picklable; default `runner.lint_file`.
    cached: the result cache. A hit is answered here by `local` (default:
      `cached` itself), never sent; a miss is sent, and its result stored
      here when the worker linted the bytes the client hashed.
    finish: applied here to each result that came from a worker, or that
      could not be read here (e.g. the CLI's baseline filter).
    ship_sources: read every file here and send its bytes (the workers do
      not see this file system); otherwise workers read the files at the
      client's absolute paths.
    batch_size: files per task (default `default_batch_size`).
    """
    from mllint.core.sources import SourceError, read_source_bytes

    distributed = import_distributed()
    files = [str(p) for p in paths]
    lint = lint or lint_file
    local = local or cached
    finish = finish or (lambda r: r)
    cwd = os.getcwd()
    remote_config = config.for_cwd(cwd)
    threads = max(1, sum(client.nthreads().values()) or default_jobs())
    size = batch_size or default_batch_size(len(files), threads)
    results: list[FileResult | None] = [None] * len(files)

    def deliver(i: int, r: FileResult) -> None:
        results[i] = r
        if on_done is not None:
            on_done(r)

    def prepare(i: int, path: str) -> _Pending | None:
        """Client-side work for one file: a cache hit is answered here (None)."""
        data = key = digest = None
        if cached is not None:
            data, key, hit = cached.probe(path)
            if hit is not None and local is not None:
                deliver(i, local(path, config))
                return None
            digest = hashlib.sha256(data).hexdigest() if data is not None else None
        if ship_sources and data is None:
            try:
                data = read_source_bytes(path)
            except SourceError as err:
                deliver(i, finish(unreadable_result(path, config, err)))
                return None
        shipped = data if ship_sources else None
        return _Pending(i, (path, os.path.join(cwd, path), shipped), key, digest)

    def batches() -> Iterator[list[_Pending]]:
        batch: list[_Pending] = []
        for i, path in enumerate(files):
            p = prepare(i, path)
            if p is None:
                continue
            batch.append(p)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def take(batch: list[_Pending], out: list[tuple[FileResult, str | None]]) -> None:
        for p, (r, digest) in zip(batch, out):
            if cached is not None and p.key is not None and digest is not None and digest == p.digest:
                cached.cache.put(p.key, r)
            deliver(p.index, finish(r))

    failed: list[tuple[_Pending, BaseException]] = []
    todo = batches()
    pending: dict[Any, list[_Pending]] = {}
    # Batches in flight: IN_FLIGHT_PER_THREAD per worker thread, counted
    # again every second, so workers that join during the run (an adaptive
    # or still-starting cluster) get work.
    limit = [threads * IN_FLIGHT_PER_THREAD, time.monotonic()]

    def in_flight_limit() -> int:
        if time.monotonic() - limit[1] >= 1.0 and client.status == "running":
            try:
                n = sum(client.nthreads().values())
            except Exception:  # the scheduler is away; lost() decides
                n = 0
            limit[:] = [max(1, n or threads) * IN_FLIGHT_PER_THREAD, time.monotonic()]
        return int(limit[0])

    done_iter = distributed.as_completed([], loop=client.loop)

    def submit(items: list[Item], kind: str) -> Any:
        return client.submit(
            lint_batch, lint, remote_config, items, key=f"mllint-{kind}-{uuid.uuid4().hex}", pure=False, retries=0
        )

    def lost() -> bool:
        """The client gave up on the scheduler (it reconnects for a while
        first: `distributed.comm.timeouts.connect`)."""
        return client.status not in ("running", "connecting", "newly-created")

    def top_up() -> None:
        while len(pending) < in_flight_limit() and not lost():
            batch = next(todo, None)
            if batch is None:
                return
            fut = submit([p.item for p in batch], "batch")
            pending[fut] = batch
            done_iter.add(fut)

    def give_up(files_left: list[_Pending]) -> None:
        exc = ConnectionError("the connection to the Dask scheduler was lost")
        for p in files_left:
            deliver(p.index, FileResult(p.item[0], [worker_failure(p.item[0], exc, tried=False)]))

    top_up()
    # First pass: batches, as many in flight as the workers have threads (x3).
    while pending:
        finished = done_iter.next_batch(block=False)
        if not finished:
            if lost():
                break
            time.sleep(0.02)
            top_up()
            continue
        for fut in finished:
            batch = pending.pop(fut)
            try:
                out = fut.result()
            except Exception as exc:  # KilledWorker, CommError, a lost scheduler, ...
                failed.extend((p, exc) for p in batch)
            else:
                take(batch, out)
            fut.release()
        top_up()
    if lost():  # what was in flight or not sent yet cannot be linted (cache hits still are)
        give_up([p for batch in pending.values() for p in batch] + [p for batch in todo for p in batch])
        give_up([p for p, _ in failed])
        failed = []
    # Retries: one file at a time, so no file's retry shares a worker with another.
    for k, (p, _) in enumerate(failed):
        try:
            fut = submit([p.item], "retry")
            while True:
                try:
                    out = fut.result(timeout=POLL_SECONDS)
                    break
                except TimeoutError:
                    if lost():
                        raise ConnectionError("the connection to the Dask scheduler was lost") from None
            fut.release()
        except ConnectionError:
            give_up([q for q, _ in failed[k:]])
            break
        except Exception as exc:
            deliver(p.index, FileResult(p.item[0], [worker_failure(p.item[0], exc)]))
        else:
            take([p], out)
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]
