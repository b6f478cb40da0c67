"""ML2xx: data leakage and evaluation validity (built on mllint.analysis.dataflow).

All eight codes share one provenance analysis per module
(`mllint.analysis.dataflow.analyse`), run once from `finish()` and cached as the
module fact "leakage". This module only turns its raw findings into
messages that name both ends of the leak, with lines (or cell and line in a
notebook).
"""

from __future__ import annotations

import ast

from mllint.analysis.dataflow import LeakageFacts, RawFinding, analyse
from mllint.analysis.dataflow.names import SelectedNames
from mllint.core.astwalk import node_memo, subtree
from mllint.rules.base import Rule, register

LEAKAGE_CODES = ("ML201", "ML202", "ML203", "ML204", "ML205", "ML206", "ML207", "ML208")


def leakage_facts(ctx, selected: frozenset | None = None) -> LeakageFacts:
    """The module's leakage analysis, computed once per module (remembering
    calls between analyses when the module is re-analysed after each edit)."""
    return ctx.semantic.fact(  # type: ignore[return-value]
        "leakage",
        lambda: analyse(ctx.tree, ctx.source.text, selected, memo=ctx.incremental, assumed=dict(ctx.semantic.assumptions)),
    )


def _selected_by_statement(tree: ast.Module) -> frozenset:
    """`selected_names(tree)`, memoised per top-level statement node."""
    out: set[str] = set()
    for st in tree.body:
        out |= node_memo(st, "selected", None, lambda st=st: _selected_in(st))
    return frozenset(out)


def _selected_in(st: ast.stmt) -> frozenset:
    sel = SelectedNames()
    for node in subtree(st):
        sel.add(node)
    return frozenset(sel.names)


