"""`mllint server`: a Language Server (pygls 2) with diagnostics and fixes.

* Push diagnostics on open/change/save (changes coalesced: while a document
  is being analysed, further changes only mark it dirty and one re-analysis
  follows), or pull diagnostics (`textDocument/diagnostic`) when the client
  supports them; diagnostics are cleared on close.
* Code actions: the finding's fix (unsafe ones labelled), "Disable MLnnn for
  this line" (noqa), and `source.fixAll.mllint` (all safe fixes that apply
  together).
* Notebooks (LSP 3.17 notebook sync): the notebook is linted as one module,
  diagnostics are published per cell with cell-local positions.
* Configuration: the CLI's `[tool.mllint]` discovery per document, reloaded
  when a config file changes; `initializationOptions` /
  `workspace/didChangeConfiguration`: `{"minSeverity": "medium"}` (also
  accepted nested under `"mllint"`).
* Analysis runs in worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from mllint.core.catalog import default_catalog
from mllint.core.severity import Severity
from mllint.core.version import __version__
from mllint.engine.incremental import StatementCache
from mllint.lsp.analysis import Analysis, Cell, ConfigCache, Entry, analyse_notebook, analyse_python
from mllint.lsp.convert import FIX_ALL_KIND, compatible_fixes, encoding_name, fix_label
from mllint.lsp.parse import IncrementalParser
from mllint.lsp.worker import RuleWorker

log = logging.getLogger(__name__)

CONFIG_GLOBS = ("**/pyproject.toml", "**/.mllint.yaml", "**/.mllint.yml")
CONFIG_NAMES = ("pyproject.toml", ".mllint.yaml", ".mllint.yml")
PYTHON_SUFFIXES = (".py", ".pyi")
LEAKAGE_RULES = ("DataLeakage",)


def parallel_rule_groups() -> list[tuple[str, ...]]:
    """The rule classes each worker process runs: the leakage analysis, and
    every other module-scoped rule (`Rule.scope`)."""
    from mllint.rules.base import registered_rules

    others = tuple(rc.__name__ for rc in registered_rules() if rc.scope != "statement" and rc.__name__ not in LEAKAGE_RULES)
    return [LEAKAGE_RULES, others]


DEFAULT_DEBOUNCE = 0.0  # seconds; changes that arrive during an analysis coalesce anyway


@dataclass
class DocState:
    key: str
    notebook: bool
    parser: IncrementalParser | None = None
    cache: StatementCache | None = None
    result: Analysis | None = None
    task: asyncio.Task | None = None
    dirty: bool = False
    published: set[str] = field(default_factory=set)


class _Ignored:
    """What a request that was answered with an error becomes: a message
    `handle_message` drops."""

    jsonrpc = "ignored"


class MllintProtocol(LanguageServerProtocol):
    """pygls 2 logs a request whose params do not deserialise and never
    answers it, leaving the client waiting; answer it with the JSON-RPC error
    (-32602 invalid params) instead."""

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "jsonrpc" in data and "id" in data and "method" in data:
                method = data.get("method")
                self._send_response(
                    data["id"], error=types.ResponseError(code=exc.code, message=f"{exc.message} for {method!r}")
                )
                return _Ignored()
            raise


class MllintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "mllint",
            __version__,
            protocol_cls=MllintProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                # notebook "*": every notebook type (lsprotocol clients cannot
                # read a cells-only filter).
                notebook_selector=[
                    types.NotebookDocumentFilterWithNotebook(
                        notebook="*", cells=[types.NotebookCellLanguage(language="python")]
                    )
                ],
                save=True,
            ),
        )
        self.docs: dict[str, DocState] = {}
        self.configs = ConfigCache()
        self.pull = False
        self.debounce = DEFAULT_DEBOUNCE
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mllint-analysis")
        self.catalog = default_catalog()
        # Rules that must see the whole module on every change run in child
        # processes at the same time as this process runs the rules that
        # re-run only on edited statements: the leakage analysis in one, the
        # other module-scoped rules in another.
        self.workers = [RuleWorker(group) for group in parallel_rule_groups()]

    # -- settings ---------------------------------------------------------
    def apply_settings(self, options: Any) -> bool:
        """Take the keys this server knows from client settings; True when
        something changed. Keys that are absent are left as they are (clients
        often send every server's settings in one object)."""
        if not isinstance(options, dict):
            return False
        if isinstance(options.get("mllint"), dict):
            options = options["mllint"]
        before = (self.configs.min_severity, self.debounce)
        for key in ("minSeverity", "min-severity"):
            if key not in options:
                continue
            value = options[key]
            if value is None:
                self.configs.min_severity = None
                continue
            try:
                self.configs.min_severity = Severity(str(value).lower())
            except ValueError:
                self.configs.errors.append(
                    f"minSeverity {value!r} is not one of {', '.join(s.value for s in Severity)}; ignored"
                )
        debounce = options.get("debounceMs")
        if isinstance(debounce, (int, float)) and not isinstance(debounce, bool) and 0 <= debounce <= 5000:
            self.debounce = debounce / 1000
        return (self.configs.min_severity, self.debounce) != before

    def show_config_errors(self) -> None:
        while self.configs.errors:
            message = self.configs.errors.pop(0)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"mllint: {message}"))

    # -- documents --------------------------------------------------------
    def notebook_for(self, uri: str) -> types.NotebookDocument | None:
        return self.workspace.get_notebook_document(cell_uri=uri)

    def key_for(self, uri: str) -> str | None:
        """The state key of a document or a notebook cell URI."""
        if uri in self.docs:
            return uri
        nb = self.notebook_for(uri)
        if nb is not None and nb.uri in self.docs:
            return nb.uri
        return None

    def current_version(self, key: str) -> int | None:
        st = self.docs[key]
        if st.notebook:
            nb = self.workspace.get_notebook_document(notebook_uri=key)
            return nb.version if nb is not None else None
        return self.workspace.get_text_document(key).version

    def snapshot(self, key: str):
        """Everything an analysis needs, copied on the event loop."""
        st = self.docs[key]
        encoding = encoding_name(self.workspace.position_encoding)
        path = _fs_path(key)
        folder = self.folder_of(path)
        configs = self.configs
        catalog = self.catalog
        if st.notebook:
            nb = self.workspace.get_notebook_document(notebook_uri=key)
            if nb is None:
                return None
            cells = []
            for c in nb.cells:
                doc = self.workspace.get_text_document(c.document)
                kind = "code" if c.kind == types.NotebookCellKind.Code else "markdown"
                cells.append(Cell(c.document, kind, doc.source, doc.language_id))
            version = nb.version
            # Config discovery reads files: done in the worker thread too.
            return lambda: analyse_notebook(key, path, cells, version, configs.for_path(path, folder), encoding, catalog)
        doc = self.workspace.get_text_document(key)
        text, version, parser, cache, workers = doc.source, doc.version, st.parser, st.cache, self.workers
        return lambda: analyse_python(
            key, path, text, version, configs.for_path(path, folder), encoding, parser, catalog, cache, workers
        )

    def folder_of(self, path: str | None) -> str | None:
        """The innermost workspace folder containing `path` (or the root)."""
        if not path:
            return None
        best: str | None = None
        roots = [f.uri for f in self.workspace.folders.values()]
        if self.workspace.root_uri:
            roots.append(self.workspace.root_uri)
        for uri in roots:
            root = _fs_path(uri)
            if root and (path == root or path.startswith(root.rstrip(os.sep) + os.sep)):
                if best is None or len(root) > len(best):
                    best = root
        return best

    def schedule(self, key: str, delay: float = 0.0) -> None:
        st = self.docs.get(key)
        if st is None:
            return
        st.dirty = True
        if st.task is None or st.task.done():
            st.task = asyncio.ensure_future(self._run(key, delay))

    async def _run(self, key: str, delay: float) -> None:
        try:
            await self._analyse_loop(key, delay)
        except asyncio.CancelledError:
            raise
        except Exception:  # a server bug must not end the session
            log.exception("analysis task for %s failed", key)

    async def _analyse_loop(self, key: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        loop = asyncio.get_running_loop()
        while True:
            st = self.docs.get(key)
            if st is None or not st.dirty:
                return
            st.dirty = False
            job = self.snapshot(key)
            if job is None:
                return
            result = await loop.run_in_executor(self.executor, job)
            self.show_config_errors()
            if self.docs.get(key) is not st:
                return  # closed meanwhile
            st.result = result
            if st.dirty:
                continue  # changed while analysed: analyse again, publish that
            if not self.pull:
                self.publish(st, result)
            return

    async def fresh(self, key: str) -> Analysis | None:
        """The analysis of the document's current version."""
        for _ in range(20):
            st = self.docs.get(key)
            if st is None:
                return None
            version = self.current_version(key)
            if st.result is not None and st.result.version == version and not st.dirty:
                return st.result
            if st.task is None or st.task.done():
                st.dirty = True
                st.task = asyncio.ensure_future(self._run(key, 0))
            try:
                await asyncio.shield(st.task)
            except asyncio.CancelledError:
                if not st.task.cancelled():
                    raise  # this request itself was cancelled
                return None  # the document was closed meanwhile
        st = self.docs.get(key)
        return st.result if st is not None else None

    def publish(self, st: DocState, result: Analysis) -> None:
        targets = set(result.targets) | {e.uri for e in result.entries}
        for uri in sorted(targets | st.published):
            version = result.version if not st.notebook else None
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=result.diagnostics_for(uri), version=version)
            )
        st.published = targets

    def open(self, key: str, notebook: bool) -> None:
        st = self.docs.get(key)
        if st is None:
            parser = None if notebook else IncrementalParser(_fs_path(key) or key)
            cache = None if notebook else StatementCache()
            st = self.docs[key] = DocState(key, notebook, parser, cache)
        self.schedule(key)

    def close(self, key: str) -> None:
        st = self.docs.pop(key, None)
        if st is None:
            return
        if st.task is not None and not st.task.done():
            st.task.cancel()
        for uri in sorted(st.published | (set(st.result.targets) if st.result else set())):
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def relint_all(self) -> None:
        for key in list(self.docs):
            st = self.docs[key]
            st.result = None
            if not self.pull:
                self.schedule(key)
        if self.pull:
            caps = self.client_capabilities.workspace
            if caps is not None and caps.diagnostics is not None and caps.diagnostics.refresh_support:
                self.workspace_diagnostic_refresh(None)


