"""ML4xx: data handling (pandas, NumPy)."""

from __future__ import annotations

import ast

from mllint.analysis.inference import COPY_RETURNING_EDITS, PANDAS_TAGS, call_qual, infer_type, ndim
from mllint.analysis.semantic import has_star_kwargs, is_true, keyword
from mllint.rules.base import Rule, register
from mllint.rules.fixbuilders import replace_node

# --- ML401 -------------------------------------------------------------------

_NAN_QUALNAMES = frozenset(
    {
        "numpy.nan",
        "numpy.NaN",
        "numpy.NAN",
        "math.nan",
        "pandas.NA",
        "pandas.NaT",
        "torch.nan",
        "float.nan",
    }
)


def _is_nan(sem, node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return sem.qualname(node) in _NAN_QUALNAMES
    if isinstance(node, ast.Name):
        b = sem.lookup(node.id)
        return b is not None and b.kind == "import" and b.qualname in _NAN_QUALNAMES
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
        if sem.lookup("float") is None and len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
            v = node.args[0].value
            return isinstance(v, str) and v.strip().lower() in ("nan", "+nan", "-nan")
    return False


def _import_alias(sem, module: str) -> str | None:
    def compute() -> dict[str, str]:
        out: dict[str, str] = {}
        for name, b in sem.module_scope.bindings.items():
            if b.kind == "import" and b.qualname in ("pandas", "numpy", "math") and b.qualname not in out:
                out[b.qualname] = name
        return out

    # computed lazily when a finding needs it (imports come first in real code)
    return compute().get(module)


@register
class NanEquality(Rule):
    codes = ("ML401",)
    scope = "statement"
    nodes = (ast.Compare,)

    def visit(self, node: ast.Compare) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            if isinstance(op, (ast.Eq, ast.NotEq)):
                nan_side = other = None
                if _is_nan(sem, right):
                    nan_side, other = right, left
                elif _is_nan(sem, left):
                    nan_side, other = left, right
                if nan_side is not None:
                    self._report(node, op, nan_side, other, len(node.ops) == 1)
                    return
            left = right

    def _report(self, node: ast.Compare, op: ast.cmpop, nan_side: ast.AST, other: ast.AST, simple: bool) -> None:
        sem = self.ctx.semantic
        eq = isinstance(op, ast.Eq)
        nan_src = self.ctx.segment(nan_side)
        other_src = self.ctx.segment(other)
        fix = None
        repl = None
        if simple:
            t = infer_type(sem, other)
            pd_alias = _import_alias(sem, "pandas")
            np_alias = _import_alias(sem, "numpy")
            if t in PANDAS_TAGS:
                base = other_src if isinstance(other, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)) else f"({other_src})"
                repl = f"{base}.{'isna' if eq else 'notna'}()"
            elif pd_alias:
                repl = f"{pd_alias}.{'isna' if eq else 'notna'}({other_src})"
            elif np_alias and (eq or t == "ndarray"):
                repl = f"{'' if eq else '~'}{np_alias}.isnan({other_src})"
            if repl is not None:
                fix = replace_node(self.ctx, node, repl, f"Use `{repl}`", "unsafe")
        suggestion = repl or ("`isna()` / `np.isnan()` / `math.isnan()`")
        if repl:
            suggestion = f"`{repl}`"
        self.report(
            "ML401",
            node,
            f"`{self.ctx.segment(node)}` is always {'False' if eq else 'True'}: NaN never equals anything, itself "
            f"included (`{nan_src}`); use {suggestion} instead.",
            fix,
        )


# --- ML402 -------------------------------------------------------------------

_INDEXERS = frozenset({"loc", "iloc", "at", "iat"})


def _chain_root(node: ast.AST) -> tuple[ast.AST, int]:
    """Descend `a[...][...].loc[...]` to its base; count the indexing steps."""
    steps = 0
    while True:
        if isinstance(node, ast.Subscript):
            steps += 1
            node = node.value
        elif isinstance(node, ast.Attribute) and node.attr in _INDEXERS:
            node = node.value
        else:
            return node, steps