@register
class DataLeakage(Rule):
    codes = LEAKAGE_CODES
    # Only to collect, during the engine's walk, the compared / ranked names
    # the analysis needs (ML204), instead of it walking the module again.
    nodes = (ast.Compare, ast.Call)

    def __init__(self, ctx):
        super().__init__(ctx)
        self._selected = SelectedNames()
        self.visit = self._selected.add  # type: ignore[method-assign]  # no extra frame per node
        if ctx.incremental:
            # Re-analysed after every edit: the names come from a memo per
            # top-level statement instead, so this rule needs no walk.
            self.nodes = ()

    def finish(self) -> None:
        names = _selected_by_statement(self.ctx.tree) if self.ctx.incremental else frozenset(self._selected.names)
        facts = leakage_facts(self.ctx, names)
        for raw in facts.findings:
            if not self.enabled(raw.code):
                continue
            message = getattr(self, "_msg_" + raw.code)(raw)
            self.report(raw.code, raw.node, message)

    # -- formatting helpers ------------------------------------------------
    def where(self, node_or_line) -> str:
        line = node_or_line if isinstance(node_or_line, int) else getattr(node_or_line, "lineno", 0)
        loc = self.ctx.source.locate(line) if self.ctx.source.cells else None
        if loc is not None:
            return f"cell {loc[0]}, line {loc[1]}"
        return f"line {line}"

    def text(self, node: ast.AST | None, limit: int = 60) -> str:
        if node is None:
            return "?"
        s = " ".join(self.ctx.segment(node).split())
        return s if len(s) <= limit else s[: limit - 3] + "..."

    def split_desc(self, split) -> str:
        if split is None:
            return "a split"
        what = {
            "tts": "`train_test_split`",
            "random_split": "`random_split`",
            "perm": "the permutation-index split",
            "folds": "the cross-validation split",
            "slice": "the positional split",
            "mask": "the boolean-mask split",
            "sample": "the `sample`/`drop` split",
        }.get(split.kind, "the split")
        return f"{what} ({self.where(split.node)})"

    def test_name(self, raw: RawFinding) -> str:
        if raw.use is not None and raw.use.arg is not None:
            return f"`{self.text(raw.use.arg, 40)}` ({self.where(raw.use.node)})"
        s = raw.split
        if s is not None and s.test_names:
            return f"`{s.test_names[0]}`"
        return "the held-out part"

    def fitted(self, fit) -> str:
        if fit.stat:
            return f"the statistic `{self.text(fit.node, 40)}`"
        call = fit.node.func.attr if isinstance(fit.node.func, ast.Attribute) else fit.method
        if fit.arg is None:
            return f"`{fit.cls}` (`.{call}`)"
        return f"`{fit.cls}` (`.{call}` on `{self.text(fit.arg, 40)}`)"

    @staticmethod
    def resampling(r) -> str:
        if r.what == "augmentation":
            return "concatenating augmented copies of the rows with the rows"
        if r.what == "row duplication":
            return "concatenating the same rows more than once"
        return f"`{r.what}` oversamples"

    # -- messages -----------------------------------------------------------
    def _msg_ML201(self, raw: RawFinding) -> str:
        f = raw.fit
        verb = "computed" if f.stat else "fitted"
        if raw.kind == "fit-includes-test":
            return (
                f"{self.fitted(f)} is {verb} ({self.where(f.node)}) on rows that include test data, and what it "
                "learned reaches the training data: fit it on the training rows only, then transform the test rows."
            )
        order = "before" if f.seq < raw.split.seq else "on the whole data, not the training part of"
        return (
            f"{self.fitted(f)} is {verb} ({self.where(f.node)}) {order} {self.split_desc(raw.split)}; "
            f"what it learned reaches the held-out data {self.test_name(raw)}. Split first and fit it on the "
            "training part only (or put it in a Pipeline)."
        )

    def _msg_ML202(self, raw: RawFinding) -> str:
        f = raw.fit
        what = f"`{self.text(f.arg, 40)}`" if f.arg is not None else "its data"
        if raw.kind == "fit-on-test":
            source = self.split_desc(raw.split) if raw.split is not None else "the test set"
            return (
                f"`{f.cls}` is trained ({self.where(f.node)}) on {what}, which contains held-out rows of "
                f"{source}, and is then evaluated on {self.test_name(raw)}: the test data is in the training "
                "data, so the test score is meaningless."
            )
        return (
            f"`{f.cls}` is trained ({self.where(f.node)}) on {what}, which still contains the rows "
            f"{self.split_desc(raw.split)} holds out, and is then evaluated on {self.test_name(raw)}: "
            "fit it on the training part only."
        )

    def _msg_ML203(self, raw: RawFinding) -> str:
        r = raw.resample
        if raw.kind == "resample-before-cv":
            what = self.resampling(r)
            return (
                f"{what} ({self.where(r.node)}) before `{raw.cv.what}` ({self.where(raw.cv.node)}): "
                "copies of the same rows land in training and validation folds. Resample inside the folds "
                "(an imblearn Pipeline)."
            )
        what = self.resampling(r)
        return (
            f"{what} ({self.where(r.node)}) before {self.split_desc(raw.split)}: copies of the "
            "same rows land on both sides of the split. Split first and resample only the training part "
            "(or use an imblearn Pipeline)."
        )

    def _msg_ML204(self, raw: RawFinding) -> str:
        return (
            f"the test data {self.test_name(raw)} from {self.split_desc(raw.split)} scores several models or "
            "settings and the best one is kept: its score is then optimistically biased. Select on a "
            "validation split or with cross-validation and score the test set once, at the end."
        )

    def _msg_ML205(self, raw: RawFinding) -> str:
        f = raw.fit
        return (
            f"`{raw.cv.what}` receives `{self.text(raw.cv.x_node, 40) if raw.cv.x_node is not None else 'data'}`, "
            f"already transformed by {self.fitted(f)} fitted on the same rows ({self.where(f.node)}): every "
            "validation fold was seen by it. Pass a Pipeline that contains the transformer instead."
        )

    def _msg_ML206(self, raw: RawFinding) -> str:
        return (
            f"{self.split_desc(raw.split)} shuffles rows of time-ordered data (dates parsed / sorted / indexed "
            f"at {self.where(raw.extra['time_line'])}): the model trains on the future. Split by time "
            "(`shuffle=False`, a date cut-off, or `TimeSeriesSplit`)."
        )

    def _msg_ML207(self, raw: RawFinding) -> str:
        return (
            f"the only metric in this module, `{self.text(raw.use.node, 50)}` ({self.where(raw.use.node)}), "
            "is computed on the data the model was trained on: it measures memorisation, not generalisation. "
            "Evaluate on a held-out split or with cross-validation."
        )

    def _msg_ML208(self, raw: RawFinding) -> str:
        metrics = ", ".join(raw.extra.get("metrics", []))
        return (
            f"only threshold-dependent metrics ({metrics}) are reported; add a threshold-free one such as "
            "`roc_auc_score`, `average_precision_score` or `log_loss`."
        )
