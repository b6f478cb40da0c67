"""Raw JSON-RPC against `mllint server`: malformed requests get LSP errors
and the server keeps serving."""

from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest
from lsp_client import SERVER


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _messages(data: bytes) -> list[dict]:
    out = []
    while data:
        header, _, rest = data.partition(b"\r\n\r\n")
        length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        out.append(json.loads(rest[:length]))
        data = rest[length:]
    return out


def _read_until(stream, reply_id: int, limit: int = 200) -> list[dict]:
    """Read framed messages until the reply with this id (blocking reads)."""
    out: list[dict] = []
    for _ in range(limit):
        length = 0
        while True:
            line = stream.readline()
            if not line:
                return out
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            if line in (b"\r\n", b"\n"):
                break
        message = json.loads(stream.read(length))
        out.append(message)
        if message.get("id") == reply_id and "method" not in message:
            return out
    return out


def test_malformed_requests_get_errors_and_server_survives(tmp_path):
    uri = (tmp_path / "t.py").as_uri()
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}, "rootUri": tmp_path.as_uri()}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        # Wrong type for textDocument.
        {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeAction", "params": {"textDocument": 3}},
        # Unknown method.
        {"jsonrpc": "2.0", "id": 3, "method": "mllint/noSuchThing", "params": {}},
        # A change for a document that was never opened.
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "x = 1\n"}]},
        },
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "x = (\n"}},
        },
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "textDocument/codeAction",
            "params": {
                "textDocument": {"uri": uri},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "context": {"diagnostics": []},
            },
        },
    ]
    proc = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(b"".join(_frame(m) for m in requests))
        proc.stdin.flush()
        seen = _read_until(proc.stdout, 4)
        # Only now shut down (shutdown cancels requests still running).
        bye = _frame({"jsonrpc": "2.0", "id": 5, "method": "shutdown"}) + _frame({"jsonrpc": "2.0", "method": "exit"})
        rest, stderr = proc.communicate(bye, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    messages = seen + _messages(rest)
    replies = {m["id"]: m for m in messages if "id" in m and "method" not in m}
    assert "result" in replies[1]
    assert replies[2]["error"]["code"] == -32602  # invalid params
    assert replies[3]["error"]["code"] == -32601  # method not found
    assert replies[4]["result"] == []  # a broken file: no fix, but an answer
    assert "result" in replies[5]
    published = [m["params"] for m in messages if m.get("method") == "textDocument/publishDiagnostics"]
    assert any(p["uri"] == uri and [d["code"] for d in p["diagnostics"]] == ["ML000"] for p in published)
    assert proc.returncode == 0, stderr.decode()[-2000:]


@pytest.mark.slow
def test_tcp_transport():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([*SERVER, "--tcp", "--port", str(port)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        with conn:
            conn.sendall(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}))
            reply = _read_until(conn.makefile("rb"), 1)
            assert reply[-1]["result"]["serverInfo"]["name"] == "mllint"
            conn.sendall(_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
            conn.sendall(_frame({"jsonrpc": "2.0", "method": "exit"}))
            assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
