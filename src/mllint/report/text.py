"""Rich terminal output: findings grouped by file with the offending source,
then a summary by severity and by code. User text (messages, source lines,
paths) is never parsed as rich markup, and control characters are shown
escaped so source code cannot restyle or rewrite the terminal."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mllint.core.severity import Severity
from mllint.report.base import SEVERITY_ORDER, Report, safe

STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

def _source_lines(f, width: int = 0) -> list[Text]:
    if not f.source_line:
        return []
    src = safe(f.source_line.expandtabs(4))
    lineno = str(f.display_line)
    gutter = f" {lineno} │ "
    out = [Text(gutter, style="dim") + Text(src)]
    # A caret under the reported span (first line only).
    prefix = f.source_line[: f.col].expandtabs(4)
    if f.end_line == f.line and f.end_col > f.col:
        span = len(f.source_line[f.col : f.end_col].expandtabs(4))
    else:
        span = max(1, len(src) - len(prefix))
    span = max(1, min(span, 120))
    out.append(Text(" " * (len(gutter) - 2) + "│ ", style="dim") + Text(" " * len(safe(prefix)) + "^" * span, style="bold red"))
    return out


def render_text(report: Report, color: bool = False, width: int = 100) -> str:
    buf = io.StringIO()
    console = Console(
        file=buf,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=width,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
    )
    by_file: dict[str, list] = {}
    for f in report.findings:
        by_file.setdefault(f.path, []).append(f)
    for path, findings in by_file.items():
        console.print(Text(safe(path), style="bold underline"))
        for f in findings:
            where = f"cell {f.cell}:{f.display_line}:{f.col + 1}" if f.cell is not None else f"{f.line}:{f.col + 1}"
            head = Text("  ")
            head.append(where.ljust(10), style="bold")
            head.append(" ")
            head.append(f.code, style="bold magenta")
            head.append(" ")
            head.append(f"[{f.severity.value}]", style=STYLE[f.severity])
            head.append(" ")
            head.append(safe(f.message))
            console.print(head)
            if report.show_source:
                for line in _source_lines(f):
                    console.print(Text("    ") + line)
            if f.fix is not None:
                tag = "fix" if f.fix.applicability == "safe" else "unsafe fix"
                console.print(Text(f"    {tag}: ", style="green") + Text(safe(f.fix.title)))
        console.print()
    for info in report.summary.infos:
        console.print(Text(safe(info), style="dim"))
    total = len(report.findings)
    files = report.summary.files
    fixed_line = _fix_summary(report)
    if total == 0:
        if fixed_line:
            console.print(Text(fixed_line, style="bold green"))
        console.print(Text(f"No findings in {files} file{'s' if files != 1 else ''}.", style="bold green"))
        return buf.getvalue()
    sev = report.by_severity()
    table = Table(title=None, show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("severity")
    table.add_column("count", justify="right")
    for s in SEVERITY_ORDER:
        if sev.get(s):
            table.add_row(Text(s.value, style=STYLE[s]), str(sev[s]))
    console.print(table)
    if report.statistics or len(report.by_code()) > 1:
        console.print()
        codes = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        codes.add_column("code")
        codes.add_column("name")
        codes.add_column("count", justify="right")
        for code, n in sorted(report.by_code().items(), key=lambda kv: (-kv[1], kv[0])):
            codes.add_row(code, report.name_of(code), str(n))
        console.print(codes)
    console.print()
    fixable = sum(1 for f in report.findings if f.fix is not None and f.fix.applicability == "safe")
    line = Text(
        f"Found {total} finding{'s' if total != 1 else ''} in {len(by_file)} of {files} file{'s' if files != 1 else ''}.",
        style="bold",
    )
    if fixable:
        line.append(f" {fixable} fixable with `mllint check --fix`.")
    if fixed_line:
        line.append(" " + fixed_line)
    elif report.summary.fixable_unsafe:
        n = report.summary.fixable_unsafe
        line.append(f" {n} more fixable with `--fix --unsafe-fixes`.")
    console.print(line)
    return buf.getvalue()


def _fix_summary(report: Report) -> str:
    """After --fix: "Fixed 3 findings. 2 more fixable with `--unsafe-fixes`."."""
    fixed, unsafe = report.summary.fixed, report.summary.fixable_unsafe
    if not fixed:
        return ""
    text = f"Fixed {fixed} finding{'s' if fixed != 1 else ''}."
    if unsafe:
        text += f" {unsafe} more fixable with `--unsafe-fixes`."
    return text
