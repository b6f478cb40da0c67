"""Apply the fixes that findings carry.

A rule describes a fix as text Edits in module coordinates (1-based lines,
0-based character columns; see `mllint.core.findings`). This module turns them into
changed files:

* one pass applies every applicable fix whose edits do not overlap an already
  chosen fix's edits (edits are applied back to front, so positions stay
  valid); the result must parse with `ast` and, when the original did, with
  libcst, round-tripping to exactly the same text. If the combined result
  does not parse, the fixes are retried one by one and each fix that breaks
  the file is rejected (and not retried);
* the file is re-linted and the next pass runs, until no applicable fix is
  left, a pass changes nothing, or `MAX_PASSES` is reached;
* Python files keep their encoding, BOM and newline style (inserted text uses
  the file's newline); notebooks are edited inside the cell: only the edited
  cells' `source` changes in the notebook JSON, which is re-serialised in the
  file's own style so outputs and metadata stay byte-identical;
* writing is atomic (`mllint.core.fsutil.atomic_write`).

Safe fixes apply with `--fix`; unsafe ones also need `--unsafe-fixes`.
"""

from __future__ import annotations

import ast
import codecs
import difflib
import json
import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mllint.core.config import Config
from mllint.core.findings import Edit, Finding, Fix
from mllint.core.sources import Source, SourceError, load_source

MAX_PASSES = 10

_NEWLINE = re.compile(r"\r\n|\r|\n")


def is_applicable(fix: Fix | None, unsafe: bool) -> bool:
    return fix is not None and bool(fix.edits) and (fix.applicability == "safe" or unsafe)


# ---------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------

def split_lines_keepends(text: str) -> list[str]:
    """Split on the newlines Python's tokenizer knows (\\r\\n, \\r, \\n) only;
    str.splitlines would also split on form feeds and \\u2028."""
    out: list[str] = []
    pos = 0
    for m in _NEWLINE.finditer(text):
        out.append(text[pos : m.end()])
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for m in _NEWLINE.finditer(text):
        starts.append(m.end())
    return starts


def _line_content_len(text: str, starts: list[int], i: int) -> int:
    """Length of line i (0-based) without its newline."""
    end = starts[i + 1] if i + 1 < len(starts) else len(text)
    seg = text[starts[i] : end]
    return len(seg.rstrip("\r\n")) if seg.endswith(("\n", "\r")) else len(seg)


def _offset(text: str, starts: list[int], line: int, col: int) -> int | None:
    """(1-based line, 0-based char column) -> offset, None if out of range."""
    i = line - 1
    if i < 0 or i >= len(starts) or col < 0:
        return None
    if col > _line_content_len(text, starts, i):
        return None
    return starts[i] + col


def detect_newline(text: str) -> str:
    m = _NEWLINE.search(text)
    return m.group(0) if m else "\n"


def _with_newline(text: str, newline: str) -> str:
    if "\n" not in text and "\r" not in text:
        return text
    return _NEWLINE.sub(newline, text)


Span = tuple[int, int, str]  # start offset, end offset, replacement


def _conflict(a: Span, b: Span) -> bool:
    (s1, e1, _), (s2, e2, _) = a, b
    if max(s1, s2) < min(e1, e2):  # real overlap
        return True
    if s1 == s2:  # two edits starting at the same place: order is ambiguous
        return True
    if s1 == e1 and s2 < s1 < e2:  # insertion strictly inside a replacement
        return True
    return s2 == e2 and s1 < s2 < e1


def apply_spans(text: str, spans: Sequence[Span]) -> str:
    out = text
    for start, end, repl in sorted(spans, key=lambda s: (s[0], s[1]), reverse=True):
        out = out[:start] + repl + out[end:]
    return out


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

def ast_parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def libcst_roundtrips(text: str) -> bool:
    """libcst parses `text` and prints it back unchanged (lossless)."""
    import libcst

    try:
        return libcst.parse_module(text).code == text
    except Exception:  # ParserSyntaxError, and libcst's own limits
        return False


