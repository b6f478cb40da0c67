"""Shared pieces of the language-server tests: a test client that records
every published diagnostic (with its version) and helpers to wait for them
and to apply edits."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Callable

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES

SERVER = [sys.executable, "-m", "mllint", "server"]

# A document with findings of several severities (ML604 high, ML405 low, ...).
YAML = """\
import yaml
import pandas as pd

with open("train.yaml") as fh:
    config = yaml.load(fh, Loader=yaml.FullLoader)
df = pd.read_csv("features.csv")
X = df[["f1", "f2"]].values
"""


def recording_client() -> LanguageClient:
    """pytest-lsp's test client, also keeping every publishDiagnostics (with
    its version) and the server's capability registrations."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []  # type: ignore[attr-defined]
    client.registrations = []  # type: ignore[attr-defined]

    def publish(ls: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        ls.diagnostics[params.uri] = params.diagnostics
        ls.published.append(params)  # type: ignore[attr-defined]

    def register(ls: LanguageClient, params: types.RegistrationParams) -> None:
        ls.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    features = {
        **DEFAULT_CLIENT_FEATURES,
        types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
        types.CLIENT_REGISTER_CAPABILITY: register,
    }
    for method, handler in features.items():
        client.feature(method)(handler)
    return client


CONFIG = ClientServerConfig(server_command=SERVER, client_factory=recording_client)


async def wait_for(client: LanguageClient, uri: str, pred: Callable[[list], bool], timeout: float = 10.0):
    """The latest diagnostics published for `uri` once `pred` holds for them."""
    deadline = time.monotonic() + timeout
    while True:
        diags = client.diagnostics.get(uri)
        if diags is not None and pred(list(diags)):
            return list(diags)
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for diagnostics on {uri}; last: {diags!r}")
        await asyncio.sleep(0.01)


async def wait_version(client: LanguageClient, uri: str, version: int, timeout: float = 10.0):
    """The diagnostics published for this version of the document."""
    deadline = time.monotonic() + timeout
    while True:
        for p in reversed(client.published):  # type: ignore[attr-defined]
            if p.uri == uri and p.version == version:
                return list(p.diagnostics)
        if time.monotonic() > deadline:
            raise AssertionError(f"no diagnostics for {uri} version {version}")
        await asyncio.sleep(0.01)


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (ASCII text: character == UTF-16 unit)."""
    lines = text.split("\n")

    def offset(pos: types.Position) -> int:
        return sum(len(line) + 1 for line in lines[: pos.line]) + pos.character

    out = text
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        out = out[: offset(e.range.start)] + e.new_text + out[offset(e.range.end) :]
    return out


def edits_of(action: types.CodeAction, uri: str) -> list[types.TextEdit]:
    assert action.edit is not None
    if action.edit.changes:
        return list(action.edit.changes.get(uri, []))
    out: list[types.TextEdit] = []
    for change in action.edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit) and change.text_document.uri == uri:
            out.extend(change.edits)  # type: ignore[arg-type]
    return out
