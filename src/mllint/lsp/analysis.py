"""What the language server computes for one document, off the event loop.

`analyse_python` / `analyse_notebook` take a snapshot of an open document
(text and version; for a notebook, its cells) and return an `Analysis`: the
LSP diagnostics per target URI (the document, or each notebook cell) and, per
diagnostic, what code actions need (the finding, its fix as LSP edits, the
noqa edit). Pure functions of their inputs: no server, no I/O but config.
"""

from __future__ import annotations

import ast
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from lsprotocol import types

from mllint.core.catalog import Catalog, default_catalog
from mllint.core.config import Config, ConfigError, find_config_file, load_config_file
from mllint.core.findings import Edit, Finding
from mllint.core.severity import Severity
from mllint.core.sources import Source, SourceError
from mllint.engine.incremental import StatementCache
from mllint.engine.lint import INTERNAL_ERROR, UNANALYSABLE, RuleSet, apply_suppressions, lint_source
from mllint.fix.noqa import NOT_NOQA_ABLE
from mllint.lsp.convert import LineMap, diagnostic, split_lines, text_edits
from mllint.lsp.noqa import NoqaPlanner
from mllint.lsp.parse import IncrementalParser
from mllint.lsp.worker import RuleWorker

log = logging.getLogger(__name__)

# Seconds to wait for the rule worker's answer before running its rules here.
WORKER_TIMEOUT = 10.0


@dataclass
class Entry:
    """One diagnostic and what its code actions need."""

    uri: str  # the document, or the notebook cell, it is shown in
    finding: Finding
    diagnostic: types.Diagnostic
    fix_edits: list[types.TextEdit] | None  # None: no fix, or not expressible
    # For "Disable MLnnn for this line", computed only when asked for (it
    # tokenizes the document): the planner, the line map, the line offset.
    noqa_from: tuple[NoqaPlanner, LineMap, int] | None = None

    def noqa_edit(self) -> types.TextEdit | None:
        if self.noqa_from is None or self.finding.code in NOT_NOQA_ABLE:
            return None
        planner, line_map, offset = self.noqa_from
        e = planner.edit(self.finding.line, self.finding.code)
        return text_edits([e], line_map, offset)[0] if e is not None else None


@dataclass
class Analysis:
    key: str  # document or notebook URI
    version: int | None
    entries: list[Entry] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # every URI to publish to
    result_id: str = ""

    def diagnostics_for(self, uri: str) -> list[types.Diagnostic]:
        return [e.diagnostic for e in self.entries if e.uri == uri]


@dataclass
class Cell:
    uri: str
    kind: str  # "code" | "markdown"
    text: str
    language: str | None = None


# ---------------------------------------------------------------------------
# Configuration: the CLI's discovery, cached, reloaded when the file changes
# ---------------------------------------------------------------------------


class ConfigCache:
    """`[tool.mllint]` / `.mllint.yaml` found upward from each document, as
    `mllint check` finds it. A found file is re-read when its mtime or size
    changes; `invalidate()` (watched-file events) forgets the discovery."""

    def __init__(self, min_severity: Severity | None = None):
        self.min_severity = min_severity
        self.errors: list[str] = []  # config errors not yet shown to the user
        self._lock = threading.Lock()
        self._found: dict[Path, Path | None] = {}
        self._loaded: dict[Path, tuple[tuple[int, int], Config | None]] = {}
        self.generation = 0

    def invalidate(self) -> None:
        with self._lock:
            self._found.clear()
            self._loaded.clear()
            self.generation += 1

    def for_path(self, path: str | None, folder: str | None = None) -> Config:
        """The config for a document; `folder` (its workspace folder) is the
        root for relative patterns when no config file is found, as the
        folder is the working directory of a `mllint check` run there."""
        directory = Path(path).parent if path else Path.cwd()
        with self._lock:
            if directory not in self._found:
                try:
                    self._found[directory] = find_config_file(directory if directory.is_dir() else Path.cwd())
                except OSError:
                    self._found[directory] = None
            found = self._found[directory]
            config = self._load(found) if found is not None else None
        if config is None:
            config = Config()
            base = Path(folder) if folder else directory
            config.root = (base if base.is_dir() else Path.cwd()).resolve()
        if self.min_severity is not None:
            config = config.model_copy(update={"min_severity": self.min_severity})
        return config

    def _load(self, found: Path) -> Config | None:
        try:
            st = found.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            return None
        cached = self._loaded.get(found)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            config: Config | None = load_config_file(found)
        except ConfigError as exc:
            self.errors.append(f"{exc}; using the default configuration")
            config = None
        self._loaded[found] = (stamp, config)
        return config


