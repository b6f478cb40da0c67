"""ML102 random-state-unset: a random splitter or estimator (scikit-learn,
imbalanced-learn) built without `random_state`."""

from __future__ import annotations

import ast

from mllint.analysis.semantic import has_star_kwargs, is_none, is_true, keyword
from mllint.analysis.semantic import kwarg_value as _kw
from mllint.rules.base import Rule, register
from mllint.rules.fixbuilders import add_keyword

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


@register
class RandomStateUnset(Rule):
    codes = ("ML102",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = SKLEARN_RANDOM_NAMES

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        short = sklearn_random_callable(self.ctx.semantic.call_qualname(node))
        if short is None or has_star_kwargs(node):
            return
        if short in SKLEARN_SHUFFLE_ONLY and not is_true(_kw(node, "shuffle")):
            return
        kw = keyword(node, "random_state")
        if kw is not None and not is_none(kw.value):
            return
        seed = self.ctx.config.seed
        what = "with `random_state=None`" if kw is not None else "without `random_state`"
        fix = add_keyword(self.ctx, node, "random_state", str(seed), f"Set random_state={seed}", "unsafe")
        self.report(
            "ML102",
            node,
            f"`{short}(...)` is called {what}: every run gives a different "
            f"{'split' if short[0].islower() or 'Split' in short or 'Fold' in short else 'model'}; "
            f"pass `random_state={seed}` (or your project's seed).",
            fix,
        )