@register
class ChainedAssignment(Rule):
    codes = ("ML402",)
    scope = "statement"
    nodes = (ast.Assign, ast.AugAssign)

    def visit(self, node: ast.AST) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]  # type: ignore[attr-defined]
        sem = self.ctx.semantic
        for target in targets:
            if not isinstance(target, ast.Subscript):
                continue
            inner = target.value
            if isinstance(inner, ast.Attribute) and inner.attr in _INDEXERS:
                inner = inner.value  # df["c"].loc[m] = v: chained through .loc
                if not isinstance(inner, ast.Subscript):
                    continue
            if not isinstance(inner, ast.Subscript):
                continue
            root, _ = _chain_root(inner)
            if infer_type(sem, root) not in PANDAS_TAGS:
                continue
            self.report(
                "ML402",
                target,
                f"`{self.ctx.segment(target)} = ...` is chained indexing: the first `[...]` may return a copy, "
                f"so the write can be lost (always, under copy-on-write); assign through one indexer, e.g. "
                f"`{self.ctx.segment(root)}.loc[rows, column] = ...`.",
            )


# --- ML403 -------------------------------------------------------------------

DISCARD_PANDAS = COPY_RETURNING_EDITS | frozenset({"join", "merge", "set_axis", "transpose"})
DISCARD_NDARRAY = frozenset({"astype", "reshape", "flatten", "ravel", "copy", "round", "clip", "transpose", "squeeze"})
# NumPy functions that return a new array and leave their arguments as they
# were (`np.sort(a)` sorts a copy; `a.sort()`, `np.random.shuffle(a)`,
# `np.copyto(a, b)` and an `out=` argument write in place).
DISCARD_NUMPY = frozenset(
    {
        "append", "insert", "delete", "concatenate", "stack", "vstack", "hstack", "column_stack", "row_stack",
        "dstack", "sort", "clip", "where", "reshape", "ravel", "transpose", "squeeze", "flip", "round", "around",
    }
)
DISCARD_FUNCS = frozenset({"pandas.concat"} | {f"numpy.{name}" for name in DISCARD_NUMPY})
# Their first argument is the array they return a changed copy of.
_COPY_OF_FIRST = DISCARD_NUMPY - {"concatenate", "stack", "vstack", "hstack", "column_stack", "row_stack", "dstack", "where"}


def _cell_last_statements(ctx) -> set[int]:
    """ids of module-level statements that end a notebook cell (displayed)."""
    out: set[int] = set()
    src = ctx.source
    body = ctx.tree.body
    for i, stmt in enumerate(body):
        loc = src.locate(stmt.end_lineno or stmt.lineno)
        nxt = body[i + 1] if i + 1 < len(body) else None
        nloc = src.locate(nxt.lineno) if nxt is not None else None
        if loc is None or nloc is None or nloc[0] != loc[0]:
            out.add(id(stmt))
    return out


