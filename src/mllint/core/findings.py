"""What a rule reports: a Finding, optionally carrying a Fix made of Edits.

Positions are 1-based lines and 0-based *character* columns (not UTF-8
bytes) in the coordinates of the analysed module. For a notebook the analysed
module is all code cells joined; `Source.locate` maps a module line back to a
cell and a line inside that cell, and the CLI stores that on the finding
(`cell`, `cell_line`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from mllint.core.severity import Severity

Applicability = Literal["safe", "unsafe"]


@dataclass(frozen=True)
class Edit:
    """Replace the text between two positions (module coordinates) with `text`."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str


@dataclass(frozen=True)
class Fix:
    title: str
    edits: tuple[Edit, ...]
    applicability: Applicability = "safe"


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    severity: Severity
    fix: Fix | None = None
    # Notebook location: 1-based index over *all* cells, and the line in that cell.
    cell: int | None = None
    cell_line: int | None = None
    cell_end_line: int | None = None
    # The source text of the reported line(s), used by baselines and reports.
    source_line: str = field(default="", compare=False)
    # Diagnostic detail not shown by default (the traceback of an ML001).
    detail: str = field(default="", compare=False, repr=False)

    @property
    def display_line(self) -> int:
        return self.cell_line if self.cell_line is not None else self.line

    @property
    def display_end_line(self) -> int:
        return self.cell_end_line if self.cell_end_line is not None else self.end_line

    def location(self) -> str:
        """`path:line:col` or `path:cell N:line:col` with 1-based column."""
        if self.cell is not None:
            return f"{self.path}:cell {self.cell}:{self.display_line}:{self.col + 1}"
        return f"{self.path}:{self.line}:{self.col + 1}"

    def with_(self, **changes: object) -> "Finding":
        return replace(self, **changes)  # type: ignore[arg-type]

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.code)
