"""Transfer functions for library functions: loaders, `train_test_split`
and other splitters, pipelines, estimator and transformer constructors,
row unions, duplicate detection."""

from __future__ import annotations

import ast
import re

import mllint.analysis.dataflow.memo as _memo
from mllint.analysis.dataflow.events import CVUse, Split
from mllint.analysis.dataflow.imports import ML_PACKAGES
from mllint.analysis.dataflow.names import is_test_name
from mllint.analysis.dataflow.tables import (
    AUGMENT_FUNCS,
    BUILTIN_OPAQUE,
    CLUSTER_CLASSES,
    COLUMN_FUNCS,
    CV_FUNCS,
    DATA_CONTAINERS,
    DRAW_FUNCS,
    EMPTY,
    LOADER_FUNCS,
    LOADER_PACKAGES,
    OPAQUE_DENY,
    OVERSAMPLER_CLASSES,
    PIPELINE_FUNCS,
    RANDOM_SPLITTERS,
    ROW_CONCAT,
    SCALE_FUNCS,
    SEARCH_CLASSES,
    SK_DATASETS,
    SPLITTER_CLASSES,
    STAT_METHODS,
    STATELESS_CLASSES,
    TRANSFORMER_CLASSES,
    UNDERSAMPLER_CLASSES,
    UNION_FUNCS,
    _builtin_names,
    name_side,
)
from mllint.analysis.dataflow.values import UNKNOWN, Obj, Val, flat, with_side


