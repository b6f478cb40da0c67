"""Abstract values of the leakage analysis and their lattice: `Val` (where
rows come from, which fits shaped them), `Obj` (a fittable object shared by
its aliases), `join`/`flat`/`with_side`."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mllint.analysis.dataflow.tables import EMPTY, PREDICT_METHODS, SCORE_METHODS

if TYPE_CHECKING:
    from mllint.analysis.dataflow.events import Fit, Split


class Obj:
    """A fitted-or-fittable object: estimator, transformer, resampler, splitter."""

    __slots__ = ("cls", "kind", "node", "fits", "methods", "shuffle", "final", "parts", "cv", "attrs")

    def __init__(self, cls: str, kind: str, node: ast.AST | None, shuffle: bool = False):
        self.cls = cls
        self.kind = kind  # transformer | model | resampler | splitter | search | pipeline | unknown
        self.node = node
        self.fits: list[Fit] = []
        self.methods: set[str] = set()
        self.shuffle = shuffle
        self.final: str | None = None  # for pipelines: kind of the last step
        self.parts: list[Obj] = []  # already-built objects embedded in this one (model layers)
        self.cv: Obj | None = None  # a search's `cv=` splitter
        self.attrs: dict | None = None  # an instance of a class of the module: its attributes

    def part_fits(self, depth: int = 0) -> frozenset:
        """The latest fit of every embedded object (an adapted layer inside a model)."""
        out: set[int] = set()
        for p in self.parts:
            if p.fits:
                out.add(p.fits[-1].id)
            if depth < 3:
                out |= p.part_fits(depth + 1)
        return frozenset(out)

    def effective_kind(self) -> str:
        k = self.kind
        if k == "pipeline":
            return self.final or "model"
        if k == "unknown":
            if self.methods & PREDICT_METHODS or self.methods & SCORE_METHODS:
                return "model"
            if self.methods & {"transform", "fit_transform", "fit_on_texts", "adapt"}:
                return "transformer"
            return "model"
        return k


@dataclass(frozen=True)
class Val:
    origins: frozenset = EMPTY
    fitted_by: frozenset = EMPTY
    resampled: frozenset = EMPTY
    kind: str = "unknown"  # data | obj | tuple | index | folds | mask | stat | str | const | unknown
    obj: Obj | None = None
    elts: tuple | None = None
    index: tuple | None = None  # (split key, side) for fold indices
    split: object | None = None  # Split that produced this value directly
    side: str | None = None
    pred: Obj | None = None
    text: str | None = None
    random: bool = False  # masks drawn at random
    augmented: bool = False  # flipped / rotated / noised copies of rows
    # Rows of unknown provenance (a parameter, the result of a project helper
    # we cannot see): tracked like a dataset; may turn out to be a model.
    opaque: bool = False

    @property
    def is_data(self) -> bool:
        return bool(self.origins) or self.kind == "data"


def _val_init(self: Val, **kw) -> None:
    # The pass builds thousands of values; the generated frozen __init__
    # sets all fourteen fields through object.__setattr__. Only the given
    # fields are stored: the others read the class-level defaults, so
    # equality, hashing and repr are those of the dataclass. Keyword-only,
    # and field names are not validated per call (a typo would go unnoticed).
    if kw:
        self.__dict__.update(kw)


Val.__init__ = _val_init  # type: ignore[method-assign]
UNKNOWN = Val()
# `True`, `False`, `None`: flags whose value decides an `if` (kind "const").
CONSTS = {c: Val(kind="const", text=repr(c)) for c in (True, False, None)}


def heldout(origin: tuple) -> bool:
    return any(side == "test" for _, side in origin[1])


def join(a: Val, b: Val) -> Val:
    if a is b:
        return a
    if a.kind == "const" or b.kind == "const":
        # a flag set differently on two paths is no longer known
        if a.kind == b.kind:
            return a if a.text == b.text else UNKNOWN
        return b if a.kind == "const" else a
    if a.kind == "unknown" and not a.origins:
        return b
    if b.kind == "unknown" and not b.origins:
        return a
    return Val(
        origins=a.origins | b.origins,
        fitted_by=a.fitted_by | b.fitted_by,
        resampled=a.resampled | b.resampled,
        kind=a.kind if a.kind == b.kind else ("data" if (a.origins or b.origins) else a.kind),
        obj=a.obj or b.obj,
        elts=a.elts if a.elts is not None else b.elts,
        index=a.index or b.index,
        pred=a.pred or b.pred,
        text=a.text or b.text,
        random=a.random or b.random,
        opaque=a.opaque or b.opaque,
    )


def flat(v: Val) -> Val:
    """A tuple/list value seen as data: the union of its elements."""
    if v.elts is None:
        return v
    out = Val(origins=v.origins, fitted_by=v.fitted_by, resampled=v.resampled, kind="data" if v.origins else "unknown")
    for e in v.elts:
        if isinstance(e, Val):
            e = flat(e)
            out = Val(
                origins=out.origins | e.origins,
                fitted_by=out.fitted_by | e.fitted_by,
                resampled=out.resampled | e.resampled,
                kind="data" if (out.origins or e.origins) else out.kind,
                pred=out.pred or e.pred,
            )
    return out


def with_side(v: Val, key: object, side: str, split: "Split | None" = None) -> Val:
    origins = frozenset((ds, part + ((key, side),)) for ds, part in v.origins)
    return Val(origins=origins, fitted_by=v.fitted_by, resampled=v.resampled, kind="data", split=split, side=side, pred=v.pred)
