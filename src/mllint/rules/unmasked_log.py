"""ML307 unmasked-log: `log` of a probability that can be 0."""

from __future__ import annotations

import ast

from mllint.analysis.inference import call_qual
from mllint.analysis.training_facts import activation_of
from mllint.rules.base import Rule, register

# --- ML307 -------------------------------------------------------------------

_LOG_FUNCS = frozenset(
    {
        "torch.log",
        "torch.log2",
        "torch.log10",
        "numpy.log",
        "numpy.log2",
        "numpy.log10",
        "tensorflow.math.log",
        "tensorflow.log",
        "tensorflow.experimental.numpy.log",
    }
)
# ML307's call filter: the last names of `_LOG_FUNCS`, and the `.log()` method.
_LOG_CALL_NAMES = frozenset(q.rpartition(".")[2] for q in _LOG_FUNCS) | {"log"}
_SUM_FUNCS = frozenset({"sum", "numpy.sum", "torch.sum", "tensorflow.reduce_sum", "tensorflow.math.reduce_sum"})


def _probability(sem, expr: ast.AST | None, depth: int = 0) -> str | None:
    """A short description when `expr` is evidently a probability that can be 0."""
    if expr is None or depth > 3:
        return None
    act = activation_of(sem, expr)
    if act in ("softmax", "sigmoid"):
        return f"a {act} output"
    if isinstance(expr, ast.Subscript):  # probs[i, y]: still probabilities
        return _probability(sem, expr.value, depth + 1)
    if (
        isinstance(expr, ast.BinOp)
        and isinstance(expr.op, ast.Sub)
        and isinstance(expr.left, ast.Constant)
        and expr.left.value in (1, 1.0)
    ):  # 1 - p
        return _probability(sem, expr.right, depth + 1)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "predict_proba":
        return "predicted probabilities"
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
        den = expr.right
        if isinstance(den, ast.Call):
            q = sem.call_qualname(den)
            if q in _SUM_FUNCS or (isinstance(den.func, ast.Attribute) and den.func.attr == "sum"):
                return "a normalised ratio"
        return None
    if isinstance(expr, ast.Name):
        b = sem.lookup(expr.id)
        if b is not None and b.kind == "assign" and b.value is not None:
            return _probability(sem, b.value, depth + 1)
    return None


@register
class UnmaskedLog(Rule):
    codes = ("ML307",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = _LOG_CALL_NAMES

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        func = node.func
        q = call_qual(sem, node)
        if q in _LOG_FUNCS and node.args:
            arg = node.args[0]
            what = _probability(sem, arg)
            if what is None:
                return
            framework = q.split(".", 1)[0]
        elif isinstance(func, ast.Attribute) and func.attr == "log" and not node.args and (q is None or "()" in q):
            arg = func.value
            what = _probability(sem, arg)
            if what is None:
                return
            framework = "torch"
        else:
            return
        advice = {
            "numpy": "clip first (`np.clip(p, eps, 1)`) or add an epsilon (`p + eps`)",
            "tensorflow": "use `tf.nn.log_softmax`, or clip first (`tf.clip_by_value(p, eps, 1.0)`)",
        }.get(framework, "use `log_softmax`/`F.logsigmoid`, or clamp first (`torch.clamp(p, min=eps)`)")
        self.report(
            "ML307",
            node,
            f"`{self.ctx.segment(node)}` takes the log of {what} (`{self.ctx.segment(arg)}`), which can be exactly 0 "
            f"and gives -inf/NaN losses; {advice}.",
        )
