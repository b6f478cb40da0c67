"""ML201-ML209: data leakage and evaluation validity (built on mllint.analysis.dataflow).

All nine codes share one provenance analysis per module
(`mllint.analysis.dataflow.analyse`), run once from `finish()` and cached as the
module fact "leakage". This module only turns its raw findings into
messages that name both ends of the leak, with lines (or cell and line in a
notebook).
"""

from __future__ import annotations

import ast

from mllint.analysis.dataflow import LeakageFacts, RawFinding, analyse
from mllint.analysis.dataflow.names import SelectedNames
from mllint.analysis.dataflow.tables import SUPERVISED_CLASSES, VOCABULARY_CLASSES
from mllint.core.astwalk import node_memo, subtree
from mllint.core.severity import Severity
from mllint.rules.base import Rule, register

LEAKAGE_CODES = ("ML201", "ML202", "ML203", "ML204", "ML205", "ML206", "ML207", "ML208", "ML209")


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
            out = getattr(self, "_msg_" + raw.code)(raw)
            message, severity = out if isinstance(out, tuple) else (out, None)
            # (the catalogue's severity unless the finding is less certain or milder)
            self.ctx.report(raw.code, raw.node, message, None, severity)

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
            "draw": "the random index draw",
            "validation_split": "Keras' `validation_split`",
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
    def _msg_ML201(self, raw: RawFinding):
        f = raw.fit
        verb = "computed" if f.stat else "fitted"
        cls = f.obj.cls if f.obj is not None else None
        # learning categories or a vocabulary leaks little; unsupervised
        # statistics of an unlabelled competition file are transductive
        mild = cls in VOCABULARY_CLASSES or (raw.extra.get("transductive") and cls not in SUPERVISED_CLASSES)
        severity = Severity.MEDIUM if mild else None
        fix = "use `.transform` (not `fit`/`fit_transform`) on the held-out rows, or put it in a Pipeline"
        if raw.kind == "fit-includes-test":
            return (
                f"{self.fitted(f)} is {verb} ({self.where(f.node)}) on rows that include held-out test rows, and "
                f"what it learned reaches the training data: fit it on the training rows only, then {fix}.",
                severity,
            )
        if raw.extra.get("transductive"):
            return (
                f"{self.fitted(f)} is {verb} ({self.where(f.node)}) on the training rows together with the "
                f"unlabelled test file (transductive, not a leak against that file), but {self.split_desc(raw.split)} "
                f"then carves a validation part out of those training rows, and what it learned reaches "
                f"{self.test_name(raw)}: split first and fit it on the rows that stay in training "
                f"(and the test file if you wish), then {fix}.",
                severity,
            )
        order = "before" if f.seq < raw.split.seq else "on the whole data, not the training part of"
        return (
            f"{self.fitted(f)} is {verb} ({self.where(f.node)}) {order} {self.split_desc(raw.split)}; "
            f"what it learned reaches the held-out data {self.test_name(raw)}. Split first, fit it on the "
            f"training part only and {fix}.",
            severity,
        )

    def guess_note(self, raw: RawFinding) -> str:
        notes = []
        for g in raw.extra.get("guesses", ()):
            if g == "named":
                notes.append("which rows are held out is read from the variable names of a boolean-mask or positional split")
            elif g == "opaque":
                notes.append("the rows come from a helper this analysis cannot see into")
        return ("; this rests on a guess (" + "; ".join(notes) + ")") if notes else ""

    def _msg_ML202(self, raw: RawFinding):
        f = raw.fit
        what = f"`{self.text(f.arg, 40)}`" if f.arg is not None else "its data"
        call = self.text(f.node, 50)
        guess = self.guess_note(raw)
        severity = Severity.HIGH if guess else None
        source = self.split_desc(raw.split) if raw.split is not None else "the labelled test file"
        if raw.kind == "eval-superset":
            return (
                f"`{call}` ({self.where(f.node)}) trains `{f.cls}` on {what}, the training part of "
                f"{source}, and the model is then evaluated on {self.test_name(raw)}, which contains those "
                f"training rows as well as the held-out ones: the score mixes memorised and unseen rows"
                f"{guess}. Evaluate on the held-out part only.",
                Severity.HIGH,
            )
        if raw.kind == "fit-on-test":
            return (
                f"`{call}` ({self.where(f.node)}) trains `{f.cls}` on {what}, which contains held-out rows of "
                f"{source}, and the model is then evaluated on {self.test_name(raw)}: the evaluation "
                f"rows are in the training data, so the score is meaningless{guess}. Train on the training "
                "part only; refit on all rows only after the evaluation, for the final model.",
                severity,
            )
        return (
            f"`{call}` ({self.where(f.node)}) trains `{f.cls}` on {what}, which still contains the rows "
            f"{source} holds out, and the model is then evaluated on {self.test_name(raw)}: the evaluation "
            f"rows are in the training data{guess}. Fit it on the training part only (refit on all rows only "
            "after the evaluation, for the final model).",
            severity,
        )

    def _msg_ML203(self, raw: RawFinding) -> str:
        r = raw.resample
        what = f"`{self.text(r.node, 50)}` ({self.where(r.node)}): {self.resampling(r)}"
        if raw.kind == "resample-before-cv":
            return (
                f"{what}, before `{raw.cv.what}` ({self.where(raw.cv.node)}): copies of the same rows land in "
                "training and validation folds. Resample inside the folds (an imblearn Pipeline)."
            )
        return (
            f"{what}, before {self.split_desc(raw.split)}: copies of the same rows land on both sides of "
            "the split. Split first and resample (or augment) only the training part (or use an imblearn "
            "Pipeline)."
        )

    def _msg_ML204(self, raw: RawFinding) -> str:
        test = self.test_name(raw)
        split = self.split_desc(raw.split) if raw.split is not None else "the labelled test file"
        fix = (
            "Select on a validation split carved from the training rows (or with cross-validation) and "
            "score the test split once, for the chosen model."
        )
        if raw.kind == "early-stopping":
            later = raw.extra["eval"]
            what = f"`{raw.use.obj.cls}`" if raw.use.obj is not None else "the model"
            return (
                f"{what} stops early / keeps its best epoch on the test data {test} of {split}, and the same "
                f"split then reports the score (`{self.text(later.node, 40)}`, {self.where(later.node)}): the "
                f"number of rounds or epochs was chosen on it, so the score is optimistic. {fix}"
            )
        if raw.kind == "sweep":
            loop = raw.extra["loop"]
            names = ", ".join(sorted(f"`{n}`" for n in self.loop_target_names(loop))) or "a loop variable"
            return (
                f"each {raw.extra['what']} of the loop over {names} ({self.where(loop)}) is scored on the test "
                f"data {test} of {split}: choosing among them by these scores (in code or by reading them) "
                f"makes the chosen one's test score optimistic. {fix}"
            )
        return (
            f"the test data {test} from {split} scores several models or settings and the best one is "
            f"kept: its score is then optimistically biased. {fix}"
        )

    @staticmethod
    def loop_target_names(loop: ast.AST) -> set[str]:
        targets = [loop.target] if isinstance(loop, (ast.For, ast.AsyncFor)) else [g.target for g in getattr(loop, "generators", ())]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}

    def _msg_ML205(self, raw: RawFinding) -> str:
        f = raw.fit
        return (
            f"`{raw.cv.what}` receives `{self.text(raw.cv.x_node, 40) if raw.cv.x_node is not None else 'data'}`, "
            f"already transformed by {self.fitted(f)} fitted on the same rows ({self.where(f.node)}): every "
            "validation fold was seen by it. Pass a Pipeline that contains the transformer instead."
        )

    def _msg_ML206(self, raw: RawFinding) -> str:
        fix_split = "Split by time (`shuffle=False`, a date cut-off, or `TimeSeriesSplit`)."
        if raw.kind == "shuffled-windows":
            return (
                f"{self.split_desc(raw.split)} splits overlapping windows of one sequence at random: "
                "neighbouring windows share most of their values, so test windows are near copies of "
                "training windows. Split the sequence by position first (a cut-off with a gap of one "
                "window), then cut windows within each part."
            )
        if raw.kind == "look-ahead":
            how = {
                "shift": "a negative `shift` reads later rows",
                "center": "a centred rolling window averages later rows in",
                "bfill": "back-filling copies later values into earlier rows",
                "interpolate": "interpolation draws on later values",
            }[raw.extra["how"]]
            return (
                f"`{self.text(raw.node, 50)}` ({self.where(raw.node)}) builds the feature "
                f"`{raw.extra['col']}` from the future ({how}): when the model predicts, those values are not "
                "known yet, so its score is optimistic. Use only past rows (`shift(k)` with k >= 1, a "
                "trailing window, forward fill), or use such a column only as the target."
            )
        if raw.kind == "reversed":
            return (
                f"{self.split_desc(raw.split)} trains on the later rows and tests on the earlier ones (the "
                "training part comes after the test part in time): the model learns from the future of what it "
                "is scored on. Train on the earlier block and test on the later one."
            )
        if raw.kind == "unshuffled-kfold":
            where = self.split_desc(raw.split) if raw.split is not None else f"`{raw.cv.what}` ({self.where(raw.cv.node)})"
            return (
                f"{where} uses `{raw.extra['splitter']}` folds on rows in time order (dates parsed / sorted / "
                f"indexed at {self.where(raw.extra['time_line'])}): every fold but the last trains on rows after "
                "the ones it is scored on. Use `TimeSeriesSplit` (or another forward-chaining split)."
            )
        return (
            f"{self.split_desc(raw.split)} shuffles rows of time-ordered data (dates parsed / sorted / indexed "
            f"at {self.where(raw.extra['time_line'])}): the model trains on the future. {fix_split}"
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
            f"only threshold-dependent metrics ({metrics}; first `{self.text(raw.use.node, 40)}`, "
            f"{self.where(raw.use.node)}) are reported for this binary task; add a threshold-free one such as "
            "`roc_auc_score`, `average_precision_score` or `log_loss` on the same held-out data."
        )

    def _msg_ML209(self, raw: RawFinding) -> str:
        f = raw.fit
        g = raw.extra["train_fit"]
        call = f.node.func.attr if isinstance(f.node.func, ast.Attribute) else f.method
        held = f"`{self.text(f.arg, 40)}`" if f.arg is not None else "the held-out rows"
        source = self.split_desc(raw.split) if raw.split is not None else "the labelled test file"
        same = "again" if g.obj is f.obj else "anew (a new one, built for each part)"
        return (
            f"`{self.text(f.node, 50)}` ({self.where(f.node)}) fits `{f.cls}` {same} on {held}, the held-out "
            f"part of {source}, after it was fitted on the training part ({self.where(g.node)}): the "
            f"held-out rows are transformed with their own statistics, so the score is not the one "
            f"production will see. Use `.transform` on the held-out rows with the transformer fitted on "
            f"the training part (not `.{call}`), or put it in a Pipeline."
        )
