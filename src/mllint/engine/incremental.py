"""Incremental analysis for the language server: re-run statement-scoped
rules only on the top-level statements an edit changed.

While a file is edited, most keystrokes land inside one function body. The
incremental parser (`mllint.lsp.parse`) then re-parses that one top-level
statement and reuses the node objects of all the others. A rule declared
`scope = "statement"` promises that each of its findings lies inside one
top-level statement and depends only on that statement and on the module's
*skeleton*: the full text of module-level code (imports, assignments, `if __name__ == ...` blocks), and
of functions and classes only their header lines (decorators, name,
parameters, bases), nested down through class bodies, not their bodies;
and what the module's conventional names (`np` read without an import) are
taken to be, which a binding in any body can change.

`StatementCache.run` keeps, per top-level statement node, what those rules
found in it. On the next analysis of the same document, if the skeleton, the
configuration and the rule set are unchanged, statement-scoped rules only
walk the statements whose node is new (the edited ones) and the findings of
the others are reused. Module-scoped rules (and the semantic model) still
see the whole module. Anything else (a changed skeleton: an import, a new
function, a changed signature; a rule's internal error; a finding outside
every statement) means a full analysis, whose result is cached again. An
unchanged statement that moved (a line inserted above it) keeps its
findings, moved by as many lines: statement-scoped rules never mention
another statement's line in a message. The result is always the full analysis' result:
`tests/test_incremental.py` checks this on random edits of every fixture.
"""

from __future__ import annotations

import ast
from bisect import bisect_right
from typing import TYPE_CHECKING, Callable

from mllint.analysis.known_names import ASSUMABLE, assume, module_bindings
from mllint.core.astwalk import imports_in, node_memo
from mllint.core.findings import Edit, Finding, Fix

if TYPE_CHECKING:
    from mllint.engine.lint import Context
    from mllint.rules.base import Rule

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _start(node: ast.stmt) -> int:
    start = node.lineno
    for dec in getattr(node, "decorator_list", ()) or ():
        start = min(start, dec.lineno)
    return start


def _text(lines: list[str], first: int, last: int) -> str:
    return "\n".join(lines[first - 1 : last])


def skeleton(node: ast.stmt, lines: list[str]) -> str:
    """What other statements' statement-scoped findings may depend on: a
    function's or class's header lines (a class's body statements in turn as
    skeletons) and every import inside it (the semantic model knows every
    import of the module: `SemanticModel.imported`); any other statement's
    full text. Memoised on the node (an edited statement gets a new node)."""
    return node_memo(node, "skeleton", None, lambda: _skeleton(node, lines))


def _skeleton(node: ast.stmt, lines: list[str]) -> str:
    start, end = _start(node), node.end_lineno or node.lineno
    body = getattr(node, "body", None)
    if isinstance(node, (*_DEFS, ast.ClassDef)) and body:
        first = _start(body[0])
        if first <= node.lineno:  # `def f(): pass`: one line, all header
            return _text(lines, start, end)
        head = _text(lines, start, first - 1)
        if isinstance(node, ast.ClassDef):
            return head + "\n" + "\n".join(_skeleton(st, lines) for st in body)
        imports = [_text(lines, st.lineno, st.end_lineno or st.lineno) for st in imports_in(body)]
        return "\n".join([head, *imports])
    return _text(lines, start, end)


def _assumptions(tree: ast.Module) -> tuple:
    """What every conventional name (`np`, `StandardScaler`, ...) is taken to
    be, and whether the module reads it: a finding anywhere may rest on it,
    and a binding anywhere (a function body too) rules it out
    (`mllint.analysis.known_names`). Each top-level statement's names are
    memoised on its node."""
    mb = module_bindings(tree)
    return tuple(sorted((n, q, n in mb.loaded) for n in ASSUMABLE if (q := assume(n, mb)) is not None))