def _fs_path(uri: str) -> str | None:
    try:
        return to_fs_path(uri)
    except Exception:
        return None


def _is_python(doc: types.TextDocumentItem) -> bool:
    if doc.language_id == "python":
        return True
    return doc.uri.endswith(PYTHON_SUFFIXES)


def _is_config(uri: str) -> bool:
    return uri.rsplit("/", 1)[-1] in CONFIG_NAMES


# ---------------------------------------------------------------------------
# Code actions
# ---------------------------------------------------------------------------


def _overlaps(a: types.Range, b: types.Range) -> bool:
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and (
        b.start.line,
        b.start.character,
    ) <= (a.end.line, a.end.character)


def _wanted(kind: str, only: list[str] | None) -> bool:
    return only is None or any(kind == k or kind.startswith(k + ".") for k in only)


def _workspace_edit(ls: MllintServer, edits: dict[str, list[types.TextEdit]]) -> types.WorkspaceEdit:
    caps = ls.client_capabilities.workspace
    versioned = caps is not None and caps.workspace_edit is not None and caps.workspace_edit.document_changes
    if not versioned:
        return types.WorkspaceEdit(changes=edits)
    changes = []
    for uri, text_edits in edits.items():
        version = ls.workspace.get_text_document(uri).version
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                edits=text_edits,
            )
        )
    return types.WorkspaceEdit(document_changes=changes)


