"""Transfer functions for expressions: names, operators, subscripts and the
splits a slice or a boolean mask makes."""

from __future__ import annotations

import ast

import mllint.analysis.dataflow.memo as _memo
from mllint.analysis.dataflow.tables import name_side
from mllint.analysis.dataflow.values import CONSTS, UNKNOWN, Val, flat, heldout, join, with_side


class ExpressionTransfer:
    """Mixin of `Analysis` (see `interpreter`)."""

    # -- expressions -----------------------------------------------------
    def ev(self, node: ast.AST, env: dict[str, Val]) -> Val:
        t = type(node)
        if t is ast.Name:
            # self.lookup, inlined (the most frequent expression)
            v = env.get(node.id)
            if v is None and env is not self.module_env:
                v = self.module_env.get(node.id)
            return v if v is not None else UNKNOWN
        if t is ast.Call:
            return self.call(node, env)
        if t is ast.Constant:
            value = node.value
            if isinstance(value, str):
                # values are immutable: one per string, shared
                v = self._str_vals.get(value)
                if v is None:
                    v = self._str_vals[value] = Val(kind="str", text=value)
                return v
            if value is True or value is False or value is None:
                return CONSTS[value]  # flags decide `if` tests (static_truth)
            return UNKNOWN
        if t is ast.Attribute:
            base = self.ev(node.value, env)
            if base.kind == "obj":
                attrs = base.obj.attrs if base.obj is not None else None
                if attrs is not None and node.attr in attrs:
                    return attrs[node.attr]  # self.scaler of an instance of a module class
                if node.attr in ("best_estimator_", "estimator", "model", "best_model"):
                    return base
                return UNKNOWN
            if base.origins:
                if node.attr in ("columns", "shape", "dtypes", "dtype", "size", "ndim", "name", "str", "dt", "cat"):
                    return UNKNOWN if node.attr not in ("str", "dt", "cat") else base
                return Val(origins=base.origins, fitted_by=base.fitted_by, resampled=base.resampled, kind="data", pred=base.pred)
            return UNKNOWN
        if t is ast.Subscript:
            return self.subscript(node, env)
        if t is ast.Tuple or t is ast.List:
            vals: list[Val] = []
            for e in node.elts:
                vals.append(self.ev(e.value if e.__class__ is ast.Starred else e, env))
            return Val(kind="tuple", elts=tuple(vals))
        if t is ast.BinOp:
            a = self.ev(node.left, env)
            b = self.ev(node.right, env)
            if isinstance(node.op, ast.Mult) and a.kind == "tuple":
                return a
            return self.combine(a, b)
        if t is ast.UnaryOp:
            v = self.ev(node.operand, env)
            if isinstance(node.op, ast.Invert) and v.kind == "mask":
                flipped = {"<": ">", ">": "<"}.get(v.text or "")
                return Val(origins=v.origins, kind="mask", random=v.random, text=flipped or "~" + (v.text or ""))
            return v
        if t is ast.Compare:
            vals = [self.ev(node.left, env)] + [self.ev(c, env) for c in node.comparators]
            origins = frozenset().union(*(v.origins for v in vals))
            rnd = any(v.random for v in vals)
            if origins or rnd:
                # `df["date"] < "2021"`: which side of a date cut-off ("<": the earlier rows)
                direction = None
                if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) and self.is_dateish(node.left, vals[0]):
                    direction = "<" if isinstance(node.ops[0], (ast.Lt, ast.LtE)) else ">"
                return Val(origins=origins, kind="mask", random=rnd, text=direction)
            return UNKNOWN
        if t is ast.BoolOp:
            vals = [self.ev(v, env) for v in node.values]
            out = UNKNOWN
            for v in vals:
                out = join(out, v)
            return out
        if t is ast.IfExp:
            self.ev(node.test, env)
            return join(self.ev(node.body, env), self.ev(node.orelse, env))
        if t is ast.NamedExpr:
            v = self.ev(node.value, env)
            self.assign(node.target, v, env, node.value)
            return v
        if t in (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp):
            # a loop: its body is evaluated once, as "in this loop" (a
            # threshold sweep `[f1(y, p > t) for t in ts]` is one)
            env2 = dict(env)
            for gen in node.generators:
                it = self.ev(gen.iter, env2)
                self.bind_loop_target(gen.target, it, env2, gen.iter)
                for cond in gen.ifs:
                    self.ev(cond, env2)
            self.loops.append(node)
            try:
                if t is ast.DictComp:
                    self.ev(node.key, env2)
                    v = self.ev(node.value, env2)
                else:
                    v = self.ev(node.elt, env2)
            finally:
                self.loops.pop()
            return Val(kind="tuple", elts=(v,)) if v.kind != "unknown" or v.origins else UNKNOWN
        if t is ast.Dict:
            for k in node.keys:
                if k is not None:
                    self.ev(k, env)
            vals = tuple(self.ev(v, env) for v in node.values)
            return Val(kind="tuple", elts=vals) if any(v.kind == "obj" for v in vals) else UNKNOWN
        if t is ast.JoinedStr:
            for part in node.values:
                if part.__class__ is ast.FormattedValue:
                    self.ev(part.value, env)  # f"{roc_auc_score(y_te, p):.3f}" scores something
            return Val(kind="str", text="".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)))
        if t is ast.Starred:
            return self.ev(node.value, env)
        if t is ast.Lambda:
            return UNKNOWN
        return UNKNOWN

    def combine(self, a: Val, b: Val) -> Val:
        if a.kind == "str" and b.kind == "str":
            return Val(kind="str", text=(a.text or "") + (b.text or ""))
        if a.kind == "stat" or b.kind == "stat":
            data = a if a.kind != "stat" else b
            stat = b if a.kind != "stat" else a
            if data.origins:
                return Val(origins=data.origins, fitted_by=data.fitted_by | stat.fitted_by, resampled=data.resampled, kind="data")
            return Val(kind="stat", fitted_by=a.fitted_by | b.fitted_by)
        if a.kind == "mask" or b.kind == "mask":
            return Val(origins=a.origins | b.origins, kind="mask", random=a.random or b.random)
        if a.origins or b.origins:
            return Val(origins=a.origins | b.origins, fitted_by=a.fitted_by | b.fitted_by, resampled=a.resampled | b.resampled, kind="data", pred=a.pred or b.pred)
        if a.kind == "str" or b.kind == "str":
            return Val(kind="str", text=(a.text or "") + (b.text or ""))
        return UNKNOWN

    # -- subscripts: columns, splits by slice / mask / fold indices --------
    def subscript(self, node: ast.Subscript, env: dict[str, Val]) -> Val:
        value = node.value
        if value.__class__ is ast.Attribute and value.attr in ("c_", "r_") and (self.resolve(value) or "").startswith("numpy."):  # type: ignore[attr-defined]
            # np.c_[num, cat]: the columns (or rows) stacked
            sl = node.slice
            parts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
            return self.union([self.ev(p, env) for p in parts if not isinstance(p, ast.Slice)])
        accessor = None
        if isinstance(value, ast.Attribute) and value.attr in ("iloc", "loc", "iat", "at"):
            accessor = value.attr
            value = value.value
        base = self.ev(value, env)
        sl = node.slice
        if base.kind == "tuple" and base.elts is not None:
            if isinstance(sl, ast.Constant) and isinstance(sl.value, int) and -len(base.elts) <= sl.value < len(base.elts):
                e = base.elts[sl.value]
                return e if isinstance(e, Val) else UNKNOWN
            return flat(base)
        if base.kind == "obj" and base.obj is not None and base.obj.kind in ("pipeline", "search"):
            return UNKNOWN
        if base.kind == "stat":
            return base  # s.mode()[0]
        if base.kind == "rand" and isinstance(sl, ast.Slice) and (sl.lower is None) != (sl.upper is None) and sl.step is None:
            # idx = rng.permutation(n); idx[:k] / idx[k:] are random row indices
            bound = sl.upper if sl.upper is not None else sl.lower
            return Val(kind="index", index=(("perm", ast.dump(bound)), "train" if sl.upper is not None else "test"), random=True)
        if not base.origins:
            self.ev(sl, env) if not isinstance(sl, ast.Slice) else None
            return UNKNOWN
        row = sl
        if isinstance(sl, ast.Tuple) and sl.elts:
            row = sl.elts[0]
            if accessor is None:  # numpy X[:, 0] etc.: columns
                if isinstance(row, ast.Slice) and row.lower is None and row.upper is None:
                    return self.data_like(base)
        if isinstance(row, ast.Slice):
            return self.slice_split(node, base, row, env)
        sv = self.ev(row, env)
        if sv.kind == "index" and sv.index is not None:
            key, side = sv.index
            if self._recs and key in self.splits:
                _memo.touch_event(self, self.splits[key].seq)
            if key not in self.splits and isinstance(key, tuple) and key[0] in ("perm", "draw"):
                self.split_event(key, node, key[0], base, random=True)
            return with_side(base, key, side, None)
        if sv.kind == "mask":
            return self.mask_split(node, base, sv)
        return self.data_like(base)

    @staticmethod
    def data_like(base: Val) -> Val:
        return Val(origins=base.origins, fitted_by=base.fitted_by, resampled=base.resampled, kind="data", pred=base.pred)

    def slice_split(self, node: ast.AST, base: Val, sl: ast.Slice, env: dict[str, Val]) -> Val:
        if sl.step is not None or (sl.lower is None and sl.upper is None):
            return self.data_like(base)
        if sl.lower is not None and sl.upper is not None:
            return self.block_slice(node, base, sl)
        bound = sl.upper if sl.upper is not None else sl.lower
        if isinstance(bound, ast.Constant) and isinstance(bound.value, int) and abs(bound.value) <= 20:
            return self.data_like(base)  # a peek (head/tail), not a split
        first = sl.upper is not None  # X[:n] is the first part
        hint = self.target_hint
        named = name_side(hint)
        side = named or ("train" if first else "test")
        held = {o for o in base.origins if heldout(o)}
        if held and len(held) < len(base.origins):
            # re-splitting a concat of train and test files: keep each side's rows
            keep = frozenset(base.origins - held) if side == "train" else frozenset(held)
            return Val(origins=keep, fitted_by=base.fitted_by, resampled=base.resampled, kind="data")
        if hint is not None and named is None:
            # `X, y = data[50:], target[50:]`, `proba = proba[:n]`: a subset of
            # the rows kept under a neutral name, not one part of a split
            return self.data_like(base)
        key = ("slice", base.origins, ast.dump(bound))
        sp = self.split_event(key, node, "slice", base, random=False)
        if named is not None and named != ("train" if first else "test"):
            sp.named = True  # the name, not the position, says which part this is
        return with_side(base, key, side, sp)

    def block_slice(self, node: ast.AST, base: Val, sl: ast.Slice) -> Val:
        """`X[a:b]`: a window in a loop (`signal[i:i + w]`), a subset kept under
        a neutral name, or a middle block of a positional split
        (`series[7000:9000]` between `[:7000]` and `[9000:]`): rows at or
        after `a` and before `b`."""
        lower, upper = sl.lower, sl.upper
        if self.loops and self.is_window(lower, upper):  # type: ignore[arg-type]
            self.mark_windows(base)
            return self.data_like(base)
        hint = self.target_hint
        named = name_side(hint)
        if hint is not None and named is None:
            return self.data_like(base)
        if any(heldout(o) for o in base.origins):
            return self.data_like(base)
        ka = ("slice", base.origins, ast.dump(lower))  # type: ignore[arg-type]
        kb = ("slice", base.origins, ast.dump(upper))  # type: ignore[arg-type]
        sa = self.split_event(ka, node, "slice", base, random=False)
        self.split_event(kb, node, "slice", base, random=False)
        v = with_side(base, ka, "after" if named == "train" else "test", sa)
        return with_side(v, kb, "train", None)

    def is_window(self, lower: ast.AST, upper: ast.AST) -> bool:
        """`x[i:i + w]`, `x[t - w:t]` with a loop variable stepping by one
        (`range(n - w)`, not `range(0, n, batch)`): overlapping windows."""
        loop = self.loops[-1]
        gens = [loop] if isinstance(loop, (ast.For, ast.AsyncFor)) else getattr(loop, "generators", [])
        for g in gens:
            it = g.iter
            if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"):
                continue
            if len(it.args) == 3 and not (isinstance(it.args[2], ast.Constant) and it.args[2].value == 1):
                continue  # a stride: batches, not windows
            var = {n.id for n in ast.walk(g.target) if isinstance(n, ast.Name)}
            names_lo = {n.id for n in ast.walk(lower) if isinstance(n, ast.Name)}
            names_up = {n.id for n in ast.walk(upper) if isinstance(n, ast.Name)}
            if var & names_lo & names_up and (isinstance(lower, ast.BinOp) or isinstance(upper, ast.BinOp)):
                return True
        return False

    def mark_windows(self, v: Val) -> None:
        for ds, _ in v.origins:
            info = self.datasets.get(ds)
            if self._recs:
                _memo.touch_dataset(self, ds)
            if info is not None:
                info["windows"] = True

    def is_dateish(self, node: ast.AST, v: Val) -> bool:
        """A date column (`df["date"]`, `df.date`), a datetime index, a year."""
        if isinstance(node, ast.Subscript):
            col = self.const_str(node.slice)
            return bool(col) and bool(v.origins) and self.is_date_col(v, col)  # type: ignore[arg-type]
        if isinstance(node, ast.Attribute):
            if node.attr in ("index", "year", "date", "month"):
                return bool(v.origins)
            return bool(v.origins) and self.is_date_col(v, node.attr)
        return False

    def mask_split(self, node: ast.AST, base: Val, mask: Val) -> Val:
        side = name_side(self.target_hint)
        if side is None:
            return self.data_like(base)
        held = {o for o in base.origins if heldout(o)}
        if held and len(held) < len(base.origins):
            # train and test files joined, taken apart again by a flag column or
            # `isin(test.index)`: each side gets its own rows back
            keep = frozenset(base.origins - held) if side == "train" else frozenset(held)
            return Val(origins=keep, fitted_by=base.fitted_by, resampled=base.resampled, kind="data")
        key = ("mask", base.origins)
        sp = self.split_event(key, node, "mask", base, random=mask.random)
        sp.named = True
        if mask.text in ("<", ">"):
            sp.order[side] = mask.text
        return with_side(base, key, side, sp)
