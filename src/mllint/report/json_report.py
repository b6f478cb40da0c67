"""JSON: a list of finding objects (stable keys, 1-based columns)."""

from __future__ import annotations

import json

from mllint.core.findings import Finding
from mllint.report.base import Report


def finding_dict(f: Finding, report: Report) -> dict:
    spec = report.catalog.get(f.code)
    d = {
        "code": f.code,
        "name": spec.name if spec else None,
        "severity": f.severity.value,
        "message": f.message,
        "path": f.path,
        "cell": f.cell,
        "line": f.display_line,
        "column": f.col + 1,
        "end_line": f.display_end_line,
        "end_column": f.end_col + 1,
        "url": spec.doc_url if spec else None,
        "fix": None,
    }
    if f.fix is not None:
        d["fix"] = {
            "title": f.fix.title,
            "applicability": f.fix.applicability,
            "edits": [
                {
                    "line": e.line,
                    "column": e.col + 1,
                    "end_line": e.end_line,
                    "end_column": e.end_col + 1,
                    "content": e.text,
                }
                for e in f.fix.edits
            ],
        }
    return d


def render_json(report: Report) -> str:
    return json.dumps([finding_dict(f, report) for f in report.findings], indent=2, ensure_ascii=False) + "\n"
