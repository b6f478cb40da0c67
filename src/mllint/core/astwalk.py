"""Fast traversal helpers over `ast` trees, shared by the engine and the
data-flow analysis.

`ast.iter_child_nodes` builds generators for every node; these helpers look
up each node type's child-bearing fields once and iterate them directly.
"Lean" tables also leave out the expression-context and operator leaves
(`Load`, `Add`, `Eq`, ...), which nobody needs unless a rule asks for them.
"""

from __future__ import annotations

import ast
from typing import Callable, TypeVar

T = TypeVar("T")

# Fields that never hold a child node.
SCALAR_FIELDS = frozenset(
    {"id", "attr", "name", "arg", "asname", "module", "level", "kind", "type_comment", "is_async", "conversion"}
)
# Fields that hold only context/operator leaves.
LEAF_FIELDS = frozenset({"ctx", "op", "ops"})
LEAF_BASES = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)

# Statements that hold statements, and the fields that hold them (except
# handlers and match cases included: they are nodes holding a `body`).
STATEMENT_FIELDS: dict[type, tuple[str, ...]] = {
    ast.FunctionDef: ("body",),
    ast.AsyncFunctionDef: ("body",),
    ast.ClassDef: ("body",),
    ast.If: ("body", "orelse"),
    ast.For: ("body", "orelse"),
    ast.AsyncFor: ("body", "orelse"),
    ast.While: ("body", "orelse"),
    ast.With: ("body",),
    ast.AsyncWith: ("body",),
    ast.Try: ("body", "handlers", "orelse", "finalbody"),
    ast.ExceptHandler: ("body",),
    ast.Match: ("cases",),
    ast.match_case: ("body",),
}
if hasattr(ast, "TryStar"):  # Python 3.11+
    STATEMENT_FIELDS[ast.TryStar] = ("body", "handlers", "orelse", "finalbody")

CHILD_FIELDS_LEAN: dict[type, tuple[str, ...]] = {}
CHILD_FIELDS_ALL: dict[type, tuple[str, ...]] = {}


def child_fields(t: type, lean: bool) -> tuple[str, ...]:
    """The fields of node type `t` that can hold child nodes, in order (cached)."""
    table = CHILD_FIELDS_LEAN if lean else CHILD_FIELDS_ALL
    fields = table.get(t)
    if fields is None:
        if t is ast.Constant:
            fields = ()
        else:
            skip = SCALAR_FIELDS | LEAF_FIELDS if lean else SCALAR_FIELDS
            fields = tuple(f for f in getattr(t, "_fields", ()) if f not in skip)
        table[t] = fields
    return fields


def node_memo(node: ast.AST, name: str, key: object, compute: Callable[[], T]) -> T:
    """A value derived from `node`'s subtree alone, kept on the node as
    `_mllint_<name>` (recomputed when `key`, e.g. the rule set, differs).
    For analyses repeated after each edit: the language server's
    incremental parser keeps the node objects of unchanged statements and
    gives an edited statement new ones, so the memo is never stale."""
    attr = "_mllint_" + name
    memo = node.__dict__.get(attr)
    if memo is not None and memo[0] == key:
        return memo[1]
    value = compute()
    setattr(node, attr, (key, value))
    return value


def child_nodes(node: ast.AST, fields: tuple[str, ...], skip: frozenset = frozenset()) -> list[ast.AST]:
    """The child nodes in `fields` (from `child_fields`), in field order,
    leaving out nodes whose type is in `skip`. The engine's walk inlines
    the same loop in its hot path."""
    out: list[ast.AST] = []
    AST = ast.AST
    for f in fields:
        v = getattr(node, f, None)
        if v is None:
            continue
        if v.__class__ is list:
            for x in v:
                if x.__class__ not in skip and isinstance(x, AST):
                    out.append(x)
        elif v.__class__ not in skip and isinstance(v, AST):
            out.append(v)
    return out


def imports_in(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """Every import statement among `stmts` and nested in them (function,
    class and block bodies; expressions are not entered), in source order."""
    out: list[ast.stmt] = []
    stack = list(reversed(stmts))
    Import, ImportFrom = ast.Import, ast.ImportFrom
    while stack:
        st = stack.pop()
        t = type(st)
        if t is Import or t is ImportFrom:
            out.append(st)
            continue
        for field in reversed(STATEMENT_FIELDS.get(t, ())):
            stack.extend(reversed(getattr(st, field)))
    return out


def subtree(root: ast.AST) -> list[ast.AST]:
    """The nodes under `root` (itself included), in no particular order,
    operator and context leaves left out: what `ast.walk` yields, faster."""
    out: list[ast.AST] = []
    stack = [root]
    pop, push, add = stack.pop, stack.append, out.append
    AST = ast.AST
    table = CHILD_FIELDS_LEAN
    while stack:
        node = pop()
        add(node)
        t = node.__class__
        fields = table.get(t)
        if fields is None:
            fields = child_fields(t, True)
        for f in fields:
            v = getattr(node, f, None)
            if v is None:
                continue
            if v.__class__ is list:
                for x in v:
                    if isinstance(x, AST):
                        push(x)
            elif isinstance(v, AST):
                push(v)
    return out
