"""Timing one command: wall time, CPU time and peak RSS of the process tree."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Timing:
    seconds: float
    cpu: float  # user + system of the process and the children it waited for
    max_rss_mb: float  # largest resident set of the process (or a waited-for child)
    returncode: int
    stderr_tail: str = ""


def run_timed(
    cmd: list[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    repeat: int = 1,
    timeout: float | None = None,
) -> Timing:
    """Run `cmd` (stdout to /dev/null) `repeat` times; keep the fastest run
    (the least disturbed by other load on the machine)."""
    best: Timing | None = None
    full_env = {**os.environ, **(env or {})}
    # Measure tools as installed: with their bytecode cached (an editable
    # checkout under PYTHONDONTWRITEBYTECODE would recompile every start).
    full_env.pop("PYTHONDONTWRITEBYTECODE", None)
    for _ in range(max(1, repeat)):
        t = _run_once(cmd, cwd, full_env, timeout)
        if best is None or t.seconds < best.seconds:
            best = t
    assert best is not None
    return best


def _run_once(cmd: list[str], cwd: Path | None, env: dict[str, str], timeout: float | None) -> Timing:
    err_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"mllint-bench-{os.getpid()}.stderr"
    with open(os.devnull, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    tail = err_path.read_text(errors="replace")[-600:]
    err_path.unlink(missing_ok=True)
    return Timing(
        seconds=seconds,
        cpu=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024.0,  # Linux reports KiB
        returncode=proc.returncode,
        stderr_tail=tail,
    )


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]
