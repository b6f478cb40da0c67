"""ML311 unscaled-scale-sensitive-model: a distance- or gradient-based
model trained on features nothing in the module scales."""

from __future__ import annotations

import ast

from mllint.analysis.inference import call_qual
from mllint.analysis.semantic import keyword
from mllint.rules.base import Rule, register

# --- ML311 -------------------------------------------------------------------

SCALE_SENSITIVE = frozenset(
    {
        "SVC",
        "SVR",
        "NuSVC",
        "NuSVR",
        "LinearSVC",
        "LinearSVR",
        "KNeighborsClassifier",
        "KNeighborsRegressor",
        "RadiusNeighborsClassifier",
        "RadiusNeighborsRegressor",
        "PCA",
        "KernelPCA",
        "MLPClassifier",
        "MLPRegressor",
        "SGDClassifier",
        "SGDRegressor",
        "Ridge",
        "RidgeClassifier",
        "Lasso",
        "ElasticNet",
        "LogisticRegression",
    }
)
SCALERS = frozenset(
    {
        "StandardScaler",
        "MinMaxScaler",
        "MaxAbsScaler",
        "RobustScaler",
        "Normalizer",
        "QuantileTransformer",
        "PowerTransformer",
        "scale",
        "minmax_scale",
        "maxabs_scale",
        "robust_scale",
        "normalize",
        "quantile_transform",
        "power_transform",
        "StandardScalar",
        # Text features: TF-IDF and hashing rows are L2-normalised by default.
        "TfidfVectorizer",
        "TfidfTransformer",
        "HashingVectorizer",
    }
)
# Transformers whose output is already on one scale: 0/1 indicator columns.
ONE_SCALE_TRANSFORMERS = frozenset({"OneHotEncoder", "LabelBinarizer", "MultiLabelBinarizer", "Binarizer"})
# Functions whose output is on one scale: dummies, one-hot labels.
_ONE_SCALE_FUNCTIONS = frozenset({"get_dummies", "to_categorical"})
# scikit-learn's synthetic data sets: every feature drawn on the same scale.
_SYNTHETIC = frozenset(
    {"make_moons", "make_circles", "make_blobs", "make_classification", "make_regression", "make_gaussian_quantiles"}
)
# Calls that fit the estimator they are given on X (estimator, X, ...).
_CV_FUNCTIONS = frozenset({"cross_val_score", "cross_validate", "cross_val_predict"})
_FIT_METHODS = frozenset({"fit", "fit_transform", "fit_predict"})
# Ways of passing the same data on: x[...], x.values, x.to_numpy(), ...
_SAME_VALUES_METHODS = frozenset({"to_numpy", "astype", "reshape", "copy", "toarray", "todense", "ravel", "flatten"})
_STACKERS = frozenset({"hstack", "column_stack", "concatenate", "concat", "c_"})


