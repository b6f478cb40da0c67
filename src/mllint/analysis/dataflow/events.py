"""The events the pass records: fits, splits, applications and evaluations
of fitted objects, resamplings, cross-validation calls. `decisions` turns
them into findings."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from mllint.analysis.dataflow.tables import EMPTY
from mllint.analysis.dataflow.values import Obj, Val


@dataclass
class Fit:
    id: int
    seq: int
    node: ast.AST  # the call
    obj: Obj | None  # None for statistics
    cls: str
    origins: frozenset
    fitted_by: frozenset
    resampled: frozenset
    arg: ast.AST | None  # the data argument
    method: str
    stat: bool = False
    in_loop: ast.AST | None = None
    has_validation: bool = False


@dataclass
class Split:
    id: int
    key: object
    seq: int
    node: ast.AST
    kind: str  # tts | random_split | folds | perm | slice | mask | sample
    inputs: frozenset = EMPTY
    resampled: frozenset = EMPTY
    random: bool = False
    train_names: list = field(default_factory=list)
    test_names: list = field(default_factory=list)
    # A part's side was decided by the name it is stored in (a boolean mask,
    # `X_valid, X_train = X[:n], X[n:]`): a finding resting on it is a guess.
    named: bool = False
    # Both parts exist (`sample` is a split only once `drop` takes the rest).
    complement: bool = False
    splitter: str | None = None  # the splitter class of cross-validation folds
    # a date-comparison mask split: which side holds the earlier rows ("<")
    order: dict = field(default_factory=dict)


@dataclass
class Use:
    """A fitted object (or a metric) applied to data."""

    seq: int
    node: ast.AST
    obj: Obj | None
    method: str
    origins: frozenset
    fitted_by: frozenset
    arg: ast.AST | None
    is_eval: bool = False
    metric: str | None = None
    models: tuple = ()
    in_loop: ast.AST | None = None
    fit: "Fit | None" = None  # the latest fit of `obj` when it was applied
    model_fits: tuple = ()  # latest fits of the models whose predictions a metric scores
    targets: frozenset = EMPTY  # names the statement stores the result in (`acc = ...`, `res[k] = ...`)


@dataclass
class Resample:
    id: int
    seq: int
    node: ast.AST
    what: str
    origins: frozenset


@dataclass
class CVUse:
    seq: int
    node: ast.AST
    what: str
    x: Val
    x_node: ast.AST | None
    # the folds: the splitter class ("KFold" for an int / the default) and
    # whether it shuffles (unshuffled K-fold on time-ordered rows, ML206)
    splitter: str | None = None
    shuffle: bool = False
