"""What a rule reports: a Finding, optionally carrying a Fix made of Edits.

Positions are 1-based lines and 0-based *character* columns (not UTF-8
bytes) in the coordinates of the analysed module. For a notebook the analysed
module is all code cells joined; `Source.locate` maps a module line back to a
cell and a line inside that cell, and the engine stores that on the finding
(`cell`, `cell_line`, `cell_end_line`).

`Finding.to_dict()` / `Finding.from_dict()` are the one JSON-safe form of a
finding (the result cache stores it; the Python API documents it in
docs/api.md). The JSON *report* (`mllint.report.json_report`) is a different,
presentation format: 1-based columns, cell-local lines, rule name and URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

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
    """Edits that resolve a finding. `safe` fixes are applied by `--fix`;
    `unsafe` ones only with `--unsafe-fixes` (they may change behaviour)."""

    title: str
    edits: tuple[Edit, ...]
    applicability: Applicability = "safe"


@dataclass(frozen=True)
class Finding:
    """One problem mllint found. Frozen, hashable, picklable.

    Fields:
      code: the rule code, e.g. "ML201" (ML000: the file or a notebook cell
        cannot be analysed; ML001: an internal error, the file was checked
        only in part).
      message: what is wrong and what to do, one line.
      path: the file as it was given (the CLI: relative to the working
        directory when discovered under it).
      line, col, end_line, end_col: the span, 1-based lines and 0-based
        character columns, in the analysed module. For a notebook that is all
        code cells joined; `cell`, `cell_line` and `cell_end_line` say where
        in the notebook (`display_line` picks the right line for display).
      severity: a `Severity` (info < low < medium < high < critical), after
        `[tool.mllint.severity]` overrides.
      fix: a `Fix` (title, applicability "safe"/"unsafe", edits in module
        coordinates) or None; `fixable` says whether it has any edit.
      cell: notebooks only: the cell, 1-based over all cells (markdown
        cells count), as Jupyter and ruff number them; None for .py files.
      cell_line, cell_end_line: notebooks only: the lines inside that cell.
      source_line: the text of the reported line (baselines and reports use
        it; not part of equality).
      detail: diagnostic detail not shown by default, e.g. the traceback of
        an ML001 (not part of equality).
    """

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
        """The order of every report: path, then position, then code."""
        return (self.path, self.line, self.col, self.code)

    @property
    def fixable(self) -> bool:
        """Whether a fix with at least one edit is attached (safe or unsafe)."""
        return self.fix is not None and bool(self.fix.edits)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-safe: `severity` as its name ("high"), `fix` as
        {"title", "applicability", "edits": [{"line", "col", "end_line",
        "end_col", "text"}]} or None; the rest as they are (str, int, None).
        `Finding.from_dict(f.to_dict()) == f`, also through `json`."""
        d: dict[str, Any] = {}
        for name in _FIELD_NAMES:
            v = getattr(self, name)
            if name == "fix":
                v = None if v is None else {
                    "title": v.title,
                    "applicability": v.applicability,
                    "edits": [
                        {"line": e.line, "col": e.col, "end_line": e.end_line, "end_col": e.end_col, "text": e.text}
                        for e in v.edits
                    ],
                }
            elif name == "severity":
                v = v.value
            elif not isinstance(v, _SCALARS):
                raise TypeError(f"Finding.{name} holds a {type(v).__name__}, which has no JSON form")
            d[name] = v
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Finding":
        """The inverse of `to_dict`. The optional fields (`fix`, `cell`,
        `cell_line`, `cell_end_line`, `source_line`, `detail`) may be left
        out. Raises ValueError for an unknown key, a missing required key or
        a value of the wrong type."""
        if not isinstance(data, dict):
            raise ValueError(f"a finding must be a dict, not {type(data).__name__}")
        unknown = set(data) - _FIELD_NAMES_SET
        if unknown:
            raise ValueError(f"unknown finding field(s): {', '.join(sorted(map(str, unknown)))}")
        missing = [n for n in _REQUIRED if n not in data]
        if missing:
            raise ValueError(f"missing finding field(s): {', '.join(missing)}")
        kw = dict(data)
        try:
            kw["severity"] = Severity(data["severity"])
        except ValueError:
            raise ValueError(f"bad severity {data['severity']!r}") from None
        fx = data.get("fix")
        if fx is not None:
            kw["fix"] = _fix_from_dict(fx)
        for name in ("code", "message", "path", "source_line", "detail"):
            if name in kw and type(kw[name]) is not str:
                raise ValueError(f"bad {name}: {kw[name]!r} (expected a string)")
        for name in ("line", "col", "end_line", "end_col", "cell", "cell_line", "cell_end_line"):
            v = kw.get(name)
            if type(v) is not int and not (v is None and name.startswith("cell")):
                raise ValueError(f"bad {name}: {v!r} (expected an integer)")
        return cls(**kw)


def _fix_from_dict(fx: Any) -> Fix:
    if not isinstance(fx, dict) or set(fx) != {"title", "applicability", "edits"}:
        raise ValueError("bad fix: expected {'title', 'applicability', 'edits'}")
    if fx["applicability"] not in ("safe", "unsafe"):
        raise ValueError(f"bad fix applicability {fx['applicability']!r}")
    if type(fx["title"]) is not str or not isinstance(fx["edits"], list):
        raise ValueError("bad fix: 'title' must be a string and 'edits' a list")
    edits = []
    for e in fx["edits"]:
        if not isinstance(e, dict) or set(e) != _EDIT_KEYS:
            raise ValueError("bad fix edit: expected {'line', 'col', 'end_line', 'end_col', 'text'}")
        if any(type(e[k]) is not int for k in ("line", "col", "end_line", "end_col")) or type(e["text"]) is not str:
            raise ValueError("bad fix edit: positions must be integers and 'text' a string")
        edits.append(Edit(e["line"], e["col"], e["end_line"], e["end_col"], e["text"]))
    return Fix(title=fx["title"], edits=tuple(edits), applicability=fx["applicability"])


_SCALARS = (str, int, float, bool, type(None))
_FIELD_NAMES = tuple(f.name for f in fields(Finding))
_FIELD_NAMES_SET = frozenset(_FIELD_NAMES)
_REQUIRED = ("code", "message", "path", "line", "col", "end_line", "end_col", "severity")
_EDIT_KEYS = frozenset({"line", "col", "end_line", "end_col", "text"})
