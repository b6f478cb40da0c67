"""The engine: parse once, walk once, dispatch each node to the rules that
asked for its type, collect findings, apply suppressions and config.

    findings = lint_source(source, config)        # a loaded Source
    findings = lint_path("train.py", config)       # read + lint one file
    findings = lint_tree(tree, lines, path, config)  # flake8: reuse its tree
"""

from __future__ import annotations

import ast
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mllint.analysis.known_names import ASSUMABLE
from mllint.analysis.known_names import describe as describe_assumptions
from mllint.analysis.semantic import SCOPE_NODES, SemanticModel
from mllint.core.astwalk import CHILD_FIELDS_ALL, CHILD_FIELDS_LEAN, LEAF_BASES, child_fields, child_nodes, node_memo, subtree
from mllint.core.catalog import Catalog, default_catalog
from mllint.core.config import Config
from mllint.core.findings import Finding, Fix
from mllint.core.severity import Severity
from mllint.core.sources import Source, SourceError, load_source
from mllint.core.suppressions import parse_suppressions
from mllint.rules.base import Rule, registered_rules

if TYPE_CHECKING:
    from mllint.engine.incremental import StatementCache

UNANALYSABLE = "ML000"
INTERNAL_ERROR = "ML001"


class Context:
    """What a rule sees while its module is analysed."""

    def __init__(self, source: Source, tree: ast.Module, config: Config, catalog: Catalog):
        self.source = source
        self.path = source.path
        self.tree = tree
        self.config = config
        self.catalog = catalog
        self.semantic = SemanticModel(tree, source.text)
        # The current node's ancestors, outermost first (the node itself excluded).
        self.ancestors: list[ast.AST] = []
        self.findings: list[Finding] = []
        self._enabled: dict[str, bool] = {}
        # Analysed again after each edit (the language server, with the
        # incremental parser): unchanged top-level statements keep their
        # nodes, so a rule may memoise per statement node.
        self.incremental = False

    @property
    def is_notebook(self) -> bool:
        return self.source.kind == "notebook"

    def enabled(self, code: str) -> bool:
        e = self._enabled.get(code)
        if e is None:
            e = self._enabled[code] = self.config.is_enabled(code, self.path)
        return e

    def parent(self) -> ast.AST | None:
        return self.ancestors[-1] if self.ancestors else None

    def enclosing(self, *types: type[ast.AST]) -> ast.AST | None:
        for node in reversed(self.ancestors):
            if isinstance(node, types):
                return node
        return None

    def char_col(self, line: int, byte_col: int) -> int:
        return _char_col(self.source.line_text(line), byte_col)

    def node_range(self, node: ast.AST) -> tuple[int, int, int, int]:
        """(line, col, end_line, end_col) of a node, columns in characters."""
        line = getattr(node, "lineno", 1) or 1
        end_line = getattr(node, "end_lineno", None) or line
        col = getattr(node, "col_offset", 0) or 0
        end_col = getattr(node, "end_col_offset", None)
        end_col = col if end_col is None else end_col
        return line, self.char_col(line, col), end_line, self.char_col(end_line, end_col)

    def segment(self, node: ast.AST) -> str:
        """The source text of a node."""
        line, col, end_line, end_col = self.node_range(node)
        lines = self.source.lines
        if line == end_line:
            return lines[line - 1][col:end_col] if line <= len(lines) else ""
        parts = [lines[line - 1][col:]] + lines[line : end_line - 1] + [lines[end_line - 1][:end_col]]
        return "\n".join(parts)

    def report(
        self,
        code: str,
        node: ast.AST | tuple[int, int, int, int],
        message: str,
        fix: Fix | None = None,
        severity: Severity | None = None,
    ) -> None:
        """Record a finding. `severity` overrides the catalogue default for
        this one finding (e.g. ML601 raised to critical); a per-code
        `[tool.mllint.severity]` setting still wins."""
        if not self.enabled(code):
            return
        if isinstance(node, tuple):
            line, col, end_line, end_col = node
        else:
            line, col, end_line, end_col = self.node_range(node)
        if self.semantic.assumptions and not isinstance(node, tuple):
            # A finding rests on a convention only through a lookup the walk
            # made before it (which recorded it): nothing to say otherwise.
            message = _say_assumptions(self.semantic, node, message)
        spec = self.catalog.get(code)
        default = spec.severity if spec else Severity.HIGH
        if severity is not None:
            default = severity
        self.findings.append(
            Finding(
                code=code,
                message=message,
                path=self.path,
                line=line,
                col=col,
                end_line=end_line,
                end_col=end_col,
                severity=self.config.severity_of(code, default),
                fix=fix,
                source_line=self.source.line_text(line),
            )
        )


