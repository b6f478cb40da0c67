"""ML7xx: responsible AI."""

from __future__ import annotations

import ast
import re

from mllint.analysis.semantic import dotted_name as _dotted
from mllint.analysis.semantic import kwarg_value as _kw  # shared helpers
from mllint.rules.base import Rule, register

FAIRNESS_PREFIXES = ("fairlearn.", "aif360.", "responsibleai.", "raiwidgets.", "fairness_indicators.", "tensorflow_model_analysis.")
# Calls that keep the columns of their first argument.
KEEP_COLUMNS_METHODS = frozenset(
    {"copy", "fillna", "astype", "dropna", "reset_index", "to_numpy", "sample", "head", "tail", "clip", "round", "abs", "infer_objects", "convert_dtypes"}
)
KEEP_COLUMNS_ATTRS = frozenset({"values"})
CV_FUNCS = frozenset(
    {
        "sklearn.model_selection.cross_val_score",
        "sklearn.model_selection.cross_validate",
        "sklearn.model_selection.cross_val_predict",
    }
)
SPLITTERS = frozenset({"sklearn.model_selection.train_test_split"})
# Estimators that are not a model making decisions about people: fitted
# preprocessing (scalers, encoders, imputers, vectorisers, feature selection)
# and unsupervised methods (clustering, decompositions). By module, and by the
# look of the class name for other libraries (category_encoders, ...).
NOT_A_MODEL_MODULES = (
    "sklearn.preprocessing.", "sklearn.impute.", "sklearn.feature_extraction.", "sklearn.feature_selection.",
    "sklearn.decomposition.", "sklearn.cluster.", "sklearn.mixture.", "sklearn.manifold.",
    "category_encoders.", "feature_engine.",
)  # fmt: skip
_NOT_A_MODEL_NAME = re.compile(
    r"(Scaler|Encoder|Imputer|Transformer|Vectorizer|Binarizer|Discretizer|Normalizer|Selector|KMeans|PCA)$"
)
# A protected name inside a longer column that is about something else: the
# age of a house or an account, a race in a sports table.
_OTHER_SUBJECT = {
    "age": frozenset(
        {
            "house", "housing", "home", "building", "property", "vehicle", "car", "auto", "account", "loan",
            "policy", "contract", "credit", "machine", "equipment", "asset", "tree", "battery", "product",
            "item", "device", "company", "firm", "business", "store", "subscription", "membership", "file",
            "record", "data", "model", "roof", "mortgage", "debt", "card", "line", "plan",
        }
    ),
    "race": frozenset(
        {"id", "name", "date", "time", "year", "distance", "number", "no", "track", "course", "length", "laps",
         "round", "result", "results", "type", "class", "grade", "prize", "winner", "km", "miles"}
    ),
}  # fmt: skip


