"""`# noqa` comments: line-level (`# noqa`, `# noqa: ML101,ML102`) and
file-level (`# mllint: noqa`, `# mllint: noqa: ML101`)."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

NOQA_RE = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)
FILE_NOQA_RE = re.compile(
    r"^\s*#\s*mllint:\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
CODE_RE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)

ALL = frozenset({"*"})


@dataclass
class Suppressions:
    # line -> codes suppressed on that line (ALL for a blanket noqa)
    lines: dict[int, frozenset[str]] = field(default_factory=dict)
    file_codes: frozenset[str] | None = None  # ALL, some codes, or None

    def suppressed(self, code: str, line: int) -> bool:
        if self.file_codes is not None and (self.file_codes is ALL or code in self.file_codes):
            return True
        codes = self.lines.get(line)
        if codes is None:
            return False
        return codes is ALL or code in codes


def _comments(text: str):
    """Yield (line, comment_text) using the tokenizer, so '# noqa' inside a
    string is not a suppression. Falls back to a line scan if tokenizing fails."""
    if "\r" in text:  # lines as Source counts them (a lone \r ends a line too)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                yield tok.start[0], tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        for i, line in enumerate(text.splitlines(), start=1):
            if "#" in line:
                yield i, line[line.index("#"):]


_NOQA_WORD = re.compile(r"noqa", re.IGNORECASE)


def parse_suppressions(text: str, lines: set[int] | None = None) -> Suppressions:
    """The suppressions of a module. With `lines` (the lines that have
    findings), the tokenizer only runs when a `noqa` could apply to one of
    them or to the whole file: most files with `noqa` comments (for other
    tools) have none on a line mllint reports."""
    sup = Suppressions()
    first = _NOQA_WORD.search(text)
    if first is None:
        return sup
    if lines is not None and "\r" not in text:
        line_start = text.rfind("\n", 0, first.start()) + 1
        if not FILE_NOQA_RE.search(text, line_start):
            at = first.start()
            line = text.count("\n", 0, at) + 1
            for m in _NOQA_WORD.finditer(text, at):
                line += text.count("\n", at, m.start())
                at = m.start()
                if line in lines:
                    break
            else:
                return sup
    for line, comment in _comments(text):
        fm = FILE_NOQA_RE.match(comment)
        if fm:
            if fm.group("codes"):
                codes = frozenset(c.upper() for c in CODE_RE.findall(fm.group("codes")))
                prev = sup.file_codes if sup.file_codes not in (None, ALL) else frozenset()
                if sup.file_codes is not ALL:
                    sup.file_codes = prev | codes
            else:
                sup.file_codes = ALL
            continue
        m = NOQA_RE.search(comment)
        if not m:
            continue
        if m.group("codes"):
            codes = frozenset(c.upper() for c in CODE_RE.findall(m.group("codes")))
            old = sup.lines.get(line)
            sup.lines[line] = ALL if old is ALL else (old or frozenset()) | codes
        else:
            sup.lines[line] = ALL
    return sup
