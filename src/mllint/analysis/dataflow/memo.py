"""Reusing the analysis of a function call between analyses of an edited file.

The provenance analysis interprets a module from its entry points, inlining
calls. In the language server the module is analysed again after every
keystroke, and nearly every call analyses exactly as last time: same
function text, same inputs. The incremental parser keeps the node objects
of unchanged top-level statements, so a call's analysis can be remembered
on its function's node and replayed.

A call is remembered (`start` ... `finish`) when it is made from an entry
point or from the function an entry point runs (depth 0 or 1), outside any
loop, and the module-level values it can read hold no object of the
analysis (an estimator, a split: things whose identity matters). While it
runs, reading anything that existed before it (a fit, split, dataset or
helper result created earlier, a deduplicated use) *taints* the recording:
tainted calls are not remembered. Otherwise its effects (the events it
added, the datasets, helper results, names and counters) are copied at its
end. An object argument is remembered by its content and must not be
changed or kept by the call.

A remembered call is replayed (`replay`) only when everything it depended
on is the same: the function and every function it looked up (the same
node objects: lines may have moved, and the analysis keeps nodes, never
line numbers), the imports, the module-level values, the
arguments, the caller's stack and target name, the counters that number
events and datasets (so replayed numbers are the ones a fresh analysis
would give), enough work budget, and none of the keys it would create
exists already. Replaying inserts fresh copies of its effects. Otherwise
the call is analysed as usual (and remembered again).

The result is exactly that of analysing the call: `tests/test_leakage_memo.py`
compares findings with and without memory on random edit sequences.
"""

from __future__ import annotations

import ast
import dataclasses
from typing import TYPE_CHECKING, Any

from mllint.analysis.dataflow.events import CVUse, Fit, Resample, Split, Use
from mllint.analysis.dataflow.values import UNKNOWN, Obj, Val

if TYPE_CHECKING:
    from mllint.analysis.dataflow.interpreter import Analysis

MEMO_ATTR = "_mllint_leak_memo"
MAX_KEYS = 4  # remembered calls per function (callers, stacks)


class _Taint(Exception):
    pass


class Recording:
    """One call being recorded."""

    __slots__ = (
        "fn", "key", "entry_seq", "entry_ids", "entry_budget", "uses_len", "cvs_len", "funcs", "module_env",
        "imports", "args", "arg_objs", "tainted", "seen_added", "plain_added", "plain_missed", "called",
        "funcs_writes", "funcs_read",
    )

    def __init__(self, a: "Analysis", fn: ast.AST, key: tuple, args: tuple, arg_objs: list):
        self.fn = fn
        self.key = key
        self.entry_seq = a.seq
        self.entry_ids = a.n_ids
        self.entry_budget = a.budget
        self.uses_len = len(a.uses)
        self.cvs_len = len(a.cvs)
        self.funcs_read: dict[str, ast.AST | None] = {}  # name -> the function node it found (None: none)
        self.module_env = dict(a.module_env)
        self.imports = a.imports
        self.args = args
        self.arg_objs = arg_objs  # [(obj, state)]
        self.tainted = False
        self.seen_added: set = set()
        self.plain_added: dict[int, Val] = {}
        self.plain_missed: set[int] = set()
        self.called: set[str] = set()
        self.funcs_writes: list[tuple[str, ast.AST, bool]] = []  # (name, node, setdefault?)
        self.funcs = None


class Memo:
    """What `finish` keeps: the dependencies and a copy of the effects."""

    __slots__ = (
        "funcs", "module_env", "imports", "args", "consumed", "exit_seq", "exit_ids", "cur_targets",
        "target_hint", "effects",
    )


def _funcs_match(a: "Analysis", read: dict[str, ast.AST | None]) -> bool:
    funcs = a.funcs
    return all(funcs.get(name) is node for name, node in read.items())


def _closed(v: Any, depth: int = 0) -> bool:
    """A value holding no object whose identity matters (estimator, split)."""
    if not isinstance(v, Val):
        return True
    if v.obj is not None or v.pred is not None or v.split is not None:
        return False
    if v.elts is not None:
        return depth < 8 and all(_closed(e, depth + 1) for e in v.elts)
    return True


def _obj_state(o: Obj) -> tuple | None:
    """The content of a simple object argument (None: not simple)."""
    if o.fits or o.parts or o.cv is not None or o.attrs:
        return None
    return (o.cls, o.kind, o.node, o.shuffle, o.final, frozenset(o.methods))


def _args_signature(pos: list[Val], kws: dict[str, Val]) -> tuple[tuple, list] | None:
    sig: list = []
    objs: list = []
    for v in (*pos, *(kws[k] for k in sorted(kws))):
        if _closed(v):
            sig.append(("v", v))
            continue
        if v.obj is None or v.pred is not None or v.split is not None or v.elts is not None:
            return None
        state = _obj_state(v.obj)
        if state is None:
            return None
        rest = {k: x for k, x in v.__dict__.items() if k != "obj"}
        sig.append(("o", state, tuple(sorted(rest.items(), key=lambda kv: kv[0]))))
        objs.append((v.obj, state))
    sig.append(("kw", tuple(sorted(kws))))
    return tuple(sig), objs


