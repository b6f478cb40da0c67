"""`mllint check --dask`: the same report as a serial run from a real
Dask cluster (two single-threaded worker processes, loopback only), the
result cache answered on the client, workers that die, and the errors that
exit 2. The cluster tests are marked slow; `make test` runs them."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mllint.core.config import Config
from mllint.engine import distributed as dist
from mllint.engine.runner import lint_file

from helpers import FIXTURES, ROOT

SPLIT = "from sklearn.model_selection import train_test_split\nX_train, X_test = train_test_split(X)\n"
TORCH = "import torch\nmodel = torch.load('m.pt')\n"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mllint", "check", "--extend-select", "ALL", *args], cwd=cwd, capture_output=True, text=True, timeout=180
    )


def warnings_of(r: subprocess.CompletedProcess) -> list[str]:
    """mllint's own lines on stderr (Dask may log there too)."""
    return [line for line in r.stderr.splitlines() if line.startswith("mllint:")]


def make_corpus(root: Path) -> Path:
    """~60 files: rule fixtures (Python and notebooks), a syntax error, a
    Latin-1 file, an R notebook, an unknown noqa code, per-file-ignores."""
    root.mkdir()
    fixtures = sorted(FIXTURES.glob("rules/ML[2-6]*/bad_*.*"))[:24] + sorted(FIXTURES.glob("rules/ML[1-6]*/good_*.py"))[:16]
    for i, f in enumerate(fixtures):
        sub = root / ("lib" if i % 2 else "src") / f.parent.name
        sub.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, sub / f.name)
    shutil.copytree(ROOT / "examples", root / "examples")
    for i in range(8):
        (root / "gen").mkdir(exist_ok=True)
        (root / "gen" / f"g{i}.py").write_text((SPLIT if i % 2 else TORCH) + f"# {i}\n")
    (root / "gen" / "broken.py").write_text("def f(:\n    pass\n")
    (root / "gen" / "latin.py").write_bytes("# -*- coding: latin-1 -*-\nx = 'café'\n".encode("latin-1") + TORCH.encode())
    for name in ("noqa.py", "noqa_2.py"):  # warnings and skip notes come in the order of the files
        (root / "gen" / name).write_text(TORCH.replace("'m.pt')", "'m.pt')  # noqa: ML999"))
    for name in ("r.ipynb", "r_2.ipynb"):
        (root / "gen" / name).write_text(json.dumps({
            "nbformat": 4, "nbformat_minor": 5, "cells": [],
            "metadata": {"kernelspec": {"name": "ir", "language": "R", "display_name": "R"}},
        }))
    (root / "pyproject.toml").write_text('[tool.mllint]\nper-file-ignores = { "lib/*" = ["ML2"], "gen/g1.py" = ["ML1"] }\n')
    return root


@pytest.fixture(scope="module")
def cluster():
    c = dist.start_local_cluster(2)
    yield c
    c.close()


@pytest.fixture
def client(cluster):
    import distributed

    c = distributed.Client(cluster.scheduler_address, set_as_default=False, timeout=30)
    yield c
    c.close()


class Recording:
    """A client that records what is sent to the cluster."""

    def __init__(self, client):
        self._client = client
        self.sent: list[list[tuple]] = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def submit(self, fn, lint, config, items, **kw):
        self.sent.append(items)
        return self._client.submit(fn, lint, config, items, **kw)


# --- the report is a serial run's ------------------------------------------------------


