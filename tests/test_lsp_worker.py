"""mllint.lsp.worker: the leakage rules run in a child process give the same
findings as in-process `lint_source`, and no failure of the child hangs or
breaks the caller."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from mllint.core.config import Config
from mllint.core.sources import Source
from mllint.engine.lint import lint_source
from mllint.lsp import worker as lsp_worker
from mllint.lsp.worker import RuleWorker
from mllint.rules.leakage import DataLeakage

ML201 = Path(__file__).resolve().parent / "fixtures" / "rules" / "ML201"
LEAKY = (ML201 / "bad_scaler_before_split.py").read_text()
TIMEOUT = 30.0
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGSTOP/SIGKILL")


def in_process(text: str, path: str = "doc.py", config: Config | None = None):
    return lint_source(
        Source(path=path, text=text), config or Config(), rule_classes=[DataLeakage], apply_noqa=False
    )


def remote(worker: RuleWorker, text: str, key: str = "doc", path: str = "doc.py", config: Config | None = None):
    pending = worker.submit(key, text, path, config or Config())
    assert pending is not None
    return pending.result(TIMEOUT)


@pytest.fixture(scope="module")
def worker():
    w = RuleWorker(["DataLeakage"])
    yield w
    w.close()


@pytest.mark.parametrize("name", sorted(p.name for p in ML201.glob("*.py")))
def test_same_findings_as_in_process(worker, name):
    text = (ML201 / name).read_text()
    got = remote(worker, text, key=name, path=name)
    assert got == in_process(text, path=name)
    if name.startswith("bad_"):
        assert {f.code for f in got} == {"ML201"}


def test_findings_carry_everything(worker):
    got = remote(worker, LEAKY)
    want = in_process(LEAKY)
    assert got and [(f.source_line, f.detail, f.fix) for f in got] == [
        (f.source_line, f.detail, f.fix) for f in want
    ]


def test_config_is_honoured(worker):
    config = Config(ignore=["ML201"])
    assert remote(worker, LEAKY, config=config) == in_process(LEAKY, config=config) == []


def test_successive_edits_match_fresh_lint(worker):
    lines = LEAKY.splitlines(keepends=True)
    leak = next(i for i, line in enumerate(lines) if "expect: ML201" in line)
    edits = [
        LEAKY,
        "import os\n" + LEAKY,  # every statement shifts one line down
        LEAKY.replace("test_size=0.3", "test_size=0.25"),
        "".join(lines[:leak] + lines[leak + 1 :]),  # the leak removed
        "".join(lines[:leak] + ["X = Scaler().fit_transform(X)\n"] + lines[leak + 1 :]),
        LEAKY + "\ndef helper(frame):\n    return Scaler().fit_transform(frame)\n",
        LEAKY,
    ]
    for text in edits:
        assert remote(worker, text, key="edited") == in_process(text), text


def test_syntax_error_like_in_process(worker):
    broken = LEAKY.replace("train_test_split(X, y,", "train_test_split(X, y,,")
    for text in (LEAKY, broken, LEAKY):  # a good parse, the error, then recovery
        assert remote(worker, text, key="broken") == in_process(text)
    assert [f.code for f in in_process(broken)] == ["ML000"]


def test_concurrent_documents_get_their_own_answers(worker):
    texts = {name: (ML201 / name).read_text() for name in sorted(p.name for p in ML201.glob("*.py"))}
    results: dict[str, list] = {}

    def run(name: str) -> None:
        for _ in range(3):
            results[name] = remote(worker, texts[name], key=name, path=name)

    threads = [threading.Thread(target=run, args=(name,)) for name in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {name: in_process(text, path=name) for name, text in texts.items()}


def test_unknown_rule_class():
    with pytest.raises(ValueError):
        RuleWorker(["NoSuchRule"])


@posix_only
def test_killed_child_answers_none_then_restarts():
    w = RuleWorker(["DataLeakage"])
    try:
        assert remote(w, LEAKY) == in_process(LEAKY)
        pid = w.pid
        os.kill(pid, signal.SIGSTOP)  # cannot answer before it is killed
        pending = w.submit("doc", LEAKY, "doc.py", Config())
        os.kill(pid, signal.SIGKILL)
        assert pending is None or pending.result(TIMEOUT) is None
        assert remote(w, LEAKY) == in_process(LEAKY)  # a new child
        assert w.pid not in (None, pid)
    finally:
        w.close()


@posix_only
def test_timeout_kills_and_restarts():
    w = RuleWorker(["DataLeakage"])
    try:
        child = w.start()
        os.kill(w.pid, signal.SIGSTOP)
        pending = w.submit("doc", LEAKY, "doc.py", Config())
        assert pending is not None and pending.result(0.2) is None
        assert child.proc.poll() is not None  # the hung child was killed
        assert remote(w, LEAKY) == in_process(LEAKY)
    finally:
        w.close()


def test_gives_up_after_repeated_start_failures(monkeypatch):
    w = RuleWorker(["DataLeakage"])
    monkeypatch.setattr(lsp_worker.sys, "executable", "/nonexistent/python")
    for _ in range(lsp_worker.MAX_FAILURES):
        assert w.submit("doc", LEAKY, "doc.py", Config()) is None
    monkeypatch.undo()
    assert w.disabled and w.submit("doc", LEAKY, "doc.py", Config()) is None
    assert w.pid is None


def test_close_and_eof_end_the_child():
    w = RuleWorker(["DataLeakage"])
    child = w.start()
    assert remote(w, "x = 1\n") == []
    # The child's loop ends by itself when its stdin closes (the server died).
    child.proc.stdin.close()
    assert child.proc.wait(TIMEOUT) == 0
    w.close()
    assert child.proc.poll() is not None and w.pid is None
    assert w.submit("doc", LEAKY, "doc.py", Config()) is None


# --- the server's analysis with the worker ----------------------------------------------

LEAKY_DOC = '''import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression


def prepare(path):
    df = pd.read_csv(path)
    X = StandardScaler().fit_transform(df.drop(columns=["y"]))
    return train_test_split(X, df["y"], test_size=0.2, random_state=0)


def fit(X_train, y_train):
    return LogisticRegression().fit(X_train, y_train)  # noqa: ML312


X_train, X_test, y_train, y_test = prepare("d.csv")
model = fit(X_train, y_train)
print(model.score(X_test, y_test))
'''


def _diagnostics(analysis):
    return [(e.finding.code, e.finding.line, e.finding.col, e.finding.message) for e in analysis.entries]


def test_server_analysis_with_the_worker_equals_one_lint(worker) -> None:
    """analyse_python with the leakage analysis in the child, the statement
    cache and the incremental parser: the same diagnostics as one plain
    `lint_source` over each text (noqa applied to the merged findings)."""
    from mllint.engine.incremental import StatementCache
    from mllint.lsp.analysis import analyse_python
    from mllint.lsp.parse import IncrementalParser

    parser, cache, cfg = IncrementalParser(), StatementCache(), Config()
    texts = [LEAKY_DOC, LEAKY_DOC.replace("df = pd", "dfx = pd").replace("(df.", "(dfx.").replace('df["y"]', 'dfx["y"]'), LEAKY_DOC]
    for text in texts:
        got = analyse_python("file:///doc.py", None, text, 1, cfg, "utf-16", parser, cache=cache, workers=[worker])
        want = lint_source(Source(path="file:///doc.py", text=text), cfg)
        assert _diagnostics(got) == [(f.code, f.line, f.col, f.message) for f in want]
        assert "ML201" in {e.finding.code for e in got.entries}
        assert "ML312" not in {e.finding.code for e in got.entries}  # the noqa still applies


def test_server_analysis_falls_back_when_the_worker_is_gone() -> None:
    from mllint.lsp.analysis import analyse_python
    from mllint.lsp.parse import IncrementalParser

    dead = RuleWorker(["DataLeakage"])
    dead.close()
    assert dead.submit("k", LEAKY_DOC, "doc.py", Config()) is None
    got = analyse_python("file:///doc.py", None, LEAKY_DOC, 1, Config(), "utf-16", IncrementalParser(), workers=[dead])
    want = lint_source(Source(path="file:///doc.py", text=LEAKY_DOC), Config())
    assert _diagnostics(got) == [(f.code, f.line, f.col, f.message) for f in want]


def test_a_starting_worker_is_not_waited_for_when_asked() -> None:
    """The server asks `if_ready`: while the child is still importing, the
    rules run in the server instead of waiting (the first analysis after
    start-up); once it is ready, requests go to it."""
    import time

    w = RuleWorker(["DataLeakage"])
    try:
        child = w.start()
        assert child is not None
        assert w.submit("k", LEAKY_DOC, "doc.py", Config(), if_ready=True) is None
        deadline = time.monotonic() + 30
        while not child.ready and time.monotonic() < deadline:
            time.sleep(0.05)
        pending = w.submit("k", LEAKY_DOC, "doc.py", Config(), if_ready=True)
        assert pending is not None
        assert "ML201" in {f.code for f in pending.result(30) or []}
    finally:
        w.close()