def _key(a: "Analysis", fn: ast.AST, opaque_params: bool) -> tuple:
    return (a.depth, tuple(a.stack), opaque_params, a.target_hint, a.seq, a.n_ids)


def eligible(a: "Analysis") -> bool:
    return not a.loops and a.depth <= 1 and a.budget > 0


def replay(a: "Analysis", fn: ast.AST, pos: list[Val], kws: dict[str, Val], opaque_params: bool) -> Val | None:
    """The call's result with its effects applied, if remembered and still valid."""
    memos = fn.__dict__.get(MEMO_ATTR)
    if not memos:
        return None
    m: Memo | None = memos.get(_key(a, fn, opaque_params))
    if m is None:
        return None
    sig = _args_signature(pos, kws)
    if sig is None or sig[0] != m.args or m.imports != a.imports or a.budget - m.consumed <= 0:
        return None
    if m.module_env != a.module_env or not _funcs_match(a, m.funcs):
        return None
    e = m.effects
    if (
        any(k in a.fits for k, _ in e["fits"])
        or any(k in a.splits for k, _ in e["splits"])
        or any(k in a.resamples for k, _ in e["resamples"])
        or not e["seen"].isdisjoint(a.seen_uses)
        or any(k in a.plain_returns for k in e["plain"])
        or any(k in a.plain_returns for k in e["plain_missed"])
    ):
        return None
    fx = _Cloner(set()).clone(e)
    for k, f in fx["fits"]:
        a.fits[k] = f
    for k, s in fx["splits"]:
        a.splits[k] = s
    for k, r in fx["resamples"]:
        a.resamples[k] = r
    a.uses.extend(fx["uses"])
    a.cvs.extend(fx["cvs"])
    a.datasets.update(fx["datasets"])
    a.seen_uses.update(e["seen"])
    a.plain_returns.update(fx["plain"])
    a.called.update(e["called"])
    for name, node, default in e["funcs_writes"]:
        if default:
            a.funcs.setdefault(name, node)
        else:
            a.funcs[name] = node
    for r in a._recs:  # calls being recorded around this one
        for name, read in m.funcs.items():
            r.funcs_read.setdefault(name, read)
        r.seen_added |= e["seen"]
        r.plain_added.update(fx["plain"])
        r.plain_missed |= e["plain_missed"]
        r.called |= e["called"]
        r.funcs_writes.extend(e["funcs_writes"])
    a.seq, a.n_ids = m.exit_seq, m.exit_ids
    a.budget -= m.consumed
    a.cur_targets, a.target_hint = m.cur_targets, m.target_hint
    a.memo_hits += 1
    return fx["ret"]


def start(a: "Analysis", fn: ast.AST, pos: list[Val], kws: dict[str, Val], opaque_params: bool) -> Recording | None:
    if not all(_closed(v) for v in a.module_env.values()):
        return None
    sig = _args_signature(pos, kws)
    if sig is None:
        return None
    rec = Recording(a, fn, _key(a, fn, opaque_params), sig[0], sig[1])
    a._recs.append(rec)
    return rec


def abandon(a: "Analysis", rec: Recording) -> None:
    if a._recs and a._recs[-1] is rec:
        a._recs.pop()


def finish(a: "Analysis", rec: Recording, ret: Val) -> None:
    abandon(a, rec)
    if rec.tainted or a.budget <= 0:
        return
    if any(_obj_state(o) != state for o, state in rec.arg_objs):
        return  # the call changed an object it was given
    effects = {
        "fits": [(k, f) for k, f in a.fits.items() if f.seq > rec.entry_seq],
        "splits": [(k, s) for k, s in a.splits.items() if s.seq > rec.entry_seq],
        "resamples": [(k, r) for k, r in a.resamples.items() if r.seq > rec.entry_seq],
        "uses": a.uses[rec.uses_len :],
        "cvs": a.cvs[rec.cvs_len :],
        "datasets": {ds: info for ds, info in a.datasets.items() if ds > rec.entry_ids},
        "plain": dict(rec.plain_added),
        "ret": ret,
    }
    try:
        effects = _Cloner({id(o) for o, _ in rec.arg_objs}).clone(effects)
    except _Taint:
        return  # an argument object is kept in the effects: its identity cannot be replayed
    effects["seen"] = frozenset(rec.seen_added)
    effects["plain_missed"] = frozenset(rec.plain_missed)
    effects["called"] = frozenset(rec.called)
    effects["funcs_writes"] = tuple(rec.funcs_writes)
    m = Memo()
    m.funcs, m.module_env, m.imports, m.args = rec.funcs_read, rec.module_env, rec.imports, rec.args
    m.consumed = rec.entry_budget - a.budget
    m.exit_seq, m.exit_ids = a.seq, a.n_ids
    m.cur_targets, m.target_hint = a.cur_targets, a.target_hint
    m.effects = effects
    memos = rec.fn.__dict__.setdefault(MEMO_ATTR, {})
    if rec.key not in memos and len(memos) >= MAX_KEYS:
        memos.pop(next(iter(memos)))
    memos[rec.key] = m


