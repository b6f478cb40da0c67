"""The "Disable MLnnn for this line" edit: append `  # noqa: MLnnn` to the
line a finding starts on, or add the code to the noqa comment already there.

Lines whose end is inside a string (a triple-quoted string that continues)
or that end with a backslash continuation get no noqa action: a comment there
would change the program. Positions are module coordinates (1-based lines,
character columns), as in `mllint.core.findings.Edit`.

The same edits as `mllint check --add-noqa` (`mllint.fix.noqa`), for one
code at a time; the tokenization is done once per analysed text and reused
by every code action request on it (`noqa_tool` tokenizes per call, ~50 ms
for a 2,000-line file, too slow for the light bulb's requests on every
cursor move).
"""

from __future__ import annotations

import io
import tokenize

from mllint.core.findings import Edit
from mllint.core.suppressions import NOQA_RE


class NoqaPlanner:
    def __init__(self, text: str):
        self.text = text
        self.lines = text.split("\n")
        self._comments: dict[int, tuple[int, str]] | None = None
        self._in_string: set[int] = set()

    def prepare(self) -> None:
        """Tokenize now (e.g. in a worker thread) rather than on first use."""
        if self._comments is None:
            self._scan()

    def _scan(self) -> None:
        comments: dict[int, tuple[int, str]] = {}
        in_string: set[int] = set()
        try:
            for tok in tokenize.generate_tokens(io.StringIO(self.text).readline):
                if tok.type == tokenize.COMMENT:
                    comments[tok.start[0]] = (tok.start[1], tok.string)
                elif tok.start[0] != tok.end[0] and tok.type not in (tokenize.NL, tokenize.NEWLINE):
                    in_string.update(range(tok.start[0], tok.end[0]))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            pass  # a partial scan: lines after the error are treated as plain code
        self._comments = comments
        self._in_string = in_string

    def edit(self, line: int, code: str) -> Edit | None:
        if not 1 <= line <= len(self.lines):
            return None
        if self._comments is None:
            self._scan()
        assert self._comments is not None
        text = self.lines[line - 1].rstrip("\r")
        if line in self._in_string or text.rstrip().endswith("\\"):
            return None
        comment = self._comments.get(line)
        if comment is not None:
            col, body = comment
            m = NOQA_RE.search(body)
            if m is not None:
                if not m.group("codes"):
                    return None  # a blanket noqa already disables every code
                codes = [c.strip().upper() for c in m.group("codes").replace(",", " ").split()]
                if code.upper() in codes:
                    return None
                at = col + m.end("codes")
                return Edit(line, at, line, at, f", {code}")
        end = len(text.rstrip())
        return Edit(line, end, line, len(text), f"  # noqa: {code}")
