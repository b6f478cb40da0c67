"""Provenance analysis: where a value's rows come from, and what saw them.

A forward abstract interpretation over one module's statements, in order (a
notebook is one module, cells joined). No fixpoint: loop bodies are visited
twice, both branches of an `if` are visited and joined, and calls of small
helper functions defined in the module are analysed at the call site.

Abstract values (`Val`) carry:

* `origins`: a set of `(dataset, part)` pairs. A dataset is a load site
  (`pd.read_csv`, `load_iris`, `make_classification`, ...). `part` is the
  lineage of splits the rows went through: `()` is the whole dataset, and
  each split appends `(split key, "train" | "test")`. A separate test file
  starts at `(("file", "test"),)`. Rows are *held out* when any step of their
  part is "test".
* `fitted_by`: the fit events (transformer fits, statistics such as `x.mean()`
  used to normalise) whose learned state shaped these values.
* `resampled`: oversampling / duplication events the rows went through.
* `obj`: for estimators, transformers, resamplers, splitters and pipelines, a
  mutable `Obj` shared by every alias.

The pass records events (fits, splits, applications of fitted objects,
evaluations, cross-validation calls) and `LeakageFacts.decide()` turns them
into raw findings for ML201-ML208; the rules only format messages.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import builtins

from mllint.core.astwalk import subtree
from mllint.analysis.dataflow.imports import ML_PACKAGES, import_map, resolve, uses_ml_packages

EMPTY: frozenset = frozenset()

# ---------------------------------------------------------------------------
# library knowledge
# ---------------------------------------------------------------------------

LOADER_FUNCS = frozenset(
    {
        "read_csv", "read_table", "read_excel", "read_parquet", "read_json", "read_feather",
        "read_sql", "read_sql_query", "read_pickle", "read_hdf", "read_orc", "read_fwf",
        "loadtxt", "genfromtxt", "fromfile", "load_dataset", "image_dataset_from_directory",
        "text_dataset_from_directory", "timeseries_dataset_from_array",
    }
)
LOADER_PACKAGES = ("pandas", "numpy", "polars", "datasets", "tensorflow", "keras", "seaborn")
SK_DATASETS = "sklearn.datasets."

TRANSFORMER_CLASSES = frozenset(
    {
        # scalers
        "StandardScaler", "MinMaxScaler", "RobustScaler", "MaxAbsScaler", "QuantileTransformer",
        "PowerTransformer", "KBinsDiscretizer", "SplineTransformer",
        # imputers
        "SimpleImputer", "KNNImputer", "IterativeImputer", "MissingIndicator",
        # encoders
        "OneHotEncoder", "OrdinalEncoder", "TargetEncoder", "CountEncoder", "WOEEncoder",
        "LeaveOneOutEncoder", "CatBoostEncoder", "BinaryEncoder", "HashingEncoder",
        "JamesSteinEncoder", "MEstimateEncoder",
        # selectors
        "SelectKBest", "SelectPercentile", "SelectFpr", "SelectFdr", "SelectFwe",
        "GenericUnivariateSelect", "VarianceThreshold", "RFE", "RFECV", "SelectFromModel",
        "SequentialFeatureSelector",
        # decomposition / manifold
        "PCA", "IncrementalPCA", "KernelPCA", "SparsePCA", "TruncatedSVD", "NMF", "FastICA",
        "FactorAnalysis", "LatentDirichletAllocation", "Isomap", "LocallyLinearEmbedding",
        "RandomTreesEmbedding", "Nystroem", "UMAP",
        # text
        "TfidfVectorizer", "CountVectorizer", "TfidfTransformer", "DictVectorizer", "Tokenizer",
        "TextVectorization", "Normalization", "StringLookup", "IntegerLookup", "Discretization",
        "CategoryEncoding",
        # images
        "ImageDataGenerator",
        # composite
        "ColumnTransformer", "FeatureUnion",
    }
)
# Fitted, but learn nothing about the rows' distribution worth calling a leak.
STATELESS_CLASSES = frozenset(
    {
        "FunctionTransformer", "PolynomialFeatures", "Binarizer", "Normalizer", "HashingVectorizer",
        "LabelEncoder", "LabelBinarizer", "MultiLabelBinarizer", "SplineTransformer",
    }
)
# Encoders learn categories only: a leak before a split (ML201), too mild to
# report for cross-validation (ML205).
ENCODER_CLASSES = frozenset(
    {
        "OneHotEncoder", "OrdinalEncoder", "DictVectorizer", "StringLookup", "IntegerLookup",
        "CategoryEncoding", "BinaryEncoder", "HashingEncoder", "CountVectorizer",
    }
)
OVERSAMPLER_CLASSES = frozenset(
    {
        "SMOTE", "ADASYN", "RandomOverSampler", "BorderlineSMOTE", "SVMSMOTE", "SMOTENC", "SMOTEN",
        "KMeansSMOTE", "SMOTETomek", "SMOTEENN",
    }
)
UNDERSAMPLER_CLASSES = frozenset(
    {
        "RandomUnderSampler", "NearMiss", "TomekLinks", "EditedNearestNeighbours", "ClusterCentroids",
        "CondensedNearestNeighbour", "OneSidedSelection", "InstanceHardnessThreshold",
    }
)
SPLITTER_CLASSES = frozenset(
    {
        "KFold", "StratifiedKFold", "GroupKFold", "StratifiedGroupKFold", "TimeSeriesSplit",
        "ShuffleSplit", "StratifiedShuffleSplit", "GroupShuffleSplit", "RepeatedKFold",
        "RepeatedStratifiedKFold", "LeaveOneOut", "LeavePOut", "LeaveOneGroupOut", "PredefinedSplit",
    }
)
RANDOM_SPLITTERS = frozenset(
    {"ShuffleSplit", "StratifiedShuffleSplit", "GroupShuffleSplit", "RepeatedKFold", "RepeatedStratifiedKFold"}
)
SEARCH_CLASSES = frozenset(
    {
        "GridSearchCV", "RandomizedSearchCV", "HalvingGridSearchCV", "HalvingRandomSearchCV",
        "BayesSearchCV", "RFECV", "LogisticRegressionCV", "RidgeCV", "LassoCV", "ElasticNetCV",
    }
)
PIPELINE_FUNCS = frozenset({"Pipeline", "make_pipeline"})
COLUMN_FUNCS = frozenset({"ColumnTransformer", "make_column_transformer", "FeatureUnion", "make_union"})
CV_FUNCS = frozenset(
    {
        "cross_val_score", "cross_validate", "cross_val_predict", "learning_curve", "validation_curve",
        "permutation_test_score",
    }
)
SCALE_FUNCS = frozenset({"scale", "minmax_scale", "robust_scale", "maxabs_scale", "quantile_transform", "power_transform"})
STAT_METHODS = frozenset({"mean", "std", "var", "median", "min", "max", "quantile", "mode", "sum", "nanmean", "nanstd", "nanmedian", "percentile"})
FIT_METHODS = frozenset({"fit", "partial_fit", "fit_on_texts", "adapt", "fit_generator"})
APPLY_METHODS = frozenset(
    {"transform", "texts_to_sequences", "texts_to_matrix", "inverse_transform", "flow", "standardize"}
)
PREDICT_METHODS = frozenset({"predict", "predict_proba", "predict_log_proba", "decision_function", "predict_classes"})
SCORE_METHODS = frozenset({"score", "evaluate"})
DATA_CONTAINERS = frozenset({"Dataset", "DMatrix", "Pool", "from_tensor_slices", "TensorDataset", "DataLoader", "tensor", "as_tensor", "from_numpy", "DataFrame", "Series", "array", "asarray", "stack", "constant", "convert_to_tensor"})
UNION_FUNCS = frozenset({"concat", "concatenate", "vstack", "hstack", "row_stack", "column_stack", "append", "merge", "dstack"})
BUILTIN_OPAQUE = frozenset({"len", "print", "range", "isinstance", "type", "str", "int", "float", "bool", "repr", "round", "abs", "display", "set", "dict", "open", "hasattr", "getattr"})

AUGMENT_FUNCS = frozenset(
    {"flip", "fliplr", "flipud", "rot90", "roll", "flip_left_right", "flip_up_down", "random_flip_left_right", "rotate", "random_rotation", "adjust_brightness", "random_brightness"}
)
ROW_CONCAT = frozenset({"concat", "concatenate", "vstack", "row_stack", "append"})
BINARY_DEFAULT_METRICS = frozenset({"f1_score", "precision_score", "recall_score", "fbeta_score", "jaccard_score"})
_FIT_LIKE_METHODS = FIT_METHODS | {"fit_transform", "fit_resample"}
OBJ_ONLY_METHODS = FIT_METHODS | PREDICT_METHODS | {"fit_transform", "fit_resample", "fit_sample", "score", "evaluate", "texts_to_sequences"}
OPAQUE_DENY = frozenset(
    {
        "os", "sys", "json", "re", "time", "datetime", "math", "random", "pathlib", "logging", "collections",
        "itertools", "functools", "typing", "argparse", "warnings", "glob", "shutil", "string", "yaml",
        "matplotlib", "seaborn", "plotly", "tqdm", "IPython", "display", "mlflow", "wandb", "copy",
    }
)

THRESHOLD_METRICS = frozenset(
    {"accuracy_score", "f1_score", "precision_score", "recall_score", "fbeta_score", "balanced_accuracy_score", "jaccard_score"}
)

TEST_NAME = re.compile(r"test|val|valid|holdout|hold_out|dev\b", re.I)
TRAIN_NAME = re.compile(r"train|tr\b|fit", re.I)
VAL_NAME = re.compile(r"val|valid|dev\b|^x_v$|^y_v$|hold", re.I)
DATE_NAME = re.compile(r"date|time|timestamp|period", re.I)
HELD_OUT_NAME = re.compile(r"(?i)test|valid|val|holdout|_te$|_va$|oof|fold")


_BUILTINS_CACHE: tuple[int, frozenset] = (-1, frozenset())


def _builtin_names() -> frozenset:
    """`dir(builtins)` as a set, recomputed only if the builtins module changed size."""
    global _BUILTINS_CACHE
    n = len(builtins.__dict__)
    if _BUILTINS_CACHE[0] != n:
        _BUILTINS_CACHE = (n, frozenset(dir(builtins)))
    return _BUILTINS_CACHE[1]


# ---------------------------------------------------------------------------
# values and events
# ---------------------------------------------------------------------------


class Obj:
    """A fitted-or-fittable object: estimator, transformer, resampler, splitter."""

    __slots__ = ("cls", "kind", "node", "fits", "methods", "shuffle", "final", "parts", "cv")

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
    kind: str = "unknown"  # data | obj | tuple | index | folds | mask | stat | str | unknown
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


def heldout(origin: tuple) -> bool:
    return any(side == "test" for _, side in origin[1])


def join(a: Val, b: Val) -> Val:
    if a is b:
        return a
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


# ---------------------------------------------------------------------------
# the pass
# ---------------------------------------------------------------------------


def is_test_name(name: str) -> bool:
    """`test.csv`, `titanic_test.csv`, `X_test`, `mnist-test` - not `latest.csv`
    or `train_test.csv`."""
    return bool(re.search(r"(^|[^a-z])test", name)) and "train" not in name


def store_names(st: ast.stmt) -> frozenset:
    """Names a simple statement stores a result in: `a = ...`, `a[k] = ...`,
    `a.b = ...`, `a += ...`, `a.append(...)`."""
    t = type(st)
    if t is ast.Assign:
        targets = st.targets  # type: ignore[attr-defined]
    elif t in (ast.AugAssign, ast.AnnAssign):
        targets = [st.target]  # type: ignore[attr-defined]
    elif t is ast.Expr and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute):  # type: ignore[attr-defined]
        if st.value.func.attr not in ("append", "extend", "update", "add", "insert"):  # type: ignore[attr-defined]
            return EMPTY
        targets = [st.value.func.value]  # type: ignore[attr-defined]
    else:
        return EMPTY
    out: set[str] = set()
    for tgt in targets:
        name = _first_name(tgt)
        if name is not None:
            out.add(name)
    return frozenset(out)


def _first_name(tgt: ast.AST) -> str | None:
    """The id of the first `Name` that `ast.walk(tgt)` (breadth-first) meets."""
    t = type(tgt)
    if t is ast.Name:
        return tgt.id  # type: ignore[attr-defined]
    # walk yields the node, then its children in field order: the first child
    # of an Attribute/Subscript is `.value`, of a Tuple/List `elts[0]`.
    if t is ast.Attribute or t is ast.Subscript:
        first = tgt.value  # type: ignore[attr-defined]
        if type(first) is ast.Name:
            return first.id
    elif (t is ast.Tuple or t is ast.List) and tgt.elts and type(tgt.elts[0]) is ast.Name:  # type: ignore[attr-defined]
        return tgt.elts[0].id  # type: ignore[attr-defined]
    for n in ast.walk(tgt):
        if isinstance(n, ast.Name):
            return n.id
    return None


SELECT_CALLS = frozenset({"max", "min", "sorted", "argmax", "argmin", "idxmax", "idxmin", "nlargest", "nsmallest", "sort_values", "sort"})


def selects_among(tree: ast.Module, names: frozenset) -> bool:
    """Is one of `names` (scores) compared or ranked: `if acc > best`,
    `max(results, key=results.get)`, `np.argmax(scores)`, `df.sort_values(...)`?"""
    return bool(names) and not names.isdisjoint(selected_names(tree))


def selected_names(tree: ast.Module) -> frozenset:
    """Every name that is compared with <, >, <=, >= or ranked by a SELECT_CALLS
    call anywhere in the module: one walk, so asking `selects_among` for many
    name sets stays linear (it used to walk the module once per question)."""
    sel = SelectedNames()
    add = sel.add
    for node in subtree(tree):
        add(node)
    return frozenset(sel.names)


class SelectedNames:
    """`selected_names`, one node at a time: `add(node)` for every node of
    the module (only Compare and Call nodes matter), then `names`. Lets a
    caller that walks the module anyway (the ML2xx rule, during the engine's
    walk) spare the analysis a walk of its own."""

    __slots__ = ("names",)

    def __init__(self) -> None:
        self.names: set[str] = set()

    def _mentioned(self, node: ast.AST) -> None:
        Name = ast.Name
        self.names.update(n.id for n in subtree(node) if n.__class__ is Name)  # type: ignore[attr-defined]

    def add(self, node: ast.AST) -> None:
        t = node.__class__
        if t is ast.Compare:
            if isinstance(node.ops[0], (ast.Gt, ast.Lt, ast.GtE, ast.LtE)):  # type: ignore[attr-defined]
                self._mentioned(node)
        elif t is ast.Call:
            f = node.func  # type: ignore[attr-defined]
            fname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if fname in SELECT_CALLS:
                for arg in node.args:  # type: ignore[attr-defined]
                    self._mentioned(arg)
                for k in node.keywords:  # type: ignore[attr-defined]
                    self._mentioned(k.value)
                if isinstance(f, ast.Attribute):
                    self._mentioned(f.value)


class Analysis:
    MAX_DEPTH = 3

    def __init__(self, tree: ast.Module, imports: dict[str, str], text: str = ""):
        self.tree = tree
        self.text = text
        self.imports = imports
        self.module_env: dict[str, Val] = {}
        self.funcs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.called: set[str] = set()
        self.seq = 0
        self.n_ids = 0
        # ds id -> {"node", "test_file", "time", "date_cols", "opaque"}; "time":
        # the node that made the rows time-indexed (0: none). Nodes, not line
        # numbers: a remembered call's datasets stay right when lines move.
        self.datasets: dict[int, dict] = {}
        self.fits: dict[tuple, Fit] = {}
        self.splits: dict[object, Split] = {}
        self.uses: list[Use] = []
        self.resamples: dict[tuple, Resample] = {}
        self.cvs: list[CVUse] = []
        self.loops: list[ast.AST] = []
        self.depth = 0
        self.stack: list[str] = []
        self.target_hint: str | None = None
        self.seen_uses: set[tuple] = set()
        self.cur_targets: frozenset = EMPTY  # see Use.targets
        # Work budget (statements visited) keeping the pass linear in module
        # size: helper inlining and second loop passes stop when it runs out.
        self.budget = 6 * (getattr(tree.body[-1], "end_lineno", 0) if tree.body else 0) + 400
        # Return values of helpers analysed with no data/object argument.
        self.plain_returns: dict[int, Val] = {}
        self.classes: list[ast.ClassDef] = []
        # Per-node memos (the tree does not change during the pass and
        # statements are revisited: loop bodies, inlined helpers).
        self._store_names: dict[int, frozenset] = {}
        self._resolved: dict[int, str | None] = {}
        self._str_vals: dict[str, Val] = {}
        self._q_parts: dict[str, tuple[str, str]] = {}  # qualname -> (short, top)
        # `selected_names(tree)` when the caller collected it already.
        self.selected: frozenset | None = None
        # Remember and replay calls (mllint.analysis.dataflow.memo): only when the
        # module is analysed again after each edit (the language server).
        self.memo = False
        self._recs: list = []  # calls being recorded, outermost first
        self.memo_hits = 0

    def resolve(self, node: ast.AST) -> str | None:
        """`resolve(node, self.imports)`, memoised per node."""
        k = id(node)
        try:
            return self._resolved[k]
        except KeyError:
            q = self._resolved[k] = resolve(node, self.imports)
            return q

    # -- helpers ---------------------------------------------------------
    def new_id(self) -> int:
        self.n_ids += 1
        return self.n_ids

    def tick(self) -> int:
        self.seq += 1
        return self.seq

    def qual(self, func: ast.AST, env: dict[str, Val]) -> str | None:
        base = func
        while isinstance(base, ast.Attribute):
            base = base.value
        if isinstance(base, ast.Name) and (base.id in env or (env is not self.module_env and base.id in self.module_env)):
            v = self.lookup(base.id, env)
            if v.kind != "unknown" or v.origins:
                return None
        try:
            q = self._resolved[id(func)]  # self.resolve, inlined
        except KeyError:
            q = self.resolve(func)
        if q is None and isinstance(func, ast.Name):
            return func.id
        return q

    def lookup(self, name: str, env: dict[str, Val]) -> Val:
        v = env.get(name)
        if v is None and env is not self.module_env:
            v = self.module_env.get(name)
        return v if v is not None else UNKNOWN

    # -- statements ------------------------------------------------------
    def run(self) -> None:
        env = self.module_env
        self.collect_funcs(self.tree.body)
        self.block(self.tree.body, env)
        # Functions never called in the module are analysed once, with
        # unknown arguments, so a leak inside them is still seen.
        for name, fn in list(self.funcs.items()):
            if name not in self.called:
                self.call_function(fn, [], {}, env, opaque_params=True)
        for cls in self.classes:
            for st in cls.body:
                if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.call_function(st, [], {}, env, opaque_params=True)

    def collect_funcs(self, body: list[ast.stmt]) -> None:
        for st in body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.funcs.setdefault(st.name, st)
                if self._recs:
                    _memo.func_write(self, st.name, st, True)

    def block(self, body: list[ast.stmt], env: dict[str, Val]) -> None:
        for st in body:
            self.stmt(st, env)

    def stmt(self, st: ast.stmt, env: dict[str, Val]) -> None:
        self.budget -= 1
        ct = self._store_names.get(id(st))
        if ct is None:
            ct = self._store_names[id(st)] = store_names(st)
        self.cur_targets = ct
        t = type(st)
        if t is ast.Assign:
            self.target_hint = st.targets[0].id if len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) else None
            v = self.ev(st.value, env)
            self.target_hint = None
            for target in st.targets:
                self.assign(target, v, env, st.value)
        elif t is ast.AnnAssign:
            if st.value is not None:
                self.target_hint = st.target.id if isinstance(st.target, ast.Name) else None
                v = self.ev(st.value, env)
                self.target_hint = None
                self.assign(st.target, v, env, st.value)
        elif t is ast.AugAssign:
            v = self.ev(st.value, env)
            if isinstance(st.target, ast.Name):
                env[st.target.id] = join(self.lookup(st.target.id, env), v) if v.origins else self.lookup(st.target.id, env)
            elif isinstance(st.target, ast.Subscript):
                self.assign(st.target, v, env, st.value)
        elif t is ast.Expr:
            self.ev(st.value, env)
        elif t in (ast.For, ast.AsyncFor):
            it = self.ev(st.iter, env)
            self.loops.append(st)
            for _ in range(2 if len(self.loops) <= 2 and self.budget > 0 else 1):
                self.bind_loop_target(st.target, it, env, st.iter)
                self.block(st.body, env)
            self.loops.pop()
            self.block(st.orelse, env)
        elif t is ast.While:
            self.ev(st.test, env)
            self.loops.append(st)
            for _ in range(2 if len(self.loops) <= 2 and self.budget > 0 else 1):
                self.block(st.body, env)
            self.loops.pop()
            self.block(st.orelse, env)
        elif t is ast.If:
            self.ev(st.test, env)
            if self.main_guard(st):
                self.block(st.body, env)
                self.block(st.orelse, env)
                return
            env2 = dict(env)
            self.block(st.body, env)
            self.block(st.orelse, env2)
            for k, v in env2.items():
                cur = env.get(k)
                env[k] = v if cur is None else join(cur, v)
        elif t in (ast.With, ast.AsyncWith):
            for item in st.items:
                v = self.ev(item.context_expr, env)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, v, env, None)
            self.block(st.body, env)
        elif t is ast.Try or t.__name__ == "TryStar":
            self.block(st.body, env)
            for h in st.handlers:
                self.block(h.body, env)
            self.block(st.orelse, env)
            self.block(st.finalbody, env)
        elif t in (ast.FunctionDef, ast.AsyncFunctionDef):
            self.funcs[st.name] = st
            if self._recs:
                _memo.func_write(self, st.name, st, False)
            env.pop(st.name, None)
        elif t is ast.Return:
            if st.value is not None:
                v = self.ev(st.value, env)
                env["<return>"] = join(env["<return>"], v) if "<return>" in env else v
        elif t is ast.Delete:
            pass
        elif t is ast.ClassDef:
            if self.depth == 0:
                self.classes.append(st)
        elif hasattr(ast, "Match") and t is ast.Match:
            self.ev(st.subject, env)
            for case in st.cases:
                self.block(case.body, env)

    @staticmethod
    def main_guard(st: ast.If) -> bool:
        test = st.test
        return (
            isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
        )

    def bind_loop_target(self, target: ast.AST, it: Val, env: dict[str, Val], iter_node: ast.AST) -> None:
        if it.kind == "folds":
            # for tr, te in kf.split(X)  /  for i, (tr, te) in enumerate(kf.split(X))
            tgt = target
            if isinstance(tgt, ast.Tuple) and len(tgt.elts) == 2 and isinstance(tgt.elts[1], ast.Tuple) and it.text == "enumerate":
                self.assign(tgt.elts[0], UNKNOWN, env, None)
                tgt = tgt.elts[1]
            if isinstance(tgt, ast.Tuple) and len(tgt.elts) == 2:
                key = it.index[0]  # type: ignore[index]
                self.assign(tgt.elts[0], Val(kind="index", index=(key, "train")), env, None)
                self.assign(tgt.elts[1], Val(kind="index", index=(key, "test")), env, None)
                return
        if it.elts is not None and it.kind == "tuple":
            # for model in [LogisticRegression(), SVC()] / for name, model in models.items()
            joined = UNKNOWN
            for e in it.elts:
                joined = join(joined, e) if isinstance(e, Val) else joined
            self.assign(target, joined, env, None)
            return
        self.assign(target, it if it.origins else UNKNOWN, env, None)

    def assign(self, target: ast.AST, v: Val, env: dict[str, Val], value_node: ast.AST | None) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = v
            sp = v.split
            if isinstance(sp, Split):
                if self._recs:
                    _memo.touch_event(self, sp.seq)
                (sp.test_names if v.side == "test" else sp.train_names).append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            if v.elts is not None and len(v.elts) == len(elts) and not any(isinstance(e, ast.Starred) for e in elts):
                for e, ev in zip(elts, v.elts):
                    self.assign(e, ev if isinstance(ev, Val) else UNKNOWN, env, None)
            else:
                for e in elts:
                    if isinstance(e, ast.Starred):
                        e = e.value
                    self.assign(e, v if v.origins else UNKNOWN, env, None)
        elif isinstance(target, ast.Subscript):
            base = target.value
            while isinstance(base, (ast.Subscript, ast.Attribute)) and not isinstance(base, ast.Name):
                base = base.value
            if isinstance(base, ast.Name):
                cur = self.lookup(base.id, env)
                if cur.origins and (v.fitted_by or v.resampled) and v.origins & cur.origins:
                    env[base.id] = Val(
                        origins=cur.origins,
                        fitted_by=cur.fitted_by | v.fitted_by,
                        resampled=cur.resampled,
                        kind="data",
                    )
                if cur.origins and value_node is not None and self.is_to_datetime(value_node):
                    col = self.const_str(target.slice)
                    for ds, _ in cur.origins:
                        info = self.datasets.get(ds)
                        if self._recs:
                            _memo.touch_dataset(self, ds)
                        if info is not None and col:
                            info["date_cols"].add(col)
        elif isinstance(target, ast.Attribute):
            if target.attr == "index" and isinstance(target.value, ast.Name) and value_node is not None:
                cur = self.lookup(target.value.id, env)
                if self.is_to_datetime(value_node):
                    self.mark_time(cur, target)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, v, env, value_node)

    def is_to_datetime(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Call):
            q = self.resolve(node.func) or ""
            if q.endswith(("to_datetime", "DatetimeIndex", "date_range")):
                return True
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("to_datetime", "astype"):
                if node.func.attr == "astype":
                    return any(isinstance(a, ast.Constant) and "datetime" in str(a.value) for a in node.args)
                return True
        return False

    def mark_time(self, v: Val, node: ast.AST) -> None:
        for ds, _ in v.origins:
            info = self.datasets.get(ds)
            if self._recs:
                _memo.touch_dataset(self, ds)
            if info is not None and info["time"] is None:
                info["time"] = node if getattr(node, "lineno", 0) else 0

    @staticmethod
    def const_str(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return None

    # -- expressions -----------------------------------------------------
    def ev(self, node: ast.AST, env: dict[str, Val]) -> Val:
        t = type(node)
        if t is ast.Name:
            # self.lookup, inlined (the most frequent expression)
            v = env.get(node.id)
            if v is None and env is not self.module_env:
                v = self.module_env.get(node.id)
            return v if v is not None else UNKNOWN
        if t is ast.Call:
            return self.call(node, env)
        if t is ast.Constant:
            value = node.value
            if isinstance(value, str):
                # values are immutable: one per string, shared
                v = self._str_vals.get(value)
                if v is None:
                    v = self._str_vals[value] = Val(kind="str", text=value)
                return v
            return UNKNOWN
        if t is ast.Attribute:
            base = self.ev(node.value, env)
            if base.kind == "obj":
                if node.attr in ("best_estimator_", "estimator", "model", "best_model"):
                    return base
                return UNKNOWN
            if base.origins:
                if node.attr in ("columns", "shape", "dtypes", "dtype", "size", "ndim", "name", "str", "dt", "cat"):
                    return UNKNOWN if node.attr not in ("str", "dt", "cat") else base
                return Val(origins=base.origins, fitted_by=base.fitted_by, resampled=base.resampled, kind="data", pred=base.pred)
            return UNKNOWN
        if t is ast.Subscript:
            return self.subscript(node, env)
        if t is ast.Tuple or t is ast.List:
            vals: list[Val] = []
            for e in node.elts:
                vals.append(self.ev(e.value if e.__class__ is ast.Starred else e, env))
            return Val(kind="tuple", elts=tuple(vals))
        if t is ast.BinOp:
            a = self.ev(node.left, env)
            b = self.ev(node.right, env)
            if isinstance(node.op, ast.Mult) and a.kind == "tuple":
                return a
            return self.combine(a, b)
        if t is ast.UnaryOp:
            v = self.ev(node.operand, env)
            if isinstance(node.op, ast.Invert) and v.kind == "mask":
                return Val(origins=v.origins, kind="mask", random=v.random, text="~" + (v.text or ""))
            return v
        if t is ast.Compare:
            vals = [self.ev(node.left, env)] + [self.ev(c, env) for c in node.comparators]
            origins = frozenset().union(*(v.origins for v in vals))
            rnd = any(v.random for v in vals)
            if origins or rnd:
                return Val(origins=origins, kind="mask", random=rnd)
            return UNKNOWN
        if t is ast.BoolOp:
            vals = [self.ev(v, env) for v in node.values]
            out = UNKNOWN
            for v in vals:
                out = join(out, v)
            return out
        if t is ast.IfExp:
            self.ev(node.test, env)
            return join(self.ev(node.body, env), self.ev(node.orelse, env))
        if t is ast.NamedExpr:
            v = self.ev(node.value, env)
            self.assign(node.target, v, env, node.value)
            return v
        if t in (ast.ListComp, ast.GeneratorExp, ast.SetComp):
            env2 = dict(env)
            for gen in node.generators:
                it = self.ev(gen.iter, env2)
                self.bind_loop_target(gen.target, it, env2, gen.iter)
            v = self.ev(node.elt, env2)
            return Val(kind="tuple", elts=(v,)) if v.kind != "unknown" or v.origins else UNKNOWN
        if t is ast.Dict:
            for k in node.keys:
                if k is not None:
                    self.ev(k, env)
            vals = tuple(self.ev(v, env) for v in node.values)
            return Val(kind="tuple", elts=vals) if any(v.kind == "obj" for v in vals) else UNKNOWN
        if t is ast.JoinedStr:
            return Val(kind="str", text="".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)))
        if t is ast.Starred:
            return self.ev(node.value, env)
        if t is ast.Lambda:
            return UNKNOWN
        return UNKNOWN

    def combine(self, a: Val, b: Val) -> Val:
        if a.kind == "str" and b.kind == "str":
            return Val(kind="str", text=(a.text or "") + (b.text or ""))
        if a.kind == "stat" or b.kind == "stat":
            data = a if a.kind != "stat" else b
            stat = b if a.kind != "stat" else a
            if data.origins:
                return Val(origins=data.origins, fitted_by=data.fitted_by | stat.fitted_by, resampled=data.resampled, kind="data")
            return Val(kind="stat", fitted_by=a.fitted_by | b.fitted_by)
        if a.kind == "mask" or b.kind == "mask":
            return Val(origins=a.origins | b.origins, kind="mask", random=a.random or b.random)
        if a.origins or b.origins:
            return Val(origins=a.origins | b.origins, fitted_by=a.fitted_by | b.fitted_by, resampled=a.resampled | b.resampled, kind="data", pred=a.pred or b.pred)
        if a.kind == "str" or b.kind == "str":
            return Val(kind="str", text=(a.text or "") + (b.text or ""))
        return UNKNOWN

    # -- subscripts: columns, splits by slice / mask / fold indices --------
    def subscript(self, node: ast.Subscript, env: dict[str, Val]) -> Val:
        value = node.value
        accessor = None
        if isinstance(value, ast.Attribute) and value.attr in ("iloc", "loc", "iat", "at"):
            accessor = value.attr
            value = value.value
        base = self.ev(value, env)
        sl = node.slice
        if base.kind == "tuple" and base.elts is not None:
            if isinstance(sl, ast.Constant) and isinstance(sl.value, int) and -len(base.elts) <= sl.value < len(base.elts):
                e = base.elts[sl.value]
                return e if isinstance(e, Val) else UNKNOWN
            return flat(base)
        if base.kind == "obj" and base.obj is not None and base.obj.kind in ("pipeline", "search"):
            return UNKNOWN
        if base.kind == "stat":
            return base  # s.mode()[0]
        if base.kind == "rand" and isinstance(sl, ast.Slice) and (sl.lower is None) != (sl.upper is None) and sl.step is None:
            # idx = rng.permutation(n); idx[:k] / idx[k:] are random row indices
            bound = sl.upper if sl.upper is not None else sl.lower
            return Val(kind="index", index=(("perm", ast.dump(bound)), "train" if sl.upper is not None else "test"), random=True)
        if not base.origins:
            self.ev(sl, env) if not isinstance(sl, ast.Slice) else None
            return UNKNOWN
        row = sl
        if isinstance(sl, ast.Tuple) and sl.elts:
            row = sl.elts[0]
            if accessor is None:  # numpy X[:, 0] etc.: columns
                if isinstance(row, ast.Slice) and row.lower is None and row.upper is None:
                    return self.data_like(base)
        if isinstance(row, ast.Slice):
            return self.slice_split(node, base, row, env)
        sv = self.ev(row, env)
        if sv.kind == "index" and sv.index is not None:
            key, side = sv.index
            if self._recs and key in self.splits:
                _memo.touch_event(self, self.splits[key].seq)
            if key not in self.splits and isinstance(key, tuple) and key[0] == "perm":
                self.split_event(key, node, "perm", base, random=True)
            return with_side(base, key, side, None)
        if sv.kind == "mask":
            return self.mask_split(node, base, sv)
        return self.data_like(base)

    @staticmethod
    def data_like(base: Val) -> Val:
        return Val(origins=base.origins, fitted_by=base.fitted_by, resampled=base.resampled, kind="data", pred=base.pred)

    def slice_split(self, node: ast.AST, base: Val, sl: ast.Slice, env: dict[str, Val]) -> Val:
        if sl.step is not None or (sl.lower is None) == (sl.upper is None):
            return self.data_like(base)
        bound = sl.upper if sl.upper is not None else sl.lower
        if isinstance(bound, ast.Constant) and isinstance(bound.value, int) and abs(bound.value) <= 20:
            return self.data_like(base)  # a peek (head/tail), not a split
        first = sl.upper is not None  # X[:n] is the first part
        held = {o for o in base.origins if heldout(o)}
        if held and len(held) < len(base.origins):
            # re-splitting a concat of train and test files: keep each side's rows
            keep = frozenset(base.origins - held) if first else frozenset(held)
            return Val(origins=keep, fitted_by=base.fitted_by, resampled=base.resampled, kind="data")
        key = ("slice", base.origins, ast.dump(bound))
        sp = self.split_event(key, node, "slice", base, random=False)
        side = "train" if first else "test"
        if self.target_hint and not first and TRAIN_NAME.search(self.target_hint) and not TEST_NAME.search(self.target_hint):
            side = "train"
        return with_side(base, key, side, sp)

    def mask_split(self, node: ast.AST, base: Val, mask: Val) -> Val:
        name = self.target_hint or ""
        if TEST_NAME.search(name) and not TRAIN_NAME.search(name):
            side = "test"
        elif TRAIN_NAME.search(name):
            side = "train"
        else:
            return self.data_like(base)
        key = ("mask", base.origins)
        sp = self.split_event(key, node, "mask", base, random=mask.random)
        return with_side(base, key, side, sp)

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
        plain = not any(v.origins or v.obj is not None or v.kind in ("tuple", "folds", "index", "obj") for v in (*pos, *kws.values()))
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

    # library functions by qualified name
    def function(self, node: ast.Call, q: str, env: dict[str, Val]) -> Val:
        parts = self._q_parts.get(q)
        if parts is None:
            parts = self._q_parts[q] = (q.rsplit(".", 1)[-1], q.split(".", 1)[0])
        short, top = parts
        pos, kws = self.args(node, env)
        if short in LOADER_FUNCS and top in LOADER_PACKAGES or (q.startswith(SK_DATASETS) and short.startswith(("load_", "fetch_", "make_"))):
            return self.load(node, q, short, pos, kws)
        if short == "load_data" and top in ("tensorflow", "keras"):
            return self.keras_load(node)
        if short == "load" and top == "numpy":
            return self.load(node, q, short, pos, kws)
        if short == "train_test_split":
            return self.train_test_split(node, pos, kws)
        if short == "random_split" and top == "torch":
            return self.torch_random_split(node, pos)
        if q in ("os.path.join", "pathlib.Path", "pathlib.PurePath", "Path") or (short == "join" and top == "os"):
            return Val(kind="str", text="/".join(v.text or "" for v in pos if v.kind == "str"))
        if top == "numpy" and "random" in q.split(".")[1:-1] or short in ("default_rng", "RandomState"):
            # random draws: a comparison with them is a random row mask
            return Val(kind="rng" if short in ("default_rng", "RandomState") else "rand", random=True)
        if short in CV_FUNCS and top == "sklearn":
            est = pos[0] if pos else kws.get("estimator", UNKNOWN)
            x = pos[1] if len(pos) > 1 else kws.get("X", UNKNOWN)
            xnode = node.args[1] if len(node.args) > 1 else None
            self.cvs.append(CVUse(self.tick(), node, short, x, xnode))
            self.cv_split(node, kws.get("cv", UNKNOWN), x)
            if est.obj is not None:
                est.obj.methods.add("fit")
            self.record_use(node, None, short, [x] + pos[2:3], is_eval=True, metric=kws.get("scoring", UNKNOWN).text or "cv", arg=xnode)
            return Val(kind="stat")
        if short in PIPELINE_FUNCS or short in COLUMN_FUNCS:
            return self.pipeline(node, short, q, pos, kws)
        if short in SCALE_FUNCS and q.startswith("sklearn."):
            x = pos[0] if pos else UNKNOWN
            f = self.fit_event(node, None, short, x, None, node.args[0] if node.args else None, "fit_transform", stat=True)
            return Val(origins=x.origins, fitted_by=x.fitted_by | {f.id}, resampled=x.resampled, kind="data")
        if short in ("resample",) and q.startswith("sklearn."):
            rnode = self.kwnode(node, "replace")
            replace = not (isinstance(rnode, ast.Constant) and rnode.value is False)
            outs = []
            r = None
            for v in pos:
                if replace and v.origins:
                    r = r or self.resample_event(node, "resample", v)
                outs.append(Val(origins=v.origins, fitted_by=v.fitted_by, resampled=v.resampled | ({r.id} if r else EMPTY), kind="data"))
            return outs[0] if len(outs) == 1 else Val(kind="tuple", elts=tuple(outs))
        if short == "shuffle" and q.startswith("sklearn."):
            return pos[0] if len(pos) == 1 else Val(kind="tuple", elts=tuple(pos))
        if q.startswith("sklearn.metrics.") or (short.endswith(("_score", "_error", "_loss")) and top in ("sklearn", "scipy")) or short in ("classification_report", "confusion_matrix"):
            self.record_use(node, None, short, pos + list(kws.values()), is_eval=True, metric=short)
            return Val(kind="stat")
        if short in SPLITTER_CLASSES:
            sh = self.kwnode(node, "shuffle")
            shuffle = short in RANDOM_SPLITTERS or (isinstance(sh, ast.Constant) and sh.value is True)
            return Val(kind="obj", obj=Obj(short, "splitter", node, shuffle=shuffle))
        if short[:1].isupper() and (top in ("sklearn", "imblearn", "xgboost", "lightgbm", "catboost", "category_encoders", "tensorflow", "keras", "torch", "umap") or short in TRANSFORMER_CLASSES or short in OVERSAMPLER_CLASSES or short in SEARCH_CLASSES):
            if short in DATA_CONTAINERS or short in ("Dataset", "DMatrix", "Pool"):
                return self.union(pos[:2] + [kws.get("label", UNKNOWN), kws.get("data", UNKNOWN)])
            obj = self.make_obj(node, short, pos, kws)
            for v in pos:
                for e in (v.elts or ()) if v.kind == "tuple" else (v,):
                    if isinstance(e, Val) and e.kind == "obj" and e.obj is not None:
                        obj.parts.append(e.obj)
            return Val(kind="obj", obj=obj)
        if short in ("train", "cv") and top in ("lightgbm", "xgboost"):
            obj = Obj(q, "model", node)
            data = pos[1] if len(pos) > 1 else kws.get("train_set", kws.get("dtrain", UNKNOWN))
            if short == "cv":
                self.cvs.append(CVUse(self.tick(), node, q, data, None))
                return Val(kind="stat")
            self.fit_event(node, obj, q, data, None, node.args[1] if len(node.args) > 1 else None, "fit")
            return Val(kind="obj", obj=obj)
        if short in AUGMENT_FUNCS and top in ("numpy", "tensorflow", "torch", "scipy") and pos and pos[0].origins:
            x = pos[0]
            return Val(origins=x.origins, fitted_by=x.fitted_by, resampled=x.resampled, kind="data", augmented=True)
        if short in UNION_FUNCS and top in ("pandas", "numpy"):
            out = self.union(pos)
            if short in ROW_CONCAT and out.origins and not self.column_axis(node):
                dup = self.duplicated_rows(node, pos)
                if dup:
                    r = self.resample_event(node, dup, out)
                    out = Val(origins=out.origins, fitted_by=out.fitted_by, resampled=out.resampled | {r.id}, kind="data")
            return out
        if short in STAT_METHODS and top == "numpy":
            x = pos[0] if pos else UNKNOWN
            if x.origins:
                f = self.fit_event(node, None, "np." + short, x, None, node.args[0], "stat", stat=True)
                return Val(kind="stat", fitted_by=x.fitted_by | {f.id})
            return UNKNOWN
        if short in ("enumerate", "list", "tuple", "iter", "sorted", "reversed") and pos:
            v = pos[0]
            if v.kind == "folds":
                return Val(kind="folds", index=v.index, text="enumerate" if short == "enumerate" else v.text)
            return v
        if short == "zip":
            return UNKNOWN
        if short in ("max", "min") and top not in ("numpy",):
            return UNKNOWN
        if short in BUILTIN_OPAQUE:
            return UNKNOWN
        if short == "where" and top == "numpy":
            return self.union(pos[1:])
        # numpy / pandas / unknown helpers keep the rows of their data arguments
        out = self.union(pos)
        if out.origins:
            return out
        if self.target_hint and top not in ML_PACKAGES and top not in OPAQUE_DENY and short not in BUILTIN_OPAQUE and q not in _builtin_names():
            # x = project_helper(...): rows (or a model) we cannot see into
            if short[:1].isupper():
                return Val(kind="obj", obj=Obj(short, "unknown", node))
            return self.opaque(node, self.target_hint)
        return out

    @staticmethod
    def column_axis(node: ast.Call) -> bool:
        for kw in node.keywords:
            if kw.arg == "axis":
                v = kw.value
                return not (isinstance(v, ast.Constant) and v.value in (0, "index", "rows"))
        return False

    def duplicated_rows(self, node: ast.Call, pos: list[Val]) -> str | None:
        """Does a row concatenation put the same rows in twice? `concat([df, df[m]])`,
        `[minority] * 3`, `vstack([X, np.fliplr(X)])` (augmented copies)."""
        if not node.args:
            return None
        seq = node.args[0]
        if isinstance(seq, ast.BinOp) and isinstance(seq.op, ast.Mult):
            return "row duplication"
        elts: list[ast.AST] = []
        if isinstance(seq, (ast.List, ast.Tuple)):
            elts = list(seq.elts)
        elif len(node.args) > 1:
            elts = list(node.args)
        for e in elts:
            if isinstance(e, ast.Starred) or (isinstance(e, ast.BinOp) and isinstance(e.op, ast.Mult)):
                return "row duplication"
        vals = list(pos[0].elts or ()) if isinstance(seq, (ast.List, ast.Tuple)) and pos and pos[0].elts is not None else pos
        if any(isinstance(v, Val) and v.augmented for v in vals) and len(vals) > 1:
            base = [v for v in vals if isinstance(v, Val) and not v.augmented]
            aug = [v for v in vals if isinstance(v, Val) and v.augmented]
            if any(b.origins & a.origins for b in base for a in aug):
                return "augmentation"
        roots: list[str] = []
        whole: set[str] = set()
        for e in elts:
            r = e
            while isinstance(r, (ast.Subscript, ast.Attribute, ast.Call)):
                r = r.func if isinstance(r, ast.Call) else r.value
            if isinstance(r, ast.Name):
                if isinstance(e, ast.Name):
                    if e.id in whole:
                        return "row duplication"
                    whole.add(e.id)
                roots.append(r.id)
        if any(roots.count(n) > 1 for n in whole):
            return "row duplication"  # concat([df, df[df.y == 1]])
        return None

    def union(self, vals: list[Val]) -> Val:
        out = UNKNOWN
        for v in vals:
            if v.elts is not None:
                v = flat(v)
            if v.origins:
                out = Val(
                    origins=out.origins | v.origins,
                    fitted_by=out.fitted_by | v.fitted_by,
                    resampled=out.resampled | v.resampled,
                    kind="data",
                    pred=out.pred or v.pred,
                )
        return out

    @staticmethod
    def kwnode(node: ast.Call, name: str) -> ast.AST | None:
        for kw in node.keywords:
            if kw.arg == name:
                return kw.value
        return None

    def string_args(self, node: ast.Call) -> str:
        parts: list[str] = []
        for a in node.args[:1] + [kw.value for kw in node.keywords if kw.arg in ("filepath_or_buffer", "path", "io", "fname", "file")]:
            for sub in ast.walk(a):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    parts.append(sub.value)
        return " ".join(parts)

    def new_dataset(self, node: ast.AST, test_file: bool, opaque: bool = False) -> tuple:
        ds = self.new_id()
        self.datasets[ds] = {
            "node": node, "test_file": test_file, "time": None,
            "date_cols": set(), "opaque": opaque,
        }
        return (ds, (("file", "test"),) if test_file else ())

    def load(self, node: ast.Call, q: str, short: str, pos: list[Val], kws: dict[str, Val]) -> Val:
        path = self.string_args(node)
        if not path and pos and pos[0].kind == "str":
            path = pos[0].text or ""  # a path held in a variable / joined from parts
        path = path.lower()
        name = re.split(r"[\\/]", path.strip())[-1] if path else ""
        hint = (self.target_hint or "").lower()
        test_file = is_test_name(name)
        if not name and is_test_name(hint):
            test_file = True
        origin = self.new_dataset(node, test_file)
        ds = origin[0]
        pd_ = self.kwnode(node, "parse_dates")
        if pd_ is not None:
            cols = set()
            if isinstance(pd_, (ast.List, ast.Tuple)):
                cols = {e.value for e in pd_.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            self.datasets[ds]["date_cols"] |= cols
            if self.kwnode(node, "index_col") is not None and not (isinstance(pd_, ast.Constant) and pd_.value is False):
                self.datasets[ds]["time"] = node
        v = Val(origins=frozenset({origin}), kind="data")
        if short.startswith(("make_",)) or (self.kwnode(node, "return_X_y") is not None):
            return Val(kind="tuple", elts=(v, v), origins=EMPTY)
        return v

    def keras_load(self, node: ast.Call) -> Val:
        tr = Val(origins=frozenset({self.new_dataset(node, False)}), kind="data")
        te = Val(origins=frozenset({self.new_dataset(node, True)}), kind="data")
        return Val(kind="tuple", elts=(Val(kind="tuple", elts=(tr, tr)), Val(kind="tuple", elts=(te, te))))

    def train_test_split(self, node: ast.Call, pos: list[Val], kws: dict[str, Val]) -> Val:
        arrays = [v for v in pos]
        inputs = frozenset().union(*(v.origins for v in arrays)) if arrays else EMPTY
        resampled = frozenset().union(*(v.resampled for v in arrays)) if arrays else EMPTY
        sh = self.kwnode(node, "shuffle")
        random = not (isinstance(sh, ast.Constant) and sh.value is False)
        key = ("tts", id(node), inputs)
        sp = self.splits.get(key)
        if sp is not None and self._recs:
            _memo.touch_event(self, sp.seq)
        if sp is None:
            sp = Split(self.new_id(), key, self.tick(), node, "tts", inputs, resampled, random)
            self.splits[key] = sp
        elts: list[Val] = []
        for v in arrays:
            v = flat(v)
            elts.append(with_side(v, key, "train", sp))
            elts.append(with_side(v, key, "test", sp))
        return Val(kind="tuple", elts=tuple(elts))

    def cv_split(self, node: ast.Call, cv: Val, x: Val) -> None:
        """`cross_val_score(..., cv=KFold(shuffle=True))`: the folds are a (random)
        split of `x` too, which matters for time-ordered data (ML206)."""
        if cv.obj is not None and cv.obj.kind == "splitter" and cv.obj.shuffle and x.origins:
            self.split_event(("cv", id(node), x.origins), node, "folds", x, random=True)

    def torch_random_split(self, node: ast.Call, pos: list[Val]) -> Val:
        """`train_ds, val_ds[, test_ds] = random_split(ds, [a, b, c])`."""
        ds = flat(pos[0]) if pos else UNKNOWN
        n = len(node.args[1].elts) if len(node.args) > 1 and isinstance(node.args[1], (ast.List, ast.Tuple)) else 2
        key = ("tts", id(node), ds.origins)
        sp = self.splits.get(key)
        if sp is not None and self._recs:
            _memo.touch_event(self, sp.seq)
        if sp is None:
            sp = Split(self.new_id(), key, self.tick(), node, "random_split", ds.origins, ds.resampled, True)
            self.splits[key] = sp
        return Val(kind="tuple", elts=tuple(with_side(ds, key, "train" if i == 0 else "test", sp) for i in range(n)))

    def pipeline(self, node: ast.Call, short: str, q: str, pos: list[Val], kws: dict[str, Val]) -> Val:
        steps: list[Val] = []
        if short in ("make_pipeline", "make_union", "make_column_transformer"):
            for v in pos:
                if v.kind == "tuple" and v.elts:
                    steps.extend(e for e in v.elts if isinstance(e, Val) and e.kind == "obj")
                else:
                    steps.append(v)
        else:
            arg = pos[0] if pos else kws.get("steps", kws.get("transformers", kws.get("transformer_list", UNKNOWN)))
            for e in arg.elts or ():
                if isinstance(e, Val) and e.kind == "tuple" and e.elts:
                    objs = [x for x in e.elts if isinstance(x, Val) and x.kind == "obj"]
                    if objs:
                        steps.append(objs[0])
        obj = Obj(short, "pipeline" if short in PIPELINE_FUNCS else "transformer", node)
        if short in PIPELINE_FUNCS:
            last = steps[-1].obj if steps and steps[-1].obj is not None else None
            obj.final = last.effective_kind() if last is not None else "model"
            if obj.final in ("resampler",):
                obj.final = "model"
            obj.cls = ("imblearn " if q.startswith("imblearn") else "") + short
        return Val(kind="obj", obj=obj)

    def make_obj(self, node: ast.Call, short: str, pos: list[Val], kws: dict[str, Val]) -> Obj:
        if short in SEARCH_CLASSES:
            search = Obj(short, "search", node)
            cv = kws.get("cv")
            if cv is not None and cv.obj is not None and cv.obj.kind == "splitter":
                search.cv = cv.obj
            return search
        if short in OVERSAMPLER_CLASSES:
            return Obj(short, "resampler", node)
        if short in UNDERSAMPLER_CLASSES:
            return Obj(short, "undersampler", node)
        strategy = self.kwnode(node, "strategy")
        if short in STATELESS_CLASSES or (short == "SimpleImputer" and isinstance(strategy, ast.Constant) and strategy.value == "constant"):
            return Obj(short, "stateless", node)  # a constant fill learns nothing from the rows
        if short in TRANSFORMER_CLASSES:
            return Obj(short, "transformer", node)
        if short in ("Sequential", "Model") or short.endswith(("Classifier", "Regressor", "Regression", "SVC", "SVR", "NB", "Ridge", "Lasso", "Net", "Forest", "Boost", "Model", "Means", "Classifier")):
            return Obj(short, "model", node)
        return Obj(short, "unknown", node)

    # methods on values
    def method(self, node: ast.Call, name: str, recv: Val, env: dict[str, Val]) -> Val:
        if recv.kind == "obj" and recv.obj is not None:
            return self.obj_method(node, name, recv.obj, env)
        if recv.opaque and isinstance(node.func, ast.Attribute) and (
            name in OBJ_ONLY_METHODS
            or (name in APPLY_METHODS and node.args and self.ev(node.args[0], env).origins)
        ):
            # an opaque value used as an estimator: it was one all along
            obj = Obj(self.text_of(node.func.value), "unknown", node)
            if isinstance(node.func.value, ast.Name):
                env[node.func.value.id] = Val(kind="obj", obj=obj)
            return self.obj_method(node, name, obj, env)
        if recv.kind == "unknown" and not recv.origins and name in _FIT_LIKE_METHODS and isinstance(node.func, ast.Attribute):
            # an object we could not resolve (built by an imported helper): learn it from use
            obj = Obj(self.text_of(node.func.value), "unknown", node)
            base = node.func.value
            if isinstance(base, ast.Name):
                env[base.id] = Val(kind="obj", obj=obj)
            return self.obj_method(node, name, obj, env)
        if recv.kind == "unknown" and not recv.origins and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            # a method of an unresolved object used on data: predictions etc.
            if name in PREDICT_METHODS or name in SCORE_METHODS:
                obj = Obj(node.func.value.id, "model", node)
                env[node.func.value.id] = Val(kind="obj", obj=obj)
                return self.obj_method(node, name, obj, env)
        if recv.kind == "folds":
            return recv
        if recv.kind == "rng":
            self.args(node, env)
            return Val(kind="rand", random=True)
        pos, kws = self.args(node, env)
        if recv.kind == "str":
            return Val(kind="str", text=recv.text)
        if not recv.origins:
            return self.union(pos) if name in ("append", "concat", "merge", "join") else UNKNOWN
        base = self.data_like(recv)
        stat_fb = EMPTY
        for v in (*pos, *kws.values()):
            if v.kind == "stat" and v.fitted_by:
                stat_fb = stat_fb | v.fitted_by
        if stat_fb:
            base = Val(origins=recv.origins, fitted_by=recv.fitted_by | stat_fb, resampled=recv.resampled, kind="data")
        if name in ("transform", "agg", "aggregate") and node.args and self.const_str(node.args[0]) in STAT_METHODS:
            # groupby(...)[col].transform("mean"): per-row statistics of all rows
            f = self.fit_event(node, None, f".{name}({node.args[0].value!r})", recv, None, node.func.value, "stat", stat=True)  # type: ignore[attr-defined]
            return Val(origins=recv.origins, fitted_by=recv.fitted_by | {f.id}, resampled=recv.resampled, kind="data")
        if name in STAT_METHODS:
            f = self.fit_event(node, None, "." + name + "()", recv, None, node.func.value, "stat", stat=True)  # type: ignore[attr-defined]
            return Val(kind="stat", fitted_by=recv.fitted_by | {f.id})
        if name in ("describe", "agg", "aggregate") and not node.args:
            return UNKNOWN
        if name == "sample":
            frac = self.kwnode(node, "frac")
            repl = self.kwnode(node, "replace")
            if isinstance(repl, ast.Constant) and repl.value is True or (isinstance(frac, ast.Constant) and isinstance(frac.value, (int, float)) and frac.value > 1):
                r = self.resample_event(node, "sample(replace=True)", recv)
                return Val(origins=recv.origins, fitted_by=recv.fitted_by, resampled=recv.resampled | {r.id}, kind="data")
            if isinstance(frac, ast.Constant) and isinstance(frac.value, (int, float)) and 0 < frac.value < 1:
                key = ("sample", recv.origins)
                sp = self.split_event(key, node, "sample", recv, random=True)
                return with_side(recv, key, "train", sp)
            return base
        if name == "drop":
            cand = list(pos) + [kws.get("index", UNKNOWN)]
            for v in cand:
                for ds, part in v.origins:
                    if part and isinstance(part[-1][0], tuple) and part[-1][0][0] == "sample" and part[-1][1] == "train":
                        key = part[-1][0]
                        sp = self.splits.get(key)
                        if sp is not None and self._recs:
                            _memo.touch_event(self, sp.seq)
                        return with_side(recv, key, "test", sp)
            return base
        if name in ("fillna",):
            fb = frozenset().union(*(v.fitted_by for v in pos + list(kws.values()) if v.kind == "stat")) if pos or kws else EMPTY
            out = Val(origins=recv.origins, fitted_by=recv.fitted_by | fb, resampled=recv.resampled, kind="data")
            self.inplace(node, out, env)
            return out
        if name in ("set_index",):
            col = self.const_str(node.args[0]) if node.args else None
            if col and self.is_date_col(recv, col):
                self.mark_time(recv, node)
        if name in ("sort_values", "sort_index"):
            by = node.args[0] if node.args else self.kwnode(node, "by")
            cols: list[str] = []
            if by is not None:
                if isinstance(by, (ast.List, ast.Tuple)):
                    cols = [c for c in (self.const_str(e) for e in by.elts) if c]
                elif self.const_str(by):
                    cols = [self.const_str(by)]  # type: ignore[list-item]
            if name == "sort_values" and any(self.is_date_col(recv, c) for c in cols):
                self.mark_time(recv, node)
        if name in ("append", "combine_first", "join", "merge", "concat"):
            out = self.union([recv] + pos)
            return out
        if name in ("apply", "map", "transform", "pipe", "assign", "agg", "groupby", "rolling", "shift", "diff", "ewm", "expanding", "resample"):
            return base
        if name == "to_datetime":
            return base
        self.inplace(node, base, env)
        return base

    @staticmethod
    def text_of(node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            return node.attr
        return "model"

    def is_date_col(self, v: Val, col: str) -> bool:
        for ds, _ in v.origins:
            info = self.datasets.get(ds)
            if self._recs:
                _memo.touch_dataset(self, ds)
            if info is not None and col in info["date_cols"]:
                return True
        return bool(DATE_NAME.search(col))

    def inplace(self, node: ast.Call, out: Val, env: dict[str, Val]) -> None:
        ip = self.kwnode(node, "inplace")
        if isinstance(ip, ast.Constant) and ip.value is True and isinstance(node.func, ast.Attribute):
            base = node.func.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                cur = self.lookup(base.id, env)
                env[base.id] = Val(origins=cur.origins, fitted_by=cur.fitted_by | out.fitted_by, resampled=cur.resampled, kind="data")

    def obj_method(self, node: ast.Call, name: str, obj: Obj, env: dict[str, Val]) -> Val:
        obj.methods.add(name)
        pos, kws = self.args(node, env)
        x = pos[0] if pos else kws.get("X", kws.get("x", kws.get("raw_documents", UNKNOWN)))
        y = pos[1] if len(pos) > 1 else kws.get("y", UNKNOWN)
        xnode = node.args[0] if node.args else None
        if obj.kind == "splitter" and name == "split":
            key = ("folds", id(node), x.origins)
            sp = self.split_event(key, node, "folds", x, random=obj.shuffle)
            sp.random = obj.shuffle and obj.cls != "TimeSeriesSplit"
            return Val(kind="folds", index=(key, "train"), text="split")
        if name in FIT_METHODS or name == "fit_transform" or name in ("fit_resample", "fit_sample"):
            if obj.kind == "splitter":
                return UNKNOWN
            data = self.union([x, y])
            if obj.kind == "search":
                self.cvs.append(CVUse(self.tick(), node, obj.cls + ".fit", x, xnode))
                if obj.cv is not None:
                    self.cv_split(node, Val(kind="obj", obj=obj.cv), x)
            has_val = any(kw.arg in ("validation_data", "eval_set", "validation_split") for kw in node.keywords)
            f = self.fit_event(node, obj, obj.cls, data, x, xnode, name, has_validation=has_val)
            if name == "fit_transform":
                return Val(origins=x.origins, fitted_by=x.fitted_by | {f.id}, resampled=x.resampled, kind="data")
            if name in ("fit_resample", "fit_sample"):
                if obj.kind == "resampler":
                    r = self.resample_event(node, obj.cls, x)
                    extra = frozenset({r.id})
                else:
                    extra = EMPTY
                xs = Val(origins=x.origins, fitted_by=x.fitted_by, resampled=x.resampled | extra, kind="data")
                ys = Val(origins=y.origins, fitted_by=y.fitted_by, resampled=y.resampled | extra, kind="data")
                return Val(kind="tuple", elts=(xs, ys))
            return Val(kind="obj", obj=obj)
        if name in APPLY_METHODS or name == "__call__":
            fb = self.latest_fits(obj)
            self.record_use(node, obj, name, [x], arg=xnode)
            if name == "flow" and obj.cls == "ImageDataGenerator":
                return Val(origins=x.origins | y.origins, fitted_by=x.fitted_by | fb, resampled=x.resampled, kind="data")
            return Val(origins=x.origins, fitted_by=x.fitted_by | fb, resampled=x.resampled, kind="data" if x.origins else "unknown")
        if name in PREDICT_METHODS:
            self.record_use(node, obj, name, [x], arg=xnode)
            return Val(origins=x.origins, fitted_by=x.fitted_by, kind="data" if x.origins else "unknown", pred=obj)
        if name in SCORE_METHODS:
            self.record_use(node, obj, name, [x, y], is_eval=True, metric=name, arg=xnode)
            return Val(kind="stat")
        if name in ("set_params", "get_params", "clone"):
            return Val(kind="obj", obj=obj)
        return UNKNOWN

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


# ---------------------------------------------------------------------------
# deciding: raw findings for the rules
# ---------------------------------------------------------------------------


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


class LeakageFacts:
    """The outcome of the analysis of one module."""

    def __init__(self, analysis: Analysis | None):
        self.a = analysis
        self.findings: list[RawFinding] = []
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
        splits_by_origin: dict[object, list[Split]] = {}
        for sp in splits:
            for o in sp.inputs:
                splits_by_origin.setdefault(o, []).append(sp)
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
            held = {o for o in f.origins if heldout(o)}
            if held and f.id in reached and (inside or any(f.id in mf.fitted_by and not any(heldout(o) for o in mf.origins) for mf in model_fits)):
                add("ML201", f.node, "fit-includes-test", fit=f, extra={"held": held})
                continue
            if f.stat and f.id not in reached:
                continue
            sharing = {id(sp): sp for o in inside for sp in splits_by_origin.get(o, ())}
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
                    add("ML201", f.node, "before-split", fit=f, split=s, use=test_use)
                    break

        # ML202: a model trained on held-out rows
        for f in sorted(model_fits, key=lambda f: f.seq):
            held = {o for o in f.origins if heldout(o)}
            if held:
                # ...and this fitted model is then scored on held-out rows (a final
                # refit on every labelled row, after the evaluation, is fine)
                later = [u for u in uses_by_fit.get(id(f), ()) if any(heldout(o) for o in u.origins)]
                later += [u for u in uses_by_model_fit.get(id(f), ()) if any(heldout(o) for o in u.origins)]
                if later:
                    keys = self.heldout_keys(held)
                    s = self.split_of_key(sorted(keys, key=str)[0]) if keys else None
                    add("ML202", f.node, "fit-on-test", fit=f, split=s, use=later[0])
                continue
            inside = {o for o in f.origins if not heldout(o)}
            if not inside:
                continue
            for u in uses_by_fit.get(id(f), ()):
                if u.obj is not f.obj:
                    continue
                for k in self.heldout_keys(u.origins):
                    s = self.split_of_key(k)
                    if s is not None and s.inputs & inside:
                        add("ML202", f.node, "fit-on-whole", fit=f, split=s, use=u)
                        break
        # metric calls on predictions of a model fitted on all rows
        for u in a.uses:
            if u.obj is None and u.is_eval:
                for mf in u.model_fits:
                    inside = {o for o in mf.origins if not heldout(o)}
                    for k in self.heldout_keys(u.origins):
                        s = self.split_of_key(k)
                        if s is not None and s.inputs & inside:
                            add("ML202", mf.node, "fit-on-whole", fit=mf, split=s, use=u)

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

        # ML206: random split of time-ordered data
        for s in splits:
            if not s.random:
                continue
            for ds, _ in s.inputs:
                info = a.datasets.get(ds)
                if info is not None and info["time"]:
                    add("ML206", s.node, "shuffled-temporal", split=s, extra={"time_line": info["time"]})
                    break

        self.decide_selection(add)
        self.decide_eval_facts(add)

    def decide_selection(self, add) -> None:
        """ML204: several models / settings scored on one test set, best kept."""
        a = self.a
        by_split: dict[object, list[Use]] = {}
        for u in a.uses:
            if not u.is_eval:
                continue
            for k in self.heldout_keys(u.origins):
                s = a.splits.get(k)
                if s is None or s.kind == "folds":
                    continue
                names = s.test_names
                if names and all(VAL_NAME.search(n) for n in names):
                    continue
                by_split.setdefault(k, []).append(u)
        if not by_split:
            return
        selected = a.selected if a.selected is not None else selected_names(a.tree)  # once, not once per split
        for k, uses in by_split.items():
            if selected.isdisjoint(frozenset().union(*(u.targets for u in uses))):
                continue
            # several fitted models (or one model refitted in the loop that scores it)
            fits: set[int] = set()
            looped = False
            for u in uses:
                for f in ([u.fit] if u.fit else []) + list(u.model_fits):
                    fits.add(f.id)
                    looped = looped or (f.in_loop is not None and u.in_loop is f.in_loop)
            objs = {id(u.obj) for u in uses if u.obj is not None} | {id(m) for u in uses for m in u.models}
            if looped or len(fits) >= 2 or len(objs) >= 2:
                first = min(uses, key=lambda u: u.seq)
                add("ML204", first.node, "multi-test", use=first, split=a.splits.get(k))

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


def analyse(tree: ast.Module, text: str | None = None, selected: frozenset | None = None, memo: bool = False) -> LeakageFacts:
    """Run the provenance analysis over a module (cheap no-op for modules
    that import no ML/data library). `text` is the module's source, used for
    a few module-wide textual facts (which metric names appear). `selected`
    is `selected_names(tree)` if the caller has it (see `SelectedNames`)."""
    imports = import_map(tree)
    if not uses_ml_packages(imports):
        return LeakageFacts(None)
    a = Analysis(tree, imports, text if text is not None else ast.unparse(tree))
    a.selected = selected
    a.memo = memo
    try:
        a.run()
        return LeakageFacts(a)
    except RecursionError:
        # Generated code with expressions nested a thousand deep: no verdict
        # rather than a crash (the rest of the linter still runs).
        return LeakageFacts(None)


from mllint.analysis.dataflow import memo as _memo  # noqa: E402  (it uses the classes above)
