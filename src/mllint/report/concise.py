"""flake8-compatible lines: `path:line:col: ML101 message` (1-based column).
Notebook findings read `path:cell N:line:col: ...` (line within the cell)."""

from __future__ import annotations

from mllint.report.base import Report, safe


def _one_line(text: str) -> str:
    return safe(" ".join(text.split()))


def _location(f) -> str:
    return safe(f.location().replace("\n", "\\n").replace("\t", "\\t"))


def render_concise(report: Report) -> str:
    lines = [f"{_location(f)}: {f.code} {_one_line(f.message)}" for f in report.findings]
    if report.statistics:
        lines += [f"{n:<5} {code} {report.name_of(code)}" for code, n in sorted(report.by_code().items())]
    return "\n".join(lines) + ("\n" if lines else "")