class _Validator:
    """Is an edited text still valid Python? ast must parse it; libcst must
    parse and losslessly round-trip it if it did so for the original."""

    def __init__(self) -> None:
        self._cst_ok: dict[str, bool] = {}

    def ok(self, original: str, new: str) -> bool:
        if not ast_parses(new):
            return False
        cst_original = self._cst_ok.get(original)
        if cst_original is None:
            cst_original = self._cst_ok[original] = libcst_roundtrips(original)
        return not cst_original or libcst_roundtrips(new)


# ---------------------------------------------------------------------------
# Documents: where edits land (a Python file, or the cells of a notebook)
# ---------------------------------------------------------------------------

class _Document(ABC):
    """One version of a file: maps a Fix to text spans per segment and
    renders a set of accepted spans to new file bytes (None if invalid)."""

    @abstractmethod
    def spans(self, fix: Fix) -> list[tuple[int, Span]] | None: ...

    @abstractmethod
    def render(self, edits: dict[int, list[Span]]) -> tuple[bytes | None, str]: ...


class _PythonDocument(_Document):
    def __init__(self, source: Source, data: bytes, validator: _Validator):
        self.source = source
        self.data = data
        self.text = source.text
        self.starts = _line_starts(self.text)
        self.newline = detect_newline(self.text)
        self.validator = validator
        self.bom = data.startswith(codecs.BOM_UTF8)
        enc = source.encoding or "utf-8"
        self.encoding = "utf-8" if enc.lower().replace("_", "-") in ("utf-8-sig", "utf8-sig") else enc
        self.roundtrip_ok = self.encode(self.text) == data

    def encode(self, text: str) -> bytes | None:
        try:
            body = text.encode(self.encoding)
        except (UnicodeEncodeError, LookupError):
            return None
        return (codecs.BOM_UTF8 + body) if self.bom else body

    def spans(self, fix: Fix) -> list[tuple[int, Span]] | None:
        if not self.roundtrip_ok:
            return None
        out: list[tuple[int, Span]] = []
        for e in fix.edits:
            start = _offset(self.text, self.starts, e.line, e.col)
            end = _offset(self.text, self.starts, e.end_line, e.end_col)
            if start is None or end is None or end < start:
                return None
            out.append((0, (start, end, _with_newline(e.text, self.newline))))
        return out

    def render(self, edits: dict[int, list[Span]]) -> tuple[bytes | None, str]:
        new_text = apply_spans(self.text, edits.get(0, []))
        if not self.validator.ok(self.text, new_text):
            return None, "the result would not parse"
        data = self.encode(new_text)
        if data is None:
            return None, f"the result cannot be encoded as {self.encoding}"
        return data, ""


