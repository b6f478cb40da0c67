"""Recording events: fits, splits, resamplings and uses (applications and
evaluations) as the pass meets them, with the memo's taint bookkeeping."""

from __future__ import annotations

import ast

import mllint.analysis.dataflow.memo as _memo
from mllint.analysis.dataflow.events import Fit, Resample, Split, Use
from mllint.analysis.dataflow.tables import EMPTY, EVAL_SET_KWARGS
from mllint.analysis.dataflow.values import Obj, Val, flat


class EventRecorder:
    """Mixin of `Analysis` (see `interpreter`)."""

    def split_event(self, key: object, node: ast.AST, kind: str, base: Val, random: bool) -> Split:
        sp = self.splits.get(key)
        if sp is None:
            sp = Split(self.new_id(), key, self.tick(), node, kind, base.origins, base.resampled, random)
            self.splits[key] = sp
        else:
            if self._recs:
                _memo.touch_event(self, sp.seq)
            sp.random = sp.random or random
            sp.resampled = sp.resampled | base.resampled
        return sp

    def latest_fits(self, obj: Obj) -> frozenset:
        if not obj.fits:
            return EMPTY
        return frozenset({obj.fits[-1].id})

    def fit_event(self, node, obj, cls, data: Val, x: Val | None, arg, method, stat=False, has_validation=False) -> Fit:
        key = (id(node), data.origins)
        f = self.fits.get(key)
        if f is not None and self._recs:
            _memo.touch_event(self, f.seq)
        if f is None:
            f = Fit(self.new_id(), self.tick(), node, obj, cls, data.origins, data.fitted_by, data.resampled, arg, method, stat, self.loops[-1] if self.loops else None, has_validation)
            self.fits[key] = f
        else:
            f.fitted_by = f.fitted_by | data.fitted_by
            f.resampled = f.resampled | data.resampled
        if obj is not None:
            if obj.parts:
                f.fitted_by = f.fitted_by | obj.part_fits()
            if f in obj.fits:
                obj.fits.remove(f)
            obj.fits.append(f)
        return f

    def resample_event(self, node, what, v: Val) -> Resample:
        key = (id(node), v.origins)
        r = self.resamples.get(key)
        if r is not None and self._recs:
            _memo.touch_event(self, r.seq)
        if r is None:
            r = Resample(self.new_id(), self.tick(), node, what, v.origins)
            self.resamples[key] = r
        return r

    def record_use(self, node, obj, method, vals: list[Val], is_eval=False, metric=None, arg=None) -> None:
        origins = frozenset().union(*(flat(v).origins for v in vals)) if vals else EMPTY
        fitted = frozenset().union(*(flat(v).fitted_by for v in vals)) if vals else EMPTY
        models = tuple({id(v.pred): v.pred for v in vals if v.pred is not None}.values())
        if obj is not None and obj.parts:
            fitted = fitted | obj.part_fits()
        fit_seq = obj.fits[-1].id if obj is not None and obj.fits else None
        key = (id(node), origins, fit_seq)
        if key in self.seen_uses:
            if self._recs:
                _memo.seen_hit(self, key)
            return
        self.seen_uses.add(key)
        if self._recs:
            _memo.seen_add(self, key)
        u = Use(
            self.tick(), node, obj, method, origins, fitted, arg, is_eval, metric, models,
            self.loops[-1] if self.loops else None,
            fit=obj.fits[-1] if obj is not None and obj.fits else None,
            model_fits=tuple(m.fits[-1] for m in models if m.fits),
            targets=self.cur_targets,
        )
        self.uses.append(u)

    def early_stopping(self, node: ast.Call, obj: Obj, kws: dict[str, Val]) -> None:
        """`fit(..., eval_set=[(X_te, y_te)], early_stopping_rounds=50)`,
        `validation_data=(x_te, y_te)` with an `EarlyStopping` or a
        `ModelCheckpoint(save_best_only=True)` callback, `lgb.train(...,
        valid_sets=[...], callbacks=[lgb.early_stopping(50)])`: the number of
        rounds / the epoch kept is chosen on that data (recorded as a use, for
        ML204). Call after the fit event (the use belongs to that fit)."""
        for kw in node.keywords:
            if kw.arg in EVAL_SET_KWARGS and kw.arg in kws:
                break
        else:
            return
        ctor = obj.node if isinstance(obj.node, ast.Call) else None
        catboost_best = obj.cls.startswith("CatBoost") and not any(
            k.arg == "use_best_model" and isinstance(k.value, ast.Constant) and k.value.value is False
            for k in (*node.keywords, *(ctor.keywords if ctor is not None else ()))
        )  # CatBoost keeps the best iteration on eval_set by default
        if not (catboost_best or self.stops_early(node, kws) or (ctor is not None and any(k.arg == "early_stopping_rounds" for k in ctor.keywords))):
            return
        self.record_use(kw.value, obj, "early-stopping", [kws[kw.arg]], is_eval=True, metric="early stopping", arg=kw.value)

    def stops_early(self, node: ast.Call, kws: dict[str, Val]) -> bool:
        for kw in node.keywords:
            if kw.arg == "early_stopping_rounds":
                return not (isinstance(kw.value, ast.Constant) and kw.value.value is None)
        cb = kws.get("callbacks")
        objs = [e.obj for e in (cb.elts or ()) if isinstance(e, Val) and e.obj is not None] if cb is not None else []
        calls = []
        for kw in node.keywords:
            if kw.arg == "callbacks" and isinstance(kw.value, (ast.List, ast.Tuple)):
                calls = [e for e in kw.value.elts if isinstance(e, ast.Call)]
        for o in objs:
            if isinstance(o.node, ast.Call):
                calls.append(o.node)
        for c in calls:
            f = c.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in ("early_stopping", "EarlyStopping", "early_stop"):
                return True
            if name == "ModelCheckpoint" and any(k.arg == "save_best_only" and isinstance(k.value, ast.Constant) and k.value.value is True for k in c.keywords):
                return True
        return False
