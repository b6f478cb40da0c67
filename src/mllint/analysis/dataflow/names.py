"""Name facts the analysis reads: held-out-looking names, the names a
statement stores into, and which names are compared or ranked (model
selection: `if acc > best`, `max(scores)`)."""

from __future__ import annotations

import ast
import re

from mllint.analysis.dataflow.tables import EMPTY
from mllint.core.astwalk import subtree


def is_test_name(name: str) -> bool:
    """`test.csv`, `titanic_test.csv`, `X_test`, `mnist-test` - not `latest.csv`
    or `train_test.csv`."""
    return bool(re.search(r"(^|[^a-z])test", name)) and "train" not in name


def store_names(st: ast.stmt) -> frozenset:
    """Names a simple statement stores a result in: `a = ...`, `a[k] = ...`,
    `a.b = ...`, `a += ...`, `a.append(...)`."""
    t = type(st)
    if t is ast.Assign:
        targets = st.targets  # type: ignore[attr-defined]
    elif t in (ast.AugAssign, ast.AnnAssign):
        targets = [st.target]  # type: ignore[attr-defined]
    elif t is ast.Expr and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute):  # type: ignore[attr-defined]
        if st.value.func.attr not in ("append", "extend", "update", "add", "insert"):  # type: ignore[attr-defined]
            return EMPTY
        targets = [st.value.func.value]  # type: ignore[attr-defined]
    else:
        return EMPTY
    out: set[str] = set()
    for tgt in targets:
        name = _first_name(tgt)
        if name is not None:
            out.add(name)
    return frozenset(out)


def _first_name(tgt: ast.AST) -> str | None:
    """The id of the first `Name` that `ast.walk(tgt)` (breadth-first) meets."""
    t = type(tgt)
    if t is ast.Name:
        return tgt.id  # type: ignore[attr-defined]
    # walk yields the node, then its children in field order: the first child
    # of an Attribute/Subscript is `.value`, of a Tuple/List `elts[0]`.
    if t is ast.Attribute or t is ast.Subscript:
        first = tgt.value  # type: ignore[attr-defined]
        if type(first) is ast.Name:
            return first.id
    elif (t is ast.Tuple or t is ast.List) and tgt.elts and type(tgt.elts[0]) is ast.Name:  # type: ignore[attr-defined]
        return tgt.elts[0].id  # type: ignore[attr-defined]
    for n in ast.walk(tgt):
        if isinstance(n, ast.Name):
            return n.id
    return None


SELECT_CALLS = frozenset({"max", "min", "sorted", "argmax", "argmin", "idxmax", "idxmin", "nlargest", "nsmallest", "sort_values", "sort"})


def selects_among(tree: ast.Module, names: frozenset) -> bool:
    """Is one of `names` (scores) compared or ranked: `if acc > best`,
    `max(results, key=results.get)`, `np.argmax(scores)`, `df.sort_values(...)`?"""
    return bool(names) and not names.isdisjoint(selected_names(tree))


def selected_names(tree: ast.Module) -> frozenset:
    """Every name that is compared with <, >, <=, >= or ranked by a SELECT_CALLS
    call anywhere in the module: one walk, so asking `selects_among` for many
    name sets stays linear (it used to walk the module once per question)."""
    sel = SelectedNames()
    add = sel.add
    for node in subtree(tree):
        add(node)
    return frozenset(sel.names)


class SelectedNames:
    """`selected_names`, one node at a time: `add(node)` for every node of
    the module (only Compare and Call nodes matter), then `names`. Lets a
    caller that walks the module anyway (the ML2xx rule, during the engine's
    walk) spare the analysis a walk of its own."""

    __slots__ = ("names",)

    def __init__(self) -> None:
        self.names: set[str] = set()

    def _mentioned(self, node: ast.AST) -> None:
        Name = ast.Name
        self.names.update(n.id for n in subtree(node) if n.__class__ is Name)  # type: ignore[attr-defined]

    def add(self, node: ast.AST) -> None:
        t = node.__class__
        if t is ast.Compare:
            if isinstance(node.ops[0], (ast.Gt, ast.Lt, ast.GtE, ast.LtE)):  # type: ignore[attr-defined]
                self._mentioned(node)
        elif t is ast.Call:
            f = node.func  # type: ignore[attr-defined]
            fname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if fname in SELECT_CALLS:
                for arg in node.args:  # type: ignore[attr-defined]
                    self._mentioned(arg)
                for k in node.keywords:  # type: ignore[attr-defined]
                    self._mentioned(k.value)
                if isinstance(f, ast.Attribute):
                    self._mentioned(f.value)


def mentioned(node: ast.AST | None) -> frozenset:
    """Every name read in an expression."""
    if node is None:
        return EMPTY
    Name = ast.Name
    return frozenset(n.id for n in subtree(node) if n.__class__ is Name)  # type: ignore[attr-defined]


def name_flows(tree: ast.Module) -> dict[str, set[str]]:
    """Where each name's value goes: `b = f(a)`, `b[k] = a`, `b.append(a)`,
    `b += a` make a flow a -> b. One walk of the module; used to follow a
    score into the containers that are then compared or ranked
    (`rows.append({"auc": auc})`, `table = pd.DataFrame(rows)`,
    `table["auc"].idxmax()`)."""
    flows: dict[str, set[str]] = {}
    for st in subtree(tree):
        t = st.__class__
        if t is ast.Assign or t is ast.AugAssign or t is ast.AnnAssign:
            value = st.value  # type: ignore[attr-defined]
            if value is None:
                continue
            targets = st.targets if t is ast.Assign else [st.target]  # type: ignore[attr-defined]
            dst = {n for tg in targets if (n := _first_name(tg)) is not None}
            for src in mentioned(value):
                flows.setdefault(src, set()).update(dst)
        elif t is ast.Expr and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute):  # type: ignore[attr-defined]
            call = st.value  # type: ignore[attr-defined]
            if call.func.attr in ("append", "extend", "update", "add", "insert") and isinstance(call.func.value, ast.Name):
                for a in (*call.args, *(k.value for k in call.keywords)):
                    for src in mentioned(a):
                        flows.setdefault(src, set()).add(call.func.value.id)
    return flows


def flow_closure(names: frozenset, flows: dict[str, set[str]], limit: int = 200) -> set[str]:
    out = set(names)
    todo = list(names)
    while todo and len(out) < limit:
        for dst in flows.get(todo.pop(), ()):
            if dst not in out:
                out.add(dst)
                todo.append(dst)
    return out