class _NotebookDocument(_Document):
    """Edits in module coordinates are moved into the cells they fall in.
    An edit that spans two cells or touches a line that masking changed (an
    IPython magic) is refused."""

    def __init__(self, source: Source, data: bytes, validator: _Validator):
        self.source = source
        self.data = data
        self.validator = validator
        self.module_lines = source.text.split("\n")
        self.ok = True
        try:
            self.raw_text = data.decode("utf-8")
            self.bom = False
        except UnicodeDecodeError:
            self.ok = False
            return
        if self.raw_text.startswith("\ufeff"):
            self.raw_text = self.raw_text[1:]
            self.bom = True
        try:
            self.raw = json.loads(self.raw_text)
        except json.JSONDecodeError:
            self.ok = False
            return
        if not isinstance(self.raw, dict) or self.raw.get("nbformat") != 4 or not isinstance(self.raw.get("cells"), list):
            self.ok = False  # v3 notebooks are not rewritten
            return
        self._dump: Callable[[dict], str] | None = None
        self.cells = {c.index: c for c in source.cells}
        self._starts: dict[int, list[int]] = {}

    def _cell_starts(self, index: int) -> list[int]:
        s = self._starts.get(index)
        if s is None:
            s = self._starts[index] = _line_starts(self.cells[index].source)
        return s

    def spans(self, fix: Fix) -> list[tuple[int, Span]] | None:
        if not self.ok:
            return None
        out: list[tuple[int, Span]] = []
        for e in fix.edits:
            loc, end_loc = self.source.locate(e.line), self.source.locate(e.end_line)
            if loc is None or end_loc is None or loc[0] != end_loc[0]:
                return None
            cell = self.cells.get(loc[0])
            if cell is None or cell.masked:
                return None
            cell_lines = split_lines_keepends(cell.source)
            for module_line in range(e.line, e.end_line + 1):
                i = module_line - cell.start  # 0-based line in the cell
                if i >= len(cell_lines) or module_line - 1 >= len(self.module_lines):
                    return None
                original = cell_lines[i].rstrip("\r\n")
                masked = self.module_lines[module_line - 1].rstrip("\r")
                if original == masked:
                    continue
                # A masked line (`%time stmt` is analysed as `0;    stmt`, same
                # columns): the edit must stay in the part masking kept.
                lo = e.col if module_line == e.line else 0
                hi = e.end_col if module_line == e.end_line else len(original)
                if len(original) != len(masked) or lo > hi:
                    return None
                d = len(original)
                while d > 0 and original[d - 1] == masked[d - 1]:
                    d -= 1
                if lo < d or "#" in masked[:d]:  # touches the magic, or the rest is a comment
                    return None
            text, starts = cell.source, self._cell_starts(cell.index)
            start = _offset(text, starts, loc[1], e.col)
            end = _offset(text, starts, end_loc[1], e.end_col)
            if start is None or end is None or end < start:
                return None
            out.append((cell.index, (start, end, _with_newline(e.text, detect_newline(text)))))
        return out

    def new_sources(self, edits: dict[int, list[Span]]) -> dict[int, str]:
        return {index: apply_spans(self.cells[index].source, spans) for index, spans in edits.items() if spans}

    def render(self, edits: dict[int, list[Span]]) -> tuple[bytes | None, str]:
        from mllint.core.notebooks import load_notebook

        new_sources = self.new_sources(edits)
        for index, new_src in new_sources.items():
            old_masked, _ = _mask(self.cells[index].source)
            new_masked, skipped = _mask(new_src)
            if skipped or not self.validator.ok(old_masked, new_masked):
                return None, f"cell {index} would not parse"
        raw = json.loads(self.raw_text)  # a fresh copy; only `source` fields change
        for index, new_src in new_sources.items():
            cell = raw["cells"][index - 1]
            if isinstance(cell.get("source"), list):
                cell["source"] = split_lines_keepends(new_src)
            else:
                cell["source"] = new_src
        if self._dump is None:  # worked out once, only when something is written
            self._dump = _json_style(self.raw, self.raw_text)
        text = self._dump(raw)
        data = (b"\xef\xbb\xbf" if self.bom else b"") + text.encode("utf-8")
        try:
            check = load_notebook(self.source.path, data)
        except SourceError as exc:
            return None, f"the notebook would not load: {exc.reason}"
        if [c.index for c in check.cells] != [c.index for c in self.source.cells]:
            return None, "the notebook's cells would change"
        return data, ""


def _mask(src: str) -> tuple[str, bool]:
    """The cell as the analysis sees it: (Python text, skipped)."""
    from mllint.core.notebooks import mask_cell

    masked = mask_cell(src)
    if isinstance(masked, tuple):
        return masked[0], masked[1]
    return masked.text, masked.skipped


def _json_style(raw: dict, original: str) -> Callable[[dict], str]:
    """A serialiser that reproduces `original` exactly from `raw` (same indent,
    key order, escaping, trailing newline and line endings), so re-serialising
    an edited notebook changes only the edited values. Falls back to
    Jupyter's own layout if the file's style cannot be reproduced."""
    newline = "\r\n" if "\r\n" in original[:10000] else "\n"
    text = original.replace("\r\n", "\n") if newline == "\r\n" else original
    trailing = text[len(text.rstrip("\n")) :]
    m = re.match(r"\{\n( +)\"", text)
    indents: list[int | None] = [len(m.group(1))] if m else [None]
    for extra in (1, 2, 4):
        if extra not in indents:
            indents.append(extra)
    for indent in indents:
        for sort_keys in (False, True):
            for ensure_ascii in (False, True):
                kw = {"indent": indent, "sort_keys": sort_keys, "ensure_ascii": ensure_ascii}
                if indent is not None:
                    kw["separators"] = (",", ": ")
                try:
                    candidate = json.dumps(raw, **kw) + trailing
                except (TypeError, ValueError):
                    continue
                if candidate == text:
                    def dump(obj: dict, kw=kw) -> str:
                        out = json.dumps(obj, **kw) + trailing
                        return out.replace("\n", "\r\n") if newline == "\r\n" else out

                    return dump

    def jupyter(obj: dict) -> str:
        return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": ")) + "\n"

    return jupyter


