"""Findings -> LSP: positions, severities, diagnostics and fix edits.

Findings use 1-based lines and 0-based *character* columns. LSP uses 0-based
lines and columns in the negotiated position encoding: UTF-16 code units
unless the client offered utf-32 or utf-8 (pygls picks the client's first
supported preference).
"""

from __future__ import annotations

import re
from typing import Sequence

from lsprotocol import types

from mllint.core.findings import Edit, Finding, Fix
from mllint.core.severity import Severity

SOURCE = "mllint"
FIX_ALL_KIND = "source.fixAll.mllint"

_SEVERITY = {
    Severity.CRITICAL: types.DiagnosticSeverity.Error,
    Severity.HIGH: types.DiagnosticSeverity.Error,
    Severity.MEDIUM: types.DiagnosticSeverity.Warning,
    Severity.LOW: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines as LSP counts them (only \\n, \\r\\n and \\r end a line)."""
    return _LINE_BREAK.split(text)


def lsp_severity(severity: Severity) -> types.DiagnosticSeverity:
    return _SEVERITY.get(severity, types.DiagnosticSeverity.Warning)


def encoding_name(encoding: object) -> str:
    """"utf-8" | "utf-16" | "utf-32" from an enum member or a string."""
    value = str(getattr(encoding, "value", encoding) or "utf-16").lower()
    return value if value in ("utf-8", "utf-16", "utf-32") else "utf-16"


def to_units(line_text: str, col: int, encoding: object) -> int:
    """A character column -> a column in the client's position encoding."""
    if col <= 0:
        return 0
    encoding = encoding_name(encoding)
    if encoding == "utf-32":
        return col
    prefix = line_text[:col]
    extra = col - len(prefix)  # past the end of the line: count as 1 unit each
    if prefix.isascii():
        return col
    if encoding == "utf-8":
        return len(prefix.encode("utf-8", errors="surrogatepass")) + extra
    return len(prefix.encode("utf-16-le", errors="surrogatepass")) // 2 + extra


class LineMap:
    """Converts (1-based line, character column) in one document to LSP
    positions in that document's lines."""

    def __init__(self, lines: Sequence[str], encoding: object):
        self.lines = lines
        self.encoding = encoding_name(encoding)

    def position(self, line: int, col: int) -> types.Position:
        index = max(line - 1, 0)
        if index >= len(self.lines):
            return types.Position(line=len(self.lines), character=0)
        return types.Position(line=index, character=to_units(self.lines[index], col, self.encoding))

    def range(self, line: int, col: int, end_line: int, end_col: int) -> types.Range:
        start = self.position(line, col)
        end = self.position(end_line, end_col)
        if (end.line, end.character) < (start.line, start.character):
            end = start
        return types.Range(start=start, end=end)


def diagnostic(
    finding: Finding,
    rng: types.Range,
    doc_url: str | None,
    fix_edits: list[types.TextEdit] | None,
) -> types.Diagnostic:
    data: dict = {"fix": None}
    if finding.fix is not None and fix_edits is not None:
        data["fix"] = {
            "title": finding.fix.title,
            "applicability": finding.fix.applicability,
            "edits": [
                {
                    "range": {
                        "start": {"line": e.range.start.line, "character": e.range.start.character},
                        "end": {"line": e.range.end.line, "character": e.range.end.character},
                    },
                    "newText": e.new_text,
                }
                for e in fix_edits
            ],
        }
    return types.Diagnostic(
        range=rng,
        message=finding.message,
        severity=lsp_severity(finding.severity),
        code=finding.code,
        code_description=types.CodeDescription(href=doc_url) if doc_url else None,
        source=SOURCE,
        data=data,
    )


def text_edits(edits: Sequence[Edit], line_map: LineMap, line_offset: int = 0) -> list[types.TextEdit]:
    """Fix edits (module coordinates) -> LSP TextEdits; `line_offset` is
    subtracted from lines (a notebook cell's first module line - 1)."""
    return [
        types.TextEdit(
            range=line_map.range(e.line - line_offset, e.col, e.end_line - line_offset, e.end_col),
            new_text=e.text,
        )
        for e in edits
    ]


def fix_label(fix: Fix) -> str:
    return fix.title if fix.applicability == "safe" else f"{fix.title} (unsafe)"


def _span(e: Edit) -> tuple[tuple[int, int], tuple[int, int]]:
    return (e.line, e.col), (e.end_line, e.end_col)


def _overlaps(a: Edit, b: Edit) -> bool:
    (a0, a1), (b0, b1) = _span(a), _span(b)
    if a0 == b0:  # two edits at one point: their order would be ambiguous
        return True
    return a0 < b1 and b0 < a1


def compatible_fixes(fixes: Sequence[Fix]) -> list[Fix]:
    """The safe fixes that can be applied together in one pass: fixes are taken
    in document order and one whose edits overlap an already taken edit is
    left for a later pass."""
    taken: list[Edit] = []
    chosen: list[Fix] = []
    ordered = sorted(
        (f for f in fixes if f.applicability == "safe" and f.edits),
        key=lambda f: min(_span(e)[0] for e in f.edits),
    )
    for fix in ordered:
        edits = list(fix.edits)
        if any(_overlaps(a, b) for i, a in enumerate(edits) for b in edits[i + 1 :]):
            continue
        if any(_overlaps(a, b) for a in edits for b in taken):
            continue
        taken.extend(edits)
        chosen.append(fix)
    return chosen
