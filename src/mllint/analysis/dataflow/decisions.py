"""Deciding: the rules ML201-ML209 as decisions over the recorded events,
producing raw findings the rules format into messages."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mllint.analysis.dataflow.events import CVUse, Fit, Resample, Split, Use
from mllint.analysis.dataflow.names import flow_closure, mentioned, name_flows, selected_names
from mllint.analysis.dataflow.tables import (
    BINARY_DEFAULT_METRICS,
    EMPTY,
    ENCODER_CLASSES,
    HELD_OUT_NAME,
    LABEL_CLASSES,
    PREDICT_METHODS,
    STATELESS_CLASSES,
    SWEEP_RECEIVER_METHODS,
    THRESHOLD_METRICS,
    VAL_NAME,
)
from mllint.analysis.dataflow.temporal import TimeDecisions
from mllint.analysis.dataflow.values import heldout
from mllint.core.astwalk import subtree

if TYPE_CHECKING:
    from mllint.analysis.dataflow.interpreter import Analysis


# ---------------------------------------------------------------------------
# deciding: raw findings for the rules
# ---------------------------------------------------------------------------


def _bound_le(a: str, b: str) -> bool:
    """Is slice bound `a` at most `b` (both `ast.dump`s)? Integer constants are
    compared; `cut` is taken to be at most `cut + gap`; other pairs are
    assumed ordered as a train/test split writes them."""
    ia, ib = _dump_int(a), _dump_int(b)
    if ia is not None and ib is not None:
        return ia <= ib
    return True


def _dump_int(d: str) -> int | None:
    m = re.fullmatch(r"Constant\(value=(-?\d+)\)", d)
    return int(m.group(1)) if m else None


@dataclass
class RawFinding:
    code: str
    node: ast.AST
    kind: str
    fit: Fit | None = None
    split: Split | None = None
    use: Use | None = None
    resample: Resample | None = None
    cv: CVUse | None = None
    extra: dict = field(default_factory=dict)


class LeakageFacts(TimeDecisions):
    """The outcome of the analysis of one module."""

    def __init__(self, analysis: Analysis | None):
        self.a = analysis
        self.findings: list[RawFinding] = []
        self._labelled: set | None = None
        if analysis is not None:
            self.decide()

    def of(self, code: str) -> list[RawFinding]:
        return [f for f in self.findings if f.code == code]

    # -- helpers ---------------------------------------------------------
    def split_of_key(self, key) -> Split | None:
        return self.a.splits.get(key) if self.a else None

    def heldout_keys(self, origins) -> set:
        keys = set()
        for _, part in origins:
            for k, side in part:
                if side == "test" and k != "file":
                    keys.add(k)
        return keys

    def model_fits(self) -> list[Fit]:
        return [f for f in self.a.fits.values() if f.obj is not None and f.obj.effective_kind() in ("model", "search")]

    def decide(self) -> None:
        a = self.a
        assert a is not None
        fits = sorted(a.fits.values(), key=lambda f: f.seq)
        model_fits = self.model_fits()
        reached: set[int] = set()
        for mf in model_fits:
            reached |= mf.fitted_by
        for u in a.uses:
            if u.obj is not None and u.obj.effective_kind() in ("model", "search") or u.is_eval:
                reached |= u.fitted_by
        for cv in a.cvs:
            reached |= cv.x.fitted_by
        splits = sorted(a.splits.values(), key=lambda s: s.seq)
        # which split's held-out rows are used, and by what
        held_uses: dict[object, list[Use]] = {}
        for u in a.uses:
            for k in self.heldout_keys(u.origins):
                held_uses.setdefault(k, []).append(u)
        # Indexes so each question below looks only at the events it can
        # match (scanning every split per fit, every use per model fit, was
        # quadratic in a long module): splits by the rows they split, uses by
        # the fit they apply and by the model fits whose predictions they
        # score. Each list keeps the order of the scan it replaces.
        splits_by_ds: dict[object, list[tuple]] = {}
        for sp in splits:
            for o in sp.inputs:
                splits_by_ds.setdefault(o[0], []).append((o, sp))
        uses_by_fit: dict[int, list[Use]] = {}
        uses_by_model_fit: dict[int, list[Use]] = {}
        for u in a.uses:
            if u.fit is not None:
                uses_by_fit.setdefault(id(u.fit), []).append(u)
            for mf in {id(m): m for m in u.model_fits}.values():
                uses_by_model_fit.setdefault(id(mf), []).append(u)
        done: set[tuple] = set()

        def add(code: str, node: ast.AST, kind: str, **kw) -> None:
            k = (code, getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
            if k in done:
                return
            done.add(k)
            self.findings.append(RawFinding(code, node, kind, **kw))

        # ML201: preprocessing fitted on rows that reach held-out data
        for f in fits:
            is_tr = f.stat or (f.obj is not None and f.obj.effective_kind() == "transformer" and f.obj.kind != "stateless" and f.obj.cls not in STATELESS_CLASSES)
            if not is_tr or not f.origins:
                continue
            if f.obj is not None and f.obj.kind == "resampler":
                continue
            inside = {o for o in f.origins if not heldout(o)}
            held = {o for o in f.origins if self.held(o)}
            # rows of an unlabelled test file: fitting on them is transductive
            transductive = len(inside) + len(held) < len(f.origins)
            if held and f.id in reached and (inside or any(f.id in mf.fitted_by and not any(heldout(o) for o in mf.origins) for mf in model_fits)):
                add("ML201", f.node, "fit-includes-test", fit=f, extra={"held": held})
                continue
            if f.stat and f.id not in reached:
                continue
            # splits of rows the fit saw (also a nested split of a part of them:
            # fitted on X, only the validation part of X_rest is scored)
            sharing = {
                id(sp): sp for o in inside for si, sp in splits_by_ds.get(o[0], ())
                if self.overlaps(o, (si[0], si[1] + ((sp.key, "test"),)))  # the fit saw rows this split holds out
            }
            for s in sorted(sharing.values(), key=lambda sp: sp.seq):
                uses = held_uses.get(s.key, [])
                if not uses:
                    continue
                test_use = None
                for u in uses:
                    if f.id in u.fitted_by and u.seq > f.seq:
                        test_use = u
                        break
                if test_use is None and f.seq < s.seq:
                    # fitted before the split, and a model trained on the split's
                    # training side saw what it learned
                    for mf in model_fits:
                        if f.id in mf.fitted_by and any((s.key, "train") in part for _, part in mf.origins):
                            test_use = uses[0]
                            break
                if test_use is not None:
                    add("ML201", f.node, "before-split", fit=f, split=s, use=test_use, extra={"transductive": transductive})
                    break

        # ML202: a model evaluated on rows it was trained on
        self.decide_overlap(add, model_fits, uses_by_fit, uses_by_model_fit)

        # ML203: oversampling before a split / before cross-validation
        reported: set[object] = set()  # one finding per split (X and y duplicated together)
        for r in sorted(a.resamples.values(), key=lambda r: r.seq):
            for s in splits:
                if r.id in s.resampled:
                    if s.key not in reported:
                        reported.add(s.key)
                        add("ML203", r.node, "resample-before-split", resample=r, split=s)
                    break
            else:
                for cv in a.cvs:
                    if r.id in cv.x.resampled:
                        add("ML203", r.node, "resample-before-cv", resample=r, cv=cv)
                        break

        # ML205: transformer fitted on the rows a cross-validation then splits
        fit_by_id = {f.id: f for f in a.fits.values()}
        for cv in a.cvs:
            for fid in sorted(cv.x.fitted_by):
                f = fit_by_id.get(fid)
                if f is None or f.stat or not (f.origins & cv.x.origins):
                    continue  # statistics (df.fillna(df.mean())) before CV: too common and too mild
                if f.obj is not None and (f.obj.cls in ENCODER_CLASSES or f.obj.cls in STATELESS_CLASSES or f.obj.effective_kind() != "transformer"):
                    continue
                add("ML205", cv.node, "transform-before-cv", fit=f, cv=cv)
                break

        # ML206: time order (random split, unshuffled K-fold, reversed split, look-ahead)
        self.decide_time(add, splits, model_fits)

        self.decide_selection(add)
        self.decide_eval_facts(add)
        self.decide_refit(add, fits, reached)

    # -- rows ------------------------------------------------------------
    def labelled_files(self) -> set:
        """Datasets read from a test file that something evaluates on: a test
        file nothing scores is an unlabelled competition file (fitting an
        unsupervised transform on it too is transductive, not a leak)."""
        if self._labelled is None:
            out: set = set()
            for u in self.a.uses:
                if u.is_eval:
                    for ds, part in u.origins:
                        if part and part[0] == ("file", "test"):
                            out.add(ds)
            self._labelled = out
        return self._labelled

    def held(self, origin: tuple) -> bool:
        """Rows held out from training: a part of a split, or a test file
        that is scored."""
        ds, part = origin
        for k, side in part:
            if side == "test" and (k != "file" or ds in self.labelled_files()):
                return True
        return False

    @staticmethod
    def overlaps(a: tuple, b: tuple) -> bool:
        """Can two row origins share rows? Same dataset, and no split puts
        them on different sides (`X_train` and `X_test` of one split never do;
        `X` and `X_test` do). Positional slices of one array are blocks:
        `X[:cut]` and `X[cut + gap:]` do not share rows."""
        if a[0] != b[0]:
            return False
        sides = dict(a[1])
        for k, s in b[1]:
            sa = sides.get(k)
            if sa is not None and sa != s and "train" in (sa, s):
                return False
        blocks_a = [(k, s) for k, s in a[1] if k.__class__ is tuple and k[0] == "slice"]
        if blocks_a:
            for kb, sb in b[1]:
                if kb.__class__ is not tuple or kb[0] != "slice":
                    continue
                for ka, sa in blocks_a:
                    if ka[1] != kb[1] or ka == kb:
                        continue
                    if sa == "train" and sb != "train" and _bound_le(ka[2], kb[2]):
                        return False  # a before A <= B, b from B on
                    if sb == "train" and sa != "train" and _bound_le(kb[2], ka[2]):
                        return False
        return True

    def shared_held_rows(self, fit_origins: frozenset, use_origins: frozenset) -> tuple | None:
        """(fit origin, use origin, the split key that holds the rows out) for
        held-out rows a use evaluates that the fit trained on, or None."""
        for ou in sorted(use_origins, key=str):
            if not self.held(ou):
                continue
            for of in sorted(fit_origins, key=str):
                if self.overlaps(of, ou):
                    fit_sides = dict(of[1])
                    key = next((k for k, s in ou[1] if s == "test" and fit_sides.get(k) != "test"), None)
                    if key is None:
                        key = next((k for k, s in ou[1] if s == "test"), None)
                    return of, ou, key
        return None

    def superset(self, fit_origins: frozenset, use_origins: frozenset) -> tuple | None:
        """An evaluation on rows that contain the training part of a split and
        more (`fit(X[:800])` ... `score(X, y)`): (fit origin, use origin, the
        split key), or None."""
        a = self.a
        for ou in sorted(use_origins, key=str):
            if self.held(ou) or any(side == "train" for _, side in ou[1]):
                continue  # (scoring a larger part of the training rows is a training score)
            keys_u = {k for k, _ in ou[1]}
            for of in sorted(fit_origins, key=str):
                if self.held(of) or not self.overlaps(of, ou):
                    continue
                for k, side in of[1]:
                    sp = a.splits.get(k)
                    if side == "train" and k not in keys_u and sp is not None and sp.kind != "folds":
                        return of, ou, k
        return None

    def guesses(self, *origins: tuple) -> list[str]:
        """What a finding about these rows rests on beyond certain facts: a
        part of a split told apart by its name, rows returned by a helper we
        cannot see into."""
        a = self.a
        out: list[str] = []
        for ds, part in origins:
            info = a.datasets.get(ds)
            if info is not None and info["opaque"]:
                out.append("opaque")
            for k, _ in part:
                sp = a.splits.get(k)
                if sp is not None and (sp.named or sp.kind in ("mask", "sample")):
                    out.append("named")
        return sorted(set(out))

    def decide_overlap(self, add, model_fits, uses_by_fit, uses_by_model_fit) -> None:
        """ML202: a model fitted on rows and then evaluated on held-out rows
        among them (fitted on the whole data and scored on its test split,
        trained on test rows, validation rows concatenated back). A final
        refit on every row after the evaluation is fine: only evaluations of
        that fit count. Predictions on an unlabelled test file are not
        evaluations."""
        for f in sorted(model_fits, key=lambda f: f.seq):
            if not f.origins:
                continue
            uses = list(uses_by_fit.get(id(f), ())) + list(uses_by_model_fit.get(id(f), ()))
            for u in sorted(uses, key=lambda u: u.seq):
                if not (u.is_eval or u.method in PREDICT_METHODS):
                    continue
                hit = self.shared_held_rows(f.origins, u.origins)
                if hit is None:
                    sup = self.superset(f.origins, u.origins) if u.is_eval else None
                    if sup is not None:
                        of, ou, key = sup
                        add("ML202", f.node, "eval-superset", fit=f, split=self.split_of_key(key), use=u, extra={"guesses": self.guesses(of, ou)})
                        break
                    continue
                of, ou, key = hit
                kind = "fit-on-test" if self.held(of) else "fit-on-whole"
                split = self.split_of_key(key) if key != "file" else None
                add("ML202", f.node, kind, fit=f, split=split, use=u, extra={"guesses": self.guesses(of, ou)})
                break

    def decide_refit(self, add, fits: list[Fit], reached: set) -> None:
        """ML209: a transformer fitted on the training part and fitted again
        on held-out rows of the same split (the same object, another object
        built at the same place - a helper called once per split - or
        another of the same class), whose output reaches an evaluation."""
        learned = [
            f for f in fits
            if f.obj is not None and f.origins and not f.stat
            and (f.obj.kind == "transformer" or f.obj.cls in LABEL_CLASSES)
            and f.obj.cls not in STATELESS_CLASSES - LABEL_CLASSES
        ]
        for f in learned:
            if f.id not in reached or not all(self.held(o) for o in f.origins):
                continue
            for g in learned:
                if g is f or g.obj.cls != f.obj.cls or not g.origins or any(self.held(o) for o in g.origins):
                    continue
                key = self.sibling_key(g.origins, f.origins)
                if key is not None:
                    split = self.split_of_key(key) if key != "file" else None
                    add("ML209", f.node, "refit-on-held-out", fit=f, split=split, extra={"train_fit": g})
                    break

    def sibling_key(self, train_origins: frozenset, held_origins: frozenset) -> object | None:
        """The split that puts these rows on opposite sides (training vs
        held-out part), "file" for a labelled test file next to training
        rows, or None."""
        for oh in sorted(held_origins, key=str):
            for ot in sorted(train_origins, key=str):
                if oh[0] != ot[0]:
                    if oh[1][:1] == (("file", "test"),) and not ot[1][:1] == (("file", "test"),):
                        return "file"
                    continue
                sides = dict(ot[1])
                for k, s in oh[1]:
                    if s == "test" and sides.get(k) == "train":
                        return k
        return None

    def selection_keys(self, origins: frozenset) -> list:
        """The held-out parts an evaluation scores that are meant as a test
        set: parts of a split other than cross-validation folds, unless every
        name they went to reads like validation data (`X_val`: meant for
        selection); a labelled test file is its own key."""
        a = self.a
        out = []
        for ds, part in origins:
            keys = [k for k, side in part if side == "test"]
            for k in keys:
                if k == "file":
                    if len(keys) == 1 and ds in self.labelled_files():
                        out.append(("file", ds))
                    continue
                s = a.splits.get(k)
                if s is None or s.kind == "folds":
                    continue
                names = s.test_names
                if names and all(VAL_NAME.search(n) for n in names):
                    continue
                out.append(k)
        return out

    @staticmethod
    def loop_names(loop: ast.AST) -> frozenset:
        if isinstance(loop, (ast.For, ast.AsyncFor)):
            return mentioned(loop.target)
        gens = getattr(loop, "generators", None)
        if gens:
            return frozenset().union(*(mentioned(g.target) for g in gens))
        return EMPTY

    @staticmethod
    def y_true_arg(u: Use) -> ast.AST | None:
        node = u.node
        if not isinstance(node, ast.Call):
            return None
        i, kw = (1, "y") if u.obj is not None else (0, "y_true")
        if len(node.args) > i:
            return node.args[i]
        return next((k.value for k in node.keywords if k.arg == kw), None)

    def sweep(self, u: Use) -> str | None:
        """Is this evaluation inside a loop that varies a setting of what it
        scores: a hyperparameter of the model built in the loop
        (`DecisionTreeRegressor(max_depth=depth)`), a transformer's
        (`SelectKBest(k=k)`), or the evaluation itself (a threshold
        `f1_score(y_te, proba >= t)`)? (A loop over models, a loop over target
        columns or over seeds is not a sweep.)"""
        loop = u.in_loop
        if loop is None:
            return None
        names = set(self.loop_names(loop))
        if not names:
            return None
        body = loop.body if isinstance(loop, (ast.For, ast.AsyncFor)) else [loop]
        for st in body:
            for n in subtree(st):
                # loop variables that are the models themselves: a loop over models
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in names and n.attr in SWEEP_RECEIVER_METHODS:
                    names.discard(n.value.id)
        if not names or not names.isdisjoint(mentioned(self.y_true_arg(u))):
            return None
        if isinstance(u.node, ast.Call) and not names.isdisjoint(mentioned(u.node)):
            return "threshold"
        for st in body:
            for n in subtree(st):
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "set_params" and not names.isdisjoint(mentioned(n)):
                    return "hyperparameter"
        for f in self.a.fits.values():
            if f.in_loop is not loop or f.obj is None or not isinstance(f.obj.node, ast.Call) or f.obj.node is f.node:
                continue
            ctor = f.obj.node
            cf = ctor.func
            if not (cf.attr if isinstance(cf, ast.Attribute) else cf.id if isinstance(cf, ast.Name) else "a")[:1].isupper():
                continue  # an object known from its use (`model.fit(...)`), not built by a constructor
            args = [*ctor.args, *(k.value for k in ctor.keywords if k.arg not in ("random_state", "seed", "verbose", "n_jobs"))]
            if any(not names.isdisjoint(mentioned(a)) for a in args):
                return "hyperparameter" if f.obj.effective_kind() in ("model", "search") else "preprocessing setting"
        return None

    def decide_selection(self, add) -> None:
        """ML204: the test split chooses among models or settings: early
        stopping / a best checkpoint on it before it reports the score, a
        sweep (hyperparameter, threshold, feature count) scored on it, even
        when a person picks by reading printed scores, or several models
        scored on it and the best kept (a comparison or ranking of the scores,
        followed through containers)."""
        a = self.a
        by_split: dict[object, list[Use]] = {}
        for u in a.uses:
            if u.is_eval:
                for k in self.selection_keys(u.origins):
                    by_split.setdefault(k, []).append(u)
        flows = closure = None
        # In split order: the keys come from sets of origins, whose order
        # changes with the hash seed, and the first split reported at a node wins.
        order = sorted(by_split, key=lambda k: (a.splits[k].seq if k in a.splits else 1 << 62, repr(k)))
        for k in order:
            uses = by_split[k]
            split = a.splits.get(k)
            uses.sort(key=lambda u: u.seq)
            found = False
            for u in uses:
                if u.method == "early-stopping" and any(v.seq > u.seq and v.method != "early-stopping" for v in uses):
                    later = next(v for v in uses if v.seq > u.seq and v.method != "early-stopping")
                    add("ML204", u.node, "early-stopping", use=u, split=split, extra={"eval": later})
                    found = True
                    break
            if found:
                continue
            for u in uses:
                what = self.sweep(u) if u.method != "early-stopping" else None
                if what is not None:
                    add("ML204", u.node, "sweep", use=u, split=split, extra={"what": what, "loop": u.in_loop})
                    found = True
                    break
            if found:
                continue
            # several fitted models (or one model refitted in the loop that scores it)
            fits: set[int] = set()
            looped = False
            for u in uses:
                for f in ([u.fit] if u.fit else []) + list(u.model_fits):
                    fits.add(f.id)
                    looped = looped or (f.in_loop is not None and u.in_loop is f.in_loop)
            objs = {id(u.obj) for u in uses if u.obj is not None} | {id(m) for u in uses for m in u.models}
            if not (looped or len(fits) >= 2 or len(objs) >= 2):
                continue
            if closure is None:
                closure = a.selected if a.selected is not None else selected_names(a.tree)  # once, not once per split
                flows = name_flows(a.tree)
            targets = flow_closure(frozenset().union(*(u.targets for u in uses)), flows)
            if not closure.isdisjoint(targets):
                first = uses[0]
                add("ML204", first.node, "multi-test", use=first, split=split)

    def decide_eval_facts(self, add) -> None:
        a = self.a
        evals = [u for u in a.uses if u.is_eval]
        # ML207: the only metrics are on the training data
        cv_nodes = {id(c.node) for c in a.cvs}
        metric_evals = [u for u in evals if u.metric not in (None,) and id(u.node) not in cv_nodes]
        def held_out_names() -> bool:
            # a walk of the whole module: only asked when the cheaper tests pass
            return any(isinstance(n, ast.Name) and HELD_OUT_NAME.search(n.id) for n in ast.walk(a.tree))

        if metric_evals and not a.cvs and not a.splits and not held_out_names() and not any(f.has_validation for f in a.fits.values()):
            clearly = True
            for u in metric_evals:
                fits = [u.fit] if u.fit else list(u.model_fits)
                if not fits or not u.origins or any(heldout(o) or a.datasets[o[0]]["opaque"] for o in u.origins):
                    clearly = False
                    break
                if not all(u.origins <= f.origins for f in fits if f is not None):
                    clearly = False
                    break
            if clearly:
                first = min(metric_evals, key=lambda u: u.seq)
                add("ML207", first.node, "train-only-eval", use=first)
        # ML208: only threshold-dependent metrics
        thr = [u for u in evals if u.metric in THRESHOLD_METRICS]
        # Binary evidence: f1/precision/recall with the default average="binary"
        # raise on multi-class targets, so their use says the task is binary.
        binary = [
            u for u in thr
            if u.metric in BINARY_DEFAULT_METRICS and isinstance(u.node, ast.Call)
            and all(kw.arg != "average" or (isinstance(kw.value, ast.Constant) and kw.value.value == "binary") for kw in u.node.keywords)
        ]
        if thr and binary:
            src = a.text.lower()
            free = re.search(r"auc|log_loss|logloss|average_precision|brier|predict_proba|decision_function|precision_recall_curve|roc_curve|neg_log|cross_entropy|crossentropy", src)
            multi = re.search(r"macro|micro|weighted|softmax|multi_class|n_classes|num_classes|multiclass|sparse_categorical", src)
            regression = re.search(r"mean_squared_error|r2_score|mean_absolute_error|regressor\b|\blinearregression\(|\bridge\(|\blasso\(|\bsvr\(", src)
            if not free and not multi and not regression:
                first = min(thr, key=lambda u: u.seq)
                add("ML208", first.node, "threshold-only", use=first, extra={"metrics": sorted({u.metric for u in thr})})