def _matches(entry: Entry, diag: types.Diagnostic) -> bool:
    d = entry.diagnostic
    return d.code == diag.code and d.range == diag.range


def code_actions(ls: MllintServer, params: types.CodeActionParams, result: Analysis) -> list[types.CodeAction]:
    uri = params.text_document.uri
    only = [str(k) for k in params.context.only] if params.context.only else None
    actions: list[types.CodeAction] = []
    entries = [e for e in result.entries if e.uri == uri]
    asked = [
        e
        for e in entries
        if any(_matches(e, d) for d in params.context.diagnostics) or _overlaps(e.diagnostic.range, params.range)
    ]
    if _wanted(types.CodeActionKind.QuickFix, only):
        for e in asked:
            fix = e.finding.fix
            if fix is not None and e.fix_edits:
                actions.append(
                    types.CodeAction(
                        title=f"{e.finding.code}: {fix_label(fix)}",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[e.diagnostic],
                        edit=_workspace_edit(ls, {e.uri: e.fix_edits}),
                        is_preferred=fix.applicability == "safe",
                    )
                )
        for e in asked:
            noqa = e.noqa_edit()
            if noqa is not None:
                actions.append(
                    types.CodeAction(
                        title=f"Disable {e.finding.code} for this line",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[e.diagnostic],
                        edit=_workspace_edit(ls, {e.uri: [noqa]}),
                    )
                )
    if _wanted(FIX_ALL_KIND, only):
        fix_all = fix_all_action(ls, result, explicit=only is not None)
        if fix_all is not None:
            actions.append(fix_all)
    return actions