def _document(source: Source, data: bytes, validator: _Validator) -> _Document:
    if source.kind == "notebook":
        return _NotebookDocument(source, data, validator)
    return _PythonDocument(source, data, validator)


# ---------------------------------------------------------------------------
# One pass
# ---------------------------------------------------------------------------

def fix_key(fix: Fix) -> tuple:
    return (fix.title, fix.applicability, fix.edits)


@dataclass
class PassResult:
    data: bytes
    applied: list[int] = field(default_factory=list)  # indexes into the items given
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (index, why)


def apply_pass(source: Source, data: bytes, fixes: Sequence[Fix], validator: _Validator | None = None) -> PassResult:
    """Apply the non-overlapping subset of `fixes` to one file version.
    Identical fixes (two findings sharing one fix) are applied once and all
    count as applied."""
    validator = validator or _Validator()
    doc = _document(source, data, validator)
    result = PassResult(data)
    chosen: list[tuple[int, list[tuple[int, Span]]]] = []
    taken: dict[int, list[Span]] = {}
    seen: dict[tuple, int] = {}
    duplicates: dict[int, list[int]] = {}
    order = sorted(range(len(fixes)), key=lambda i: min((e.line, e.col) for e in fixes[i].edits) if fixes[i].edits else (0, 0))
    for i in order:
        fix = fixes[i]
        key = fix_key(fix)
        if key in seen:
            duplicates.setdefault(seen[key], []).append(i)
            continue
        spans = doc.spans(fix)
        if spans is None:
            result.rejected.append((i, "its edits do not fit the file (out of range, across cells, or on a magic line)"))
            continue
        if _self_conflict(spans) or any(
            _conflict(span, other) for seg, span in spans for other in taken.get(seg, [])
        ):
            continue  # overlaps a fix chosen in this pass: retried in the next pass
        seen[key] = i
        chosen.append((i, spans))
        for seg, span in spans:
            taken.setdefault(seg, []).append(span)
    if not chosen:
        return result
    new, _why = doc.render(_group([s for _, spans in chosen for s in spans]))
    if new is not None:
        accepted = [i for i, _ in chosen]
    else:  # find the culprit(s): add fixes one at a time
        accepted = []
        good_spans: list[tuple[int, Span]] = []
        for i, spans in chosen:
            trial, why = doc.render(_group(good_spans + spans))
            if trial is None:
                result.rejected.append((i, why))
            else:
                accepted.append(i)
                good_spans += spans
                new = trial
        if not accepted:
            return result
    assert new is not None
    result.data = new
    for i in accepted:
        result.applied.append(i)
        result.applied.extend(duplicates.get(i, []))
    return result


def _self_conflict(spans: list[tuple[int, Span]]) -> bool:
    for a in range(len(spans)):
        for b in range(a + 1, len(spans)):
            if spans[a][0] == spans[b][0] and _conflict(spans[a][1], spans[b][1]):
                return True
    return False


def _group(spans: list[tuple[int, Span]]) -> dict[int, list[Span]]:
    out: dict[int, list[Span]] = {}
    for seg, span in spans:
        out.setdefault(seg, []).append(span)
    return out


# ---------------------------------------------------------------------------
# The fix loop for one file
# ---------------------------------------------------------------------------

FindingFilter = Callable[[list[Finding]], list[Finding]]


@dataclass
class FixOutcome:
    path: str
    original: bytes
    data: bytes
    fixed: int = 0
    findings: list[Finding] = field(default_factory=list)  # what remains, on the final text
    source: Source | None = None  # the final version
    problems: list[str] = field(default_factory=list)  # rejected fixes, no convergence
    passes: int = 0

    @property
    def changed(self) -> bool:
        return self.data != self.original