# -- hooks called by the analysis while calls are being recorded ----------------


def touch_event(a: "Analysis", seq: int) -> None:
    """An existing fit/split/resample (created at tick `seq`) is read or changed."""
    for r in a._recs:
        if seq <= r.entry_seq:
            r.tainted = True


def taint_all(a: "Analysis") -> None:
    """Something the memo does not track was read (a method of a class of
    the module inlined): calls being recorded are not remembered."""
    for r in a._recs:
        r.tainted = True


def touch_dataset(a: "Analysis", ds: int) -> None:
    for r in a._recs:
        if ds <= r.entry_ids:
            r.tainted = True


def seen_hit(a: "Analysis", key: tuple) -> None:
    """A use is dropped as already seen: taints unless the call saw it first."""
    _taint_unless_own(a, "seen_added", key)


def seen_add(a: "Analysis", key: tuple) -> None:
    for r in a._recs:
        r.seen_added.add(key)


def plain_hit(a: "Analysis", fid: int) -> None:
    """A helper's remembered result is reused: taints unless the call made it."""
    _taint_unless_own(a, "plain_added", fid)


def _taint_unless_own(a: "Analysis", added: str, key: object) -> None:
    for r in a._recs:
        if key not in getattr(r, added):
            r.tainted = True


def plain_miss(a: "Analysis", fid: int) -> None:
    for r in a._recs:
        r.plain_missed.add(fid)


def plain_add(a: "Analysis", fid: int, ret: Val) -> None:
    for r in a._recs:
        r.plain_added[fid] = ret


def called(a: "Analysis", name: str) -> None:
    for r in a._recs:
        r.called.add(name)


def func_read(a: "Analysis", name: str) -> None:
    """The module's function `name` is looked up (to inline a call)."""
    node = a.funcs.get(name)
    for r in a._recs:
        if name not in r.funcs_read:
            r.funcs_read[name] = node


def func_write(a: "Analysis", name: str, node: ast.AST, default: bool) -> None:
    for r in a._recs:
        r.funcs_writes.append((name, node, default))


# -- copying effects -------------------------------------------------------------


def _ast_types() -> frozenset:
    out: set[type] = set()
    stack = [ast.AST]
    while stack:
        t = stack.pop()
        out.add(t)
        stack.extend(t.__subclasses__())
    return frozenset(out)


# Shared, not copied: immutable values and AST nodes.
_SHARED = frozenset({str, int, float, bool, frozenset, type(None)}) | _ast_types()
_EVENT_FIELDS = {t: tuple(f.name for f in dataclasses.fields(t)) for t in (Fit, Split, Resample, Use, CVUse)}


class _Cloner:
    """A deep copy of the analysis' own objects; AST nodes and immutable
    values are shared. Meeting one of `forbidden` (argument objects)
    raises `_Taint`."""

    def __init__(self, forbidden: set[int]):
        self.forbidden = forbidden
        self.memo: dict[int, Any] = {id(UNKNOWN): UNKNOWN}

    def clone(self, x: Any) -> Any:
        t = type(x)
        if t in _SHARED:
            return x
        k = id(x)
        done = self.memo.get(k)
        if done is not None:
            return done
        clone = self.clone
        shared = _SHARED
        if t is Val:
            d = x.__dict__
            if all(type(v) in shared for v in d.values()):
                out: Any = x  # frozen and holding nothing mutable: share it
            else:
                out = Val(**{f: v if type(v) in shared else clone(v) for f, v in d.items()})
        elif t is tuple:
            if all(type(v) in shared for v in x):
                return x
            out = tuple(v if type(v) in shared else clone(v) for v in x)
        elif t is list:
            out = []
            self.memo[k] = out
            out.extend(v if type(v) in shared else clone(v) for v in x)
            return out
        elif t in _EVENT_FIELDS:
            out = t.__new__(t)
            self.memo[k] = out
            d = out.__dict__
            for name, v in x.__dict__.items():
                d[name] = v if type(v) in shared else clone(v)
            return out
        elif t is Obj:
            if k in self.forbidden:
                raise _Taint
            out = Obj.__new__(Obj)
            self.memo[k] = out
            for slot in Obj.__slots__:
                v = getattr(x, slot)
                setattr(out, slot, v if type(v) in shared else clone(v))
            return out
        elif t is dict:
            out = {}
            self.memo[k] = out
            for key, v in x.items():
                out[key if type(key) in shared else clone(key)] = v if type(v) in shared else clone(v)
            return out
        elif t is set:
            out = {v if type(v) in shared else clone(v) for v in x}
        else:  # pragma: no cover - a type the analysis does not make
            raise _Taint
        self.memo[k] = out
        return out
