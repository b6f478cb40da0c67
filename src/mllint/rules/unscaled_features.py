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
    }
)


@register
class UnscaledScaleSensitiveModel(Rule):
    codes = ("ML311",)
    nodes = (ast.Call, ast.BinOp)
    call_names = SCALERS | SCALE_SENSITIVE  # `sklearn.<short>` only

    def __init__(self, ctx):
        super().__init__(ctx)
        self.candidates: list[tuple[ast.Call, str]] = []
        self.scaled = False

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
            return
        q = call_qual(sem, node)  # type: ignore[arg-type]
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

    def finish(self) -> None:
        if self.scaled or not self.candidates:
            return
        imported = self.ctx.semantic.imported
        if any(i.rsplit(".", 1)[-1] in SCALERS for i in imported):
            return
        for call, short in self.candidates:
            self.report(
                "ML311",
                call,
                f"`{short}` is sensitive to feature scale but nothing in this module scales the features "
                f"(no StandardScaler/MinMaxScaler/...); put a scaler before it, e.g. "
                f"`make_pipeline(StandardScaler(), {short}(...))`.",
            )
