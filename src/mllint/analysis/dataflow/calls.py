"""Calls and helper inlining: user-defined functions are analysed at the
call site (bounded depth and budget) and remembered for the language
server (`memo`)."""

from __future__ import annotations

import ast

import mllint.analysis.dataflow.memo as _memo
from mllint.analysis.dataflow.names import is_test_name
from mllint.analysis.dataflow.values import CONSTS, UNKNOWN, Obj, Val, join


class CallTransfer:
    """Mixin of `Analysis` (see `interpreter`)."""

    # -- calls ---------------------------------------------------------
    def call(self, node: ast.Call, env: dict[str, Val]) -> Val:
        func = node.func
        if isinstance(func, ast.Attribute):
            q = self.qual(func, env)
            if q is None or q == func.attr:
                recv = self.ev(func.value, env)
                return self.method(node, func.attr, recv, env)
            return self.function(node, q, env)
        if isinstance(func, ast.Name):
            if self._recs:
                _memo.func_read(self, func.id)
            if func.id in self.funcs and func.id not in self.imports and func.id not in env:
                return self.inline(node, self.funcs[func.id], env)
            if func.id in self.class_defs and func.id not in self.imports and func.id not in env and self.depth < self.MAX_DEPTH and self.estimator_like(func.id):
                return self.instantiate(node, func.id, env)
            v = env.get(func.id) or (self.module_env.get(func.id) if env is not self.module_env else None)
            if v is not None and v.kind == "obj" and v.obj is not None:
                # keras layer / model called on data
                return self.obj_method(node, "__call__", v.obj, env)
            q = self.qual(func, env) or func.id
            return self.function(node, q, env)
        self.ev(func, env)
        for a in node.args:
            self.ev(a, env)
        return UNKNOWN

    def estimator_like(self, cls: str) -> bool:
        """A class of the module that fits or transforms (a project
        preprocessor or model wrapper), not a dataset, a network or a
        config: only those are run method by method."""
        return any(self.class_method(cls, m) is not None for m in ("fit", "fit_transform", "transform", "predict"))

    def instantiate(self, node: ast.Call, cls: str, env: dict[str, Val]) -> Val:
        """`FeatureBuilder(cols)`: an instance of a class of the module, with
        its attributes; `__init__` and the methods called on it are run with
        `self` bound to it (`self.scaler.fit(X)` is a fit)."""
        obj = Obj(cls, "unknown", node)
        obj.attrs = {}
        me = Val(kind="obj", obj=obj)
        init = self.class_method(cls, "__init__")
        if init is not None:
            pos, kws = self.args(node, env)
            self.call_function(init, [me, *pos], kws, env)
        else:
            self.args(node, env)
        return me

    def args(self, node: ast.Call, env: dict[str, Val]) -> tuple[list[Val], dict[str, Val]]:
        # Plain loops: a comprehension costs a frame per call, and this runs for every call.
        ev = self.ev
        Starred = ast.Starred
        pos: list[Val] = []
        for a in node.args:
            pos.append(ev(a.value if a.__class__ is Starred else a, env))
        kws: dict[str, Val] = {}
        for kw in node.keywords:
            kws[kw.arg or "**"] = ev(kw.value, env)
        return pos, kws

    def inline(self, node: ast.Call, fn: ast.FunctionDef | ast.AsyncFunctionDef, env: dict[str, Val]) -> Val:
        pos, kws = self.args(node, env)
        self.called.add(fn.name)
        if self._recs:
            _memo.called(self, fn.name)
        return self.call_function(fn, pos, kws, env)

    def opaque(self, node: ast.AST, name: str) -> Val:
        """A value of unknown provenance, tracked as its own dataset."""
        test = is_test_name(name.lower())
        return Val(origins=frozenset({self.new_dataset(node, test, opaque=True)}), kind="data", opaque=True)

    def call_function(self, fn, pos: list[Val], kws: dict[str, Val], env: dict[str, Val], opaque_params: bool = False) -> Val:
        if self.depth >= self.MAX_DEPTH or fn.name in self.stack or (self.budget <= 0 and self.depth > 0) or (self.budget <= 0 and pos):
            out = UNKNOWN
            for v in pos:
                if v.origins:
                    out = join(out, self.data_like(v))
            return out
        plain = not any(v.origins or v.obj is not None or v.kind in ("tuple", "folds", "index", "obj", "const") for v in (*pos, *kws.values()))
        if plain and id(fn) in self.plain_returns:
            if self._recs:
                _memo.plain_hit(self, id(fn))
            return self.plain_returns[id(fn)]
        if plain and self._recs:
            _memo.plain_miss(self, id(fn))
        rec = None
        if self.memo and _memo.eligible(self):
            out = _memo.replay(self, fn, pos, kws, opaque_params)
            if out is not None:
                return out
            rec = _memo.start(self, fn, pos, kws, opaque_params)
        local: dict[str, Val] = {}
        params = [*fn.args.posonlyargs, *fn.args.args]
        for i, p in enumerate(params):
            if i < len(pos):
                local[p.arg] = pos[i]
        for p in [*params, *fn.args.kwonlyargs]:
            if p.arg in kws:
                local[p.arg] = kws[p.arg]
        if opaque_params:
            for p in [*params, *fn.args.kwonlyargs]:
                if p.arg not in local and p.arg not in ("self", "cls"):
                    local[p.arg] = self.opaque(p, p.arg)
        else:
            # flags left to their defaults (`def prep(df, standardize=False)`)
            defaults = [*([None] * (len(params) - len(fn.args.defaults))), *fn.args.defaults]
            for p, d in (*zip(params, defaults), *zip(fn.args.kwonlyargs, fn.args.kw_defaults)):
                if d is not None and p.arg not in local and d.__class__ is ast.Constant and (d.value is True or d.value is False or d.value is None):
                    local[p.arg] = CONSTS[d.value]
        self.depth += 1
        self.stack.append(fn.name)
        try:
            self.collect_funcs(fn.body)
            self.block(fn.body, local)
        except BaseException:
            if rec is not None:
                _memo.abandon(self, rec)
            raise
        finally:
            self.depth -= 1
            self.stack.pop()
        ret = local.get("<return>", UNKNOWN)
        if plain:
            self.plain_returns[id(fn)] = ret
            if self._recs:
                _memo.plain_add(self, id(fn), ret)
        if rec is not None:
            _memo.finish(self, rec, ret)
        return ret