# ---------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------


def _internal_error_entry(uri: str, exc: BaseException) -> Entry:
    message = f"mllint could not analyse this document: {type(exc).__name__}: {exc} (please report this)"
    finding = Finding(INTERNAL_ERROR, message, uri, 1, 0, 1, 0, Severity.HIGH)
    rng = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    diag = diagnostic(finding, rng, None, None)
    return Entry(uri, finding, diag, None)


def _doc_url(catalog: Catalog, code: str) -> str | None:
    spec = catalog.get(code)
    return spec.doc_url if spec is not None else None


def analyse_python(
    uri: str,
    path: str | None,
    text: str,
    version: int | None,
    config: Config,
    encoding: str,
    parser: IncrementalParser | None = None,
    catalog: Catalog | None = None,
    cache: StatementCache | None = None,
    workers: Sequence[RuleWorker] = (),
) -> Analysis:
    """`parser` and `cache` are the document's own (kept between changes):
    the incremental parse, and statement-scoped findings reused for the
    top-level statements a change did not touch (`mllint.engine.incremental`).
    `workers`: the server's child processes, each running some rules (the
    leakage analysis; the other module-scoped rules) at the same time as this
    thread runs the rest."""
    analysis = Analysis(key=uri, version=version, targets=[uri])
    try:
        catalog = catalog or default_catalog()
        shown = path or uri
        if path and config.is_excluded(path):
            return analysis
        source = Source(path=shown, text=text)
        tree = None
        if parser is not None:
            try:
                tree = parser.parse(text)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                tree = None  # lint_source parses again and reports ML000
        if tree is None:
            findings = lint_source(source, config, catalog)  # reports the syntax error
        else:
            findings = _lint_parsed(uri, source, tree, config, catalog, cache, workers)
        line_map = LineMap(split_lines(text), encoding)
        planner = NoqaPlanner(text)
        for f in findings:
            fix_edits = text_edits(f.fix.edits, line_map) if f.fix is not None and f.fix.edits else None
            rng = line_map.range(f.line, f.col, f.end_line, f.end_col)
            diag = diagnostic(f, rng, _doc_url(catalog, f.code), fix_edits)
            analysis.entries.append(Entry(uri, f, diag, fix_edits, (planner, line_map, 0)))
    except Exception as exc:  # never let one document take the server down
        log.exception("analysis of %s failed", uri)
        analysis.entries = [_internal_error_entry(uri, exc)]
    return analysis


def _lint_parsed(
    key: str,
    source: Source,
    tree: ast.Module,
    config: Config,
    catalog: Catalog,
    cache: StatementCache | None,
    workers: Sequence[RuleWorker],
) -> list[Finding]:
    """`lint_source` over a parsed document, each worker's rules in its child
    process while this thread runs the others (the same findings as one
    `lint_source` call: every part unsuppressed, then merged and the noqa
    comments applied). If a worker fails, its rules run here after all."""
    classes = RuleSet.for_config(config).classes
    sent: list[tuple[list, object]] = []  # (rule classes, pending answer)
    remote: set = set()
    for worker in workers:
        theirs = [rc for rc in classes if rc.__name__ in worker.rule_names]
        pending = worker.submit(key, source.text, source.path, config, if_ready=True) if theirs else None
        if pending is not None:
            sent.append((theirs, pending))
            remote.update(theirs)
    here = [rc for rc in classes if rc not in remote]
    findings = lint_source(source, config, catalog, rule_classes=here, tree=tree, apply_noqa=False, incremental=cache)
    for theirs, pending in sent:
        answer = pending.result(WORKER_TIMEOUT)  # type: ignore[attr-defined]
        if answer is None:
            answer = lint_source(source, config, catalog, rule_classes=theirs, tree=tree, apply_noqa=False)
        # A syntax error is reported once, by this side (the children parse the same text).
        findings = findings + [f for f in answer if f.code != UNANALYSABLE]
    if sent:
        findings.sort(key=Finding.sort_key)
    return apply_suppressions(source, findings)