@pytest.mark.slow
def test_dask_local_prints_what_a_serial_run_prints(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    serial = run("--no-cache", "examples", cwd=tmp_path)
    dask = run("--no-cache", "--dask", "local", "-j", "2", "examples", cwd=tmp_path)
    assert serial.returncode == dask.returncode == 1
    assert dask.stdout == serial.stdout and "ML602" in serial.stdout
    assert warnings_of(dask) == warnings_of(serial)


@pytest.mark.slow
def test_a_corpus_on_a_running_scheduler_gives_the_serial_json(tmp_path: Path, cluster) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    serial = run("--no-cache", "--format", "json", ".", cwd=corpus)
    report = json.loads(serial.stdout)
    assert len({d["path"] for d in report}) > 40 and {"ML000", "ML602", "ML201"} <= {d["code"] for d in report}
    assert any(d["cell"] is not None for d in report)
    # per-file-ignores match paths relative to the config: the workers' own
    # working directory (the test's) is not the corpus.
    assert not any(d["path"].startswith("lib/") and d["code"].startswith("ML2") for d in report)
    for extra in ([], ["--dask-ship-sources", "--dask-batch-size", "1"]):
        dask = run("--no-cache", "--format", "json", "--dask", address, *extra, ".", cwd=corpus)
        assert dask.returncode == serial.returncode == 1, (extra, dask.stderr)
        assert dask.stdout == serial.stdout, extra
        assert warnings_of(dask) == warnings_of(serial), extra
    assert len(warnings_of(serial)) == 4
    # From a subdirectory: per-file-ignores ("lib/*") still match paths
    # relative to the config's directory, not to a worker's.
    serial_sub = run("--no-cache", "--format", "json", ".", cwd=corpus / "lib")
    dask_sub = run("--no-cache", "--format", "json", "--dask", address, ".", cwd=corpus / "lib")
    assert dask_sub.stdout == serial_sub.stdout
    assert not any(d["code"].startswith("ML2") for d in json.loads(serial_sub.stdout))
    # A baseline is applied on the client, as in a serial run.
    base = run("--no-cache", "--write-baseline", "base.json", "src", cwd=corpus)
    assert base.returncode == 0, base.stderr
    serial_b = run("--no-cache", "--format", "json", "--baseline", "base.json", ".", cwd=corpus)
    dask_b = run("--no-cache", "--format", "json", "--baseline", "base.json", "--dask", address, ".", cwd=corpus)
    assert dask_b.stdout == serial_b.stdout and len(json.loads(serial_b.stdout)) < len(report)


@pytest.mark.slow
def test_cache_hits_are_answered_here_and_misses_cached_here(tmp_path: Path, client) -> None:
    from mllint.engine.cache import CachedLint, open_cache

    files = []
    for i in range(12):
        p = tmp_path / f"m{i:02d}.py"
        p.write_text((SPLIT if i % 2 else TORCH) + f"# {i}\n")
        files.append(str(p))
    cfg = Config(select=["ALL"])  # workers are other processes: name every rule
    cfg.root = tmp_path
    serial = [lint_file(p, cfg) for p in files]
    cached = CachedLint(open_cache(cfg, tmp_path / "cache"))
    rec = Recording(client)
    cold = dist.lint_files_dask(files, cfg, rec, cached=cached)
    assert cold == serial and sorted(p for items in rec.sent for p, _, _ in items) == files
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 12  # written here, by the client
    rec.sent.clear()
    warm = dist.lint_files_dask(files, cfg, rec, cached=cached)
    assert warm == serial and rec.sent == []  # nothing sent
    Path(files[3]).write_text("import math\n")
    again = dist.lint_files_dask(files, cfg, rec, cached=cached)
    assert [p for items in rec.sent for p, _, _ in items] == [files[3]]
    assert again[3].findings == [] and again[:3] == serial[:3] and again[4:] == serial[4:]


@pytest.mark.slow
def test_shipped_sources_are_sent_as_bytes(tmp_path: Path, client) -> None:
    files = []
    for i in range(6):
        p = tmp_path / f"m{i}.py"
        p.write_text(TORCH if i % 2 else SPLIT)
        files.append(str(p))
    rec = Recording(client)
    shipped = dist.lint_files_dask(files, Config(select=["ALL"]), rec, ship_sources=True, batch_size=2)
    assert [len(items) for items in rec.sent] == [2, 2, 2]
    assert all(data == Path(p).read_bytes() for items in rec.sent for p, _, data in items)
    rec.sent.clear()
    read_there = dist.lint_files_dask(files, Config(select=["ALL"]), rec, batch_size=2)
    assert all(data is None for items in rec.sent for _, _, data in items)
    assert shipped == read_there == [lint_file(p, Config(select=["ALL"])) for p in files]


@pytest.mark.slow
def test_workers_that_join_during_the_run_get_batches(tmp_path: Path, client) -> None:
    import threading

    import dask_hooks

    class Growing(Recording):
        """A cluster that reports one worker thread when the run starts and
        eight a moment later (an adaptive cluster scaling up)."""

        calls = 0
        outstanding = 0
        most = 0
        lock = threading.Lock()

        def nthreads(self):
            self.calls += 1
            return {"w": 1} if self.calls == 1 else {f"w{i}": 1 for i in range(8)}

        def submit(self, *a, **kw):
            fut = super().submit(*a, **kw)
            with self.lock:
                self.outstanding += 1
                self.most = max(self.most, self.outstanding)

            def done(_):
                with self.lock:
                    self.outstanding -= 1

            fut.add_done_callback(done)
            return fut

    files = []
    for i in range(24):
        p = tmp_path / f"m{i:02d}.py"
        p.write_text(TORCH)
        files.append(str(p))
    rec = Growing(client)
    results = dist.lint_files_dask(files, Config(select=["ALL"]), rec, lint=dask_hooks.nap_lint, batch_size=1)
    assert [[f.code for f in r.findings] for r in results] == [["ML602"]] * 24
    assert rec.calls >= 2 and rec.most > dist.IN_FLIGHT_PER_THREAD  # more than one thread's worth


# --- workers that die ------------------------------------------------------------------------


@pytest.mark.slow
def test_a_killed_worker_is_retried_and_a_file_that_always_kills_is_ml001(tmp_path: Path, client) -> None:
    import dask_hooks

    files = []
    for i in range(16):
        name = {3: "die_once.py", 9: "die_always.py"}.get(i, f"m{i:02d}.py")
        p = tmp_path / name
        p.write_text(TORCH)
        files.append(str(p))
    results = dist.lint_files_dask(files, Config(select=["ALL"]), client, lint=dask_hooks.lint_or_die, batch_size=4)
    assert [r.path for r in results] == files
    assert Path(files[3] + ".died").exists()  # it did kill a worker, once
    by_name = {Path(r.path).name: [f.code for f in r.findings] for r in results}
    assert by_name.pop("die_always.py") == ["ML001"]
    assert set(map(tuple, by_name.values())) == {("ML602",)}  # its batch-mates and die_once included
    (ml001,) = results[9].findings
    assert "failed twice" in ml001.message and "worker process died" in ml001.message
    assert "KilledWorker" in ml001.detail


# --- without a cluster ------------------------------------------------------------------------------


def test_a_worker_reads_at_the_clients_path_and_reports_the_shown_path(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "proj" / "tests").mkdir(parents=True)
    (tmp_path / "proj" / "tests" / "t.py").write_text(SPLIT + TORCH)
    (tmp_path / "elsewhere").mkdir()
    cfg = Config(select=["ALL"], per_file_ignores={"tests/*": ["ML6"]})
    cfg.root = tmp_path / "proj"
    client_cwd = tmp_path / "proj" / "tests"
    monkeypatch.chdir(client_cwd)
    here = lint_file("t.py", cfg)  # per-file-ignores see proj-relative "tests/t.py"
    assert [f.code for f in here.findings] == ["ML102"]
    # The worker runs in another directory; it reads the client's absolute
    # path and resolves relative paths against the client's directory.
    monkeypatch.chdir(tmp_path / "elsewhere")
    items = [("t.py", str(client_cwd / "t.py"), None),
             ("gone.py", str(client_cwd / "gone.py"), None),
             ("shipped.py", "/nonexistent/shipped.py", SPLIT.encode())]
    (res, digest), (gone, none), (shipped, _) = dist.lint_batch(lint_file, cfg.for_cwd(client_cwd), items)
    assert res == here and digest is not None
    assert [f.code for f in gone.findings] == ["ML000"] and gone.path == "gone.py" and none is None
    assert [f.code for f in shipped.findings] == ["ML102"]


def test_missing_dask_exits_2_naming_the_extra(tmp_path: Path, monkeypatch, capsys) -> None:
    from mllint.cli.main import main

    (tmp_path / "a.py").write_text(TORCH)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(["check", "--no-cache", "--dask", "local", "a.py"]) == 2
    err = capsys.readouterr().err
    assert 'pip install "flake8-mllint[dask]"' in err and "Traceback" not in err


def test_an_unreachable_scheduler_exits_2_within_the_timeout(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(TORCH)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    r = run("--no-cache", "--dask", f"tcp://127.0.0.1:{port}", "--dask-timeout", "1", "a.py", cwd=tmp_path)
    elapsed = time.monotonic() - start
    assert r.returncode == 2 and f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in r.stderr
    assert elapsed < 15, elapsed  # 1 s of waiting plus the interpreter's start


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dask", "local", "--fix"], "cannot be combined with --fix"),
        (["--dask", "local", "--diff"], "cannot be combined with --fix"),
        (["--dask", "local", "--add-noqa"], "cannot be combined with --fix"),
        (["--dask-ship-sources"], "--dask-ship-sources needs --dask"),
        (["--dask-batch-size", "4"], "--dask-batch-size needs --dask"),
        (["--dask", "local", "--dask-batch-size", "0"], "at least 1"),
        (["--dask", "local", "--dask-timeout", "0"], "positive"),
    ],
)
def test_bad_dask_options_exit_2_before_starting_anything(tmp_path: Path, monkeypatch, capsys, args, message) -> None:
    from mllint.cli.main import main

    (tmp_path / "a.py").write_text(TORCH)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(dist, "dask_client", None)  # would fail loudly if reached
    assert main(["check", "--no-cache", *args, "a.py"]) == 2
    assert message in capsys.readouterr().err
    assert (tmp_path / "a.py").read_text() == TORCH


