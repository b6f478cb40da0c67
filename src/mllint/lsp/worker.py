"""Run a fixed subset of rules in one long-lived child process.

The language server analyses a document on every change in one thread; on a
2,000-line file one rule family (the leakage analysis) costs about as much as
all the others together, and a thread cannot use a second core. `RuleWorker`
sends the text to a child process that runs just those rules (keeping an
`IncrementalParser` per document, so each change is parsed incrementally
there too) while the server runs the other rules itself, then merges.

The child is started with `subprocess` (`python -c ...`), not `multiprocessing`:
nothing is forked from a process running threads and an asyncio loop, the
parent's `__main__` is never re-imported, and the protocol is a length-prefixed
pickle per message over the child's stdin/stdout. A reader thread per child
hands answers to the waiting `Pending` by request id, so a late answer never
counts for a newer request. Any failure (no start, death, an exception, no
answer in time) makes `Pending.result` return None, and the caller runs the
rules itself; the next `submit` starts a new child, until `MAX_FAILURES`
failures in a row disable the worker. The child exits when its stdin closes,
so it never outlives the server.
"""

from __future__ import annotations

import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mllint.core.config import Config
    from mllint.core.findings import Finding

log = logging.getLogger(__name__)

MAX_FAILURES = 3  # consecutive failures before the worker stays disabled
MAX_DOCUMENTS = 32  # incremental parsers kept in the child (least recently used dropped)
_HEADER = struct.Struct("!Q")
READY = 0  # the request id of the child's first message: started and ready


def _send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _recv(stream: IO[bytes]) -> Any:
    """The next message, or raises EOFError."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    size = _HEADER.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


class Pending:
    """The answer to one `submit`."""

    def __init__(self, child: _Child, rid: int):
        self._child, self.rid = child, rid
        self._done = threading.Event()
        self._findings: list[Finding] | None = None

    def _set(self, findings: list[Finding] | None) -> None:
        self._findings = findings
        self._done.set()

    def result(self, timeout: float | None = None) -> list[Finding] | None:
        """The findings, or None if the child failed or did not answer within
        `timeout` seconds (it is then killed; the next `submit` starts another)."""
        if not self._done.wait(timeout):
            self._child.fail(f"no answer within {timeout} s")
        return self._findings


class _Child:
    """One child process, its reader thread and its requests in flight."""

    def __init__(self, worker: RuleWorker, rule_names: Sequence[str]):
        self.worker = worker
        self.pending: dict[int, Pending] = {}
        self.failed = False
        self.ready = False  # the child said it has imported everything
        self.primed = False  # a text was sent ahead to warm it up
        self.write_lock = threading.Lock()
        # The mllint the server runs, wherever it comes from; not the current
        # directory ("-c" puts it first on sys.path), which is the user's project.
        src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        code = (
            f"import sys; sys.path[:] = [p for p in sys.path if p]; "
            f"{src!r} in sys.path or sys.path.insert(0, {src!r}); "
            f"from mllint.lsp.worker import _child_main; _child_main({list(rule_names)!r})"
        )
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        threading.Thread(target=self._read, name="mllint-rule-worker-reader", daemon=True).start()

    def request(self, pending: Pending, msg: tuple) -> bool:
        with self.worker._lock:
            if self.failed:
                return False
            self.pending[pending.rid] = pending
        try:
            with self.write_lock:  # a full pipe blocks here; a timeout's kill unblocks it
                _send(self.proc.stdin, msg)  # type: ignore[arg-type]
            return True
        except (OSError, ValueError) as exc:
            self.fail(f"cannot write to the child: {exc}")
            return False

    def _read(self) -> None:
        try:
            while True:
                rid, ok, payload = _recv(self.proc.stdout)  # type: ignore[arg-type]
                if rid == READY:
                    self.ready = True
                    continue
                with self.worker._lock:
                    pending = self.pending.pop(rid, None)  # None: a request given up on
                    self.worker._failures = 0 if ok else self.worker._failures + 1
                if not ok:
                    log.error("rule worker failed on a request:\n%s", payload)
                if pending is not None:
                    pending._set(payload if ok else None)
        except Exception as exc:  # EOF: the child died, is exiting or was killed
            try:
                self.proc.wait(1)  # let an exiting child exit rather than kill it
            except subprocess.TimeoutExpired:
                pass
            self.fail(f"child ended ({type(exc).__name__}, exit code {self.proc.returncode})")

    def fail(self, why: str) -> None:
        """Kill the child; its requests in flight answer None. Counted once."""
        with self.worker._lock:
            first, self.failed = not self.failed, True
            if first and not self.worker._closed:
                self.worker._failures += 1
                log.warning("rule worker: %s", why)
            pending, self.pending = list(self.pending.values()), {}
        self.kill()
        for p in pending:
            p._set(None)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:  # a writer blocked on the full pipe holds it
                pass


class RuleWorker:
    """Lints documents with a fixed subset of rule classes in one child process,
    so a language server can run that subset at the same time as the other rules."""

    def __init__(self, rule_names: Sequence[str]):
        from mllint.rules.base import registered_rules

        known = {cls.__name__ for cls in registered_rules()}
        unknown = [name for name in rule_names if name not in known]
        if unknown:
            raise ValueError(f"unknown rule classes: {unknown}")
        self.rule_names = list(rule_names)
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._next_id = 0
        self._failures = 0
        self._closed = False

    @property
    def disabled(self) -> bool:
        return self._closed or self._failures >= MAX_FAILURES

    @property
    def pid(self) -> int | None:
        child = self._child
        return child.proc.pid if child is not None and not child.failed else None

    def start(self) -> _Child | None:
        """Start the child now (else the first `submit` does); None if disabled."""
        with self._lock:
            if self.disabled:
                return None
            if self._child is None or self._child.failed:
                try:
                    self._child = _Child(self, self.rule_names)
                except Exception as exc:
                    self._failures += 1
                    log.warning("rule worker did not start: %s", exc)
                    self._child = None
            return self._child

    def submit(self, key: str, text: str, path: str, config: Config, if_ready: bool = False) -> Pending | None:
        """Send one document's text; None if the worker is disabled or broken,
        or (`if_ready`) still starting: the caller then runs the rules itself
        rather than wait for the child's imports."""
        child = self.start()
        if child is None:
            return None
        if if_ready and not child.ready:
            if not child.primed:
                # Analysed when the child is up, answer unused: its parser
                # and remembered calls are warm for the next change.
                child.primed = True
                prime = self._pending(child)
                child.request(prime, (prime.rid, key, text, path, config))
            return None
        pending = self._pending(child)
        if not child.request(pending, (pending.rid, key, text, path, config)):
            return None
        return pending

    def _pending(self, child: _Child) -> Pending:
        with self._lock:
            self._next_id += 1
            return Pending(child, self._next_id)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
        if child is not None:
            child.fail("closed")