def _say_assumptions(sem: SemanticModel, node: ast.AST, message: str) -> str:
    """The message, saying which names the reported code rests on were taken
    by convention (`np` read without any import: "assuming `np` means
    `numpy`"): names in the reported expression or simple statement (not a
    whole function or loop), and in what its names were assigned from, a
    few assignments deep (`df = pd.read_csv(...)`, then `df.dropna()`)."""
    if getattr(node, "body", None) is not None:
        return message
    seen: dict[str, str] = {}
    todo: list[tuple[ast.AST, int]] = [(node, 0)]
    visited: set[str] = set()
    while todo:
        root, depth = todo.pop()
        for n in subtree(root):
            if type(n) is not ast.Name or n.id in visited:  # type: ignore[attr-defined]
                continue
            name = n.id  # type: ignore[attr-defined]
            visited.add(name)
            if name in ASSUMABLE:
                q = sem.assumed(name)
                if q is not None:
                    seen[name] = q
                    continue
            if depth < 3:
                b = sem.lookup(name)
                if b is not None and b.kind == "assign" and b.value is not None:
                    todo.append((b.value, depth + 1))
    if not seen:
        return message
    said = describe_assumptions(sorted(seen.items()))
    return f"{message[:-1]} ({said})." if message.endswith(".") else f"{message} ({said})"


def _char_col(line_text: str, byte_col: int) -> int:
    """ast columns are UTF-8 byte offsets; findings use character offsets."""
    if byte_col <= 0 or line_text.isascii():
        return byte_col
    return len(line_text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


@dataclass
class RuleSet:
    """Rule classes instantiated per module, with a node-type dispatch table."""

    classes: list[type[Rule]] = field(default_factory=list)

    @classmethod
    def for_config(cls, config: Config) -> "RuleSet":
        chosen = [
            rc for rc in registered_rules() if any(config.is_enabled(code) for code in rc.codes)
        ]
        return cls(chosen)


_SEMANTIC_TYPES = (
    ast.Import,
    ast.ImportFrom,
    ast.Assign,
    ast.AnnAssign,
    ast.NamedExpr,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.For,
    ast.AsyncFor,
    ast.With,
    ast.AsyncWith,
    ast.comprehension,
)


_BODY_DEFS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})

# Node types that never have child nodes (in the lean walk): candidates for
# not being pushed at all.
_LEAF_TYPES = (ast.Name, ast.Constant, ast.alias, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal)


def _semantic_hook(sem: SemanticModel, node: ast.AST) -> None:
    t = type(node)
    if t is ast.Import:
        sem.on_import(node)  # type: ignore[arg-type]
    elif t is ast.ImportFrom:
        sem.on_import_from(node)  # type: ignore[arg-type]
    elif t in (ast.Assign, ast.AnnAssign, ast.NamedExpr):
        sem.on_assign(node)  # type: ignore[arg-type]
    elif t in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
        sem.on_def(node)  # type: ignore[arg-type]
    elif t in (ast.For, ast.AsyncFor, ast.comprehension):
        sem.on_target(node.target, "for", node)  # type: ignore[attr-defined]
    elif t in (ast.With, ast.AsyncWith):
        for item in node.items:  # type: ignore[attr-defined]
            if item.optional_vars is not None:
                sem.on_target(item.optional_vars, "with", node)


