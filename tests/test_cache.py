"""The content-hash result cache: hits, every invalidation cause, corrupt and
foreign entries, concurrent writers, and the CLI switches."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mllint.core.config import Config
from mllint.core.findings import Edit, Finding, Fix
from mllint.core.severity import Severity
from mllint.engine import cache as cache_mod
from mllint.engine.cache import CachedLint, ResultCache, code_fingerprint, make_salt, open_cache
from mllint.engine.runner import FileResult, lint_file
from helpers import every_rule  # noqa: E402

BAD = (
    "from sklearn.model_selection import train_test_split\n"
    "X_train, X_test = train_test_split(X)\n"
)
CLEAN = "import math\nprint(math.pi)\n"


class CountingLint:
    """The real lint function, counting how often it actually runs."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, path: str, config: Config, data: bytes | None = None) -> FileResult:
        self.calls.append(path)
        return lint_file(path, config, data=data)


def _config(tmp_path: Path, **kw) -> Config:
    cfg = Config(**kw)
    cfg.root = tmp_path
    return cfg


def _linter(tmp_path: Path, config: Config) -> tuple[CachedLint, CountingLint]:
    inner = CountingLint()
    return CachedLint(open_cache(config, tmp_path / "cache"), inner), inner


# ---------------------------------------------------------------------------
# hits
# ---------------------------------------------------------------------------

def test_unchanged_file_is_not_analysed_again_and_result_is_identical(tmp_path: Path) -> None:
    f = tmp_path / "train.py"
    f.write_text(BAD)
    cfg = _config(tmp_path)
    cached, inner = _linter(tmp_path, cfg)
    first = cached(str(f), cfg)
    second = cached(str(f), cfg)
    assert inner.calls == [str(f)]
    assert [x.code for x in first.findings] == ["ML102"]
    assert second == first
    assert second.findings[0].source_line == first.findings[0].source_line


def test_round_trip_keeps_fix_cells_severity_and_info(tmp_path: Path) -> None:
    finding = Finding(
        code="ML102", message="m ünïcode", path="nb.ipynb", line=3, col=1, end_line=4, end_col=2,
        severity=Severity.CRITICAL,
        fix=Fix("add it", (Edit(3, 1, 3, 1, ", random_state=42"), Edit(4, 0, 4, 2, "")), "unsafe"),
        cell=2, cell_line=1, cell_end_line=2, source_line="x = 1",
    )
    rc = ResultCache(tmp_path, "salt")
    result = FileResult("nb.ipynb", [finding], "skipped: nothing")
    assert rc.put("k" * 64, result)
    back = rc.get("k" * 64)
    assert back == result
    assert back.findings[0].source_line == "x = 1" and back.findings[0].fix == finding.fix


# ---------------------------------------------------------------------------
# invalidation, one cause at a time
# ---------------------------------------------------------------------------

def test_changed_bytes_are_analysed_again(tmp_path: Path) -> None:
    f = tmp_path / "train.py"
    f.write_text(BAD)
    cfg = _config(tmp_path)
    cached, inner = _linter(tmp_path, cfg)
    assert [x.code for x in cached(str(f), cfg).findings] == ["ML102"]
    f.write_text(CLEAN)
    assert cached(str(f), cfg).findings == []
    assert len(inner.calls) == 2


def test_same_bytes_under_another_path_is_a_different_entry(tmp_path: Path) -> None:
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text(BAD)
    b.write_text(BAD)
    cfg = _config(tmp_path)
    cached, inner = _linter(tmp_path, cfg)
    assert cached(str(a), cfg).findings[0].path == str(a)
    assert cached(str(b), cfg).findings[0].path == str(b)
    assert inner.calls == [str(a), str(b)]


@pytest.mark.parametrize(
    "change",
    [
        {"select": ["ML2"]},
        {"ignore": ["ML102"]},
        {"severity": {"ML102": "critical"}},
        {"min_severity": "high"},
        {"seed": 7},
        {"per_file_ignores": {"*.py": ["ML102"]}},
        {"protected_attributes": ["zip_code"]},
    ],
)
def test_a_setting_that_changes_results_invalidates(tmp_path: Path, change: dict) -> None:
    f = tmp_path / "train.py"
    f.write_text(BAD)
    base = _config(tmp_path)
    other = _config(tmp_path, **change)
    assert make_salt(base, "cat") != make_salt(other, "cat")
    cached, inner = _linter(tmp_path, base)
    cached(str(f), base)
    cached2 = CachedLint(open_cache(other, tmp_path / "cache"), inner)
    cached2(str(f), other)
    assert len(inner.calls) == 2


