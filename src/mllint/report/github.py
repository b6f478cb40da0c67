"""GitHub Actions workflow commands (`::error file=...::message`).

Notebook findings point at the line and column in the .ipynb file's JSON
text where the reported code sits (inside the cell's `source` string), or at
the file with no line when that place cannot be determined exactly; the
message names the cell and the line inside it. See docs/notebooks.md."""

from __future__ import annotations

from mllint.core.severity import Severity
from mllint.report.base import Report, safe

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "warning",
    Severity.INFO: "notice",
}


def escape_data(s: str) -> str:
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return safe(s)  # no raw control characters in the Actions log


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    from mllint.core.notebooks import finding_file_region

    out = []
    notebook_maps: dict = {}
    for f in report.findings:
        title = f"{f.code} ({report.name_of(f.code)})"
        props = [f"file={escape_property(f.path)}"]
        message = f.message
        if f.cell is None:
            props += [
                f"line={f.line}",
                f"col={f.col + 1}",
                f"endLine={f.end_line}",
                f"endColumn={f.end_col + 1}",
            ]
        else:
            message = f"cell {f.cell}, line {f.display_line}, col {f.col + 1}: {message}"
            in_file = finding_file_region(f, notebook_maps)
            if in_file is not None:
                line, col, end_line, end_col = in_file
                props += [f"line={line}", f"col={col + 1}", f"endLine={end_line}", f"endColumn={end_col + 1}"]
        props.append(f"title={escape_property(title)}")
        out.append(f"::{LEVEL[f.severity]} {','.join(props)}::{escape_data(message)}")
    return "\n".join(out) + ("\n" if out else "")