@register
class UnscaledScaleSensitiveModel(Rule):
    codes = ("ML311",)
    nodes = (ast.Call, ast.BinOp)
    # `sklearn.<short>` constructors, and the fits whose data may already be
    # on one scale (`model.fit(X)`, `cross_val_score(model, X, ...)`).
    call_names = SCALERS | SCALE_SENSITIVE | _FIT_METHODS | _CV_FUNCTIONS

    def __init__(self, ctx):
        super().__init__(ctx)
        self.candidates: list[tuple[ast.Call, str]] = []
        self.scaled = False
        # id(constructor call) -> whether each fit seen was on data already on one scale
        self.fits: dict[int, list[bool]] = {}

    def visit(self, node: ast.AST) -> None:
        sem = self.ctx.semantic
        if isinstance(node, ast.BinOp):
            # manual standardisation/normalisation: (X - mu) / sd, X / 255, X / X.max()
            if isinstance(node.op, ast.Div):
                r = node.right
                if isinstance(r, ast.Constant) and r.value in (255, 255.0):
                    self.scaled = True
                elif isinstance(r, ast.Call) and isinstance(r.func, ast.Attribute) and r.func.attr in ("std", "max", "norm"):
                    self.scaled = True
                elif isinstance(r, ast.Call) and (sem.call_qualname(r) or "").endswith((".std", ".linalg.norm")):
                    self.scaled = True
                elif _min_max_range(r):
                    self.scaled = True  # (x - x.min()) / (x.max() - x.min())
            return
        call = node
        func = call.func  # type: ignore[attr-defined]
        if isinstance(func, ast.Attribute) and func.attr in _FIT_METHODS:
            self._fit(func.value, _first_arg(call, "X"))  # type: ignore[arg-type]
            return
        q = call_qual(sem, node)  # type: ignore[arg-type]
        if q and q.rpartition(".")[2] in _CV_FUNCTIONS and q.startswith("sklearn."):
            if call.args:  # type: ignore[attr-defined]
                self._fit(call.args[0], _first_arg(call, "X", 1))  # type: ignore[attr-defined]
            return
        if not q or not q.startswith("sklearn."):
            return
        short = q.rsplit(".", 1)[-1]
        if short in SCALERS:
            self.scaled = True
            return
        if short not in SCALE_SENSITIVE or "()" in q:
            return
        call: ast.Call = node  # type: ignore[assignment]
        if short == "LogisticRegression":
            pen = keyword(call, "penalty")
            if pen is not None and (
                (isinstance(pen.value, ast.Constant) and pen.value.value in (None, "none"))
            ):
                return
        self.candidates.append((call, short))

    def _fit(self, estimator: ast.AST, data: ast.AST | None) -> None:
        """A fit of `estimator` on `data`: remember, for the candidate it is,
        whether the data is already on one scale."""
        sem = self.ctx.semantic
        ctors: list[ast.AST | None] = [estimator]
        if isinstance(estimator, ast.Name):
            b = sem.lookup(estimator.id)
            ctors = [b.value if b is not None and b.kind == "assign" else None]
            if b is not None and b.kind == "for" and isinstance(b.node, ast.For):
                # `for clf in (log_clf, svm_clf): clf.fit(X, y)`: each of them
                loop = b.node
                if isinstance(loop.target, ast.Name) and isinstance(loop.iter, (ast.Tuple, ast.List)):
                    ctors = [_assigned_value(sem, e) for e in loop.iter.elts]
        one_scale = None
        for ctor in ctors:
            if not isinstance(ctor, ast.Call):
                continue
            if one_scale is None:
                one_scale = data is not None and _one_scale(sem, data, 0)
            # A chained `SVC().fit(X)` is seen before its constructor: kept by
            # node, matched with the candidates in `finish`.
            self.fits.setdefault(id(ctor), []).append(one_scale)

    def finish(self) -> None:
        if self.scaled or not self.candidates:
            return
        imported = self.ctx.semantic.imported
        if any(i.rsplit(".", 1)[-1] in SCALERS for i in imported):
            return
        for call, short in self.candidates:
            fits = self.fits.get(id(call))
            if fits and all(fits):
                continue  # trained only on features already on one scale
            self.report(
                "ML311",
                call,
                f"`{short}` is sensitive to feature scale but nothing in this module scales the features "
                f"(no StandardScaler/MinMaxScaler/...); put a scaler before it, e.g. "
                f"`make_pipeline(StandardScaler(), {short}(...))`.",
            )


def _assigned_value(sem, node: ast.AST) -> ast.AST | None:
    if isinstance(node, ast.Name):
        b = sem.lookup(node.id)
        if b is not None and b.kind == "assign":
            return b.value
    return None