def _assignable(node: ast.AST) -> bool:
    """A name, an attribute of one, or one indexed by a constant: what the
    result can be assigned back to."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Constant):
            return False
        node = node.value
    return isinstance(node, ast.Name)


@register
class DiscardedResult(Rule):
    codes = ("ML403",)
    scope = "statement"
    nodes = (ast.Expr,)

    def visit(self, node: ast.Expr) -> None:  # type: ignore[override]
        call = node.value
        if not isinstance(call, ast.Call):
            return
        if keyword(call, "out") is not None:
            return  # `np.clip(a, 0, 1, out=a)`, `a.round(out=a)`: written in place
        sem = self.ctx.semantic
        func = call.func
        what = None
        target = None
        if isinstance(func, (ast.Attribute, ast.Name)):
            q = sem.qualname(func)
            if q in DISCARD_FUNCS:
                short = q.rpartition(".")[2]
                if q == "pandas.concat":
                    what = f"`{self.ctx.segment(func)}(...)` returns a new DataFrame"
                else:
                    what = f"`{self.ctx.segment(func)}(...)` returns a new array"
                    if short == "sort":
                        what += " (`a.sort()` sorts in place)"
                    elif short in ("clip", "round", "around"):
                        what += " (pass `out=` to change the array in place)"
                    first = call.args[0] if call.args else None
                    if short in _COPY_OF_FIRST and isinstance(first, ast.Name):
                        target = first.id
            elif isinstance(func, ast.Attribute):
                kw = keyword(call, "inplace")
                if kw is not None and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    return  # inplace=True (or a variable): modifies in place
                t = infer_type(sem, func.value)
                if t in PANDAS_TAGS and func.attr in DISCARD_PANDAS:
                    what = f"`.{func.attr}()` returns a new {'DataFrame' if t == 'dataframe' else 'object'}"
                elif t == "ndarray" and func.attr in DISCARD_NDARRAY:
                    what = f"`.{func.attr}()` returns a new array"
                if what is not None and _assignable(func.value):
                    recv = self.ctx.segment(func.value)
                    if "\n" not in recv and len(recv) <= 40:
                        target = recv  # `df = ...`, `df["price"] = ...`, `self.frame = ...`
        if what is None:
            return
        if self.ctx.is_notebook and isinstance(self.ctx.parent(), ast.Module):
            last = self.ctx.semantic.fact("ml403.cell_last", lambda: _cell_last_statements(self.ctx))
            if id(node) in last:
                return  # the cell displays the result
        assign = f"assign it (`{target} = ...`)" if target else "assign it to a name"
        self.report(
            "ML403",
            call,
            f"`{self.ctx.segment(call)}` is thrown away: {what} and leaves the original unchanged; {assign}.",
        )


# --- ML404 -------------------------------------------------------------------

INPLACE_METHODS = frozenset(
    {
        "dropna",
        "fillna",
        "drop",
        "drop_duplicates",
        "replace",
        "rename",
        "reset_index",
        "set_index",
        "sort_values",
        "sort_index",
        "interpolate",
        "where",
        "mask",
        "clip",
        "query",
        "eval",
        "rename_axis",
        "set_axis",
        "ffill",
        "bfill",
    }
)


@register
class InplaceArgument(Rule):
    codes = ("ML404",)
    scope = "statement"
    nodes = (ast.Call,)
    # Only a call with `inplace=` can be reported (see `visit`).
    call_names = frozenset[str]()
    call_keywords = frozenset({"inplace"})

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr not in INPLACE_METHODS:
            return
        kw = keyword(node, "inplace")
        if kw is None or not is_true(kw.value):
            return
        sem = self.ctx.semantic
        t = infer_type(sem, func.value)
        if t is None:
            if not sem.fact("ml404.pandas", lambda: sem.imports_module("pandas")):
                return
        elif t not in PANDAS_TAGS:
            return
        self.report(
            "ML404",
            kw,
            f"`{func.attr}(..., inplace=True)` returns None, blocks method chaining and usually saves no memory "
            f"(pandas copies anyway); write `{self.ctx.segment(func.value)} = {self.ctx.segment(func.value)}.{func.attr}(...)`.",
        )


# --- ML405 -------------------------------------------------------------------


@register
class ValuesAttribute(Rule):
    codes = ("ML405",)
    scope = "statement"
    nodes = (ast.Attribute,)

    def visit(self, node: ast.Attribute) -> None:  # type: ignore[override]
        if node.attr != "values" or not isinstance(node.ctx, ast.Load):
            return
        parent = self.ctx.parent()
        if isinstance(parent, ast.Call) and parent.func is node:
            return  # dict.values()
        if infer_type(self.ctx.semantic, node.value) not in PANDAS_TAGS:
            return
        recv = self.ctx.segment(node.value)
        if not isinstance(node.value, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)):
            recv = f"({recv})"  # `(a + b).values`: the range excludes the parentheses
        repl = f"{recv}.to_numpy()"
        fix = replace_node(self.ctx, node, repl, f"Use `{repl}`", "safe")
        self.report(
            "ML405",
            node,
            f"`{recv}.values` returns an ndarray or an ExtensionArray depending on the dtypes; use "
            f"`{repl}`, which always returns an ndarray.",
            fix,
        )


# --- ML406 -------------------------------------------------------------------

_TYPED_READ = frozenset({"pandas.read_csv", "pandas.read_table", "pandas.read_excel"})
_TYPED_READ_NAMES = frozenset(q.rpartition(".")[2] for q in _TYPED_READ)


@register
class UntypedRead(Rule):
    codes = ("ML406",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = _TYPED_READ_NAMES

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        q = call_qual(self.ctx.semantic, node)
        if q not in _TYPED_READ or has_star_kwargs(node):
            return
        if keyword(node, "dtype") is not None or keyword(node, "usecols") is not None:
            return
        fname = q.rsplit(".", 1)[-1]
        self.report(
            "ML406",
            node,
            f"`{fname}(...)` lets pandas guess every column's type (IDs lose leading zeros, mixed columns become "
            f"object, memory grows); pass `dtype=` (and `usecols=`) for the columns you use.",
        )


# --- ML407 -------------------------------------------------------------------

_KEY_ARGS = ("on", "left_on", "right_on", "left_index", "right_index")


@register
class ImplicitMerge(Rule):
    """ML407: a merge without join keys joins on every column name the two
    frames share. A merge with keys but no `how=` (the documented inner
    join) and `DataFrame.join` (always on the index, or `on=`) are not
    reported."""

    codes = ("ML407",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = frozenset({"merge"})  # `pandas.merge` and the `.merge` method

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        func = node.func
        q = call_qual(sem, node)
        if has_star_kwargs(node):
            return
        if q == "pandas.merge":
            positional_on = len(node.args) >= 4  # merge(left, right, how, on)
        elif isinstance(func, ast.Attribute) and func.attr == "merge" and (q is None or "()" in q):
            if infer_type(sem, func.value) not in PANDAS_TAGS:
                return
            positional_on = len(node.args) >= 3  # left.merge(right, how, on)
        else:
            return
        if positional_on or any(keyword(node, k) is not None for k in _KEY_ARGS):
            return
        how = "" if keyword(node, "how") is not None or len(node.args) >= (3 if q == "pandas.merge" else 2) else " (and `how=`)"
        self.report(
            "ML407",
            node,
            f"`{self.ctx.segment(func)}(...)` has no join keys, so it joins on every column name the two frames "
            f"happen to share, and a column added to either frame later changes the join silently; state the keys "
            f"with `on=` (or `left_on=`/`right_on=`){how}, and `validate=` for the expected cardinality.",
        )


# --- ML408 -------------------------------------------------------------------


@register
class RowIteration(Rule):
    codes = ("ML408",)
    scope = "statement"
    nodes = (ast.For, ast.AsyncFor, ast.comprehension, ast.Call)
    call_names = frozenset({"apply"})  # calls: only `.apply(..., axis=1)`

    def visit(self, node: ast.AST) -> None:
        sem = self.ctx.semantic
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "apply":
                axis = keyword(node, "axis")
                if axis is None or not (isinstance(axis.value, ast.Constant) and axis.value.value in (1, "columns")):
                    return
                if infer_type(sem, func.value) not in ("dataframe", "pandas"):
                    return  # Series.apply has no row axis
                self.report(
                    "ML408",
                    node,
                    f"`{self.ctx.segment(func)}(..., axis=1)` calls a Python function once per row; express it "
                    f"with column operations (arithmetic, `np.where`, `.str`/`.dt` accessors) instead.",
                )
            return
        it = node.iter  # type: ignore[attr-defined]
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in ("iterrows", "itertuples")):
            return
        if infer_type(sem, it.func.value) not in PANDAS_TAGS:
            return
        self.report(
            "ML408",
            it,
            f"Looping over `{self.ctx.segment(it)}` runs Python code once per row (orders of magnitude slower "
            f"than column operations); use vectorised column expressions, `groupby`, or `merge` instead.",
        )


# --- ML409 -------------------------------------------------------------------


@register
class EmptyColumnMisinit(Rule):
    codes = ("ML409",)
    nodes = (ast.Assign,)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.inits: list[tuple[str, str, ast.AST, str]] = []
        # (frame, column) -> (line, kind) of each row-by-row write: "flag" (a
        # constant number or bool), "count" (an increment of the same cell), "fill"
        self.row_writes: dict[tuple[str, str], list[tuple[int, str]]] = {}

    def visit(self, node: ast.Assign) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        for target in node.targets:
            if not isinstance(target, ast.Subscript):
                continue
            base = target.value
            sl = target.slice
            if isinstance(base, ast.Name) and isinstance(sl, ast.Constant) and isinstance(sl.value, str):
                v = node.value
                if isinstance(v, ast.Constant) and (v.value == "" or (type(v.value) in (int, float) and v.value == 0)):
                    if infer_type(sem, base) == "dataframe":
                        self.inits.append((base.id, sl.value, target, repr(v.value)))
            elif isinstance(base, ast.Attribute) and base.attr in _INDEXERS and isinstance(base.value, ast.Name):
                # Row by row = inside a loop; `df.loc[mask, "c"] = 1` after
                # `df["c"] = 0` is a vectorised flag, where 0 is a real value.
                if not any(isinstance(a, (ast.For, ast.AsyncFor, ast.While)) for a in self.ctx.ancestors):
                    continue
                if isinstance(sl, ast.Tuple) and len(sl.elts) == 2:
                    col = sl.elts[1]
                    if isinstance(col, ast.Constant) and isinstance(col.value, str):
                        frame = base.value.id
                        kind = _row_write_kind(node.value, frame, col.value)
                        self.row_writes.setdefault((frame, col.value), []).append((node.lineno, kind))

    def finish(self) -> None:
        for frame, col, target, val in self.inits:
            writes = [kind for line, kind in self.row_writes.get((frame, col), []) if line > target.lineno]  # type: ignore[attr-defined]
            if not writes:
                continue
            if val != "''" and all(kind in ("flag", "count") for kind in writes):
                continue  # a flag set or a counter incremented: 0 is the intended default
            self.report(
                "ML409",
                target,
                f"Column `{col}` of `{frame}` is initialised with {val} and then filled row by row: rows that are "
                f"never filled keep {val}, indistinguishable from a real value; initialise it with `np.nan` "
                f"(or `pd.NA`).",
            )


def _row_write_kind(value: ast.AST, frame: str, col: str) -> str:
    """`df.at[i, "c"] = 1` / `True` -> "flag"; `df.at[i, "c"] = df.at[i, "c"] + 1`
    -> "count"; anything else -> "fill"."""
    if isinstance(value, ast.Constant) and type(value.value) in (int, float, bool):
        return "flag"
    if isinstance(value, ast.UnaryOp) and isinstance(value.operand, ast.Constant) and type(value.operand.value) in (int, float):
        return "flag"  # -1
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub)):
        if _reads_cell(value.left, frame, col) or _reads_cell(value.right, frame, col):
            return "count"
    return "fill"


def _reads_cell(node: ast.AST, frame: str, col: str) -> bool:
    """`df.loc[i, "c"]`, `df.at[i, "c"]`, `df["c"][i]`, `df["c"].iloc[i]`."""
    if not isinstance(node, ast.Subscript):
        return False
    base, sl = node.value, node.slice
    if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == frame:
        if isinstance(sl, ast.Tuple) and len(sl.elts) == 2:
            c = sl.elts[1]
            return isinstance(c, ast.Constant) and c.value == col
        return False
    if isinstance(base, ast.Attribute):
        base = base.value  # df["c"].iloc[i]
    return (
        isinstance(base, ast.Subscript)
        and isinstance(base.value, ast.Name)
        and base.value.id == frame
        and isinstance(base.slice, ast.Constant)
        and base.slice.value == col
    )


# --- ML410 -------------------------------------------------------------------


@register
class DotForMatmul(Rule):
    codes = ("ML410",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = frozenset({"dot"})  # `numpy.dot` and the `.dot` method

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        func = node.func
        q = call_qual(sem, node)
        if q == "numpy.dot" and len(node.args) == 2:
            a, b = node.args
        elif isinstance(func, ast.Attribute) and func.attr == "dot" and len(node.args) == 1 and (q is None or "()" in q):
            a, b = func.value, node.args[0]
        else:
            return
        if ndim(sem, a) != 2 or ndim(sem, b) != 2:
            return
        sa, sb = self.ctx.segment(a), self.ctx.segment(b)
        self.report(
            "ML410",
            node,
            f"`{self.ctx.segment(node)}` multiplies two 2-D arrays with `dot`, whose meaning changes with the "
            f"number of dimensions; write `{sa} @ {sb}` (or `np.matmul`).",
        )