def _child_main(rule_names: list[str]) -> None:
    """The child's loop: one request in, one answer out, until stdin closes."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by analysed code's helpers goes to stderr
    sys.stdout = sys.stderr
    inp = sys.stdin.buffer

    import traceback
    from collections import OrderedDict

    from mllint.core.catalog import default_catalog
    from mllint.core.sources import Source
    from mllint.engine.incremental import StatementCache
    from mllint.engine.lint import lint_source
    from mllint.engine.runner import tune_gc
    from mllint.lsp.parse import IncrementalParser
    from mllint.rules.base import registered_rules

    by_name = {cls.__name__: cls for cls in registered_rules()}
    classes = [by_name[name] for name in rule_names]
    catalog = default_catalog()
    tune_gc()
    _send(out, (READY, True, None))
    # Per document: its incremental parser and statement cache (as the server's).
    parsers: OrderedDict[str, tuple[IncrementalParser, StatementCache]] = OrderedDict()
    while True:
        try:
            rid, key, text, path, config = _recv(inp)
        except EOFError:
            return
        try:
            parser, cache = parsers.pop(key, None) or (IncrementalParser(path), StatementCache())
            parsers[key] = (parser, cache)
            if len(parsers) > MAX_DOCUMENTS:
                parsers.popitem(last=False)
            try:
                tree = parser.parse(text)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                tree = None  # lint_source parses again and reports ML000
            findings = lint_source(
                Source(path=path, text=text), config, catalog,
                rule_classes=classes, tree=tree, apply_noqa=False,
                incremental=cache if tree is not None else None,
            )
            answer = (rid, True, findings)
        except Exception:
            answer = (rid, False, traceback.format_exc())
        try:
            _send(out, answer)
        except OSError:  # the server is gone
            return
        except Exception:  # an answer that does not pickle
            _send(out, (rid, False, traceback.format_exc()))
