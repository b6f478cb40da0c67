"""ML206 decisions: time order. A random split (or unshuffled K-fold) of
rows known to be in time order, overlapping windows split at random, a
chronological split the wrong way round, and features built from later rows
(look-ahead). Mixin of `decisions.LeakageFacts`."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from mllint.analysis.dataflow.names import mentioned
from mllint.core.astwalk import subtree

if TYPE_CHECKING:
    from mllint.analysis.dataflow.events import Fit, Split


class TimeDecisions:
    """Mixin of `LeakageFacts` (`self.a` is the analysis)."""

    def time_ordered(self, ds: int) -> object | None:
        """The node that shows these rows are in time order: a datetime index,
        or a kept sort by a date column together with features built from
        neighbouring rows (a sort alone, or a timestamp feature, is not)."""
        info = self.a.datasets.get(ds)  # type: ignore[attr-defined]
        if info is not None and info["time"] and (info["time_how"] == "index" or info["serial"]):
            return info["time"]
        return None

    def decide_time(self, add, splits: list[Split], model_fits: list[Fit]) -> None:
        a = self.a  # type: ignore[attr-defined]
        for s in splits:
            if s.kind == "folds" and not s.random and s.splitter not in (None, "TimeSeriesSplit"):
                t = next((self.time_ordered(ds) for ds, _ in s.inputs if self.time_ordered(ds)), None)
                if t is not None:
                    add("ML206", s.node, "unshuffled-kfold", split=s, extra={"time_line": t, "splitter": s.splitter})
                continue
            if s.order and (s.order.get("train") == ">" or s.order.get("test") == "<"):
                add("ML206", s.node, "reversed", split=s)
                continue
            if s.kind == "slice" and s.named:
                t = next((self.time_ordered(ds) for ds, _ in s.inputs if self.time_ordered(ds)), None)
                if t is not None:
                    add("ML206", s.node, "reversed", split=s, extra={"time_line": t})
                continue
            if not s.random or s.kind == "draw" or (s.kind == "sample" and not s.complement):
                continue  # (a random sample nothing is compared with is no split: a plot)
            if any((a.datasets.get(ds) or {}).get("windows") for ds, _ in s.inputs):
                add("ML206", s.node, "shuffled-windows", split=s)
                continue
            for ds, _ in s.inputs:
                t = self.time_ordered(ds)
                if t is not None:
                    add("ML206", s.node, "shuffled-temporal", split=s, extra={"time_line": t})
                    break
        for cv in a.cvs:
            if cv.shuffle or cv.splitter in (None, "TimeSeriesSplit"):
                continue
            t = next((self.time_ordered(ds) for ds, _ in cv.x.origins if self.time_ordered(ds)), None)
            if t is not None:
                add("ML206", cv.node, "unshuffled-kfold", cv=cv, extra={"time_line": t, "splitter": cv.splitter})
        # look-ahead features: columns built from later rows, not the target
        fitted = {ds for f in model_fits for ds, _ in f.origins}
        targets = None
        for ds, info in a.datasets.items():
            if not info["lookahead"] or ds not in fitted:
                continue
            if targets is None:
                targets = self.target_columns(model_fits)
            for col, node, how in info["lookahead"]:
                if how in ("bfill", "interpolate") and self.time_ordered(ds) is None:
                    continue  # filling gaps from neighbouring rows of unordered rows: not about time
                if col not in targets:
                    add("ML206", node, "look-ahead", extra={"col": col, "how": how})

    def target_columns(self, model_fits: list[Fit]) -> set[str]:
        """Columns used as the target: the `y` of model fits and splits
        (`fit(X, df["y"])`, `y = df["y"]`, `df.pop("y")`, followed through
        `y_train = y.iloc[:cut]` and tuple assignments)."""
        a = self.a  # type: ignore[attr-defined]
        cols: set[str] = set()
        names: set[str] = set()

        def take(expr: ast.AST | None) -> None:
            if expr is None:
                return
            for n in ast.walk(expr):  # y = np.array(df["Prediction"]), df[["target"]]
                sl = n.slice if isinstance(n, ast.Subscript) else None
                if isinstance(sl, ast.Constant) and isinstance(sl.value, str):
                    cols.add(sl.value)
                elif isinstance(sl, ast.List) and len(sl.elts) == 1 and isinstance(sl.elts[0], ast.Constant) and isinstance(sl.elts[0].value, str):
                    cols.add(sl.elts[0].value)
            names.update(mentioned(expr))

        for f in model_fits:
            node = f.node
            if isinstance(node, ast.Call):
                take(node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg in ("y", "label")), None))
        for sp in a.splits.values():
            node = sp.node
            if sp.kind == "tts" and isinstance(node, ast.Call) and len(node.args) > 1:
                for arg in node.args[1:]:
                    take(arg)
        assigns: list[tuple[ast.AST, ast.AST]] = []
        for st in subtree(a.tree):
            if isinstance(st, ast.Assign) and len(st.targets) == 1:
                tg, val = st.targets[0], st.value
                if isinstance(tg, (ast.Tuple, ast.List)) and isinstance(val, (ast.Tuple, ast.List)) and len(tg.elts) == len(val.elts):
                    assigns.extend(zip(tg.elts, val.elts))
                else:
                    assigns.append((tg, val))
        for _ in range(4):  # y_train <- y.iloc[:cut] <- df["y"]
            grown = False
            for tg, val in assigns:
                if isinstance(tg, ast.Name) and tg.id in names:
                    before = len(names) + len(cols)
                    take(val)
                    for n in ast.walk(val):
                        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "pop" and n.args:
                            if isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str):
                                cols.add(n.args[0].value)
                    grown = grown or len(names) + len(cols) > before
            if not grown:
                break
        return cols
