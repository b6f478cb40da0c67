"""Incremental `ast` parsing for the language server.

While a file is being edited, most keystrokes touch one top-level statement.
`IncrementalParser.parse(text)` compares the new text with the last one it
parsed, re-parses only the top-level statements the edit touched (plus their
neighbours) and reuses the other statements' nodes, shifting the line numbers
of the statements after the edit. The result is the same tree `ast.parse`
gives (tests compare `ast.dump(..., include_attributes=True)` on random
edits); whenever the partial parse fails or the text has line breaks other
than `\\n`, it falls back to a full `ast.parse`, whose errors are the truth.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass


def _parse(text: str, filename: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, filename=filename, type_comments=False)


@dataclass
class _Stmt:
    node: ast.stmt
    start: int  # first line, decorators included
    end: int
    positioned: list[ast.AST]  # every node in it that has line numbers


def _stmt(node: ast.stmt) -> _Stmt:
    start = node.lineno
    for dec in getattr(node, "decorator_list", ()) or ():
        start = min(start, dec.lineno)
    positioned = [n for n in ast.walk(node) if hasattr(n, "lineno")]
    return _Stmt(node, start, node.end_lineno or node.lineno, positioned)


def _shift(st: _Stmt, delta: int) -> None:
    for n in st.positioned:
        n.lineno += delta  # type: ignore[attr-defined]
        if getattr(n, "end_lineno", None) is not None:
            n.end_lineno += delta  # type: ignore[attr-defined]
    st.start += delta
    st.end += delta


class IncrementalParser:
    """Keeps the last parse of one document. Not thread-safe: one document's
    analyses run one at a time."""

    def __init__(self, filename: str = "<unknown>"):
        self.filename = filename
        self._lines: list[str] | None = None
        self._stmts: list[_Stmt] = []
        self.last_mode = "none"  # "full" | "incremental" | "unchanged"

    def parse(self, text: str) -> ast.Module:
        """The module's tree; raises what `ast.parse` raises."""
        new_lines = text.split("\n")
        old_lines = self._lines
        if old_lines is None or "\r" in text:
            return self._full(text, new_lines)
        if old_lines == new_lines:
            self.last_mode = "unchanged"
            return self._module()
        try:
            tree = self._incremental(old_lines, new_lines)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = None
        if tree is None:
            return self._full(text, new_lines)
        self.last_mode = "incremental"
        return tree

    def _module(self) -> ast.Module:
        return ast.Module(body=[s.node for s in self._stmts], type_ignores=[])

    def _full(self, text: str, new_lines: list[str]) -> ast.Module:
        # May raise: the caller reports it. The last good parse is kept, so
        # the edit that repairs the text is again parsed incrementally.
        tree = _parse(text, self.filename)
        self._stmts = [_stmt(n) for n in tree.body]
        self._lines = new_lines
        self.last_mode = "full"
        return tree

    def _incremental(self, old: list[str], new: list[str]) -> ast.Module | None:
        n_old, n_new = len(old), len(new)
        limit = min(n_old, n_new)
        p = 0
        while p < limit and old[p] == new[p]:
            p += 1
        s = 0
        while s < limit - p and old[n_old - 1 - s] == new[n_new - 1 - s]:
            s += 1
        delta = n_new - n_old
        # Changed old lines are p+1 .. n_old-s (1-based; empty for an insertion).
        first_changed, last_changed = p + 1, n_old - s
        stmts = self._stmts
        # Statements overlapping the change widened by one line on each side.
        affected = [
            i for i, st in enumerate(stmts) if st.end >= first_changed - 1 and st.start <= last_changed + 1
        ]
        if affected:
            i0, i1 = affected[0], affected[-1]
            lo = min(first_changed, stmts[i0].start)
            hi_old = max(last_changed, stmts[i1].end)
        else:
            i0 = i1 = -1
            lo, hi_old = first_changed, last_changed
        hi_new = hi_old + delta
        region = "\n" * (lo - 1) + "\n".join(new[lo - 1 : max(hi_new, lo - 1)])
        part = _parse(region, self.filename)
        if affected:
            before, after = stmts[:i0], stmts[i1 + 1 :]
        else:
            before = [st for st in stmts if st.end < lo]
            after = [st for st in stmts if st.start > hi_old]
        middle = [_stmt(n) for n in part.body]
        if middle and (middle[0].start < lo or middle[-1].end > max(hi_new, lo)):
            return None
        if delta:
            for st in after:
                _shift(st, delta)
        self._stmts = [*before, *middle, *after]
        self._lines = new
        return self._module()