def fix_data(
    path: str,
    data: bytes,
    config: Config,
    unsafe: bool = False,
    keep: FindingFilter | None = None,
    max_passes: int = MAX_PASSES,
    display_path: str | None = None,
) -> FixOutcome:
    """Lint `data` (the bytes of `path`), apply applicable fixes, re-lint,
    repeat. `keep` filters the findings each pass (e.g. drops baselined ones,
    which are then neither fixed nor reported)."""
    from mllint.core.catalog import default_catalog
    from mllint.engine.lint import lint_source

    catalog = default_catalog()
    shown = display_path or path
    outcome = FixOutcome(path=shown, original=data, data=data)
    validator = _Validator()
    rejected: set[tuple] = set()

    def lint(d: bytes) -> tuple[Source, list[Finding]]:
        source = load_source(path, d)
        source.path = shown
        findings = lint_source(source, config, catalog)
        if keep is not None:
            findings = keep(findings)
        return source, findings

    source, findings = lint(data)
    for _ in range(max_passes):
        candidates = [f for f in findings if is_applicable(f.fix, unsafe) and fix_key(f.fix) not in rejected]  # type: ignore[arg-type]
        if not candidates:
            break
        outcome.passes += 1
        res = apply_pass(source, data, [f.fix for f in candidates], validator)  # type: ignore[misc]
        for i, why in res.rejected:
            f = candidates[i]
            rejected.add(fix_key(f.fix))  # type: ignore[arg-type]
            outcome.problems.append(f"{f.location()}: {f.code} fix not applied: {why}")
        if not res.applied or res.data == data:
            break
        outcome.fixed += len(res.applied)
        data = res.data
        source, findings = lint(data)
    else:
        if max_passes > 0 and any(is_applicable(f.fix, unsafe) for f in findings):
            outcome.problems.append(
                f"{shown}: fixes did not settle after {max_passes} passes; some fixable findings remain"
            )
    outcome.data = data
    outcome.source = source
    outcome.findings = findings
    return outcome


def fix_path(path: str | Path, config: Config, **kw) -> FixOutcome:
    from mllint.core.sources import read_source_bytes

    data = read_source_bytes(path)
    return fix_data(str(path), data, config, **kw)


def fix_text(text: str, config: Config | None = None, unsafe: bool = False, path: str = "snippet.py") -> FixOutcome:
    """Fix Python text (tests, docs)."""
    return fix_data(path, text.encode("utf-8"), config or Config(), unsafe=unsafe)


# ---------------------------------------------------------------------------
# Diffs
# ---------------------------------------------------------------------------

def unified_diff(outcome: FixOutcome) -> str:
    """A unified diff of what the fixes change (cell by cell for notebooks)."""
    if not outcome.changed:
        return ""
    path = outcome.path
    if path.endswith(".ipynb"):
        return _notebook_diff(path, outcome.original, outcome.data)
    before = _decode_for_diff(outcome.original)
    after = _decode_for_diff(outcome.data)
    return _diff(before, after, path, path)


def _decode_for_diff(data: bytes) -> str:
    from mllint.core.sources import decode_python

    try:
        return decode_python(data)[0]
    except SourceError:
        return data.decode("utf-8", errors="replace")


def _diff(before: str, after: str, a: str, b: str) -> str:
    lines = difflib.unified_diff(
        split_lines_keepends(before), split_lines_keepends(after), fromfile=a, tofile=b
    )
    out = []
    for line in lines:
        if not line.endswith(("\n", "\r")):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def _cell_sources(data: bytes) -> list[str | None]:
    raw = json.loads(data.decode("utf-8-sig"))
    out: list[str | None] = []
    for cell in raw.get("cells", []):
        src = cell.get("source", "")
        out.append("".join(src) if isinstance(src, list) else src)
    return out


def _notebook_diff(path: str, before: bytes, after: bytes) -> str:
    a, b = _cell_sources(before), _cell_sources(after)
    parts = []
    for i, (x, y) in enumerate(zip(a, b), start=1):
        if x != y:
            x = x if x.endswith("\n") or not x else x + "\n"
            y = y if y.endswith("\n") or not y else y + "\n"
            parts.append(_diff(x or "", y or "", f"{path}:cell {i}", f"{path}:cell {i}"))
    return "".join(parts)


__all__ = [
    "MAX_PASSES",
    "Edit",
    "FixOutcome",
    "apply_pass",
    "fix_data",
    "fix_path",
    "fix_text",
    "is_applicable",
    "unified_diff",
]
