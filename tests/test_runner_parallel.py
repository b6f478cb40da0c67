"""Spreading files over processes: same results as serial, and no pool for a
handful of files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mllint.core.config import Config
from mllint.engine import runner

BAD = (
    "from sklearn.model_selection import train_test_split\n"
    "X_train, X_test = train_test_split(X)\n"
)
CLEAN = "import math\nprint(math.pi)\n"


def _files(tmp_path: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        p = tmp_path / f"m{i:03d}.py"
        p.write_text(BAD if i % 3 == 0 else CLEAN)
        out.append(p)
    return out


class NoPool:
    def __init__(self, *a, **kw):
        raise AssertionError("a process pool was started")


def test_a_handful_of_files_never_starts_a_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "ProcessPoolExecutor", NoPool)
    files = _files(tmp_path, runner.PARALLEL_THRESHOLD - 1)
    results = runner.lint_files(files, Config(), jobs=2)
    assert len(results) == len(files)


def test_one_job_never_starts_a_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "ProcessPoolExecutor", NoPool)
    files = _files(tmp_path, runner.PARALLEL_THRESHOLD * 3)
    assert len(runner.lint_files(files, Config(), jobs=1)) == len(files)


def test_parallel_results_equal_serial_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    real = runner.ProcessPoolExecutor

    def spy(*a, **kw):
        started.append(kw.get("max_workers", a[0] if a else None))
        return real(*a, **kw)

    files = _files(tmp_path, runner.PARALLEL_THRESHOLD * 4)
    serial = runner.lint_files(files, Config(), jobs=1)
    monkeypatch.setattr(runner, "ProcessPoolExecutor", spy)
    seen: list[str] = []
    parallel = runner.lint_files(files, Config(), jobs=2, on_done=lambda r: seen.append(r.path))
    assert started == [2]
    assert parallel == serial
    assert seen == [str(f) for f in files]
    assert sum(len(r.findings) for r in parallel) == len(files[::3])


def test_cli_parallel_and_serial_agree_without_cache(tmp_path: Path) -> None:
    import subprocess
    import sys

    _files(tmp_path, 60)
    def run(j: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "mllint", "check", "--select", "ALL", "--no-cache", "--format", "concise", "-j", j, "."],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        ).stdout
    serial, parallel = run("1"), run("2")
    assert serial == parallel and serial.count("ML102") == 20
    assert not (tmp_path / ".mllint_cache").exists()


def test_cheap_files_are_done_here_and_the_rest_decides_the_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _files(tmp_path, runner.PARALLEL_THRESHOLD * 3)
    serial = runner.lint_files(files, Config(), jobs=1)
    monkeypatch.setattr(runner, "ProcessPoolExecutor", NoPool)
    # all but a handful are cache hits: no pool, same results in the same order
    few = {str(f) for f in files[: runner.PARALLEL_THRESHOLD - 1]}
    got = runner.lint_files(files, Config(), jobs=2, cheap=lambda p: p not in few)
    assert got == serial


def test_warm_cache_run_starts_no_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mllint.engine.cache import CachedLint, open_cache

    files = _files(tmp_path, runner.PARALLEL_THRESHOLD * 3)
    cfg = Config()
    cfg.root = tmp_path
    cached = CachedLint(open_cache(cfg, tmp_path / "cache"))
    cold = runner.lint_files(files, cfg, jobs=2, lint=cached, cheap=cached.is_cached)
    (files[0]).write_text(CLEAN + "# edited\n")  # one miss
    monkeypatch.setattr(runner, "ProcessPoolExecutor", NoPool)
    warm = runner.lint_files(files, cfg, jobs=2, lint=cached, cheap=cached.is_cached)
    assert warm[1:] == cold[1:]
    assert warm[0].findings == [] and cold[0].findings != []
