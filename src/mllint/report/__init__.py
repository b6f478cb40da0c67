"""Output formats: text (rich), concise, JSON, SARIF and GitHub annotations.
Each reporter takes the run's findings (`base.Report`) and returns a string.

May import: `mllint.core`.
Must not import: any other mllint package (the CLI and the API call it).
"""

from __future__ import annotations

from mllint.report.base import Report, RunSummary

FORMATS = ("text", "concise", "json", "sarif", "github")


def render(fmt: str, report: Report, color: bool = False) -> str:
    if fmt == "text":
        from mllint.report.text import render_text

        return render_text(report, color=color)
    if fmt == "concise":
        from mllint.report.concise import render_concise

        return render_concise(report)
    if fmt == "json":
        from mllint.report.json_report import render_json

        return render_json(report)
    if fmt == "sarif":
        from mllint.report.sarif import render_sarif

        return render_sarif(report)
    if fmt == "github":
        from mllint.report.github import render_github

        return render_github(report)
    raise ValueError(f"unknown format {fmt!r}")


__all__ = ["FORMATS", "Report", "RunSummary", "render"]