def test_default_batch_size_grows_with_the_corpus_and_stays_small() -> None:
    assert dist.default_batch_size(10, 2) == 1
    assert dist.default_batch_size(3151, 2) == 32
    assert 1 <= dist.default_batch_size(400, 8) <= 32
    assert os.cpu_count()  # (the workers' count comes from the cluster)


@pytest.mark.slow
def test_a_scheduler_that_goes_away_leaves_ml001_not_a_hang(tmp_path: Path) -> None:
    import threading

    import distributed
    import dask_hooks

    dask_cli = str(Path(sys.executable).parent / "dask")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    # The scheduler unpickles each task and the worker runs it: both import dask_hooks.
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    scheduler = subprocess.Popen([dask_cli, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    worker = None
    try:
        worker = subprocess.Popen([dask_cli, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                   "--host", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        client = distributed.Client(address, set_as_default=False, timeout=20)
        client.wait_for_workers(1, timeout=30)
        client._timeout = 2  # give up reconnecting after 2 s (the CLI: --dask-timeout)
        files = []
        for i in range(6):
            p = tmp_path / f"m{i}.py"
            p.write_text(TORCH)
            files.append(str(p))
        done: list = []

        def on_done(r):
            if not done:
                scheduler.kill()  # after the first result: the rest is in flight or not sent
            done.append(r)

        out: list = []
        t = threading.Thread(target=lambda: out.append(dist.lint_files_dask(
            files, Config(select=["ALL"]), client, lint=dask_hooks.slow_lint, batch_size=1, on_done=on_done)))
        t.start()
        t.join(timeout=90)
        assert not t.is_alive(), "lint_files_dask hung after the scheduler went away"
        (results,) = out
        assert [r.path for r in results] == files
        first = done[0].path  # linted before the scheduler went away
        assert {r.path: [f.code for f in r.findings] for r in results} == {
            p: ["ML602"] if p == first else ["ML001"] for p in files
        }
        assert all("connection to the Dask scheduler was lost" in r.findings[0].message
                   for r in results if r.path != first)
        client.close(timeout=5)
    finally:
        scheduler.kill()
        if worker is not None:
            worker.kill()
            worker.wait(timeout=30)
        scheduler.wait(timeout=30)


class FakeClient:
    def __init__(self, versions=None, error=None, scheduler=None, scheduler_error=None):
        from mllint.core.version import __version__

        self.versions, self.error = versions, error
        self.scheduler, self.scheduler_error = scheduler or __version__, scheduler_error

    def run(self, fn):
        if self.error:
            raise self.error
        return self.versions

    def run_on_scheduler(self, fn):
        if self.scheduler_error:
            raise self.scheduler_error
        return self.scheduler


def test_a_cluster_with_another_mllint_or_none_is_refused() -> None:
    from mllint.core.version import __version__

    dist.check_workers(FakeClient({"tcp://a:1": __version__}))
    dist.check_workers(FakeClient({}))  # no workers yet: adaptive clusters start them on demand
    with pytest.raises(dist.DaskError, match="tcp://b:1 has 0.0.1"):
        dist.check_workers(FakeClient({"tcp://a:1": __version__, "tcp://b:1": "0.0.1"}))
    with pytest.raises(dist.DaskError, match="workers cannot load mllint.*install flake8-mllint=="):
        dist.check_workers(FakeClient(error=ModuleNotFoundError("No module named 'mllint'")))
    with pytest.raises(dist.DaskError, match="scheduler cannot load mllint"):
        dist.check_workers(FakeClient({}, scheduler_error=ModuleNotFoundError("No module named 'mllint'")))
    with pytest.raises(dist.DaskError, match="the scheduler has 0.0.1"):
        dist.check_workers(FakeClient({}, scheduler="0.0.1"))