def notebook_source(path: str, cells: Sequence[Cell]) -> Source:
    """A notebook Source from the cells an editor holds, built by
    `mllint.core.notebooks.load_notebook` itself (same masking, numbering and
    per-cell languages as `mllint check`)."""
    from mllint.core.notebooks import load_notebook

    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"language_info": {"name": "python"}},
        "cells": [
            {
                "cell_type": c.kind,
                "source": c.text,
                "metadata": {"vscode": {"languageId": c.language}} if c.language else {},
                **({"outputs": [], "execution_count": None} if c.kind == "code" else {}),
            }
            for c in cells
        ],
    }
    return load_notebook(path, json.dumps(nb).encode("utf-8"))


def analyse_notebook(
    uri: str,
    path: str | None,
    cells: Sequence[Cell],
    version: int | None,
    config: Config,
    encoding: str,
    catalog: Catalog | None = None,
) -> Analysis:
    """Lint the notebook as one module (cross-cell data flow), then place
    each finding in its cell with cell-local positions."""
    analysis = Analysis(key=uri, version=version, targets=[c.uri for c in cells if c.kind == "code"])
    try:
        catalog = catalog or default_catalog()
        if path and config.is_excluded(path):
            return analysis
        try:
            source = notebook_source(path or uri, cells)
        except SourceError as err:
            first = analysis.targets[0] if analysis.targets else uri
            finding = Finding("ML000", f"cannot analyse this notebook: {err.reason}", uri, 1, 0, 1, 0, Severity.HIGH)
            rng = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
            analysis.entries.append(Entry(first, finding, diagnostic(finding, rng, _doc_url(catalog, "ML000"), None), None))
            return analysis
        findings = lint_source(source, config, catalog)
        planner = NoqaPlanner(source.text)
        maps = {i: LineMap(split_lines(c.text), encoding) for i, c in enumerate(cells, start=1)}
        for f in findings:
            if f.cell is None or not 1 <= f.cell <= len(cells):
                continue
            span = source.cell_span(f.cell)
            cell = cells[f.cell - 1]
            line_map = maps[f.cell]
            offset = span.start - 1 if span is not None else 0
            cell_line = f.cell_line or 1
            cell_end = f.cell_end_line or cell_line
            same_cell = f.end_line - f.line == cell_end - cell_line
            rng = line_map.range(cell_line, f.col, cell_end, f.end_col if same_cell else f.col)
            fix_edits = None
            if (
                f.fix is not None
                and f.fix.edits
                and span is not None
                and _within(f.fix.edits, span.start, span.n_lines)
                and all(
                    _same_line(source, line_map, ln, ln - offset) for e in f.fix.edits for ln in range(e.line, e.end_line + 1)
                )
            ):
                fix_edits = text_edits(f.fix.edits, line_map, offset)
            noqa = None
            if span is not None and _same_line(source, line_map, f.line, cell_line):
                noqa = (planner, line_map, offset)
            diag = diagnostic(f, rng, _doc_url(catalog, f.code), fix_edits)
            analysis.entries.append(Entry(cell.uri, f, diag, fix_edits, noqa))
    except Exception as exc:
        log.exception("analysis of %s failed", uri)
        first = analysis.targets[0] if analysis.targets else uri
        analysis.entries = [_internal_error_entry(first, exc)]
    return analysis


def _within(edits: Sequence[Edit], start: int, n_lines: int) -> bool:
    return all(start <= e.line and e.end_line < start + n_lines for e in edits)


def _same_line(source: Source, line_map: LineMap, module_line: int, cell_line: int) -> bool:
    """A noqa comment goes into the cell's own text: only where the analysed
    (masked) line is the cell's line unchanged."""
    if not 1 <= cell_line <= len(line_map.lines):
        return False
    return source.line_text(module_line) == line_map.lines[cell_line - 1]