def _moved(f: Finding, delta: int) -> Finding:
    fix = f.fix
    if fix is not None:
        fix = Fix(
            fix.title,
            tuple(Edit(e.line + delta, e.col, e.end_line + delta, e.end_col, e.text) for e in fix.edits),
            fix.applicability,
        )
    return f.with_(line=f.line + delta, end_line=f.end_line + delta, fix=fix)


class StatementCache:
    """One document's statement-scoped findings between analyses. Not
    thread-safe: one document's analyses run one at a time (as its parser's)."""

    def __init__(self) -> None:
        self.key: tuple | None = None
        # id(top-level statement node) -> (node, its first line then, findings);
        # the node is kept so its id stays its own.
        self.entries: dict[int, tuple[ast.stmt, int, list[Finding]]] = {}
        self.last_mode = "none"  # "full" | "incremental" (for tests and benchmarks)
        self.last_dirty = 0  # top-level statements statement-scoped rules walked

    def clear(self) -> None:
        self.key = None
        self.entries = {}

    def run(
        self,
        ctx: "Context",
        rule_classes: list[type["Rule"]],
        run_rules: Callable[..., None],
    ) -> list[Finding]:
        """Run the rules over `ctx`'s module, statement-scoped ones only where
        needed; return every finding (before suppressions and the severity
        threshold, like `run_rules`)."""
        body = ctx.tree.body
        lines = ctx.source.lines
        local = [rc for rc in rule_classes if rc.scope == "statement"]
        local_codes = frozenset(c for rc in local for c in rc.codes)
        key = (
            ctx.path,
            ctx.config.model_dump_json(),
            tuple(rc.__name__ for rc in rule_classes),
            tuple(skeleton(st, lines) for st in body),
            _assumptions(ctx.tree),
        )
        reuse = key == self.key and bool(local)
        if reuse:
            dirty = {id(st) for st in body if id(st) not in self.entries}
            run_rules(ctx, rule_classes, only=dirty)
            self.last_mode = "incremental"
        else:
            dirty = {id(st) for st in body}
            run_rules(ctx, rule_classes)
            self.last_mode = "full"
        self.last_dirty = len(dirty)
        found = ctx.findings
        if any(f.code == "ML001" for f in found):
            return self._give_up(ctx, rule_classes, run_rules, reuse)  # a rule broke
        starts = [_start(st) for st in body]
        fresh: dict[int, list[Finding]] = {id(st): [] for st in body if id(st) in dirty}
        out: list[Finding] = []
        for f in found:
            if f.code not in local_codes:
                out.append(f)
                continue
            i = bisect_right(starts, f.line) - 1
            st = body[i] if i >= 0 else None
            if st is None or f.line > (st.end_lineno or st.lineno) or id(st) not in dirty:
                # Outside every statement, or a statement-scoped rule reported
                # outside the statements it walked: nothing to attribute it to.
                return self._give_up(ctx, rule_classes, run_rules, reuse)
            fresh[id(st)].append(f)
        entries: dict[int, tuple[ast.stmt, int, list[Finding]]] = {}
        for st in body:
            k = id(st)
            start = _start(st)
            if k in fresh:
                entries[k] = (st, start, fresh[k])
            else:
                _, before, old = self.entries[k]
                # An unchanged statement that moved (lines inserted or
                # deleted above it): its findings move with it.
                entries[k] = (st, start, old if start == before else [_moved(f, start - before) for f in old])
            out.extend(entries[k][2])
        self.entries = entries
        self.key = key
        return out

    def _give_up(self, ctx: "Context", rule_classes: list[type["Rule"]], run_rules: Callable[..., None], reused: bool) -> list[Finding]:
        """Forget everything; the findings of a full analysis (this run's if
        it was one, else a new one: reused findings may be missing)."""
        self.clear()
        self.last_mode = "full"
        if not reused:
            return list(ctx.findings)
        from mllint.engine.lint import Context

        full = Context(ctx.source, ctx.tree, ctx.config, ctx.catalog)
        full.incremental = True
        run_rules(full, rule_classes)
        return list(full.findings)
