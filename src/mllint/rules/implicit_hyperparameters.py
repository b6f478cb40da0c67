"""ML312 implicit-hyperparameters: key estimators built with every
hyperparameter left at its default."""

from __future__ import annotations

import ast

from mllint.analysis.inference import call_qual, infer_type, kind_of_qualname
from mllint.analysis.semantic import has_star_kwargs, keyword
from mllint.rules.base import Rule, register

# --- ML312 -------------------------------------------------------------------

KEY_ESTIMATORS = frozenset(
    {
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
        "GradientBoostingClassifier",
        "GradientBoostingRegressor",
        "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor",
        "SVC",
        "SVR",
        "KNeighborsClassifier",
        "KNeighborsRegressor",
        "MLPClassifier",
        "MLPRegressor",
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "XGBClassifier",
        "XGBRegressor",
        "LGBMClassifier",
        "LGBMRegressor",
        "CatBoostClassifier",
        "CatBoostRegressor",
        "KMeans",
        "MiniBatchKMeans",
        "DBSCAN",
        "AgglomerativeClustering",
        "Ridge",
        "Lasso",
        "ElasticNet",
    }
)
_NEUTRAL_KWARGS = frozenset({"random_state", "n_jobs", "verbose", "seed", "random_seed", "verbosity"})
_SEARCH_TOOLS = ("GridSearchCV", "RandomizedSearchCV", "HalvingGridSearchCV", "HalvingRandomSearchCV", "BayesSearchCV")


@register
class ImplicitHyperparameters(Rule):
    codes = ("ML312",)
    scope = "statement"
    nodes = (ast.Call,)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.estimators: list[tuple[ast.Call, str]] = []

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "fit"
            and not has_star_kwargs(node)
            and len(node.args) < 4
            and keyword(node, "epochs") is None
            and keyword(node, "nb_epoch") is None  # Keras 1's name for it
            and infer_type(sem, func.value) == "keras_model"
        ):
            self.report(
                "ML312",
                node,
                f"`{self.ctx.segment(func)}(...)` has no `epochs=`, so Keras trains for a single epoch by default; "
                f"pass `epochs=` (and `batch_size=`) explicitly.",
            )
            return
        q = call_qual(sem, node)
        if not q or "()" in q or has_star_kwargs(node):
            return
        kind = kind_of_qualname(q)
        short = q.rsplit(".", 1)[-1]
        if kind == "optimizer":
            if q.startswith("torch."):
                if keyword(node, "lr") is None and len(node.args) < 2:
                    self.report(
                        "ML312",
                        node,
                        f"`{self.ctx.segment(node.func)}(...)` relies on the default learning rate; pass `lr=` "
                        f"explicitly so the most important hyperparameter is visible and tunable.",
                    )
            elif keyword(node, "learning_rate") is None and keyword(node, "lr") is None and not node.args:
                self.report(
                    "ML312",
                    node,
                    f"`{self.ctx.segment(node.func)}(...)` relies on the default learning rate; pass "
                    f"`learning_rate=` explicitly.",
                )
            return
        if kind == "dataloader":
            if len(node.args) < 2 and keyword(node, "batch_size") is None and keyword(node, "batch_sampler") is None:
                self.report(
                    "ML312",
                    node,
                    f"`{self.ctx.segment(node.func)}(...)` has no `batch_size`, so it yields batches of 1 by "
                    f"default; pass `batch_size=` explicitly.",
                )
            return
        if short in KEY_ESTIMATORS and q.startswith(("sklearn.", "xgboost.", "lightgbm.", "catboost.")):
            if node.args or any(kw.arg not in _NEUTRAL_KWARGS for kw in node.keywords):
                return
            self.estimators.append((node, short))

    def finish(self) -> None:
        if not self.estimators:
            return
        imported = self.ctx.semantic.imported
        if any(i.rsplit(".", 1)[-1] in _SEARCH_TOOLS for i in imported) or any(
            i == "optuna" or i.startswith(("optuna.", "hyperopt", "ray.tune", "skopt")) for i in imported
        ):
            return  # hyperparameters are searched
        for call, short in self.estimators:
            self.report(
                "ML312",
                call,
                f"`{short}()` is trained with every hyperparameter left at its library default; state the "
                f"important ones explicitly (or tune them), so results are reviewable and stable across versions.",
            )
