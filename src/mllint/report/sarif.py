"""SARIF 2.1.0, with rule metadata from the catalogue.

Notebook findings: the region is where the reported code sits in the .ipynb
file's own JSON text (the line and column inside the `source` string), so
code-scanning UIs that show the raw file point at the right text; when that
place cannot be determined exactly the location names the file with no
region. The cell and the line/column inside the cell are in the result's
`properties` (`cell`, `cellLine`, `cellColumn`), and the message starts with
"cell N:". See docs/notebooks.md."""

from __future__ import annotations

import json
from pathlib import Path

from mllint.core.severity import Severity
from mllint.core.version import __version__
from mllint.report.base import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "warning",
    Severity.INFO: "note",
}


def _uri(path: str, root: Path | None) -> str:
    p = Path(path)
    if root is not None:
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except (ValueError, OSError):
            pass
    return p.as_posix()


def render_sarif(report: Report) -> str:
    rules = []
    index: dict[str, int] = {}
    for i, spec in enumerate(report.catalog):
        index[spec.code] = i
        rules.append(
            {
                "id": spec.code,
                "name": spec.name,
                "shortDescription": {"text": spec.title},
                "fullDescription": {"text": " ".join(spec.summary.split())},
                "help": {"text": " ".join(spec.rationale.split())},
                "helpUri": spec.doc_url,
                "defaultConfiguration": {"level": LEVEL[spec.severity]},
                "properties": {"severity": spec.severity.value, "category": spec.category, "fix": spec.fix},
            }
        )
    results = []
    from mllint.core.notebooks import finding_file_region

    notebook_maps: dict = {}
    for f in report.findings:
        message = f.message if f.cell is None else f"cell {f.cell}: {f.message}"
        result = {
            "ruleId": f.code,
            "level": LEVEL[f.severity],
            "message": {"text": message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.path, report.root), "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": f.display_line,
                            "startColumn": f.col + 1,
                            "endLine": f.display_end_line,
                            "endColumn": f.end_col + 1,
                        },
                    }
                }
            ],
            "properties": {"severity": f.severity.value},
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        if f.cell is not None:
            result["properties"]["cell"] = f.cell
            result["properties"]["cellLine"] = f.display_line
            result["properties"]["cellColumn"] = f.col + 1
            physical = result["locations"][0]["physicalLocation"]
            in_file = finding_file_region(f, notebook_maps)
            if in_file is None:
                del physical["region"]
            else:
                line, col, end_line, end_col = in_file
                physical["region"] = {
                    "startLine": line,
                    "startColumn": col + 1,
                    "endLine": end_line,
                    "endColumn": end_col + 1,
                }
        results.append(result)
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mllint",
                        "semanticVersion": __version__,
                        "version": __version__,
                        "informationUri": "https://github.com/mllint/flake8-mllint",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {
                    "%SRCROOT%": {"uri": (report.root.resolve().as_uri() + "/") if report.root else "file:///"}
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