@pytest.mark.parametrize("change", [{"jobs": 2}, {"fail_on": "high"}, {"cache_dir": "elsewhere"}])
def test_run_only_settings_do_not_invalidate(tmp_path: Path, change: dict) -> None:
    assert make_salt(_config(tmp_path), "cat") == make_salt(_config(tmp_path, **change), "cat")


def test_config_root_is_part_of_the_key(tmp_path: Path) -> None:
    # per-file-ignores and relative paths are resolved against the root
    assert make_salt(_config(tmp_path), "cat") != make_salt(_config(tmp_path / "sub"), "cat")


def test_mllint_version_invalidates(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    assert make_salt(cfg, "cat", version="1.0.0") != make_salt(cfg, "cat", version="1.0.1")


def test_catalogue_fingerprint_invalidates(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    assert make_salt(cfg, "cat-a") != make_salt(cfg, "cat-b")


def test_catalogue_fingerprint_follows_a_severity_change() -> None:
    from mllint.core.catalog import Catalog, default_catalog

    real = default_catalog()
    specs = {s.code: s for s in real}
    code = next(iter(specs))
    changed = dict(specs)
    new_sev = Severity.INFO if specs[code].severity != Severity.INFO else Severity.LOW
    changed[code] = specs[code].model_copy(update={"severity": new_sev})
    assert Catalog(changed).fingerprint() != real.fingerprint()


def test_rule_source_change_invalidates(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    shutil.copytree(cache_mod.PACKAGE_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    before = code_fingerprint(pkg)
    rule = pkg / "rules" / "random_state.py"
    rule.write_text(rule.read_text() + "\n# edited\n")
    assert code_fingerprint.__wrapped__(pkg) != before
    cfg = _config(tmp_path)
    assert make_salt(cfg, "cat", code=before) != make_salt(cfg, "cat", code=code_fingerprint.__wrapped__(pkg))


def test_registering_a_rule_invalidates(tmp_path: Path) -> None:
    from mllint.rules import base

    before = cache_mod.rules_fingerprint()

    class ExtraRule(base.Rule):
        codes = ("ML998",)

    base._REGISTRY.append(ExtraRule)
    try:
        assert cache_mod.rules_fingerprint() != before
    finally:
        base._REGISTRY.remove(ExtraRule)
    assert cache_mod.rules_fingerprint() == before


# ---------------------------------------------------------------------------
# bad entries are misses, never errors
# ---------------------------------------------------------------------------

def _only_entry(directory: Path) -> Path:
    entries = list((directory / "v1").rglob("*.json"))
    assert len(entries) == 1
    return entries[0]


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"{not json",
        b"\xff\xfe\x00binary",
        b'{"key": "KEY", "path": "x", "findings": [{"code": "ML102"}]}',  # truncated finding
        b'{"key": "KEY", "path": "x", "findings": [], "info": null, "extra": 1}'.replace(b"KEY", b"0" * 64),  # foreign key
        b"[1, 2, 3]",
    ],
)
def test_corrupt_or_foreign_entry_is_a_miss_and_is_repaired(tmp_path: Path, garbage: bytes) -> None:
    f = tmp_path / "train.py"
    f.write_text(BAD)
    cfg = _config(tmp_path)
    cached, inner = _linter(tmp_path, cfg)
    expected = cached(str(f), cfg)
    entry = _only_entry(tmp_path / "cache")
    key = entry.stem
    entry.write_bytes(garbage.replace(b"KEY", key.encode()))
    assert cached(str(f), cfg) == expected
    assert len(inner.calls) == 2
    assert json.loads(entry.read_bytes())["key"] == key  # rewritten whole
    assert cached(str(f), cfg) == expected and len(inner.calls) == 2


def test_unwritable_cache_dir_still_lints(tmp_path: Path) -> None:
    f = tmp_path / "train.py"
    f.write_text(BAD)
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    cfg = _config(tmp_path)
    inner = CountingLint()
    cached = CachedLint(open_cache(cfg, blocker), inner)
    assert [x.code for x in cached(str(f), cfg).findings] == ["ML102"]
    assert [x.code for x in cached(str(f), cfg).findings] == ["ML102"]
    assert len(inner.calls) == 2


def test_internal_errors_are_not_cached(tmp_path: Path) -> None:
    rc = ResultCache(tmp_path, "salt")
    crash = Finding("ML001", "internal error", "a.py", 1, 0, 1, 0, Severity.HIGH)
    assert not rc.put("a" * 64, FileResult("a.py", [crash]))
    assert rc.get("a" * 64) is None


def test_unreadable_file_is_reported_not_cached(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    cached, inner = _linter(tmp_path, cfg)
    result = cached(str(tmp_path / "missing.py"), cfg)
    assert [x.code for x in result.findings] == ["ML000"]
    assert not (tmp_path / "cache" / "v1").exists()


# ---------------------------------------------------------------------------
# concurrent writers
# ---------------------------------------------------------------------------

def _hammer(directory: str, worker: int, rounds: int) -> None:
    rc = ResultCache(Path(directory), "salt")
    for i in range(rounds):
        # Same keys from both workers, different (long) content each time.
        for k in range(8):
            msg = f"worker {worker} round {i} " + "x" * (2000 * (1 + (i + worker) % 3))
            f = Finding("ML102", msg, "a.py", 1, 0, 1, 1, Severity.LOW)
            rc.put(f"{k:064d}", FileResult("a.py", [f]))


def test_two_processes_writing_at_once_never_corrupt_an_entry(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn" if sys.platform == "win32" else "fork")
    procs = [ctx.Process(target=_hammer, args=(str(tmp_path), w, 150)) for w in (1, 2)]
    for p in procs:
        p.start()
    rc = ResultCache(tmp_path, "salt")
    reads = 0
    while any(p.is_alive() for p in procs):
        for k in range(8):
            entry = rc._entry(f"{k:064d}")
            if entry.exists():
                doc = json.loads(entry.read_bytes())  # a torn write would fail here
                assert doc["key"] == f"{k:064d}"
                assert rc.get(f"{k:064d}") is not None
                reads += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert reads > 0
    for k in range(8):
        assert rc.get(f"{k:064d}").findings[0].message.startswith("worker ")
    assert not list(tmp_path.rglob(".tmp-*")), "temporary files left behind"


# ---------------------------------------------------------------------------
# the CLI
# ---------------------------------------------------------------------------

def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mllint", *every_rule(args)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_caches_under_config_root_and_gives_the_same_report(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.mllint]\nseed = 42\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "train.py").write_text(BAD)
    first = run("check", "--format", "concise", "pkg", cwd=tmp_path)
    entries = list((tmp_path / ".mllint_cache" / "v1").rglob("*.json"))
    assert len(entries) == 1
    assert (tmp_path / ".mllint_cache" / ".gitignore").read_text().strip().endswith("*")
    second = run("check", "--format", "concise", "pkg", cwd=tmp_path)
    assert first.returncode == second.returncode == 1
    assert first.stdout == second.stdout and "ML102" in first.stdout


def test_cli_no_cache_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BAD)
    r = run("check", "--no-cache", "--format", "concise", ".", cwd=tmp_path)
    assert r.returncode == 1 and "ML102" in r.stdout
    assert not (tmp_path / ".mllint_cache").exists()


def test_cli_honours_cache_dir_setting(tmp_path: Path) -> None:
    (tmp_path / ".mllint.yaml").write_text("cache-dir: build/lintcache\n")
    (tmp_path / "train.py").write_text(BAD)
    r = run("check", "--format", "concise", "train.py", cwd=tmp_path)
    assert r.returncode == 1
    assert list((tmp_path / "build" / "lintcache" / "v1").rglob("*.json"))
    assert not (tmp_path / ".mllint_cache").exists()


def test_cli_cache_is_invalidated_by_a_config_change(tmp_path: Path) -> None:
    (tmp_path / ".mllint.yaml").write_text("severity:\n  ML102: low\n")
    (tmp_path / "train.py").write_text(BAD)
    r = run("check", "--format", "concise", "--min-severity", "critical", "train.py", cwd=tmp_path)
    assert r.returncode == 0 and "ML102" not in r.stdout
    (tmp_path / ".mllint.yaml").write_text("severity:\n  ML102: critical\n")
    r2 = run("check", "--format", "concise", "--min-severity", "critical", "train.py", cwd=tmp_path)
    assert r2.returncode == 1 and "ML102" in r2.stdout


def test_probe_keeps_the_hit_for_the_call_and_workers_never_get_it(tmp_path: Path) -> None:
    import pickle

    f = tmp_path / "train.py"
    f.write_text(BAD)
    cfg = _config(tmp_path)
    cached, inner = _linter(tmp_path, cfg)
    assert not cached.is_cached(str(f))
    first = cached(str(f), cfg)
    assert cached.is_cached(str(f))
    clone = pickle.loads(pickle.dumps(cached))
    assert clone._prefetched() == {}
    f.write_text(CLEAN)  # changed after the probe: the probed answer is for the probed bytes
    assert cached(str(f), cfg) == first
    assert cached(str(f), cfg).findings == []  # the next call sees the new bytes
    assert len(inner.calls) == 2


def test_a_fifo_is_never_read_by_the_cache(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    cfg = _config(tmp_path)
    cached, inner = _linter(tmp_path, cfg)
    assert not cached.is_cached(str(fifo))  # would block forever if it opened the FIFO
    assert [f.code for f in cached(str(fifo), cfg).findings] == ["ML000"]
