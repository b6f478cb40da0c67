"""Transfer functions for method calls: DataFrame/array methods (which
keep, subset or mix rows) and the fit/transform/predict/score methods of
fitted objects."""

from __future__ import annotations

import ast

import mllint.analysis.dataflow.memo as _memo
from mllint.analysis.dataflow.events import CVUse
from mllint.analysis.dataflow.tables import (
    _FIT_LIKE_METHODS,
    APPLY_METHODS,
    DATE_NAME,
    DRAW_FUNCS,
    EMPTY,
    FIT_METHODS,
    MASK_METHODS,
    OBJ_ONLY_METHODS,
    PREDICT_METHODS,
    SCORE_METHODS,
    SERIAL_METHODS,
    STAT_METHODS,
    name_side,
)
from mllint.analysis.dataflow.values import UNKNOWN, Obj, Val, with_side


class MethodTransfer:
    """Mixin of `Analysis` (see `interpreter`)."""

    def method(self, node: ast.Call, name: str, recv: Val, env: dict[str, Val]) -> Val:
        if recv.kind == "obj" and recv.obj is not None:
            return self.obj_method(node, name, recv.obj, env)
        if recv.opaque and isinstance(node.func, ast.Attribute) and (
            name in OBJ_ONLY_METHODS
            or (name in APPLY_METHODS and node.args and self.ev(node.args[0], env).origins)
        ):
            # an opaque value used as an estimator: it was one all along
            obj = Obj(self.text_of(node.func.value), "unknown", node)
            if isinstance(node.func.value, ast.Name):
                env[node.func.value.id] = Val(kind="obj", obj=obj)
            return self.obj_method(node, name, obj, env)
        if recv.kind == "unknown" and not recv.origins and name in _FIT_LIKE_METHODS and isinstance(node.func, ast.Attribute):
            # an object we could not resolve (built by an imported helper): learn it from use
            obj = Obj(self.text_of(node.func.value), "unknown", node)
            base = node.func.value
            if isinstance(base, ast.Name):
                env[base.id] = Val(kind="obj", obj=obj)
            return self.obj_method(node, name, obj, env)
        if recv.kind == "unknown" and not recv.origins and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            # a method of an unresolved object used on data: predictions etc.
            if name in PREDICT_METHODS or name in SCORE_METHODS:
                obj = Obj(node.func.value.id, "model", node)
                env[node.func.value.id] = Val(kind="obj", obj=obj)
                return self.obj_method(node, name, obj, env)
        if recv.kind == "folds":
            return recv
        if recv.kind == "rng":
            self.args(node, env)
            if name in DRAW_FUNCS:
                return self.draw(node)
            return Val(kind="rand", random=True)
        pos, kws = self.args(node, env)
        if recv.kind == "str":
            return Val(kind="str", text=recv.text)
        if recv.kind == "stat":
            return recv  # counts.to_dict(), means.round(2): still the statistic
        if name in ("append", "extend", "insert") and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            # rows.append(signal[i:i + w]): the list holds those rows now
            grown = self.union([recv, *pos])
            if grown.origins:
                env[node.func.value.id] = grown
            return grown
        if not recv.origins:
            return self.union(pos) if name in ("append", "concat", "merge", "join") else UNKNOWN
        base = self.data_like(recv)
        stat_fb = EMPTY
        for v in (*pos, *kws.values()):
            if v.kind == "stat" and v.fitted_by:
                stat_fb = stat_fb | v.fitted_by
        if stat_fb:
            base = Val(origins=recv.origins, fitted_by=recv.fitted_by | stat_fb, resampled=recv.resampled, kind="data")
        if name in ("transform", "agg", "aggregate") and node.args and self.const_str(node.args[0]) in STAT_METHODS:
            # groupby(...)[col].transform("mean"): per-row statistics of all rows
            f = self.fit_event(node, None, f".{name}({node.args[0].value!r})", recv, None, node.func.value, "stat", stat=True)  # type: ignore[attr-defined]
            return Val(origins=recv.origins, fitted_by=recv.fitted_by | {f.id}, resampled=recv.resampled, kind="data")
        if name in STAT_METHODS:
            f = self.fit_event(node, None, "." + name + "()", recv, None, node.func.value, "stat", stat=True)  # type: ignore[attr-defined]
            return Val(kind="stat", fitted_by=recv.fitted_by | {f.id})
        if name in ("describe", "agg", "aggregate") and not node.args:
            return UNKNOWN
        if name in MASK_METHODS:
            # `df.index.isin(test.index)`, `df["y"].notnull()`: selects rows
            return Val(origins=recv.origins, kind="mask")
        if name == "query":
            return self.mask_split(node, recv, Val(origins=recv.origins, kind="mask"))
        if name == "sample":
            frac = self.kwnode(node, "frac")
            repl = self.kwnode(node, "replace")
            if isinstance(repl, ast.Constant) and repl.value is True or (isinstance(frac, ast.Constant) and isinstance(frac.value, (int, float)) and frac.value > 1):
                r = self.resample_event(node, "sample(replace=True)", recv)
                return Val(origins=recv.origins, fitted_by=recv.fitted_by, resampled=recv.resampled | {r.id}, kind="data")
            if isinstance(frac, ast.Constant) and isinstance(frac.value, (int, float)) and 0 < frac.value < 1:
                if name_side(self.target_hint) == "test" and ("sample", recv.origins) in self.splits:
                    # test = df.sample(frac=0.2) after train = df.sample(frac=0.8):
                    # a second, independent draw (it can repeat training rows)
                    key = ("draw", id(node))
                    sp = self.split_event(key, node, "draw", recv, random=True)
                    return with_side(recv, key, "test", sp)
                key = ("sample", recv.origins)
                sp = self.split_event(key, node, "sample", recv, random=True)
                return with_side(recv, key, "train", sp)
            return base
        if name == "drop":
            cand = list(pos) + [kws.get("index", UNKNOWN)]
            for v in cand:
                if v.kind == "index" and v.index is not None and v.index[0][0] == "draw":
                    # df.drop(drawn_rows): the rest of the rows
                    sp = self.splits.get(v.index[0])
                    if sp is not None and self._recs:
                        _memo.touch_event(self, sp.seq)
                    return with_side(recv, v.index[0], "test" if v.index[1] == "train" else "train", sp)
                for ds, part in v.origins:
                    if part and isinstance(part[-1][0], tuple) and part[-1][0][0] == "sample" and part[-1][1] == "train":
                        key = part[-1][0]
                        sp = self.splits.get(key)
                        if sp is not None:
                            if self._recs:
                                _memo.touch_event(self, sp.seq)
                            sp.complement = True
                        return with_side(recv, key, "test", sp)
            return base
        if name in ("fillna",):
            fb = frozenset().union(*(v.fitted_by for v in pos + list(kws.values()) if v.kind == "stat")) if pos or kws else EMPTY
            out = Val(origins=recv.origins, fitted_by=recv.fitted_by | fb, resampled=recv.resampled, kind="data")
            self.inplace(node, out, env)
            return out
        if name in ("set_index",):
            col = self.const_str(node.args[0]) if node.args else None
            if col and self.is_date_col(recv, col):
                self.mark_time(recv, node)
        if name in ("sort_values", "sort_index"):
            by = node.args[0] if node.args else self.kwnode(node, "by")
            cols: list[str] = []
            if by is not None:
                if isinstance(by, (ast.List, ast.Tuple)):
                    cols = [c for c in (self.const_str(e) for e in by.elts) if c]
                elif self.const_str(by):
                    cols = [self.const_str(by)]  # type: ignore[list-item]
            kept = self.target_hint is not None or self.kwconst(node, "inplace") is True
            if name == "sort_values" and kept and any(self.is_date_col(recv, c) for c in cols):
                # rows kept in date order (not a sorted copy printed for a look)
                self.mark_time(recv, node, "sort")
        if name in ("append", "combine_first", "join", "merge", "concat"):
            out = self.union([recv] + pos)
            return out
        if name in SERIAL_METHODS:
            self.mark_serial(recv)
            return base
        if name in ("apply", "map", "transform", "pipe", "agg", "aggregate", "applymap") and node.args:
            fb = self.apply_callable(node.args[0], base, env)
            if fb:
                return Val(origins=base.origins, fitted_by=base.fitted_by | fb, resampled=base.resampled, kind="data")
            return base
        if name in ("apply", "map", "transform", "pipe", "assign", "agg", "groupby", "resample"):
            return base
        if name == "to_datetime":
            return base
        self.inplace(node, base, env)
        return base

    def class_method(self, cls: str, name: str, depth: int = 0) -> ast.FunctionDef | None:
        """A method of a class of the module, or of one of its bases defined
        in the module."""
        cdef = self.class_defs.get(cls)
        if cdef is None:
            return None
        if self._recs:
            _memo.taint_all(self)  # (class bodies are not among what the memo checks)
        for st in cdef.body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)) and st.name == name:
                return st  # type: ignore[return-value]
        if depth < 3:
            for b in cdef.bases:
                if isinstance(b, ast.Name) and b.id != cls:
                    fn = self.class_method(b.id, name, depth + 1)
                    if fn is not None:
                        return fn
        return None

    @staticmethod
    def text_of(node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            return node.attr
        return "model"

    def is_date_col(self, v: Val, col: str) -> bool:
        for ds, _ in v.origins:
            info = self.datasets.get(ds)
            if self._recs:
                _memo.touch_dataset(self, ds)
            if info is not None and col in info["date_cols"]:
                return True
        return bool(DATE_NAME.search(col))

    def apply_callable(self, fn: ast.AST, rows: Val, env: dict[str, Val]) -> frozenset:
        """`s.apply(lambda v: (v - s.mean()) / s.std())`, `df[num].apply(normalise)`:
        what the function learns from the rows (fits inside it)."""
        if fn.__class__ is ast.Lambda:
            local = dict(env)
            for p in fn.args.args:  # type: ignore[attr-defined]
                local[p.arg] = rows
            return self.ev(fn.body, local).fitted_by  # type: ignore[attr-defined]
        if fn.__class__ is ast.Name and fn.id in self.funcs and fn.id not in env and fn.id not in self.imports:  # type: ignore[attr-defined]
            if self._recs:
                _memo.func_read(self, fn.id)  # type: ignore[attr-defined]
            self.called.add(fn.id)  # type: ignore[attr-defined]
            if self._recs:
                _memo.called(self, fn.id)  # type: ignore[attr-defined]
            return self.call_function(self.funcs[fn.id], [rows], {}, env).fitted_by  # type: ignore[attr-defined]
        return EMPTY

    @staticmethod
    def kwconst(node: ast.Call, name: str) -> object:
        for kw in node.keywords:
            if kw.arg == name and isinstance(kw.value, ast.Constant):
                return kw.value.value
        return None

    def mark_serial(self, v: Val) -> None:
        """A feature computed from neighbouring rows (`shift`, `rolling`,
        `diff`): row order matters for these rows."""
        for ds, _ in v.origins:
            info = self.datasets.get(ds)
            if self._recs:
                _memo.touch_dataset(self, ds)
            if info is not None:
                info["serial"] = True

    def inplace(self, node: ast.Call, out: Val, env: dict[str, Val]) -> None:
        ip = self.kwnode(node, "inplace")
        if isinstance(ip, ast.Constant) and ip.value is True and isinstance(node.func, ast.Attribute):
            base = node.func.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                cur = self.lookup(base.id, env)
                self.rebind(env, base.id, cur, Val(origins=cur.origins, fitted_by=cur.fitted_by | out.fitted_by, resampled=cur.resampled, kind="data"))

    def obj_method(self, node: ast.Call, name: str, obj: Obj, env: dict[str, Val]) -> Val:
        obj.methods.add(name)
        pos, kws = self.args(node, env)
        if obj.attrs is not None:
            fn = self.class_method(obj.cls, name)
            if fn is not None:
                # builder.fit(df): a method of a class of the module, run with `self`
                return self.call_function(fn, [Val(kind="obj", obj=obj), *pos], kws, env)
            # (not defined here - inherited from a library class, `net(x)` of an
            # nn.Module: an object like any other)
        x = pos[0] if pos else kws.get("X", kws.get("x", kws.get("raw_documents", UNKNOWN)))
        y = pos[1] if len(pos) > 1 else kws.get("y", UNKNOWN)
        xnode = node.args[0] if node.args else None
        if obj.kind == "splitter" and name == "split":
            key = ("folds", id(node), x.origins)
            sp = self.split_event(key, node, "folds", x, random=obj.shuffle)
            sp.random = obj.shuffle and obj.cls != "TimeSeriesSplit"
            sp.splitter = obj.cls
            return Val(kind="folds", index=(key, "train"), text="split")
        if name in FIT_METHODS or name in ("fit_transform", "fit_predict", "fit_resample", "fit_sample"):
            if obj.kind == "splitter":
                return UNKNOWN
            data = self.union([x, y])
            if obj.kind == "search":
                folds = (obj.cv.cls, obj.cv.shuffle) if obj.cv is not None else ("KFold", False)
                self.cvs.append(CVUse(self.tick(), node, obj.cls + ".fit", x, xnode, *folds))
                if obj.cv is not None:
                    self.cv_split(node, Val(kind="obj", obj=obj.cv), x)
            has_val = any(kw.arg in ("validation_data", "eval_set", "validation_split") for kw in node.keywords)
            f = self.fit_event(node, obj, obj.cls, data, x, xnode, name, has_validation=has_val)
            if has_val:
                self.early_stopping(node, obj, kws)
            if x.resampled and any(kw.arg == "validation_split" for kw in node.keywords):
                # Keras holds out the last rows: after duplicated / augmented
                # copies were appended, copies of training rows
                self.split_event(("vsplit", id(node), x.origins), node, "validation_split", x, random=False)
            if name in ("fit_transform", "fit_predict"):
                return Val(origins=x.origins, fitted_by=x.fitted_by | {f.id}, resampled=x.resampled, kind="data")
            if name in ("fit_resample", "fit_sample"):
                if obj.kind == "resampler":
                    r = self.resample_event(node, obj.cls, x)
                    extra = frozenset({r.id})
                else:
                    extra = EMPTY
                xs = Val(origins=x.origins, fitted_by=x.fitted_by, resampled=x.resampled | extra, kind="data")
                ys = Val(origins=y.origins, fitted_by=y.fitted_by, resampled=y.resampled | extra, kind="data")
                return Val(kind="tuple", elts=(xs, ys))
            return Val(kind="obj", obj=obj)
        if name in APPLY_METHODS or name == "__call__" or (name in PREDICT_METHODS and obj.kind == "transformer"):
            # (a clustering's `predict` assigns rows to clusters: a transformation)
            fb = self.latest_fits(obj)
            self.record_use(node, obj, name, [x], arg=xnode)
            if name == "flow" and obj.cls == "ImageDataGenerator":
                return Val(origins=x.origins | y.origins, fitted_by=x.fitted_by | fb, resampled=x.resampled, kind="data")
            return Val(origins=x.origins, fitted_by=x.fitted_by | fb, resampled=x.resampled, kind="data" if x.origins else "unknown")
        if name in PREDICT_METHODS:
            self.record_use(node, obj, name, [x], arg=xnode)
            return Val(origins=x.origins, fitted_by=x.fitted_by, kind="data" if x.origins else "unknown", pred=obj)
        if name in SCORE_METHODS:
            self.record_use(node, obj, name, [x, y], is_eval=True, metric=name, arg=xnode)
            return Val(kind="stat")
        if name in ("set_params", "get_params", "clone"):
            return Val(kind="obj", obj=obj)
        return UNKNOWN