class _Dispatch:
    """Which rules see which node: per type, and for calls also per callee
    name and keyword (rules with a call filter, see `Rule.call_names`).
    Handlers always run in rule order."""

    def __init__(self, rules: list[Rule]):
        self.by_type: dict[type, list[tuple[Rule, object]]] = {}
        # Calls: filtered rules by callee key / keyword, as (rule index, handler).
        self.call_all: list[tuple[int, tuple[Rule, object]]] = []
        self.call_names: dict[str, list[tuple[int, tuple[Rule, object]]]] = {}
        self.call_keywords: dict[str, list[tuple[int, tuple[Rule, object]]]] = {}
        # Filtered rules with a name predicate (`Rule.wants_call`).
        self.call_predicates: list[tuple[int, tuple[Rule, object]]] = []
        self._merged: dict[str | None, list[tuple[Rule, object]]] = {}
        for i, rule in enumerate(rules):
            h = (rule, rule.visit)
            for t in rule.nodes:
                if t is ast.Call:
                    if rule.call_names is None:
                        self.call_all.append((i, h))
                    else:
                        for n in rule.call_names:
                            self.call_names.setdefault(n, []).append((i, h))
                        for k in rule.call_keywords:
                            self.call_keywords.setdefault(k, []).append((i, h))
                        if type(rule).wants_call is not Rule.wants_call:
                            self.call_predicates.append((i, h))
                else:
                    self.by_type.setdefault(t, []).append(h)
        self.filtered_calls = bool(self.call_names or self.call_keywords or self.call_predicates)
        if self.call_all and not self.filtered_calls:
            self.by_type[ast.Call] = [h for _, h in self.call_all]

    def for_call(self, key: str | None, keywords: list[ast.keyword]) -> list[tuple[Rule, object]]:
        extra_kw = None
        if keywords and self.call_keywords:
            for kw in keywords:
                hs = self.call_keywords.get(kw.arg)  # type: ignore[arg-type]
                if hs:
                    extra_kw = (extra_kw or []) + hs
        merged = self._merged.get(key)
        if merged is None:
            merged = self._merged[key] = self._merge(self._by_key(key))
        if extra_kw is None:
            return merged
        return self._merge(self._by_key(key) + extra_kw)

    def _by_key(self, key: str | None) -> list[tuple[int, tuple[Rule, object]]]:
        if key is None:
            return []
        hs = self.call_names.get(key, [])
        if self.call_predicates:
            hs = hs + [(i, h) for i, h in self.call_predicates if h[0].wants_call(key)]  # type: ignore[attr-defined]
        return hs

    def _merge(self, extra: list[tuple[int, tuple[Rule, object]]]) -> list[tuple[Rule, object]]:
        seen: set[int] = set()
        out = []
        for i, h in sorted(self.call_all + extra, key=lambda ih: ih[0]):
            if i not in seen:
                seen.add(i)
                out.append(h)
        return out


class _Tables:
    """The dispatch tables of one walk: every rule, and (incremental
    analysis) the module-scoped rules alone, each with its per-type plans."""

    def __init__(self, rules: list[Rule], broken: set[int], split: bool):
        self.rules = rules
        self.broken = broken
        self.split = split
        self.plans_full: dict = {}
        self.plans_module: dict = {}
        self.use_full = True
        self.rebuild()

    def rebuild(self) -> None:
        live = [r for r in self.rules if id(r) not in self.broken]
        self.full = _Dispatch(live)
        self.module_rules = [r for r in live if r.scope != "statement"]
        self.module = _Dispatch(self.module_rules) if self.split else self.full
        self.plans_full.clear()
        self.plans_module.clear()

    def pick(self, full: bool) -> tuple["_Dispatch", dict]:
        self.use_full = full
        return self.current()

    def current(self) -> tuple["_Dispatch", dict]:
        return (self.full, self.plans_full) if self.use_full else (self.module, self.plans_module)