def fix_all_action(ls: MllintServer, result: Analysis, explicit: bool) -> types.CodeAction | None:
    by_fix = {id(e.finding.fix): e for e in result.entries if e.finding.fix is not None and e.fix_edits}
    chosen = compatible_fixes([e.finding.fix for e in by_fix.values()])  # type: ignore[misc]
    if not chosen and not explicit:
        return None
    edits: dict[str, list[types.TextEdit]] = {}
    for fix in chosen:
        e = by_fix[id(fix)]
        edits.setdefault(e.uri, []).extend(e.fix_edits or [])
    return types.CodeAction(
        title="mllint: fix all safe fixes",
        kind=FIX_ALL_KIND,
        edit=_workspace_edit(ls, edits) if edits else None,
    )


# ---------------------------------------------------------------------------
# Wiring
# ---------------------------------------------------------------------------


def create_server() -> MllintServer:
    server = MllintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: MllintServer, params: types.InitializeParams) -> None:
        ls.apply_settings(params.initialization_options)
        td = params.capabilities.text_document
        ls.pull = td is not None and td.diagnostic is not None

    @server.feature(types.INITIALIZED)
    async def initialized(ls: MllintServer, params: types.InitializedParams) -> None:
        for worker in ls.workers:
            worker.start()  # their imports (~0.5 s) overlap the client's didOpen
        ls.show_config_errors()
        ws = ls.client_capabilities.workspace
        watched = ws.did_change_watched_files if ws is not None else None
        if watched is not None and watched.dynamic_registration:
            options = types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern=g) for g in CONFIG_GLOBS]
            )
            try:
                await ls.client_register_capability_async(
                    types.RegistrationParams(
                        registrations=[
                            types.Registration(
                                id="mllint-config-watch",
                                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                register_options=options,
                            )
                        ]
                    )
                )
            except Exception as exc:  # the client refused: mtime checks still apply
                log.warning("could not register config file watchers: %s", exc)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MllintServer, params: types.DidOpenTextDocumentParams) -> None:
        if ls.notebook_for(params.text_document.uri) is not None:
            return  # a notebook cell: handled with its notebook
        if _is_python(params.text_document):
            ls.open(params.text_document.uri, notebook=False)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MllintServer, params: types.DidChangeTextDocumentParams) -> None:
        key = ls.key_for(params.text_document.uri)
        if key is not None and not ls.pull:
            ls.schedule(key, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: MllintServer, params: types.DidSaveTextDocumentParams) -> None:
        if _is_config(params.text_document.uri):
            ls.configs.invalidate()
            ls.relint_all()
            return
        key = ls.key_for(params.text_document.uri)
        if key is not None and not ls.pull:
            ls.schedule(key)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MllintServer, params: types.DidCloseTextDocumentParams) -> None:
        if params.text_document.uri in ls.docs:
            ls.close(params.text_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def nb_open(ls: MllintServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.open(params.notebook_document.uri, notebook=True)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def nb_change(ls: MllintServer, params: types.DidChangeNotebookDocumentParams) -> None:
        if params.notebook_document.uri in ls.docs and not ls.pull:
            ls.schedule(params.notebook_document.uri, ls.debounce)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def nb_save(ls: MllintServer, params: types.DidSaveNotebookDocumentParams) -> None:
        if params.notebook_document.uri in ls.docs and not ls.pull:
            ls.schedule(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def nb_close(ls: MllintServer, params: types.DidCloseNotebookDocumentParams) -> None:
        ls.close(params.notebook_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: MllintServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(_is_config(c.uri) for c in params.changes):
            ls.configs.invalidate()
            ls.relint_all()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: MllintServer, params: types.DidChangeConfigurationParams) -> None:
        changed = ls.apply_settings(params.settings)
        ls.show_config_errors()
        if changed:
            ls.configs.invalidate()
            ls.relint_all()

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(identifier="mllint", inter_file_dependencies=False, workspace_diagnostics=False),
    )
    async def pull_diagnostics(ls: MllintServer, params: types.DocumentDiagnosticParams):
        uri = params.text_document.uri
        key = ls.key_for(uri)
        if key is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        result = await ls.fresh(key)
        if result is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        result_id = f"{result.version}:{ls.configs.generation}:{ls.configs.min_severity}"
        if params.previous_result_id == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return types.RelatedFullDocumentDiagnosticReport(items=result.diagnostics_for(uri), result_id=result_id)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=False),
    )
    async def code_action(ls: MllintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        key = ls.key_for(params.text_document.uri)
        if key is None:
            return []
        result = await ls.fresh(key)
        if result is None:
            return []
        # The noqa edits tokenize the document once: not on the event loop.
        planners = {id(e.noqa_from[0]): e.noqa_from[0] for e in result.entries if e.noqa_from is not None}
        if planners:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(ls.executor, lambda: [p.prepare() for p in planners.values()])
        return code_actions(ls, params, result)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: MllintServer, params: None) -> None:
        for st in ls.docs.values():
            if st.task is not None and not st.task.done():
                st.task.cancel()
        ls.executor.shutdown(wait=False, cancel_futures=True)
        for worker in ls.workers:
            worker.close()

    return server


def serve(tcp: bool = False, host: str = "127.0.0.1", port: int = 2087) -> int:
    level = os.environ.get("MLLINT_LOG_LEVEL", "WARNING").upper()
    if not isinstance(logging.getLevelName(level), int):
        level = "WARNING"
    logging.basicConfig(level=level, format="mllint-lsp %(levelname)s %(message)s")
    server = create_server()
    from mllint.engine.runner import tune_gc

    tune_gc()
    try:
        if tcp:
            server.start_tcp(host, port)
        else:
            server.start_io()
    finally:
        for worker in server.workers:
            worker.close()
    return 0
