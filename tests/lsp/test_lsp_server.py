"""End to end: a real LSP client (pytest-lsp) drives `mllint server` over
stdio with push diagnostics. One server for the module keeps this fast."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from lsp_client import CONFIG, apply_edits, edits_of, wait_for, wait_version, YAML
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

SPLIT = """\
import numpy as np
from sklearn.model_selection import train_test_split

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
"""

@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("lsp_ws")
    # Every rule, opt-in ones (ML102, ML405, ...) included: these tests are
    # about the server, not the default rule set.
    (ws / ".mllint.yaml").write_text("select: [ALL]\n")
    return ws


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient, workspace: Path):
    caps = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True),
        ),
        text_document=types.TextDocumentClientCapabilities(
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
        ),
        notebook_document=types.NotebookDocumentClientCapabilities(
            synchronization=types.NotebookDocumentSyncClientCapabilities()
        ),
    )
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
        )
    )
    yield
    await lsp_client.shutdown_session()


def open_doc(client: LanguageClient, workspace: Path, name: str, text: str, version: int = 1) -> str:
    path = workspace / name
    path.write_text(text)
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)
        )
    )
    return uri


def change_doc(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def actions_for(client: LanguageClient, uri: str, diag: types.Diagnostic, only=None):
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diag.range,
            context=types.CodeActionContext(diagnostics=[diag], only=only),
        )
    )


async def test_diagnostic_fields(client: LanguageClient, workspace: Path):
    uri = open_doc(client, workspace, "split.py", SPLIT)
    diags = await wait_version(client, uri, 1)
    (d,) = [d for d in diags if d.code == "ML102"]
    assert d.source == "mllint"
    assert d.severity == types.DiagnosticSeverity.Warning  # medium
    assert d.code_description is not None and d.code_description.href.endswith("/ML102.md")
    assert (d.range.start.line, d.range.start.character) == (3, 35)
    assert (d.range.end.line, d.range.end.character) == (3, 72)
    assert d.data["fix"]["applicability"] == "unsafe"
    assert d.data["fix"]["edits"][0]["newText"] == ", random_state=42"


async def test_unsafe_quick_fix_applies_and_clears(client: LanguageClient, workspace: Path):
    uri = open_doc(client, workspace, "quickfix.py", SPLIT)
    (d,) = [d for d in await wait_version(client, uri, 1) if d.code == "ML102"]
    actions = await actions_for(client, uri, d)
    fixes = [a for a in actions if "random_state" in a.title]
    assert len(fixes) == 1 and "(unsafe)" in fixes[0].title
    assert fixes[0].kind == types.CodeActionKind.QuickFix and not fixes[0].is_preferred
    new = apply_edits(SPLIT, edits_of(fixes[0], uri))
    assert "test_size=0.2, random_state=42)" in new
    change_doc(client, uri, new, 2)
    assert not [d for d in await wait_version(client, uri, 2) if d.code == "ML102"]


async def test_noqa_action_adds_and_merges(client: LanguageClient, workspace: Path):
    text = SPLIT.replace("test_size=0.2)", "test_size=0.2)  # noqa: ML999")
    uri = open_doc(client, workspace, "noqa.py", text)
    (d,) = [d for d in await wait_version(client, uri, 1) if d.code == "ML102"]
    actions = await actions_for(client, uri, d)
    (disable,) = [a for a in actions if a.title == "Disable ML102 for this line"]
    new = apply_edits(text, edits_of(disable, uri))
    assert new.splitlines()[3].endswith("# noqa: ML999, ML102")
    change_doc(client, uri, new, 2)
    assert await wait_version(client, uri, 2) == []


async def test_fix_all_applies_safe_fixes_only(client: LanguageClient, workspace: Path):
    text = YAML + "from sklearn.model_selection import train_test_split\nparts = train_test_split(X, y)\n"
    uri = open_doc(client, workspace, "fixall.py", text)
    diags = await wait_version(client, uri, 1)
    assert {"ML604", "ML405", "ML102"} <= {d.code for d in diags}
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.SourceFixAll]),
        )
    )
    (fix_all,) = actions
    assert fix_all.kind == "source.fixAll.mllint"
    new = apply_edits(text, edits_of(fix_all, uri))
    assert "yaml.safe_load(fh)" in new and ".to_numpy()" in new
    change_doc(client, uri, new, 2)
    left = {d.code for d in await wait_version(client, uri, 2)}
    assert "ML604" not in left and "ML405" not in left
    assert "ML102" in left  # unsafe: not part of fix-all


async def test_utf16_columns(client: LanguageClient, workspace: Path):
    text = SPLIT.replace("X_train, X_test", "X_train, X_test").replace(
        "X_train, X_test, y_train, y_test = ", 'note = "\U0001f600"; X_train, X_test, y_train, y_test = '
    )
    uri = open_doc(client, workspace, "emoji.py", text)
    (d,) = [d for d in await wait_version(client, uri, 1) if d.code == "ML102"]
    line = text.splitlines()[3]
    char_col = line.index("train_test_split(")
    assert d.range.start.character == char_col + 1  # the emoji is 2 UTF-16 code units


async def test_syntax_error_gives_ml000_and_recovers(client: LanguageClient, workspace: Path):
    uri = open_doc(client, workspace, "broken.py", "def f(:\n    pass\n")
    diags = await wait_version(client, uri, 1)
    assert [d.code for d in diags] == ["ML000"]
    assert diags[0].range.start.line == 0
    change_doc(client, uri, SPLIT, 2)
    assert [d.code for d in await wait_version(client, uri, 2)] == ["ML102"]


async def test_close_clears(client: LanguageClient, workspace: Path):
    uri = open_doc(client, workspace, "closing.py", SPLIT)
    assert await wait_version(client, uri, 1)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await wait_for(client, uri, lambda d: d == [])


async def test_rapid_changes_end_with_latest_version(client: LanguageClient, workspace: Path):
    uri = open_doc(client, workspace, "typing.py", SPLIT)
    await wait_version(client, uri, 1)
    text = SPLIT
    for v in range(2, 12):
        text = text + f"a{v} = {v}\n"
        change_doc(client, uri, text, v)
    diags = await wait_version(client, uri, 11)
    assert [d.code for d in diags] == ["ML102"]


async def test_notebook_cells_get_cell_local_ranges(client: LanguageClient, workspace: Path):
    nb_uri = (workspace / "train.ipynb").as_uri()
    cells = [
        ("markdown", "# Training\nSome notes.", "markdown"),
        ("code", "import numpy as np\nfrom sklearn.model_selection import train_test_split", "python"),
        ("code", "%matplotlib inline\nX_train, X_test, y_train, y_test = train_test_split(X, y)", "python"),
    ]
    cell_uris = [f"vscode-notebook-cell:{workspace / 'train.ipynb'}#C{i}" for i in range(len(cells))]
    client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=nb_uri,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[
                    types.NotebookCell(
                        kind=types.NotebookCellKind.Code if k == "code" else types.NotebookCellKind.Markup,
                        document=u,
                    )
                    for (k, _, _), u in zip(cells, cell_uris)
                ],
            ),
            cell_text_documents=[
                types.TextDocumentItem(uri=u, language_id=lang, version=1, text=t)
                for (_, t, lang), u in zip(cells, cell_uris)
            ],
        )
    )
    diags = await wait_for(client, cell_uris[2], lambda d: len(d) > 0)
    (d,) = [d for d in diags if d.code == "ML102"]
    # The import is in another cell, the range is local to the third cell.
    assert (d.range.start.line, d.range.start.character) == (1, 35)
    await wait_for(client, cell_uris[1], lambda d: d == [])
    assert cell_uris[0] not in client.diagnostics  # markdown cells get none
    # The quick fix edits the cell, in cell coordinates.
    actions = await actions_for(client, cell_uris[2], d)
    (fix,) = [a for a in actions if "random_state" in a.title]
    (edit,) = edits_of(fix, cell_uris[2])
    assert edit.range.start.line == 1
    # Editing a cell re-analyses the whole notebook.
    client.notebook_document_did_change(
        types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(uri=nb_uri, version=2),
            change=types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    text_content=[
                        types.NotebookDocumentCellContentChanges(
                            document=types.VersionedTextDocumentIdentifier(uri=cell_uris[1], version=2),
                            changes=[types.TextDocumentContentChangeWholeDocument(text="from project.splits import train_test_split")],
                        )
                    ]
                )
            ),
        )
    )
    # Imported from elsewhere, train_test_split is not sklearn's: no ML102.
    await wait_for(client, cell_uris[2], lambda d: not [x for x in d if x.code == "ML102"])
    client.notebook_document_did_close(
        types.DidCloseNotebookDocumentParams(
            notebook_document=types.NotebookDocumentIdentifier(uri=nb_uri),
            cell_text_documents=[types.TextDocumentIdentifier(uri=u) for u in cell_uris],
        )
    )
    await wait_for(client, cell_uris[2], lambda d: d == [])


async def test_config_file_change_reloads(client: LanguageClient, workspace: Path):
    assert any(r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES for r in client.registrations)
    sub = workspace / "proj"
    sub.mkdir()
    uri = open_doc(client, sub, "cfg.py", SPLIT)
    assert [d.code for d in await wait_version(client, uri, 1)] == ["ML102"]
    config = sub / "pyproject.toml"
    config.write_text('[tool.mllint]\nselect = ["ALL"]\nignore = ["ML102"]\n')
    n = len(client.published)
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Created)])
    )
    await wait_for(client, uri, lambda d: d == [] and len(client.published) > n)
    config.unlink()
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Deleted)])
    )
    await wait_for(client, uri, lambda d: [x.code for x in d] == ["ML102"])


async def test_min_severity_setting(client: LanguageClient, workspace: Path):
    uri = open_doc(client, workspace, "severity.py", YAML)
    assert "ML405" in {d.code for d in await wait_version(client, uri, 1)}  # low
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"mllint": {"minSeverity": "high"}}))
    await wait_for(client, uri, lambda d: d and {x.code for x in d} == {"ML604"})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"mllint": {"minSeverity": "info"}}))
    await wait_for(client, uri, lambda d: "ML405" in {x.code for x in d})


async def test_slow_file_does_not_block_others(client: LanguageClient, workspace: Path):
    big = "import numpy as np\n" + "".join(
        f"v{i} = np.mean([a + b * {i} for a in range(3) for b in range(4)])\n" for i in range(4000)
    )
    n = len(client.published)  # type: ignore[attr-defined]
    big_uri = open_doc(client, workspace, "big.py", big)
    small_uri = open_doc(client, workspace, "small.py", SPLIT)
    (d,) = await wait_version(client, small_uri, 1)
    actions = await actions_for(client, small_uri, d)
    assert any("random_state" in a.title for a in actions)
    order = [p.uri for p in client.published[n:]]  # type: ignore[attr-defined]
    assert big_uri not in order  # the big file is still being analysed
    assert await wait_version(client, big_uri, 1) == []


async def test_unknown_document_gets_no_actions(client: LanguageClient):
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri="file:///nowhere/unknown.py"),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert not result