def run_rules(ctx: Context, rule_classes: list[type[Rule]], only: set[int] | None = None) -> None:
    """The single walk. Iterative (no recursion limit on deep expressions).

    `only` (incremental analysis, see `mllint.engine.incremental`): the ids of the
    top-level statements statement-scoped rules (`Rule.scope`) are run on;
    elsewhere only module-scoped rules see nodes. The semantic model always
    sees the whole module. None: every rule sees every node."""
    rules: list[Rule] = []
    for rc in rule_classes:
        try:
            rules.append(rc(ctx))
        except Exception as exc:  # a broken rule must not stop the run
            _internal_error(ctx, rc, exc, None)
    broken: set[int] = set()
    tables = _Tables(rules, broken, only is not None)
    table = tables.full
    sem = ctx.semantic
    callee_key = sem.callee_key
    anc = ctx.ancestors
    scope_depths: list[int] = []
    # Contexts (Load/Store) and operators are leaves nobody asks for: skip
    # them unless a rule does. Children come from a per-type field list
    # (much cheaper than ast.iter_child_nodes' generators).
    lean = not any(issubclass(t, LEAF_BASES) for t in table.by_type)
    fields_of = CHILD_FIELDS_LEAN if lean else CHILD_FIELDS_ALL
    # One dict lookup per node: type -> (semantic hook?, handlers, opens a scope?, child fields).
    plans = tables.plans_full
    semantic_types = frozenset(_SEMANTIC_TYPES)
    scope_types = frozenset(SCOPE_NODES)
    # Leaves nobody asked for (a third of all nodes are `Name`s) are not
    # even pushed: nothing would happen at them.
    skip = frozenset(
        t for t in _LEAF_TYPES
        if t not in table.by_type and t not in semantic_types and t not in scope_types and not child_fields(t, lean)
    )
    Call = ast.Call
    # No rule asked for any node (e.g. only the leakage rule, in the language
    # server's worker): no walk. The semantic model then stays empty.
    walk = bool(tables.full.by_type or tables.full.call_all or tables.full.filtered_calls)
    stack: list[tuple[ast.AST, int]] = [(ctx.tree, 0)] if walk else []
    # Re-analysed after each edit: the walk order of each top-level statement
    # is kept on its node (unchanged statements keep their nodes), so only
    # edited statements are expanded child by child.
    expand = True
    pruned: set[int] = set()
    if walk and ctx.incremental and isinstance(ctx.tree, ast.Module):
        # Subtrees with no node anyone handles, no binding and no scope are
        # left out of the order (`x.y.z` callee names, constant arguments).
        wanted = frozenset(table.by_type) | semantic_types | scope_types
        if table.call_all or table.filtered_calls:
            wanted |= {Call}
        order: list[tuple[ast.AST, int]] = [(ctx.tree, 0)]
        for st in ctx.tree.body:
            if only is not None and id(st) not in only and not tables.module_rules and type(st) in _BODY_DEFS:
                pruned.add(id(st))
                order.append((st, 1))
            else:
                order.extend(_statement_order(st, lean, skip, fields_of, wanted))
        order.reverse()
        stack = order
        expand = False
    pop = stack.pop
    push = stack.append
    AST = ast.AST
    while stack:
        node, depth = pop()
        if len(anc) > depth:
            del anc[depth:]
            while scope_depths and scope_depths[-1] >= depth:
                scope_depths.pop()
                sem.pop_scope()
        prune = False
        if depth == 1 and only is not None:
            # A top-level statement: its whole subtree is walked before the next one.
            table, plans = tables.pick(id(node) in only)
            # An unchanged function or class and no module-scoped rule here
            # (they run elsewhere, e.g. in the language server's worker): its
            # body is not walked; its imports still count.
            if expand:
                prune = not tables.use_full and not tables.module_rules and type(node) in _BODY_DEFS
            else:
                prune = id(node) in pruned
        t = type(node)
        plan = plans.get(t)
        if plan is None:
            fields = fields_of.get(t)
            if fields is None:
                fields = child_fields(t, lean)
            plan = plans[t] = (t in semantic_types, table.by_type.get(t) or None, t in scope_types, fields)
        semantic, handlers, scope, fields = plan
        if semantic:
            _semantic_hook(sem, node)
        if t is Call and table.filtered_calls:
            handlers = table.for_call(callee_key(node.func), node.keywords)  # type: ignore[attr-defined]
        if handlers:
            for rule, visit in handlers:
                if id(rule) in broken:
                    continue  # broke earlier on this node
                try:
                    visit(node)  # type: ignore[operator]
                except Exception as exc:
                    broken.add(id(rule))
                    _internal_error(ctx, type(rule), exc, node)
                    # Drop the rule from every dispatch table.
                    tables.rebuild()
                    table, plans = tables.current()
        if prune:
            sem.note_imports(node.body)  # type: ignore[attr-defined]
            continue
        anc.append(node)
        if scope:
            scope_depths.append(depth)
            sem.push_scope(node)
        if fields and expand:
            # `astwalk.child_nodes`, inlined: this runs for every node.
            children: list[ast.AST] = []
            for f in fields:
                v = getattr(node, f, None)
                if v is None:
                    continue
                if v.__class__ is list:
                    for x in v:
                        if x.__class__ not in skip and isinstance(x, AST):
                            children.append(x)
                elif v.__class__ not in skip and isinstance(v, AST):
                    children.append(v)
            if children:
                d = depth + 1
                for child in reversed(children):
                    push((child, d))
    del anc[:]
    for rule in rules:
        if id(rule) in broken:
            continue
        try:
            rule.finish()
        except Exception as exc:
            _internal_error(ctx, type(rule), exc, None)


