"""ML102 random-state-unset: a random splitter or estimator (scikit-learn,
imbalanced-learn) built without `random_state`."""

from __future__ import annotations

import ast

from mllint.analysis.semantic import has_star_kwargs, is_none, is_true, keyword
from mllint.analysis.semantic import kwarg_value as _kw
from mllint.rules.base import Rule, register
from mllint.rules.fixbuilders import add_keyword, replace_node

# --- ML102 -------------------------------------------------------------------

# sklearn callables whose result depends on a random state when none is given.
SKLEARN_RANDOM = frozenset(
    {
        "train_test_split",
        "ShuffleSplit",
        "StratifiedShuffleSplit",
        "GroupShuffleSplit",
        "RepeatedKFold",
        "RepeatedStratifiedKFold",
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
        "RandomTreesEmbedding",
        "GradientBoostingClassifier",
        "GradientBoostingRegressor",
        "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor",
        "BaggingClassifier",
        "BaggingRegressor",
        "AdaBoostClassifier",
        "AdaBoostRegressor",
        "IsolationForest",
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "ExtraTreeClassifier",
        "ExtraTreeRegressor",
        "SGDClassifier",
        "SGDRegressor",
        "SGDOneClassSVM",
        "MLPClassifier",
        "MLPRegressor",
        "KMeans",
        "MiniBatchKMeans",
        "BisectingKMeans",
        "TSNE",
        "TruncatedSVD",
        "RandomizedSearchCV",
        "HalvingRandomSearchCV",
        "GaussianMixture",
        "BayesianGaussianMixture",
        "Perceptron",
        "PassiveAggressiveClassifier",
        "PassiveAggressiveRegressor",
        "RandomOverSampler",
        "RandomUnderSampler",
        "SMOTE",
        "ADASYN",
        "BorderlineSMOTE",
        "SVMSMOTE",
        "SMOTENC",
        "SMOTEN",
        "KMeansSMOTE",
        "BalancedRandomForestClassifier",
        "BalancedBaggingClassifier",
        "EasyEnsembleClassifier",
        "RUSBoostClassifier",
        "shuffle",
        "resample",
        "make_classification",
        "make_regression",
        "make_blobs",
        "make_moons",
        "make_circles",
    }
)
# Randomness only with shuffle=True.
SKLEARN_SHUFFLE_ONLY = frozenset({"KFold", "StratifiedKFold", "StratifiedGroupKFold"})
RANDOM_PACKAGES = ("sklearn.", "imblearn.")
# ML102's call filter: the short names `sklearn_random_callable` accepts.
SKLEARN_RANDOM_NAMES = SKLEARN_RANDOM | SKLEARN_SHUFFLE_ONLY


def sklearn_random_callable(qualname: str | None) -> str | None:
    """The short name if `qualname` is a seedable sklearn/imblearn callable."""
    if not qualname or not qualname.startswith(RANDOM_PACKAGES):
        return None
    short = qualname.rsplit(".", 1)[-1]
    if short in SKLEARN_RANDOM or short in SKLEARN_SHUFFLE_ONLY:
        return short
    return None


# Seeding functions that return None: passed as a value (`random_state=
# np.random.seed(42)`), they pass None. Qualified name -> what they seed
# (None: NumPy's global generator too, which scikit-learn draws from when
# `random_state=None`).
SEED_CALLS_RETURNING_NONE: dict[str, str | None] = {
    "random.seed": "Python's `random` module",
    "numpy.random.seed": None,
    "tensorflow.random.set_seed": "TensorFlow",
    "tensorflow.set_random_seed": "TensorFlow",
    "tensorflow.compat.v1.set_random_seed": "TensorFlow",
    "keras.utils.set_random_seed": None,
    "tensorflow.keras.utils.set_random_seed": None,
}