class LibraryCalls:
    """Mixin of `Analysis` (see `interpreter`)."""

    def function(self, node: ast.Call, q: str, env: dict[str, Val]) -> Val:
        parts = self._q_parts.get(q)
        if parts is None:
            parts = self._q_parts[q] = (q.rsplit(".", 1)[-1], q.split(".", 1)[0])
        short, top = parts
        pos, kws = self.args(node, env)
        if short in LOADER_FUNCS and top in LOADER_PACKAGES or (q.startswith(SK_DATASETS) and short.startswith(("load_", "fetch_", "make_"))):
            return self.load(node, q, short, pos, kws)
        if short == "load_data" and top in ("tensorflow", "keras"):
            return self.keras_load(node)
        if short == "load" and top == "numpy":
            return self.load(node, q, short, pos, kws)
        if short == "train_test_split":
            return self.train_test_split(node, pos, kws)
        if short == "random_split" and top == "torch":
            return self.torch_random_split(node, pos)
        if q in ("os.path.join", "pathlib.Path", "pathlib.PurePath", "Path") or (short == "join" and top == "os"):
            return Val(kind="str", text="/".join(v.text or "" for v in pos if v.kind == "str"))
        if top == "numpy" and "random" in q.split(".")[1:-1] or short in ("default_rng", "RandomState"):
            if short in DRAW_FUNCS:
                return self.draw(node)
            # random draws: a comparison with them is a random row mask
            return Val(kind="rng" if short in ("default_rng", "RandomState") else "rand", random=True)
        if short in ("setdiff1d", "delete") and top == "numpy" and len(pos) > 1 and pos[1].kind == "index" and pos[1].index is not None:
            # np.setdiff1d(np.arange(n), train_idx): the rows not drawn
            return Val(kind="index", index=(pos[1].index[0], "test"), random=True)
        if short in CV_FUNCS and top == "sklearn":
            est = pos[0] if pos else kws.get("estimator", UNKNOWN)
            x = pos[1] if len(pos) > 1 else kws.get("X", UNKNOWN)
            xnode = node.args[1] if len(node.args) > 1 else None
            cv = kws.get("cv", UNKNOWN)
            self.cvs.append(CVUse(self.tick(), node, short, x, xnode, *self.folds_of(cv)))
            self.cv_split(node, cv, x)
            if est.obj is not None:
                est.obj.methods.add("fit")
            self.record_use(node, None, short, [x] + pos[2:3], is_eval=True, metric=kws.get("scoring", UNKNOWN).text or "cv", arg=xnode)
            return Val(kind="stat")
        if short in PIPELINE_FUNCS or short in COLUMN_FUNCS:
            return self.pipeline(node, short, q, pos, kws)
        if short in SCALE_FUNCS and q.startswith("sklearn."):
            x = pos[0] if pos else UNKNOWN
            f = self.fit_event(node, None, short, x, None, node.args[0] if node.args else None, "fit_transform", stat=True)
            return Val(origins=x.origins, fitted_by=x.fitted_by | {f.id}, resampled=x.resampled, kind="data")
        if short in ("resample",) and q.startswith("sklearn."):
            rnode = self.kwnode(node, "replace")
            replace = not (isinstance(rnode, ast.Constant) and rnode.value is False)
            outs = []
            r = None
            for v in pos:
                if replace and v.origins:
                    r = r or self.resample_event(node, "resample", v)
                outs.append(Val(origins=v.origins, fitted_by=v.fitted_by, resampled=v.resampled | ({r.id} if r else EMPTY), kind="data"))
            return outs[0] if len(outs) == 1 else Val(kind="tuple", elts=tuple(outs))
        if short == "shuffle" and q.startswith("sklearn."):
            return pos[0] if len(pos) == 1 else Val(kind="tuple", elts=tuple(pos))
        if q.startswith("sklearn.metrics.") or (short.endswith(("_score", "_error", "_loss")) and top in ("sklearn", "scipy")) or short in ("classification_report", "confusion_matrix"):
            self.record_use(node, None, short, pos + list(kws.values()), is_eval=True, metric=short)
            return Val(kind="stat")
        if short in SPLITTER_CLASSES:
            sh = self.kwnode(node, "shuffle")
            shuffle = short in RANDOM_SPLITTERS or (isinstance(sh, ast.Constant) and sh.value is True)
            return Val(kind="obj", obj=Obj(short, "splitter", node, shuffle=shuffle))
        if short[:1].isupper() and (top in ("sklearn", "imblearn", "xgboost", "lightgbm", "catboost", "category_encoders", "tensorflow", "keras", "torch", "umap") or short in TRANSFORMER_CLASSES or short in OVERSAMPLER_CLASSES or short in SEARCH_CLASSES):
            if short in DATA_CONTAINERS or short in ("Dataset", "DMatrix", "Pool"):
                return self.union(pos[:2] + [kws.get("label", UNKNOWN), kws.get("data", UNKNOWN)])
            obj = self.make_obj(node, short, pos, kws)
            for v in pos:
                for e in (v.elts or ()) if v.kind == "tuple" else (v,):
                    if isinstance(e, Val) and e.kind == "obj" and e.obj is not None:
                        obj.parts.append(e.obj)
            return Val(kind="obj", obj=obj)
        if short in ("train", "cv") and top in ("lightgbm", "xgboost"):
            obj = Obj(q, "model", node)
            data = pos[1] if len(pos) > 1 else kws.get("train_set", kws.get("dtrain", UNKNOWN))
            if short == "cv":
                self.cvs.append(CVUse(self.tick(), node, q, data, None))
                return Val(kind="stat")
            self.fit_event(node, obj, q, data, None, node.args[1] if len(node.args) > 1 else None, "fit")
            self.early_stopping(node, obj, kws)
            return Val(kind="obj", obj=obj)
        if short in AUGMENT_FUNCS and top in ("numpy", "tensorflow", "torch", "scipy") and pos and pos[0].origins:
            x = pos[0]
            return Val(origins=x.origins, fitted_by=x.fitted_by, resampled=x.resampled, kind="data", augmented=True)
        if short in UNION_FUNCS and top in ("pandas", "numpy"):
            out = self.union(pos)
            if short in ROW_CONCAT and out.origins and not self.column_axis(node):
                dup = self.duplicated_rows(node, pos)
                if dup:
                    r = self.resample_event(node, dup, out)
                    out = Val(origins=out.origins, fitted_by=out.fitted_by, resampled=out.resampled | {r.id}, kind="data")
            return out
        if short in STAT_METHODS and top == "numpy":
            x = pos[0] if pos else UNKNOWN
            if x.origins:
                f = self.fit_event(node, None, "np." + short, x, None, node.args[0], "stat", stat=True)
                return Val(kind="stat", fitted_by=x.fitted_by | {f.id})
            return UNKNOWN
        if short in ("enumerate", "list", "tuple", "iter", "sorted", "reversed") and pos:
            v = pos[0]
            if v.kind == "folds":
                return Val(kind="folds", index=v.index, text="enumerate" if short == "enumerate" else v.text)
            return v
        if short == "zip":
            return UNKNOWN
        if short in ("max", "min") and top not in ("numpy",):
            return UNKNOWN
        if short in BUILTIN_OPAQUE:
            return UNKNOWN
        if short == "where" and top == "numpy":
            return self.union(pos[1:])
        # numpy / pandas / unknown helpers keep the rows of their data arguments
        out = self.union(pos)
        if out.origins:
            return out
        if self.target_hint and top not in ML_PACKAGES and top not in OPAQUE_DENY and short not in BUILTIN_OPAQUE and q not in _builtin_names():
            # x = project_helper(...): rows (or a model) we cannot see into
            if short[:1].isupper():
                return Val(kind="obj", obj=Obj(short, "unknown", node))
            return self.opaque(node, self.target_hint)
        return out

    @staticmethod
    def column_axis(node: ast.Call) -> bool:
        for kw in node.keywords:
            if kw.arg == "axis":
                v = kw.value
                return not (isinstance(v, ast.Constant) and v.value in (0, "index", "rows"))
        return False

    def duplicated_rows(self, node: ast.Call, pos: list[Val]) -> str | None:
        """Does a row concatenation put the same rows in twice? `concat([df, df[m]])`,
        `[minority] * 3`, `vstack([X, np.fliplr(X)])` (augmented copies)."""
        if not node.args:
            return None
        seq = node.args[0]
        if isinstance(seq, ast.BinOp) and isinstance(seq.op, ast.Mult):
            return "row duplication"
        elts: list[ast.AST] = []
        if isinstance(seq, (ast.List, ast.Tuple)):
            elts = list(seq.elts)
        elif len(node.args) > 1:
            elts = list(node.args)
        for e in elts:
            if isinstance(e, ast.Starred) or (isinstance(e, ast.BinOp) and isinstance(e.op, ast.Mult)):
                return "row duplication"
        vals = list(pos[0].elts or ()) if isinstance(seq, (ast.List, ast.Tuple)) and pos and pos[0].elts is not None else pos
        if any(isinstance(v, Val) and v.augmented for v in vals) and len(vals) > 1:
            base = [v for v in vals if isinstance(v, Val) and not v.augmented]
            aug = [v for v in vals if isinstance(v, Val) and v.augmented]
            if any(b.origins & a.origins for b in base for a in aug):
                return "augmentation"
        roots: list[str] = []
        whole: set[str] = set()
        for e in elts:
            r = e
            while isinstance(r, (ast.Subscript, ast.Attribute, ast.Call)):
                r = r.func if isinstance(r, ast.Call) else r.value
            if isinstance(r, ast.Name):
                if isinstance(e, ast.Name):
                    if e.id in whole:
                        return "row duplication"
                    whole.add(e.id)
                roots.append(r.id)
        if any(roots.count(n) > 1 for n in whole):
            return "row duplication"  # concat([df, df[df.y == 1]])
        return None

    def union(self, vals: list[Val]) -> Val:
        out = UNKNOWN
        for v in vals:
            if v.elts is not None:
                v = flat(v)
            if v.origins:
                out = Val(
                    origins=out.origins | v.origins,
                    fitted_by=out.fitted_by | v.fitted_by,
                    resampled=out.resampled | v.resampled,
                    kind="data",
                    pred=out.pred or v.pred,
                )
        return out

    @staticmethod
    def kwnode(node: ast.Call, name: str) -> ast.AST | None:
        for kw in node.keywords:
            if kw.arg == name:
                return kw.value
        return None

    def string_args(self, node: ast.Call) -> str:
        parts: list[str] = []
        for a in node.args[:1] + [kw.value for kw in node.keywords if kw.arg in ("filepath_or_buffer", "path", "io", "fname", "file")]:
            for sub in ast.walk(a):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    parts.append(sub.value)
        return " ".join(parts)

    def new_dataset(self, node: ast.AST, test_file: bool, opaque: bool = False) -> tuple:
        ds = self.new_id()
        self.datasets[ds] = {
            "node": node, "test_file": test_file, "time": None, "time_how": None, "serial": False, "windows": False,
            "lookahead": [],
            "date_cols": set(), "opaque": opaque,
        }
        return (ds, (("file", "test"),) if test_file else ())

    def load(self, node: ast.Call, q: str, short: str, pos: list[Val], kws: dict[str, Val]) -> Val:
        path = self.string_args(node)
        if not path and pos and pos[0].kind == "str":
            path = pos[0].text or ""  # a path held in a variable / joined from parts
        path = path.lower()
        name = re.split(r"[\\/]", path.strip())[-1] if path else ""
        hint = (self.target_hint or "").lower()
        test_file = is_test_name(name)
        if not name and is_test_name(hint):
            test_file = True
        origin = self.new_dataset(node, test_file)
        ds = origin[0]
        pd_ = self.kwnode(node, "parse_dates")
        if pd_ is not None:
            cols = set()
            if isinstance(pd_, (ast.List, ast.Tuple)):
                cols = {e.value for e in pd_.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            self.datasets[ds]["date_cols"] |= cols
            if self.kwnode(node, "index_col") is not None and not (isinstance(pd_, ast.Constant) and pd_.value is False):
                self.datasets[ds]["time"] = node
                self.datasets[ds]["time_how"] = "index"
        v = Val(origins=frozenset({origin}), kind="data")
        if short.startswith(("make_",)) or (self.kwnode(node, "return_X_y") is not None):
            return Val(kind="tuple", elts=(v, v), origins=EMPTY)
        return v

    def draw(self, node: ast.Call) -> Val:
        """`rng.choice(n, k)`, `np.random.randint(0, n, k)`: row indices drawn at
        random, independently of any other draw (two draws can share rows);
        the part is named by where it goes (`test_idx = ...`)."""
        return Val(kind="index", index=(("draw", id(node)), name_side(self.target_hint) or "train"), random=True)

    def keras_load(self, node: ast.Call) -> Val:
        tr = Val(origins=frozenset({self.new_dataset(node, False)}), kind="data")
        te = Val(origins=frozenset({self.new_dataset(node, True)}), kind="data")
        return Val(kind="tuple", elts=(Val(kind="tuple", elts=(tr, tr)), Val(kind="tuple", elts=(te, te))))

    def train_test_split(self, node: ast.Call, pos: list[Val], kws: dict[str, Val]) -> Val:
        arrays = [v for v in pos]
        inputs = frozenset().union(*(v.origins for v in arrays)) if arrays else EMPTY
        resampled = frozenset().union(*(v.resampled for v in arrays)) if arrays else EMPTY
        sh = self.kwnode(node, "shuffle")
        random = not (isinstance(sh, ast.Constant) and sh.value is False)
        key = ("tts", id(node), inputs)
        sp = self.splits.get(key)
        if sp is not None and self._recs:
            _memo.touch_event(self, sp.seq)
        if sp is None:
            sp = Split(self.new_id(), key, self.tick(), node, "tts", inputs, resampled, random)
            self.splits[key] = sp
        elts: list[Val] = []
        for v in arrays:
            v = flat(v)
            elts.append(with_side(v, key, "train", sp))
            elts.append(with_side(v, key, "test", sp))
        return Val(kind="tuple", elts=tuple(elts))

    @staticmethod
    def folds_of(cv: Val) -> tuple[str | None, bool]:
        """(splitter class, shuffles?) of a `cv=` argument: an int or the
        default is K-fold without shuffling."""
        o = cv.obj
        if o is not None and o.kind == "splitter":
            return o.cls, o.shuffle
        if o is not None:
            return None, False
        return "KFold", False

    def cv_split(self, node: ast.Call, cv: Val, x: Val) -> None:
        """`cross_val_score(..., cv=KFold(shuffle=True))`: the folds are a (random)
        split of `x` too, which matters for time-ordered data (ML206)."""
        if cv.obj is not None and cv.obj.kind == "splitter" and cv.obj.shuffle and x.origins:
            self.split_event(("cv", id(node), x.origins), node, "folds", x, random=True)

    def torch_random_split(self, node: ast.Call, pos: list[Val]) -> Val:
        """`train_ds, val_ds[, test_ds] = random_split(ds, [a, b, c])`."""
        ds = flat(pos[0]) if pos else UNKNOWN
        n = len(node.args[1].elts) if len(node.args) > 1 and isinstance(node.args[1], (ast.List, ast.Tuple)) else 2
        key = ("tts", id(node), ds.origins)
        sp = self.splits.get(key)
        if sp is not None and self._recs:
            _memo.touch_event(self, sp.seq)
        if sp is None:
            sp = Split(self.new_id(), key, self.tick(), node, "random_split", ds.origins, ds.resampled, True)
            self.splits[key] = sp
        return Val(kind="tuple", elts=tuple(with_side(ds, key, "train" if i == 0 else "test", sp) for i in range(n)))

    def pipeline(self, node: ast.Call, short: str, q: str, pos: list[Val], kws: dict[str, Val]) -> Val:
        steps: list[Val] = []
        if short in ("make_pipeline", "make_union", "make_column_transformer"):
            for v in pos:
                if v.kind == "tuple" and v.elts:
                    steps.extend(e for e in v.elts if isinstance(e, Val) and e.kind == "obj")
                else:
                    steps.append(v)
        else:
            arg = pos[0] if pos else kws.get("steps", kws.get("transformers", kws.get("transformer_list", UNKNOWN)))
            for e in arg.elts or ():
                if isinstance(e, Val) and e.kind == "tuple" and e.elts:
                    objs = [x for x in e.elts if isinstance(x, Val) and x.kind == "obj"]
                    if objs:
                        steps.append(objs[0])
        obj = Obj(short, "pipeline" if short in PIPELINE_FUNCS else "transformer", node)
        if short in PIPELINE_FUNCS:
            last = steps[-1].obj if steps and steps[-1].obj is not None else None
            obj.final = last.effective_kind() if last is not None else "model"
            if obj.final in ("resampler",):
                obj.final = "model"
            obj.cls = ("imblearn " if q.startswith("imblearn") else "") + short
        return Val(kind="obj", obj=obj)

    def make_obj(self, node: ast.Call, short: str, pos: list[Val], kws: dict[str, Val]) -> Obj:
        if short in SEARCH_CLASSES:
            search = Obj(short, "search", node)
            cv = kws.get("cv")
            if cv is not None and cv.obj is not None and cv.obj.kind == "splitter":
                search.cv = cv.obj
            return search
        if short in OVERSAMPLER_CLASSES:
            return Obj(short, "resampler", node)
        if short in UNDERSAMPLER_CLASSES:
            return Obj(short, "undersampler", node)
        strategy = self.kwnode(node, "strategy")
        if short in STATELESS_CLASSES or (short == "SimpleImputer" and isinstance(strategy, ast.Constant) and strategy.value == "constant"):
            return Obj(short, "stateless", node)  # a constant fill learns nothing from the rows
        if short in TRANSFORMER_CLASSES or short in CLUSTER_CLASSES:
            return Obj(short, "transformer", node)
        if short in ("Sequential", "Model") or short.endswith(("Classifier", "Regressor", "Regression", "SVC", "SVR", "NB", "Ridge", "Lasso", "Net", "Forest", "Boost", "Model", "Means", "Classifier")):
            return Obj(short, "model", node)
        return Obj(short, "unknown", node)