def _statement_order(
    st: ast.stmt, lean: bool, skip: frozenset, fields_of: dict, wanted: frozenset
) -> list[tuple[ast.AST, int]]:
    """The (node, depth) pairs the walk visits under a top-level statement,
    in walk order, without the subtrees that hold no node of a `wanted`
    type (nothing would happen there; the ancestors of every node visited
    are unchanged); memoised on the statement node."""
    return node_memo(st, "order", (lean, skip, wanted), lambda: _order(st, lean, skip, fields_of, wanted))


def _order(st: ast.stmt, lean: bool, skip: frozenset, fields_of: dict, wanted: frozenset) -> list[tuple[ast.AST, int]]:
    """`_statement_order`, computed."""
    out: list[tuple[ast.AST, int]] = []
    stack: list[tuple[ast.AST, int]] = [(st, 1)]
    while stack:
        node, depth = stack.pop()
        out.append((node, depth))
        t = type(node)
        fields = fields_of.get(t)
        if fields is None:
            fields = child_fields(t, lean)
        for child in reversed(child_nodes(node, fields, skip)):
            stack.append((child, depth + 1))
    # Backwards over the pre-order list, a node's children come just before it.
    keep = [False] * len(out)
    below: dict[int, bool] = {}  # depth -> a wanted node in the subtrees seen at that depth
    for i in range(len(out) - 1, -1, -1):
        node, depth = out[i]
        mine = below.pop(depth + 1, False) or type(node) in wanted
        keep[i] = mine
        if mine:
            below[depth] = True
    return [item for item, k in zip(out, keep) if k]


def _internal_error(ctx: Context, rule_cls: type[Rule], exc: BaseException, node: ast.AST | None) -> None:
    codes = ",".join(rule_cls.codes)
    where = f" at line {getattr(node, 'lineno', '?')}" if node is not None else ""
    tb = traceback.extract_tb(exc.__traceback__)
    origin = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    message = (
        f"internal error in rule {codes} ({rule_cls.__name__}){where}: "
        f"{type(exc).__name__}: {exc}{origin}; the rest of this file was checked without it. "
        "Please report this with the file that triggers it."
    )
    node_pos = node if node is not None else (1, 0, 1, 0)
    # Internal errors are always reported, whatever the selection.
    ctx._enabled[INTERNAL_ERROR] = True
    ctx.report(INTERNAL_ERROR, node_pos, message)
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    ctx.findings[-1] = ctx.findings[-1].with_(detail=detail)