def _seed_call_value(sem, value: ast.AST) -> tuple[ast.Call, str, str | None] | None:
    """(the seeding call, its qualified name, the name holding its result)
    when `value` is a call of a seeding function that returns None, or a
    name assigned from one (`seed = np.random.seed(42)`); else None."""
    if isinstance(value, ast.Call):
        q = sem.call_qualname(value)
        return (value, q, None) if q in SEED_CALLS_RETURNING_NONE else None
    if isinstance(value, ast.Name):
        b = sem.lookup(value.id)
        if b is not None and b.kind == "assign" and b.qualname in SEED_CALLS_RETURNING_NONE and isinstance(b.value, ast.Call):
            return b.value, b.qualname, value.id
    return None


@register
class RandomStateUnset(Rule):
    codes = ("ML102",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = SKLEARN_RANDOM_NAMES
    # Any call passing `random_state=` may pass a seeding call's None.
    call_keywords = frozenset({"random_state"})

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        q = self.ctx.semantic.call_qualname(node)
        kw = keyword(node, "random_state")
        if kw is not None and self._seed_as_value(node, q, kw):
            return
        short = sklearn_random_callable(q)
        if short is None or has_star_kwargs(node):
            return
        if short in SKLEARN_SHUFFLE_ONLY and not is_true(_kw(node, "shuffle")):
            return
        if kw is not None and not is_none(kw.value):
            return
        seed = self.ctx.config.seed
        what = "with `random_state=None`" if kw is not None else "without `random_state`"
        fix = add_keyword(self.ctx, node, "random_state", str(seed), f"Set random_state={seed}", "unsafe")
        self.report(
            "ML102",
            node,
            f"`{short}(...)` is called {what}: every run gives a different "
            f"{_kind(short)}; "
            f"pass `random_state={seed}` (or your project's seed).",
            fix,
        )

    def _seed_as_value(self, node: ast.Call, q: str | None, kw: ast.keyword) -> bool:
        """`random_state=np.random.seed(42)`: the seeding call returns None, so
        the call gets `random_state=None`, whatever the callee. Reported
        (True) when so; what follows is said for scikit-learn and
        imbalanced-learn, whose `random_state=None` means NumPy's global
        generator."""
        found = _seed_call_value(self.ctx.semantic, kw.value)
        if found is None:
            return False
        seeding, seeding_q, holder = found
        sklearn = bool(q and q.startswith(RANDOM_PACKAGES))
        short = q.rsplit(".", 1)[-1] if q and "()" not in q else _callee_text(self.ctx, node)
        seed_src = self.ctx.segment(seeding.func)
        arg = seeding.args[0] if len(seeding.args) == 1 and not seeding.keywords else None
        arg_src = self.ctx.segment(arg) if isinstance(arg, (ast.Constant, ast.Name)) else None
        value = arg_src or str(self.ctx.config.seed)
        fix = replace_node(self.ctx, kw.value, value, f"Pass random_state={value}", "unsafe")
        held = f"`{holder}` holds the result of `{seed_src}(...)`, which returns None" if holder else f"`{seed_src}(...)` returns None"
        seeds = SEED_CALLS_RETURNING_NONE[seeding_q]
        if not sklearn:
            why = f"`{short}(...)` gets `random_state=None`, not the seed"
        elif seeds is None:
            why = (
                f"`{short}(...)` then draws from NumPy's global generator, which that call happened to seed, "
                "so its result changes whenever anything else draws from the global generator first"
            )
        else:
            why = f"it seeds {seeds} only, so `{short}(...)` is unseeded"
            if short in SKLEARN_RANDOM_NAMES:
                why += f" and every run gives a different {_kind(short)}"
        self.report(
            "ML102",
            kw.value,
            f"`random_state={self.ctx.segment(kw.value)}` passes None: {held}; {why}; "
            f"pass {'the seed itself' if arg_src else 'a seed'} (`random_state={value}`).",
            fix,
        )
        return True


def _callee_text(ctx, node: ast.Call) -> str:
    text = ctx.segment(node.func)
    return text if text and "\n" not in text and len(text) <= 40 else "the call"


def _kind(short: str) -> str:
    return "split" if short[0].islower() or "Split" in short or "Fold" in short else "model"