def _first_arg(call: ast.Call, name: str, position: int = 0) -> ast.AST | None:
    if len(call.args) > position and not isinstance(call.args[position], ast.Starred):
        return call.args[position]
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _method(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _min_max_range(node: ast.AST) -> bool:
    """`x.max() - x.min()`, `np.ptp(x)`, `x.ptp()`: the range of min-max scaling."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
        return _method(node.left) in ("max", "amax", "nanmax") or _method(node.right) in ("min", "amin", "nanmin")
    return _method(node) == "ptp"


def _is_flag_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in (0, 1) and not isinstance(node.value, str)


def _one_scale(sem, node: ast.AST, depth: int) -> bool:
    """Is this feature data already on one scale: one-hot / dummy columns,
    0/1 flags, pixel values divided by 255, min-max scaled by hand,
    probabilities, or one of scikit-learn's synthetic data sets? Follows
    names through their assignments, `x[...]`, `.values`, `.to_numpy()`,
    stacking and `train_test_split`, a few steps deep."""
    if depth > 6:
        return False
    d = depth + 1
    if isinstance(node, ast.Name):
        b = sem.lookup(node.id)
        if b is None or b.kind != "assign":
            return False
        if b.value is not None:
            return b.value is not node and _one_scale(sem, b.value, d)
        stmt = b.node
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], (ast.Tuple, ast.List)):
            names = [e.id if isinstance(e, ast.Name) else None for e in stmt.targets[0].elts]
            if node.id in names:
                return _unpacked_one_scale(sem, stmt.value, names.index(node.id), d)
        return False
    if isinstance(node, ast.Subscript):
        return _one_scale(sem, node.value, d)
    if isinstance(node, ast.Attribute):
        return node.attr in ("values", "T", "A") and _one_scale(sem, node.value, d)
    if isinstance(node, ast.Compare):
        return True  # a boolean flag
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        r = node.right
        if isinstance(r, ast.Constant) and r.value in (255, 255.0):
            return True
        return _min_max_range(r) or _method(r) == "max"
    if isinstance(node, (ast.List, ast.Tuple)):
        return bool(node.elts) and all(_one_scale(sem, e, d) for e in node.elts)
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    q = sem.call_qualname(node) or ""
    last = q.rpartition(".")[2] if q else (func.attr if isinstance(func, ast.Attribute) else "")
    if last in _ONE_SCALE_FUNCTIONS:
        return True
    if last in ("predict_proba", "predict_log_proba") and isinstance(func, ast.Attribute):
        return last == "predict_proba"  # probabilities, in [0, 1]
    if last == "cross_val_predict":
        m = next((k.value for k in node.keywords if k.arg == "method"), None)
        return isinstance(m, ast.Constant) and m.value == "predict_proba"
    if last == "where" and q.startswith("numpy.") and len(node.args) == 3:
        return _is_flag_constant(node.args[1]) and _is_flag_constant(node.args[2])
    if last in _STACKERS and node.args:
        return _one_scale(sem, node.args[0], d)
    if last in ("array", "asarray") and node.args:
        return _one_scale(sem, node.args[0], d)
    if isinstance(func, ast.Attribute):
        if func.attr in ("fit_transform", "transform"):
            owner = q.rpartition(".")[0]
            return owner.rstrip("()").rpartition(".")[2] in ONE_SCALE_TRANSFORMERS
        if func.attr in _SAME_VALUES_METHODS:
            if func.attr == "astype" and isinstance(func.value, ast.Compare):
                return True  # (df.x > 0).astype(int)
            return _one_scale(sem, func.value, d)
    return False


def _unpacked_one_scale(sem, value: ast.AST, index: int, depth: int) -> bool:
    """Element `index` of `a, b, ... = value`."""
    if not isinstance(value, ast.Call):
        return False
    q = sem.call_qualname(value) or ""
    last = q.rpartition(".")[2]
    if last in _SYNTHETIC and q.startswith("sklearn."):
        return index == 0  # X, y = make_moons(...)
    if last == "train_test_split" and value.args:
        arrays = [a for a in value.args if not isinstance(a, ast.Starred)]
        i = index // 2
        return i < len(arrays) and _one_scale(sem, arrays[i], depth)
    return False
