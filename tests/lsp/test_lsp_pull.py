"""End to end with a client that supports pull diagnostics
(`textDocument/diagnostic`) and passes `initializationOptions`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from lsp_client import CONFIG, YAML
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("lsp_pull_ws")


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient, workspace: Path):
    caps = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            diagnostic=types.DiagnosticClientCapabilities(related_document_support=False),
        ),
        workspace=types.WorkspaceClientCapabilities(
            diagnostics=types.DiagnosticWorkspaceClientCapabilities(refresh_support=True),
        ),
        general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf32]),
    )
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=workspace.as_uri(),
            initialization_options={"minSeverity": "medium"},
        )
    )
    lsp_client.server_caps = result.capabilities  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def pull(client: LanguageClient, uri: str, previous: str | None = None):
    return await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=previous)
    )


async def test_capabilities(client: LanguageClient):
    caps = client.server_caps  # type: ignore[attr-defined]
    assert caps.diagnostic_provider is not None
    assert caps.position_encoding == types.PositionEncodingKind.Utf32
    assert caps.notebook_document_sync is None or caps.notebook_document_sync.notebook_selector
    assert "source.fixAll.mllint" in caps.code_action_provider.code_action_kinds


async def test_pull_diagnostics_min_severity_and_result_ids(client: LanguageClient, workspace: Path):
    path = workspace / "pull.py"
    path.write_text(YAML)
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=YAML))
    )
    report = await pull(client, uri)
    assert report.kind == "full"
    # minSeverity "medium" from initializationOptions hides ML405 (low).
    assert [d.code for d in report.items] == ["ML604"]
    assert report.items[0].severity == types.DiagnosticSeverity.Error
    again = await pull(client, uri, report.result_id)
    assert again.kind == "unchanged"
    await asyncio.sleep(0.2)
    assert uri not in client.diagnostics  # pull clients get no pushed diagnostics

    fixed = YAML.replace("yaml.load(fh, Loader=yaml.FullLoader)", "yaml.safe_load(fh)")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    report2 = await pull(client, uri, report.result_id)
    assert report2.kind == "full" and list(report2.items) == []


async def test_utf32_columns(client: LanguageClient, workspace: Path):
    text = YAML.replace("    config = yaml.load", '    é = "\U0001f600"; config = yaml.load')
    path = workspace / "wide.py"
    path.write_text(text)
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )
    (d,) = (await pull(client, uri)).items
    assert d.range.start.character == text.splitlines()[4].index("yaml.load")  # code points


async def test_config_change_asks_client_to_refresh(client: LanguageClient, workspace: Path):
    before = client.diagnostic_refresh_count
    config = workspace / ".mllint.yaml"
    config.write_text("ignore: [ML604]\n")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Created)])
    )
    for _ in range(500):
        if client.diagnostic_refresh_count > before:
            break
        await asyncio.sleep(0.01)
    assert client.diagnostic_refresh_count > before
    path = workspace / "after_config.py"
    path.write_text(YAML)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=path.as_uri(), language_id="python", version=1, text=YAML)
        )
    )
    assert list((await pull(client, path.as_uri())).items) == []
    config.unlink()


async def test_pull_notebook_cell(client: LanguageClient, workspace: Path):
    nb_uri = (workspace / "pull.ipynb").as_uri()
    texts = ["import yaml", "%load_ext autoreload\nwith open('c.yaml') as fh:\n    cfg = yaml.load(fh)"]
    cells = [f"vscode-notebook-cell:{workspace / 'pull.ipynb'}#P{i}" for i in range(2)]
    client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=nb_uri,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[types.NotebookCell(kind=types.NotebookCellKind.Code, document=u) for u in cells],
            ),
            cell_text_documents=[
                types.TextDocumentItem(uri=u, language_id="python", version=1, text=t) for u, t in zip(cells, texts)
            ],
        )
    )
    (d,) = (await pull(client, cells[1])).items
    assert d.code == "ML604" and d.range.start.line == 2
    assert list((await pull(client, cells[0])).items) == []
