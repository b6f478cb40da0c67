"""The pass: `Analysis` holds the state of one module's analysis and
interprets statements in order; expressions, calls, library functions,
methods and event recording are its mixins (one module each)."""

from __future__ import annotations

import ast

import mllint.analysis.dataflow.memo as _memo
from mllint.analysis.dataflow.calls import CallTransfer
from mllint.analysis.dataflow.events import CVUse, Fit, Resample, Split, Use
from mllint.analysis.dataflow.expressions import ExpressionTransfer
from mllint.analysis.dataflow.imports import resolve
from mllint.analysis.dataflow.library import LibraryCalls
from mllint.analysis.dataflow.methods import MethodTransfer
from mllint.analysis.dataflow.names import store_names
from mllint.analysis.dataflow.recording import EventRecorder
from mllint.analysis.dataflow.tables import EMPTY
from mllint.analysis.dataflow.values import UNKNOWN, Val, join


class Analysis(ExpressionTransfer, CallTransfer, LibraryCalls, MethodTransfer, EventRecorder):
    """One module's leakage analysis: the state, and the statements in order.
    The transfer functions for expressions, calls, library functions and
    methods, and the recording of events, come from the mixins."""

    MAX_DEPTH = 3

    def __init__(self, tree: ast.Module, imports: dict[str, str], text: str = ""):
        self.tree = tree
        self.text = text
        self.imports = imports
        self.module_env: dict[str, Val] = {}
        self.funcs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.called: set[str] = set()
        self.seq = 0
        self.n_ids = 0
        # ds id -> {"node", "test_file", "time", "time_how", "serial", "date_cols",
        # "opaque"}; "time":
        # the node that made the rows time-indexed (0: none). Nodes, not line
        # numbers: a remembered call's datasets stay right when lines move.
        self.datasets: dict[int, dict] = {}
        self.fits: dict[tuple, Fit] = {}
        self.splits: dict[object, Split] = {}
        self.uses: list[Use] = []
        self.resamples: dict[tuple, Resample] = {}
        self.cvs: list[CVUse] = []
        self.loops: list[ast.AST] = []
        self.depth = 0
        self.stack: list[str] = []
        self.target_hint: str | None = None
        self.seen_uses: set[tuple] = set()
        self.cur_targets: frozenset = EMPTY  # see Use.targets
        # Work budget (statements visited) keeping the pass linear in module
        # size: helper inlining and second loop passes stop when it runs out.
        self.budget = 6 * (getattr(tree.body[-1], "end_lineno", 0) if tree.body else 0) + 400
        # Return values of helpers analysed with no data/object argument.
        self.plain_returns: dict[int, Val] = {}
        self.classes: list[ast.ClassDef] = []
        self.class_defs: dict[str, ast.ClassDef] = {}  # module-level classes, by name (instances are inlined)
        # Per-node memos (the tree does not change during the pass and
        # statements are revisited: loop bodies, inlined helpers).
        self._store_names: dict[int, frozenset] = {}
        self._resolved: dict[int, str | None] = {}
        self._str_vals: dict[str, Val] = {}
        self._q_parts: dict[str, tuple[str, str]] = {}  # qualname -> (short, top)
        # `selected_names(tree)` when the caller collected it already.
        self.selected: frozenset | None = None
        # Remember and replay calls (mllint.analysis.dataflow.memo): only when the
        # module is analysed again after each edit (the language server).
        self.memo = False
        self._recs: list = []  # calls being recorded, outermost first
        self.memo_hits = 0

    def resolve(self, node: ast.AST) -> str | None:
        """`resolve(node, self.imports)`, memoised per node."""
        k = id(node)
        try:
            return self._resolved[k]
        except KeyError:
            q = self._resolved[k] = resolve(node, self.imports)
            return q

    # -- helpers ---------------------------------------------------------
    def new_id(self) -> int:
        self.n_ids += 1
        return self.n_ids

    def tick(self) -> int:
        self.seq += 1
        return self.seq

    def qual(self, func: ast.AST, env: dict[str, Val]) -> str | None:
        base = func
        while isinstance(base, ast.Attribute):
            base = base.value
        if isinstance(base, ast.Name) and (base.id in env or (env is not self.module_env and base.id in self.module_env)):
            v = self.lookup(base.id, env)
            if v.kind != "unknown" or v.origins:
                return None
        try:
            q = self._resolved[id(func)]  # self.resolve, inlined
        except KeyError:
            q = self.resolve(func)
        if q is None and isinstance(func, ast.Name):
            return func.id
        return q

    def lookup(self, name: str, env: dict[str, Val]) -> Val:
        v = env.get(name)
        if v is None and env is not self.module_env:
            v = self.module_env.get(name)
        return v if v is not None else UNKNOWN

    # -- statements ------------------------------------------------------
    def run(self) -> None:
        env = self.module_env
        self.collect_funcs(self.tree.body)
        self.block(self.tree.body, env)
        # Functions never called in the module are analysed once, with
        # unknown arguments, so a leak inside them is still seen.
        for name, fn in list(self.funcs.items()):
            if name not in self.called:
                self.call_function(fn, [], {}, env, opaque_params=True)
        for cls in self.classes:
            for st in cls.body:
                if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.call_function(st, [], {}, env, opaque_params=True)

    def collect_funcs(self, body: list[ast.stmt]) -> None:
        for st in body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.funcs.setdefault(st.name, st)
                if self._recs:
                    _memo.func_write(self, st.name, st, True)

    def block(self, body: list[ast.stmt], env: dict[str, Val]) -> None:
        for st in body:
            self.stmt(st, env)

    def stmt(self, st: ast.stmt, env: dict[str, Val]) -> None:
        self.budget -= 1
        ct = self._store_names.get(id(st))
        if ct is None:
            ct = self._store_names[id(st)] = store_names(st)
        self.cur_targets = ct
        t = type(st)
        if t is ast.Assign:
            tg = st.targets[0] if len(st.targets) == 1 else None
            if tg is not None and tg.__class__ is ast.Name and st.value.__class__ is ast.Lambda:
                # `normalise = lambda col: ...`: a helper like a `def`
                self.define_lambda(tg.id, st.value, env)  # type: ignore[arg-type]
                return
            if tg is not None and tg.__class__ is ast.Name:
                self.target_hint = tg.id
                v = self.ev(st.value, env)
            elif tg is not None and tg.__class__ in (ast.Tuple, ast.List) and st.value.__class__ in (ast.Tuple, ast.List):
                v = self.ev_parallel(tg, st.value, env)
            else:
                v = self.ev(st.value, env)
            self.target_hint = None
            for target in st.targets:
                self.assign(target, v, env, st.value)
        elif t is ast.AnnAssign:
            if st.value is not None:
                self.target_hint = st.target.id if isinstance(st.target, ast.Name) else None
                v = self.ev(st.value, env)
                self.target_hint = None
                self.assign(st.target, v, env, st.value)
        elif t is ast.AugAssign:
            v = self.ev(st.value, env)
            if isinstance(st.target, ast.Name):
                env[st.target.id] = join(self.lookup(st.target.id, env), v) if v.origins else self.lookup(st.target.id, env)
            elif isinstance(st.target, ast.Subscript):
                self.assign(st.target, v, env, st.value)
        elif t is ast.Expr:
            self.ev(st.value, env)
        elif t in (ast.For, ast.AsyncFor):
            it = self.ev(st.iter, env)
            if self.unroll_frames(st, it, env):
                return
            self.loops.append(st)
            for _ in range(2 if len(self.loops) <= 2 and self.budget > 0 else 1):
                self.bind_loop_target(st.target, it, env, st.iter)
                self.block(st.body, env)
            self.loops.pop()
            self.block(st.orelse, env)
        elif t is ast.While:
            self.ev(st.test, env)
            self.loops.append(st)
            for _ in range(2 if len(self.loops) <= 2 and self.budget > 0 else 1):
                self.block(st.body, env)
            self.loops.pop()
            self.block(st.orelse, env)
        elif t is ast.If:
            self.ev(st.test, env)
            truth = self.static_truth(st.test, env)
            if truth is not None:
                # `if VALIDATE:` with VALIDATE = True, a helper's `if standardize:`
                # with the argument given at the call site: only the path taken
                self.block(st.body if truth else st.orelse, env)
                return
            if self.main_guard(st):
                self.block(st.body, env)
                self.block(st.orelse, env)
                return
            env2 = dict(env)
            self.block(st.body, env)
            self.block(st.orelse, env2)
            for k, v in env2.items():
                cur = env.get(k)
                env[k] = v if cur is None else join(cur, v)
        elif t in (ast.With, ast.AsyncWith):
            for item in st.items:
                v = self.ev(item.context_expr, env)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, v, env, None)
            self.block(st.body, env)
        elif t is ast.Try or t.__name__ == "TryStar":
            self.block(st.body, env)
            for h in st.handlers:
                self.block(h.body, env)
            self.block(st.orelse, env)
            self.block(st.finalbody, env)
        elif t in (ast.FunctionDef, ast.AsyncFunctionDef):
            self.funcs[st.name] = st
            if self._recs:
                _memo.func_write(self, st.name, st, False)
            env.pop(st.name, None)
        elif t is ast.Return:
            if st.value is not None:
                v = self.ev(st.value, env)
                env["<return>"] = join(env["<return>"], v) if "<return>" in env else v
        elif t is ast.Delete:
            pass
        elif t is ast.ClassDef:
            if self.depth == 0:
                self.classes.append(st)
                self.class_defs[st.name] = st
        elif hasattr(ast, "Match") and t is ast.Match:
            self.ev(st.subject, env)
            for case in st.cases:
                self.block(case.body, env)

    def define_lambda(self, name: str, lam: ast.Lambda, env: dict[str, Val]) -> None:
        fn = lam.__dict__.get("_mllint_fn")
        if fn is None:
            # the same node every time (the memo compares function nodes)
            fn = ast.FunctionDef(name=name, args=lam.args, body=[ast.Return(value=lam.body)], decorator_list=[], returns=None)
            ast.copy_location(fn, lam)
            ast.copy_location(fn.body[0], lam.body)
            lam.__dict__["_mllint_fn"] = fn
        self.funcs[name] = fn
        if self._recs:
            _memo.func_write(self, name, fn, False)
        env.pop(name, None)

    def rebind(self, env: dict[str, Val], name: str, old: Val, new: Val) -> None:
        """`name` now holds `new` instead of `old` (a column filled, rows
        fitted in place): so do the names bound to the same value
        (`df = housing` then `df["a"].fillna(..., inplace=True)`)."""
        env[name] = new
        if old.origins:
            for k, v in list(env.items()):
                if v is old:
                    env[k] = new

    def unroll_frames(self, st: ast.For | ast.AsyncFor, it: Val, env: dict[str, Val]) -> bool:
        """`for frame in (train, test): frame["a"] = frame["a"].fillna(...)`
        (also over a list bound to a name, `combine = [train, test]`): the
        body runs once per frame, and what it does to the loop variable
        happens to the frame itself (the names bound to it), unless the body
        rebinds the variable."""
        elts = it.elts
        target = st.target
        if it.kind != "tuple" or not elts or len(elts) > 6 or target.__class__ is not ast.Name:
            return False
        if not all(isinstance(e, Val) and e.origins for e in elts):
            return False
        name = target.id  # type: ignore[attr-defined]
        rebinds = any(
            isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))
            and any(isinstance(tg, ast.Name) and tg.id == name for tg in (n.targets if isinstance(n, ast.Assign) else [n.target]))
            for b in st.body for n in ast.walk(b)
        )
        self.loops.append(st)
        try:
            for e in elts:
                aliases = [k for k, v in env.items() if v is e and k != name]
                env[name] = e
                self.block(st.body, env)
                if not rebinds:
                    for k in aliases:
                        env[k] = env[name]
        finally:
            self.loops.pop()
        self.block(st.orelse, env)
        return True

    def ev_parallel(self, target: ast.Tuple | ast.List, value: ast.Tuple | ast.List, env: dict[str, Val]) -> Val:
        """`a, b = e1, e2`: every element is evaluated (before anything is
        bound) with the name it goes to as its target hint, so that
        `(x_tr, x_va) = x_tr[n:], x_tr[:n]` knows which part is which."""
        if len(target.elts) != len(value.elts) or any(e.__class__ is ast.Starred for e in (*target.elts, *value.elts)):
            return self.ev(value, env)
        vals: list[Val] = []
        for tg, e in zip(target.elts, value.elts):
            self.target_hint = tg.id if tg.__class__ is ast.Name else None
            vals.append(self.ev(e, env))
        self.target_hint = None
        return Val(kind="tuple", elts=tuple(vals))

    def static_truth(self, test: ast.AST, env: dict[str, Val]) -> bool | None:
        """The value of an `if` test when it is decided by constants: a
        module-level flag (`VALIDATE = False`), a helper's argument given at
        the call site or its default, `not`/`and`/`or`/`is None` of those.
        None when it depends on anything else."""
        t = test.__class__
        if t is ast.Name:
            v = env.get(test.id)  # type: ignore[attr-defined]
            if v is None and env is not self.module_env:
                v = self.module_env.get(test.id)  # type: ignore[attr-defined]
            if v is not None and v.kind == "const":
                return v.text == "True"
            return None
        if t is ast.Constant:
            return bool(test.value) if isinstance(test.value, (bool, type(None))) else None  # type: ignore[attr-defined]
        if t is ast.UnaryOp and isinstance(test.op, ast.Not):  # type: ignore[attr-defined]
            inner = self.static_truth(test.operand, env)  # type: ignore[attr-defined]
            return None if inner is None else not inner
        if t is ast.BoolOp:
            vals = [self.static_truth(v, env) for v in test.values]  # type: ignore[attr-defined]
            if isinstance(test.op, ast.And):  # type: ignore[attr-defined]
                return False if False in vals else (True if all(v is True for v in vals) else None)
            return True if True in vals else (False if all(v is False for v in vals) else None)
        if t is ast.Compare and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):  # type: ignore[attr-defined]
            left, right = test.left, test.comparators[0]  # type: ignore[attr-defined]
            a, b = self.const_text(left, env), self.const_text(right, env)
            if a is None or b is None or (a == b == "<value>"):
                return None
            same = a == b
            return same if isinstance(test.ops[0], (ast.Is, ast.Eq)) else not same  # type: ignore[attr-defined]
        return None

    def const_text(self, node: ast.AST, env: dict[str, Val]) -> str | None:
        if node.__class__ is ast.Constant and isinstance(node.value, (bool, type(None))):  # type: ignore[attr-defined]
            return repr(node.value)  # type: ignore[attr-defined]
        if node.__class__ is ast.Name:
            v = self.lookup(node.id, env)  # type: ignore[attr-defined]
            if v.kind == "const":
                return v.text
            if not v.opaque and (v.obj is not None or v.origins or v.kind in ("tuple", "str", "stat")):
                return "<value>"  # something, not None (`if scaler is None:`)
        return None

    @staticmethod
    def main_guard(st: ast.If) -> bool:
        test = st.test
        return (
            isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
        )

    def bind_loop_target(self, target: ast.AST, it: Val, env: dict[str, Val], iter_node: ast.AST) -> None:
        if it.kind == "folds":
            # for tr, te in kf.split(X)  /  for i, (tr, te) in enumerate(kf.split(X))
            tgt = target
            if isinstance(tgt, ast.Tuple) and len(tgt.elts) == 2 and isinstance(tgt.elts[1], ast.Tuple) and it.text == "enumerate":
                self.assign(tgt.elts[0], UNKNOWN, env, None)
                tgt = tgt.elts[1]
            if isinstance(tgt, ast.Tuple) and len(tgt.elts) == 2:
                key = it.index[0]  # type: ignore[index]
                self.assign(tgt.elts[0], Val(kind="index", index=(key, "train")), env, None)
                self.assign(tgt.elts[1], Val(kind="index", index=(key, "test")), env, None)
                return
        if it.elts is not None and it.kind == "tuple":
            # for model in [LogisticRegression(), SVC()] / for name, model in models.items()
            joined = UNKNOWN
            for e in it.elts:
                joined = join(joined, e) if isinstance(e, Val) else joined
            self.assign(target, joined, env, None)
            return
        self.assign(target, it if it.origins else UNKNOWN, env, None)

    def assign(self, target: ast.AST, v: Val, env: dict[str, Val], value_node: ast.AST | None) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = v
            sp = v.split
            if isinstance(sp, Split):
                if self._recs:
                    _memo.touch_event(self, sp.seq)
                (sp.test_names if v.side == "test" else sp.train_names).append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            if v.elts is not None and len(v.elts) == len(elts) and not any(isinstance(e, ast.Starred) for e in elts):
                for e, ev in zip(elts, v.elts):
                    self.assign(e, ev if isinstance(ev, Val) else UNKNOWN, env, None)
            else:
                for e in elts:
                    if isinstance(e, ast.Starred):
                        e = e.value
                    self.assign(e, v if v.origins else UNKNOWN, env, None)
        elif isinstance(target, ast.Subscript):
            base = target.value
            while isinstance(base, (ast.Subscript, ast.Attribute)) and not isinstance(base, ast.Name):
                base = base.value
            if isinstance(base, ast.Name):
                cur = self.lookup(base.id, env)
                if cur.origins and (v.fitted_by or v.resampled) and v.origins & cur.origins:
                    self.rebind(env, base.id, cur, Val(
                        origins=cur.origins,
                        fitted_by=cur.fitted_by | v.fitted_by,
                        resampled=cur.resampled,
                        kind="data",
                    ))
                if cur.origins and value_node is not None and isinstance(target.slice, ast.Constant):
                    self.record_lookahead(cur, self.const_str(target.slice), value_node)
                if cur.origins and value_node is not None and self.is_to_datetime(value_node):
                    col = self.const_str(target.slice)
                    for ds, _ in cur.origins:
                        info = self.datasets.get(ds)
                        if self._recs:
                            _memo.touch_dataset(self, ds)
                        if info is not None and col:
                            info["date_cols"].add(col)
        elif isinstance(target, ast.Attribute):
            if isinstance(target.value, ast.Name):
                cur = self.lookup(target.value.id, env)
                if cur.obj is not None and cur.obj.attrs is not None:
                    cur.obj.attrs[target.attr] = v  # self.scaler = StandardScaler()
                elif target.attr == "index" and value_node is not None:
                    if self.is_to_datetime(value_node):
                        self.mark_time(cur, target)
                elif cur.origins and (v.fitted_by or v.resampled) and v.origins & cur.origins:
                    # df.age = df.age.fillna(df.age.mean()): a column, attribute-style
                    self.rebind(env, target.value.id, cur, Val(
                        origins=cur.origins, fitted_by=cur.fitted_by | v.fitted_by, resampled=cur.resampled, kind="data"
                    ))
        elif isinstance(target, ast.Starred):
            self.assign(target.value, v, env, value_node)

    def record_lookahead(self, frame: Val, col: str | None, value: ast.AST) -> None:
        """`df["x"] = df["y"].shift(-1)`, a centred rolling window, `bfill`,
        `interpolate`: a column built from later rows (ML206 unless it is the
        target)."""
        if not col:
            return
        hit = lookahead_call(value)
        if hit is None:
            return
        for ds, _ in frame.origins:
            info = self.datasets.get(ds)
            if self._recs:
                _memo.touch_dataset(self, ds)
            if info is not None:
                info["lookahead"].append((col, hit[0], hit[1]))

    def is_to_datetime(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Call):
            q = self.resolve(node.func) or ""
            if q.endswith(("to_datetime", "DatetimeIndex", "date_range")):
                return True
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("to_datetime", "astype"):
                if node.func.attr == "astype":
                    return any(isinstance(a, ast.Constant) and "datetime" in str(a.value) for a in node.args)
                return True
        return False

    def mark_time(self, v: Val, node: ast.AST, how: str = "index") -> None:
        """The rows are in time order: "index" (a datetime index) or "sort"
        (sorted by a date column, which says time order only together with
        features built from neighbouring rows, see `mark_serial`)."""
        for ds, _ in v.origins:
            info = self.datasets.get(ds)
            if self._recs:
                _memo.touch_dataset(self, ds)
            if info is not None and (info["time"] is None or (how == "index" and info["time_how"] == "sort")):
                info["time"] = node if getattr(node, "lineno", 0) else 0
                info["time_how"] = how

    @staticmethod
    def const_str(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return None


def lookahead_call(value: ast.AST) -> tuple[ast.Call, str] | None:
    """The first call in an expression that reads later rows: `shift(-k)`,
    `rolling(..., center=True)`, `bfill()`/`backfill()`,
    `fillna(method="bfill")`, `interpolate()`."""
    for n in ast.walk(value):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
            continue
        a = n.func.attr
        if a == "shift":
            k = n.args[0] if n.args else next((kw.value for kw in n.keywords if kw.arg == "periods"), None)
            if isinstance(k, ast.UnaryOp) and isinstance(k.op, ast.USub) and isinstance(k.operand, ast.Constant) and k.operand.value:
                return n, "shift"
            if isinstance(k, ast.Constant) and isinstance(k.value, int) and k.value < 0:
                return n, "shift"
        elif a == "rolling" and any(kw.arg == "center" and isinstance(kw.value, ast.Constant) and kw.value.value is True for kw in n.keywords):
            return n, "center"
        elif a in ("bfill", "backfill"):
            return n, "bfill"
        elif a == "fillna" and any(kw.arg == "method" and isinstance(kw.value, ast.Constant) and kw.value.value in ("bfill", "backfill") for kw in n.keywords):
            return n, "bfill"
        elif a == "interpolate":
            return n, "interpolate"
    return None