def _norm(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


_BOUNDARY = frozenset("\"'_\t\r\n")


def _may_name_protected(text: str, protected: list[str]) -> bool:
    """Could a string literal in `text` be a column `_protected` matches?
    True when a protected name occurs with a quote, a separator or a line
    end on each side (`"sex"`, `'Sex-At Birth'`, `"applicant age"`; not
    `average`): a superset of the literals the rule matches, found with
    plain string searches."""
    low = text.lower().replace(" ", "_").replace("-", "_")
    n = len(low)
    for p in protected:
        i = low.find(p)
        while i != -1:
            j = i + len(p)
            if (i == 0 or low[i - 1] in _BOUNDARY) and (j == n or low[j] in _BOUNDARY):
                return True
            i = low.find(p, i + 1)
    return False


def _str_list(node: ast.AST | None) -> list[str] | None:
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return [e.value for e in node.elts]  # type: ignore[attr-defined]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    return None


@register
class ProtectedAttributeFeature(Rule):
    codes = ("ML701",)
    nodes = (ast.Assign, ast.Call)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.columns: dict[str, tuple[list[str], int]] = {}  # frame name -> (columns, line)
        self.lists: dict[str, list[str]] = {}  # NAME = ["a", "b"]
        self.candidates: list[tuple[ast.Call, ast.AST, list[str], int]] = []
        self.fairness = False
        prot = ctx.config.protected_attributes
        self.protected = [_norm(p) for p in prot if p.strip()]
        self.metric_names = list(ctx.config.fairness_metrics)
        # `_is_fairness_call`'s per-metric tests, prepared once.
        self._metric_set = frozenset(self.metric_names)
        self._metric_suffixes = tuple("." + m for m in self.metric_names)
        self._metric_prefixes = tuple(m + "." for m in self.metric_names)
        # A finding needs a column name, a string literal in the source, that
        # `_protected` matches: none in the text, nothing to look at (a column
        # spelled with escapes or split over adjacent literals, `"gen" "der"`,
        # is not seen).
        if not _may_name_protected(ctx.source.text, self.protected):
            self.nodes = ()

    # -- column inference ------------------------------------------------------
    def _list_value(self, node: ast.AST) -> list[str] | None:
        lst = _str_list(node)
        if lst is not None:
            return lst
        if isinstance(node, ast.Name):
            return self.lists.get(node.id)
        return None

    def cols_of(self, node: ast.AST) -> list[str] | None:
        if isinstance(node, ast.Name):
            hit = self.columns.get(node.id)
            return hit[0] if hit else None
        if isinstance(node, ast.Subscript):
            sl = node.slice
            if isinstance(node.value, ast.Attribute) and node.value.attr == "loc" and isinstance(sl, ast.Tuple) and len(sl.elts) == 2:
                return self._list_value(sl.elts[1]) if not isinstance(sl.elts[1], ast.Constant) else None
            if isinstance(sl, (ast.List, ast.Name)):
                return self._list_value(sl)
            return None
        if isinstance(node, ast.Attribute) and node.attr in KEEP_COLUMNS_ATTRS:
            return self.cols_of(node.value)
        if isinstance(node, ast.Call):
            f = node.func
            q = self.ctx.semantic.call_qualname(node) or ""
            if q in ("pandas.read_csv", "pandas.read_parquet", "pandas.read_excel", "pandas.read_table"):
                return self._list_value(_kw(node, "usecols") or _kw(node, "columns"))  # type: ignore[arg-type]
            if q == "pandas.DataFrame":
                return self._list_value(_kw(node, "columns"))  # type: ignore[arg-type]
            if q == "pandas.get_dummies" and node.args:
                return self.cols_of(node.args[0])
            if isinstance(f, ast.Attribute):
                if f.attr in KEEP_COLUMNS_METHODS:
                    return self.cols_of(f.value)
                if f.attr == "drop":
                    base = self.cols_of(f.value)
                    if base is None:
                        return None
                    dropped = self._list_value(_kw(node, "columns"))  # type: ignore[arg-type]
                    if dropped is None:
                        axis = _kw(node, "axis")
                        if node.args and isinstance(axis, ast.Constant) and axis.value in (1, "columns"):
                            dropped = self._list_value(node.args[0])
                    if dropped is None:
                        return None
                    gone = {_norm(d) for d in dropped}
                    return [c for c in base if _norm(c) not in gone]
                if f.attr == "filter":
                    return self._list_value(_kw(node, "items"))  # type: ignore[arg-type]
        return None

    # -- events ----------------------------------------------------------------
    def visit(self, node: ast.AST) -> None:
        if self.fairness:
            return  # a fairness metric was seen: `finish` reports nothing
        if isinstance(node, ast.Assign):
            self._assign(node)
        else:
            self._call(node)  # type: ignore[arg-type]

    def _assign(self, node: ast.Assign) -> None:
        value = node.value
        for target in node.targets:
            if isinstance(target, ast.Name):
                lst = _str_list(value) if isinstance(value, (ast.List, ast.Tuple)) else None
                if lst is not None:
                    self.lists[target.id] = lst
                else:
                    self.lists.pop(target.id, None)
                cols = self.cols_of(value)
                if cols is not None:
                    self.columns[target.id] = (cols, node.lineno)
                else:
                    self.columns.pop(target.id, None)
            elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, ast.Call):
                q = self.ctx.semantic.call_qualname(value)
                if q in SPLITTERS:
                    arrays = [a for a in value.args if not isinstance(a, ast.Starred)]
                    for i, elt in enumerate(target.elts):
                        if isinstance(elt, ast.Name):
                            src = arrays[i // 2] if i // 2 < len(arrays) else None
                            cols = self.cols_of(src) if src is not None else None
                            if cols is not None:
                                self.columns[elt.id] = (cols, node.lineno)
                            else:
                                self.columns.pop(elt.id, None)

    def _is_fairness_call(self, q: str, func: ast.AST) -> bool:
        if q.startswith(FAIRNESS_PREFIXES):
            return True
        if not self.metric_names:
            return False
        dotted = _dotted(func) or ""  # the syntactic name: only needed for configured metrics
        for name in (q, dotted):
            if name and (name in self._metric_set or name.endswith(self._metric_suffixes) or name.startswith(self._metric_prefixes)):
                return True
        return False

    def _call(self, node: ast.Call) -> None:
        q = self.ctx.semantic.call_qualname(node) or ""
        if self._is_fairness_call(q, node.func):
            self.fairness = True
            return
        X: ast.AST | None = None
        estimator: ast.AST | None = None
        # A model that decides about people is fitted with a target: `fit(X,
        # y)`. A scaler, encoder or clustering fitted on X alone is not one.
        if isinstance(node.func, ast.Attribute) and node.func.attr == "fit":
            if len(node.args) >= 2 or _kw(node, "y") is not None:
                X = node.args[0] if node.args else _kw(node, "X")
                estimator = node.func.value
        elif q in CV_FUNCS:
            if len(node.args) >= 3 or _kw(node, "y") is not None:
                X = node.args[1] if len(node.args) >= 2 else _kw(node, "X")
                estimator = node.args[0] if node.args else _kw(node, "estimator")
        if X is None or not self.protected or self._not_a_model(estimator):
            return
        cols = self.cols_of(X)
        if not cols:
            return
        hits = [c for c in cols if self._protected(c)]
        if hits:
            line = self.columns[X.id][1] if isinstance(X, ast.Name) and X.id in self.columns else node.lineno
            self.candidates.append((node, X, hits, line))

    def _not_a_model(self, estimator: ast.AST | None) -> bool:
        """Preprocessing or an unsupervised method, by the class it was built
        from (`StandardScaler().fit`, `enc = OneHotEncoder(); enc.fit`)."""
        sem = self.ctx.semantic
        q = None
        if isinstance(estimator, ast.Call):
            q = sem.call_qualname(estimator)
        elif isinstance(estimator, ast.Name):
            b = sem.lookup(estimator.id)
            q = b.qualname if b is not None and b.kind == "assign" else None
        if not q:
            return False
        return q.startswith(NOT_A_MODEL_MODULES) or bool(_NOT_A_MODEL_NAME.search(q))

    def _protected(self, column: str) -> bool:
        c = _norm(column)
        for p in self.protected:
            if c == p:
                return True
            if c.startswith(p + "_") or c.endswith("_" + p):
                if _OTHER_SUBJECT.get(p, frozenset()).intersection(c.split("_")):
                    continue  # `housing_median_age`, `race_id`: not a person's attribute
                return True
        return False

    def finish(self) -> None:
        if self.fairness:
            return
        for call, X, hits, line in self.candidates:
            names = ", ".join(f"`{h}`" for h in hits)
            self.report(
                "ML701",
                call,
                f"`{ast.unparse(call.func)}(...)` trains on protected attribute{'s' if len(hits) > 1 else ''} {names} "
                f"(in the features `{ast.unparse(X)}`, line {line}) and no fairness metric is computed in this module: "
                "measure per-group performance (e.g. fairlearn `MetricFrame`) or drop the column if its use is not justified.",
            )
