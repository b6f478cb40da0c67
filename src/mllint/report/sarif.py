"""SARIF 2.1.0, with rule metadata from the catalogue.

Notebook findings: the region's lines are the lines inside the cell (a line
of the .ipynb JSON text would be meaningless), the cell number is in the
result's `properties.cell`, and the message starts with "cell N:"."""

from __future__ import annotations

import json
from pathlib import Path

from mllint import __version__
from mllint.report.base import Report
from mllint.severity import Severity

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