def parse_module(source: Source) -> tuple[ast.Module | None, list[SourceError]]:
    """Parse; for notebooks, a cell that does not parse is blanked (and
    reported) so the other cells are still analysed."""
    errors: list[SourceError] = []
    if source.kind == "notebook":
        return _parse_notebook(source)
    text = source.text
    for _attempt in range(len(source.cells) + 1 if source.cells else 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(text, filename=source.path, type_comments=False), errors
        except SyntaxError as exc:
            err = SourceError(
                f"syntax error: {exc.msg}", line=exc.lineno or 1, col=max((exc.offset or 1) - 1, 0)
            )
            errors.append(err)
            if not source.cells:
                return None, errors
            loc = source.locate(err.line)
            if loc is None:
                return None, errors
            span = source.cell_span(loc[0])
            if span is None or span.masked:
                return None, errors
            span.masked = True
            lines = text.split("\n")
            for i in range(span.start - 1, span.start - 1 + span.n_lines):
                if i < len(lines):
                    lines[i] = ""
            text = "\n".join(lines)
        except (RecursionError, MemoryError) as exc:
            errors.append(SourceError(f"too deeply nested to analyse ({type(exc).__name__})"))
            return None, errors
        except ValueError as exc:  # e.g. null bytes
            errors.append(SourceError(f"cannot parse: {exc}"))
            return None, errors
    return None, errors


def _parse_notebook(source: Source) -> tuple[ast.Module, list[SourceError]]:
    """Parse each code cell on its own, as IPython compiles it (so top-level
    `await` and a `from __future__` import at the top of a later cell are
    fine), then join the cells' statements into one module in document
    order with module line numbers. A cell that does not parse is reported
    and left out; the other cells are still analysed."""
    errors: list[SourceError] = []
    body: list[ast.stmt] = []
    type_ignores: list[ast.type_ignore] = []
    lines = source.lines
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    # Fast path: the joined module parses and no statement runs across a cell
    # boundary (which IPython would reject), so it is the same tree.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            joined = compile(source.text, source.path, "exec", flags)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        joined = None
    if joined is not None:
        locate = source.locate
        if all(
            (locate(stmt.lineno) or (0,))[0] == (locate(stmt.end_lineno or stmt.lineno) or (0,))[0]
            for stmt in joined.body
        ):
            return joined, errors
    for span in source.cells:
        if span.masked:
            continue
        text = "\n".join(lines[span.start - 1 : span.start - 1 + span.n_lines])
        if not text.strip():
            continue
        # IPython strips the indentation of the cell's first non-blank line
        # from every line that starts with it before compiling the cell.
        prefix = _leading_indent(text)
        shifted: list[bool] = []
        if prefix:
            cell_lines = text.split("\n")
            shifted = [ln.startswith(prefix) for ln in cell_lines]
            text = "\n".join(ln[len(prefix) :] if s else ln for ln, s in zip(cell_lines, shifted))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # Leading newlines put the cell at its module lines: cheaper
                # than ast.increment_lineno over the parsed tree.
                tree = compile("\n" * (span.start - 1) + text, source.path, "exec", flags)
        except SyntaxError as exc:
            line = min(max((exc.lineno or span.start) - span.start + 1, 1), span.n_lines)
            col = max((exc.offset or 1) - 1, 0)
            if shifted and line - 1 < len(shifted) and shifted[line - 1]:
                col += len(prefix)
            errors.append(
                SourceError(
                    f"syntax error: {exc.msg}",
                    line=span.start + line - 1,
                    col=col,
                    cell=span.index,
                )
            )
            continue
        except (RecursionError, MemoryError) as exc:
            errors.append(
                SourceError(f"too deeply nested to analyse ({type(exc).__name__})", line=span.start, cell=span.index)
            )
            continue
        except ValueError as exc:  # e.g. null bytes
            errors.append(SourceError(f"cannot parse: {exc}", line=span.start, cell=span.index))
            continue
        if prefix:
            _restore_columns(tree, span.start, shifted, len(prefix))
            span.dedent = prefix
        body.extend(tree.body)
        type_ignores.extend(tree.type_ignores)
    return ast.Module(body=body, type_ignores=type_ignores), errors


# Syntax errors only Python 2 code makes (CPython 3's messages).
_PY2_ERRORS = (
    "Missing parentheses in call to 'print'",
    "Missing parentheses in call to 'exec'",
    "leading zeros in decimal integer literals",
    "multiple exception types must be parenthesized",
)


def _python2(source: Source, errors: list[SourceError]) -> str | None:
    """Why this file that does not parse is Python 2 source (None if it is
    not): a notebook saved with a Python 2 kernel, a `#!...python2` script,
    or syntax errors at least half of which (and, in a notebook, at least
    two cells) only Python 2 code makes (`print "x"`, `exec "code"`,
    `except E, e:`, `0777`)."""
    if source.kind == "notebook":
        from mllint.core.notebooks import notebook_python_major

        if notebook_python_major(source) == 2:
            return "the notebook's kernel is Python 2"
    else:
        first = source.text.split("\n", 1)[0]
        if first.startswith("#!") and "python2" in first:
            return "its `#!` line runs python2"
    py2 = [e for e in errors if e.reason.startswith("syntax error: ") and e.reason[14:].startswith(_PY2_ERRORS)]
    # A notebook's cells are parsed one by one: one stray `print "x"` among
    # Python 3 cells is that cell's error, not a Python 2 notebook.
    enough = 2 if source.kind == "notebook" else 1
    if len(py2) >= enough and 2 * len(py2) >= len(errors):
        e = py2[0]
        where = f"cell {e.cell}" if e.cell is not None else f"line {e.line}"
        what = e.reason[14:].split(".", 1)[0]
        return f"{where}: {what[0].lower()}{what[1:]}"
    return None


def _leading_indent(text: str) -> str:
    """The indentation of the first line that is not blank ("" if none)."""
    for ln in text.split("\n"):
        if ln.strip():
            return ln[: len(ln) - len(ln.lstrip(" \t"))]
    return ""


def _restore_columns(tree: ast.AST, first_line: int, shifted: list[bool], width: int) -> None:
    """Move the columns of a cell parsed without its common indentation back
    to the text as written: `width` more on every line that lost it."""
    n = len(shifted)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line is None:
            continue
        i = line - first_line
        if 0 <= i < n and shifted[i]:
            node.col_offset += width  # type: ignore[attr-defined]
        end = getattr(node, "end_lineno", None)
        if end is not None and node.end_col_offset is not None:  # type: ignore[attr-defined]
            j = end - first_line
            if 0 <= j < n and shifted[j]:
                node.end_col_offset += width  # type: ignore[attr-defined]


def _source_error_finding(source: Source | None, path: str, err: SourceError, config: Config, catalog: Catalog) -> Finding:
    spec = catalog.get(UNANALYSABLE)
    sev = config.severity_of(UNANALYSABLE, spec.severity if spec else Severity.HIGH)
    line_text = source.line_text(err.line) if source is not None else ""
    return Finding(
        code=UNANALYSABLE,
        message=f"cannot analyse this file: {err.reason}" if source is None or not source.cells else f"cannot analyse this cell: {err.reason}",
        path=path,
        line=err.line,
        col=err.col,
        end_line=err.line,
        end_col=err.col,
        severity=sev,
        source_line=line_text,
    )


def lint_source(
    source: Source,
    config: Config,
    catalog: Catalog | None = None,
    rule_classes: list[type[Rule]] | None = None,
    tree: ast.Module | None = None,
    apply_noqa: bool = True,
    incremental: "StatementCache | None" = None,
) -> list[Finding]:
    """Lint a loaded source. `incremental` (the language server's, one per
    open document, used with the tree of its incremental parser): re-run
    statement-scoped rules only on changed top-level statements."""
    catalog = catalog or default_catalog()
    if rule_classes is None:
        rule_classes = RuleSet.for_config(config).classes
    findings: list[Finding] = []
    if source.skip_reason:
        return findings
    errors: list[SourceError] = []
    if tree is None:
        tree, errors = parse_module(source)
    py2 = _python2(source, errors) if errors else None
    if py2 is not None:
        # One note for the file, not a finding per cell, and no analysis of
        # the cells that happen to parse (the program is not all there).
        if not config.is_enabled(UNANALYSABLE, source.path) or Severity.INFO < config.min_severity:
            return findings
        first = errors[0]
        finding = Finding(
            code=UNANALYSABLE,
            message=f"Python 2 source, not analysed ({py2}); mllint reads Python 3: port it (e.g. with 2to3) "
            "or exclude the file.",
            path=source.path,
            line=first.line,
            col=first.col,
            end_line=first.line,
            end_col=first.col,
            severity=Severity.INFO,
            source_line=source.line_text(first.line),
        )
        return [_to_cell(source, finding) if source.cells else finding]
    for err in errors:
        if config.is_enabled(UNANALYSABLE, source.path):
            findings.append(_source_error_finding(source, source.path, err, config, catalog))
    if tree is not None:
        ctx = Context(source, tree, config, catalog)
        ctx.incremental = incremental is not None
        if incremental is not None and not source.cells:
            findings.extend(incremental.run(ctx, rule_classes, run_rules))
        else:
            run_rules(ctx, rule_classes)
            findings.extend(ctx.findings)
    if source.cells and any(c.dedent for c in source.cells):
        findings = _drop_fixes_in_dedented_cells(source, findings)
    if apply_noqa:
        findings = apply_suppressions(source, findings)
    findings = [f for f in findings if f.severity >= config.min_severity]
    if source.cells:
        findings = [_to_cell(source, f) for f in findings]
    findings.sort(key=Finding.sort_key)
    return findings


def _drop_fixes_in_dedented_cells(source: Source, findings: list[Finding]) -> list[Finding]:
    """No fix in a cell analysed without its common indentation: the cell as
    written does not parse on its own, so an edit to it cannot be checked
    (and one adding a line would have to guess its indentation)."""
    out = []
    for f in findings:
        if f.fix is not None:
            loc = source.locate(f.line)
            span = source.cell_span(loc[0]) if loc is not None else None
            if span is not None and span.dedent:
                f = f.with_(fix=None)
        out.append(f)
    return out


def apply_suppressions(source: Source, findings: list[Finding]) -> list[Finding]:
    """Drop the findings a `# noqa` comment in the source suppresses (never an
    internal error). Sorted input stays sorted."""
    sup = parse_suppressions(source.text, {f.line for f in findings}) if findings else None
    if sup is not None and (sup.lines or sup.file_codes is not None):
        findings = [f for f in findings if f.code == INTERNAL_ERROR or not sup.suppressed(f.code, f.line)]
    return findings


def _to_cell(source: Source, f: Finding) -> Finding:
    loc = source.locate(f.line)
    if loc is None:
        return f
    end = source.locate(f.end_line)
    span = source.cell_span(loc[0])
    # Show the cell's own text (magics unmasked), not the analysed line.
    line_text = span.line_text(loc[1]) if span is not None else f.source_line
    return f.with_(
        cell=loc[0],
        cell_line=loc[1],
        cell_end_line=end[1] if end and end[0] == loc[0] else loc[1],
        source_line=line_text,
    )


def lint_path(
    path: str | Path,
    config: Config,
    catalog: Catalog | None = None,
    rule_classes: list[type[Rule]] | None = None,
    display_path: str | None = None,
) -> list[Finding]:
    """Read, parse and lint one file. Never raises for bad input."""
    catalog = catalog or default_catalog()
    shown = display_path or str(path)
    try:
        source = load_source(path)
    except SourceError as err:
        if not config.is_enabled(UNANALYSABLE, shown):
            return []
        return [_source_error_finding(None, shown, err, config, catalog)]
    source.path = shown
    return lint_source(source, config, catalog, rule_classes)


def lint_text(text: str, config: Config | None = None, path: str = "<string>", **kw) -> list[Finding]:
    """Lint Python source text (used by tests and the catalogue examples)."""
    config = config or Config()
    return lint_source(Source(path=path, text=text), config, **kw)


if sys.version_info < (3, 10):  # pragma: no cover
    raise RuntimeError("mllint needs Python 3.10 or newer")
