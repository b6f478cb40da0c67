"""Suppression tooling: `mllint check --add-noqa` and checks of noqa comments.

`--add-noqa` appends `# noqa: MLnnn` to the line each reported finding starts
on (the line `# noqa` is matched against), merging with a `# noqa: ...`
comment already there (`# noqa: E501` becomes `# noqa: E501, ML102`). A line
that cannot take a trailing comment (it ends inside a multi-line string or
with a backslash continuation) is left alone and reported. Edits go through
`mllint.fix.apply`, so they are validated and written like fixes (notebooks in
the cell).

The comment checks warn about `# noqa: ML` — flake8 reads a noqa whose code
list does not parse as a blanket `# noqa`, silencing every tool's findings on
the line — and about `ML` codes in noqa comments that name no rule.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

from mllint.core.findings import Edit, Finding, Fix
from mllint.core.sources import Source
from mllint.core.suppressions import CODE_RE, FILE_NOQA_RE, NOQA_RE

# Never suppressed by noqa (ML001) or not on a line that tokenizes (ML000).
NOT_NOQA_ABLE = frozenset({"ML000", "ML001"})
_BLANKET_ML = re.compile(r"#\s*noqa\s*:\s*ML(?![0-9])", re.IGNORECASE)


@dataclass
class LineInfo:
    comment: tuple[int, str] | None = None  # (column, text) of the line's comment
    no_comment: str | None = None  # why a comment cannot be appended


def _line_facts(text: str) -> dict[int, LineInfo] | None:
    """Per physical line: its comment and whether it can take one. None if the
    text does not tokenize."""
    facts: dict[int, LineInfo] = {}
    fstring_start = getattr(tokenize, "FSTRING_START", None)
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    open_fstrings: list[int] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                facts.setdefault(tok.start[0], LineInfo()).comment = (tok.start[1], tok.string)
            elif tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                for line in range(tok.start[0], tok.end[0]):
                    facts.setdefault(line, LineInfo()).no_comment = "the line ends inside a multi-line string"
            elif fstring_start is not None and tok.type == fstring_start:
                open_fstrings.append(tok.start[0])
            elif fstring_end is not None and tok.type == fstring_end and open_fstrings:
                start = open_fstrings.pop()
                for line in range(start, tok.end[0]):
                    facts.setdefault(line, LineInfo()).no_comment = "the line ends inside a multi-line string"
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    for i, line in enumerate(text.split("\n"), start=1):
        if line.rstrip("\r").rstrip().endswith("\\"):
            info = facts.setdefault(i, LineInfo())
            if info.comment is None:
                info.no_comment = "the line ends with a backslash continuation"
    return facts


def noqa_fixes(source: Source, findings: list[Finding]) -> tuple[list[Fix], list[str]]:
    """One Fix per line adding the codes reported on it; and the lines that
    could not take a comment."""
    by_line: dict[int, set[str]] = {}
    first: dict[int, Finding] = {}
    for f in findings:
        if f.code in NOT_NOQA_ABLE:
            continue
        by_line.setdefault(f.line, set()).add(f.code)
        first.setdefault(f.line, f)
    if not by_line:
        return [], []
    facts = _line_facts(source.text)
    if facts is None:
        return [], [f"{source.path}: does not tokenize; no noqa comments added"]
    lines = source.text.split("\n")
    fixes: list[Fix] = []
    problems: list[str] = []
    for line, codes in sorted(by_line.items()):
        if line < 1 or line > len(lines):
            continue
        content = lines[line - 1].rstrip("\r")
        info = facts.get(line, LineInfo())
        if source.cells and _is_ipython_line(source, line, content):
            problems.append(
                f"{first[line].location()}: no noqa added: the line is IPython syntax (a magic or shell "
                "command, where a comment would be passed on as an argument); use per-file-ignores instead"
            )
            continue
        if info.no_comment:
            problems.append(f"{first[line].location()}: no noqa added: {info.no_comment}")
            continue
        want = sorted(codes)
        if info.comment is not None:
            col, comment = info.comment
            m = NOQA_RE.search(comment)
            if m and m.group("codes"):
                existing = [c.upper() for c in CODE_RE.findall(m.group("codes"))]
                missing = [c for c in want if c not in existing]
                if not missing:
                    continue
                sep = ", " if "," not in m.group("codes") or ", " in m.group("codes") else ","
                start = col + m.start("codes")
                end = col + m.end("codes")
                edit = Edit(line, start, line, end, m.group("codes") + sep + sep.join(missing))
            elif m:  # a blanket noqa: already suppresses everything
                continue
            else:
                end = col + len(comment)
                edit = Edit(line, end, line, len(content), f"  # noqa: {', '.join(want)}")
        else:
            stripped = len(content.rstrip())
            edit = Edit(line, stripped, line, len(content), f"  # noqa: {', '.join(want)}")
        fixes.append(Fix(f"add noqa for {', '.join(want)}", (edit,), "safe"))
    return fixes, problems


def _is_ipython_line(source: Source, line: int, masked: str) -> bool:
    """Does this notebook line differ from the cell's text (masked magic)?"""
    from mllint.fix.apply import split_lines_keepends

    loc = source.locate(line)
    span = source.cell_span(loc[0]) if loc else None
    if span is None:
        return False
    lines = split_lines_keepends(span.source)
    i = loc[1] - 1  # type: ignore[index]
    return i >= len(lines) or lines[i].rstrip("\r\n") != masked


def add_noqa_data(source: Source, data: bytes, findings: list[Finding]) -> tuple[bytes, int, list[str]]:
    """Return (new bytes, number of lines given a noqa, problems)."""
    from mllint.fix.apply import apply_pass

    fixes, problems = noqa_fixes(source, findings)
    if not fixes:
        return data, 0, problems
    res = apply_pass(source, data, fixes)
    for i, why in res.rejected:
        problems.append(f"{source.path}:{fixes[i].edits[0].line}: no noqa added: {why}")
    return res.data, len(res.applied), problems


# ---------------------------------------------------------------------------
# Checking noqa comments
# ---------------------------------------------------------------------------

def _where(source: Source, line: int) -> str:
    loc = source.locate(line)
    if loc is not None:
        return f"{source.path}:cell {loc[0]}:{loc[1]}"
    return f"{source.path}:{line}"


def check_noqa_comments(source: Source, known_codes: set[str] | frozenset[str]) -> list[str]:
    """Warnings about noqa comments that do not do what they seem to."""
    text = source.text
    if "noqa" not in text.lower():
        return []
    from mllint.core.suppressions import _comments

    out: list[str] = []
    for line, comment in _comments(text):
        if "noqa" not in comment.lower():
            continue
        where = _where(source, line)
        if _BLANKET_ML.search(comment):
            out.append(
                f"{where}: `# noqa: ML` has no rule code, so flake8 (and mllint) read it as a blanket "
                "`# noqa` that silences every check on this line; name the codes, e.g. `# noqa: ML102`"
            )
            continue
        fm = FILE_NOQA_RE.match(comment)
        m = fm if fm else NOQA_RE.search(comment)
        if not m or not m.group("codes"):
            continue
        for code in CODE_RE.findall(m.group("codes")):
            code = code.upper()
            if code.startswith("ML") and code not in known_codes:
                hint = " (noqa matches whole codes, not prefixes)" if len(code) < 5 else ""
                out.append(f"{where}: `{code}` in a noqa comment is not an mllint rule code{hint}")
    return out

