"""Names mllint knows without seeing their import: what a star import of a
known library binds, and the names real notebooks and pasted snippets use
without any import at all.

* `star_exports(module)`: the names `from module import *` binds that rules
  care about, with what they are (`from sklearn.preprocessing import *` binds
  `StandardScaler` -> "sklearn.preprocessing.StandardScaler"; `from
  fastai.vision.all import *` binds `np` -> "numpy", `F` ->
  "torch.nn.functional", ...). A table of the public names the rules and
  the analyses match, not of whole libraries: a name left out stays unknown,
  as before.
* `assume(name, bindings)`: what a name that has no binding anywhere in the
  module is taken to be, by convention: a conventional module alias (`np`,
  `pd`, `tf`, `torch`, `nn`, `F`, `plt`, `sns`, `xgb`, `lgb`, ...) or a
  distinctive library name (`StandardScaler`, `train_test_split`, `KMeans`,
  `DataLoader`, ...). Never when the module binds the name anywhere (an
  import, an assignment, a parameter, a loop or `with` target, a `def`, a
  later cell's import): a binding always wins.
* `module_bindings(tree)`: every name the module binds and reads, the packages
  it imports and whether it star-imports an unknown module: one walk per
  top-level statement, memoised on the statement node, made only for a module
  that reads such a name without a binding (the engine's walk never pays for it).
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left

from mllint.core.astwalk import node_memo, subtree

# ---------------------------------------------------------------------------
# star imports: module -> names it exports that rules care about
# ---------------------------------------------------------------------------

_NUMPY = (
    "nan NaN NAN inf random ndarray array asarray zeros ones empty full zeros_like ones_like empty_like "
    "full_like arange linspace logspace eye identity concatenate stack vstack hstack column_stack row_stack "
    "dstack where load save loadtxt genfromtxt fromfile frombuffer meshgrid tile repeat append insert delete "
    "dot matmul outer transpose reshape squeeze flip diag tril triu clip exp log log2 log10 log1p sqrt sort "
    "argsort copyto isnan mean std var median percentile nanmean nanstd nanmedian around unique"
)
_NUMPY_RANDOM = (
    "seed rand randn randint random random_sample ranf sample choice shuffle permutation normal uniform "
    "binomial poisson beta gamma exponential standard_normal multivariate_normal default_rng RandomState "
    "Generator SeedSequence get_state set_state"
)
_PANDAS = (
    "DataFrame Series NA NaT concat merge merge_asof merge_ordered get_dummies pivot pivot_table crosstab "
    "json_normalize melt wide_to_long isna isnull notna notnull to_datetime to_numeric cut qcut "
    "read_csv read_table read_excel read_parquet read_json read_feather read_sql read_sql_query "
    "read_sql_table read_pickle read_hdf read_orc read_fwf read_html read_xml read_stata read_sas read_spss"
)
_TORCH = (
    "nan manual_seed seed tensor as_tensor from_numpy Tensor log log2 log10 log_softmax softmax sigmoid cat "
    "concat concatenate hstack vstack stack no_grad inference_mode set_grad_enabled load save device "
    "use_deterministic_algorithms rand randn randint randperm normal bernoulli multinomial"
)
_TORCH_NN = (
    "Module Sequential ModuleList ModuleDict Parameter Linear Bilinear Conv1d Conv2d Conv3d ConvTranspose2d "
    "MaxPool1d MaxPool2d AvgPool2d AdaptiveAvgPool2d ReLU LeakyReLU GELU ELU Tanh Sigmoid Softmax LogSoftmax "
    "Dropout Dropout1d Dropout2d Dropout3d AlphaDropout BatchNorm1d BatchNorm2d BatchNorm3d LayerNorm GroupNorm "
    "InstanceNorm2d Embedding LSTM GRU RNN Transformer TransformerEncoder TransformerEncoderLayer Flatten "
    "Identity CrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss MSELoss L1Loss SmoothL1Loss HuberLoss "
    "KLDivLoss DataParallel functional init"
)
_TORCH_F = (
    "softmax log_softmax sigmoid cross_entropy nll_loss binary_cross_entropy binary_cross_entropy_with_logits "
    "mse_loss l1_loss relu dropout"
)
_TORCH_DATA = "DataLoader Dataset TensorDataset IterableDataset Subset ConcatDataset random_split RandomSampler SequentialSampler"
_TORCH_OPTIM = "Optimizer SGD Adam AdamW RMSprop Adagrad Adadelta lr_scheduler"
_TORCHVISION_TRANSFORMS = (
    "Compose ToTensor Normalize Resize CenterCrop Lambda RandomCrop RandomResizedCrop RandomHorizontalFlip "
    "RandomVerticalFlip RandomRotation RandomAffine RandomPerspective RandomErasing RandomApply RandomChoice "
    "RandomOrder RandomGrayscale ColorJitter AutoAugment RandAugment TrivialAugmentWide AugMix"
)
_KERAS_LAYERS = (
    "Dense Dropout SpatialDropout1D SpatialDropout2D GaussianDropout AlphaDropout Conv1D Conv2D Conv3D "
    "MaxPooling2D Flatten Input Embedding LSTM GRU BatchNormalization LayerNormalization Activation Softmax "
    "Normalization TextVectorization StringLookup IntegerLookup Discretization CategoryEncoding"
)
_KERAS_MODELS = "Sequential Model load_model clone_model model_from_json model_from_config"
_KERAS_OPTIMIZERS = "SGD Adam AdamW RMSprop Adagrad Adadelta Nadam"
_KERAS_UTILS = "set_random_seed to_categorical"
_KERAS_CALLBACKS = "EarlyStopping ModelCheckpoint ReduceLROnPlateau"

_SKLEARN = {
    "sklearn.cluster": "AgglomerativeClustering BisectingKMeans DBSCAN KMeans MiniBatchKMeans",
    "sklearn.compose": "ColumnTransformer make_column_transformer",
    "sklearn.datasets": (
        "load_breast_cancer load_diabetes load_digits load_files load_iris load_linnerud load_wine "
        "fetch_20newsgroups fetch_california_housing fetch_covtype fetch_lfw_people fetch_olivetti_faces "
        "fetch_openml make_blobs make_circles make_classification make_friedman1 make_moons "
        "make_multilabel_classification make_regression make_s_curve make_swiss_roll"
    ),
    "sklearn.decomposition": "FactorAnalysis FastICA IncrementalPCA KernelPCA LatentDirichletAllocation NMF PCA SparsePCA TruncatedSVD",
    "sklearn.discriminant_analysis": "LinearDiscriminantAnalysis QuadraticDiscriminantAnalysis",
    "sklearn.ensemble": (
        "AdaBoostClassifier AdaBoostRegressor BaggingClassifier BaggingRegressor ExtraTreesClassifier "
        "ExtraTreesRegressor GradientBoostingClassifier GradientBoostingRegressor HistGradientBoostingClassifier "
        "HistGradientBoostingRegressor IsolationForest RandomForestClassifier RandomForestRegressor "
        "RandomTreesEmbedding StackingClassifier StackingRegressor VotingClassifier VotingRegressor"
    ),
    "sklearn.feature_extraction": "DictVectorizer",
    "sklearn.feature_extraction.text": "CountVectorizer HashingVectorizer TfidfTransformer TfidfVectorizer",
    "sklearn.feature_selection": (
        "GenericUnivariateSelect RFE RFECV SelectFdr SelectFpr SelectFromModel SelectFwe SelectKBest "
        "SelectPercentile SequentialFeatureSelector VarianceThreshold"
    ),
    "sklearn.impute": "KNNImputer MissingIndicator SimpleImputer",
    "sklearn.linear_model": (
        "BayesianRidge ElasticNet ElasticNetCV HuberRegressor Lasso LassoCV LinearRegression LogisticRegression "
        "LogisticRegressionCV PassiveAggressiveClassifier PassiveAggressiveRegressor Perceptron Ridge RidgeCV "
        "RidgeClassifier SGDClassifier SGDOneClassSVM SGDRegressor"
    ),
    "sklearn.manifold": "Isomap LocallyLinearEmbedding TSNE",
    "sklearn.metrics": (
        "accuracy_score average_precision_score balanced_accuracy_score brier_score_loss classification_report "
        "cohen_kappa_score confusion_matrix explained_variance_score f1_score fbeta_score hamming_loss "
        "jaccard_score log_loss matthews_corrcoef mean_absolute_error mean_absolute_percentage_error "
        "mean_squared_error mean_squared_log_error median_absolute_error precision_recall_curve "
        "precision_score r2_score recall_score roc_auc_score roc_curve root_mean_squared_error silhouette_score"
    ),
    "sklearn.mixture": "BayesianGaussianMixture GaussianMixture",
    "sklearn.model_selection": (
        "GridSearchCV GroupKFold GroupShuffleSplit HalvingGridSearchCV HalvingRandomSearchCV KFold "
        "LeaveOneGroupOut LeaveOneOut LeavePOut PredefinedSplit RandomizedSearchCV RepeatedKFold "
        "RepeatedStratifiedKFold ShuffleSplit StratifiedGroupKFold StratifiedKFold StratifiedShuffleSplit "
        "TimeSeriesSplit cross_val_predict cross_val_score cross_validate learning_curve "
        "permutation_test_score train_test_split validation_curve"
    ),
    # scikit-learn < 0.20
    "sklearn.cross_validation": "KFold ShuffleSplit StratifiedKFold StratifiedShuffleSplit cross_val_score train_test_split",
    "sklearn.grid_search": "GridSearchCV RandomizedSearchCV",
    "sklearn.naive_bayes": "BernoulliNB CategoricalNB ComplementNB GaussianNB MultinomialNB",
    "sklearn.neighbors": "KNeighborsClassifier KNeighborsRegressor RadiusNeighborsClassifier RadiusNeighborsRegressor",
    "sklearn.neural_network": "MLPClassifier MLPRegressor",
    "sklearn.pipeline": "FeatureUnion Pipeline make_pipeline make_union",
    "sklearn.preprocessing": (
        "Binarizer FunctionTransformer KBinsDiscretizer LabelBinarizer LabelEncoder MaxAbsScaler MinMaxScaler "
        "MultiLabelBinarizer Normalizer OneHotEncoder OrdinalEncoder PolynomialFeatures PowerTransformer "
        "QuantileTransformer RobustScaler SplineTransformer StandardScaler TargetEncoder maxabs_scale "
        "minmax_scale normalize power_transform quantile_transform robust_scale scale"
    ),
    "sklearn.svm": "LinearSVC LinearSVR NuSVC NuSVR SVC SVR",
    "sklearn.tree": "DecisionTreeClassifier DecisionTreeRegressor ExtraTreeClassifier ExtraTreeRegressor",
    "sklearn.utils": "resample shuffle",
    "imblearn.over_sampling": "ADASYN BorderlineSMOTE KMeansSMOTE RandomOverSampler SMOTE SMOTEN SMOTENC SVMSMOTE",
    "imblearn.under_sampling": (
        "ClusterCentroids CondensedNearestNeighbour EditedNearestNeighbours InstanceHardnessThreshold NearMiss "
        "OneSidedSelection RandomUnderSampler TomekLinks"
    ),
    "imblearn.combine": "SMOTEENN SMOTETomek",
    "imblearn.ensemble": "BalancedBaggingClassifier BalancedRandomForestClassifier EasyEnsembleClassifier RUSBoostClassifier",
    "imblearn.pipeline": "Pipeline make_pipeline",
}
# `from sklearn import *` binds the subpackages.
_SKLEARN_SUBPACKAGES = " ".join(
    sorted({m.split(".")[1] for m in _SKLEARN if m.startswith("sklearn.")} - {"cross_validation", "grid_search", "utils"})
)

_STAR: dict[str, str] = {
    "numpy": _NUMPY,
    "numpy.random": _NUMPY_RANDOM,
    "pandas": _PANDAS,
    "torch": _TORCH,
    "torch.nn": _TORCH_NN,
    "torch.nn.functional": _TORCH_F,
    "torch.utils.data": _TORCH_DATA,
    "torch.optim": _TORCH_OPTIM,
    "torchvision.transforms": _TORCHVISION_TRANSFORMS,
    "sklearn": _SKLEARN_SUBPACKAGES,
    **_SKLEARN,
}
for _keras in ("keras", "tensorflow.keras"):
    _STAR[f"{_keras}.layers"] = _KERAS_LAYERS
    _STAR[f"{_keras}.models"] = _KERAS_MODELS
    _STAR[f"{_keras}.optimizers"] = _KERAS_OPTIMIZERS
    _STAR[f"{_keras}.utils"] = _KERAS_UTILS
    _STAR[f"{_keras}.callbacks"] = _KERAS_CALLBACKS
    _STAR[f"{_keras}.preprocessing.image"] = "ImageDataGenerator"
    _STAR[f"{_keras}.preprocessing.text"] = "Tokenizer"
    _STAR[_keras] = "layers models optimizers utils callbacks Sequential Model"

# Modules whose star import re-exports other libraries under their usual
# names (they define no `__all__`): fastai's `all`/`basics`/`imports`
# modules (v2; v1 `fastai.vision` etc. and v0.7 `fastai.conv_learner` alike)
# and pylab. Local name -> qualified name.
_FASTAI_REEXPORTS: dict[str, str] = {
    "np": "numpy",
    "pd": "pandas",
    "plt": "matplotlib.pyplot",
    "torch": "torch",
    "nn": "torch.nn",
    "F": "torch.nn.functional",
    "optim": "torch.optim",
    "random": "random",
    "math": "math",
    "os": "os",
    "pickle": "pickle",
    "array": "numpy.array",
    "ndarray": "numpy.ndarray",
    "Tensor": "torch.Tensor",
    "as_tensor": "torch.as_tensor",
    # fastai's own loader, not torch's: rules about torch's DataLoader stay out.
    "DataLoader": "fastai.data.load.DataLoader",
    "DataLoaders": "fastai.data.core.DataLoaders",
}
_FASTAI_STAR_MODULES = frozenset(
    {
        "fastai",
        "fastai.basics",
        "fastai.torch_basics",
        "fastai.imports",
        "fastai.torch_imports",
        "fastai.core",
        "fastai.torch_core",
        "fastai.vision",
        "fastai.tabular",
        "fastai.text",
        "fastai.collab",
        "fastai.conv_learner",
        "fastai.structured",
        "fastai.column_data",
        "fastai.nlp",
    }
)
_PYLAB = {"np": "numpy", "plt": "matplotlib.pyplot"}


def _expand(module: str, names: str) -> dict[str, str]:
    return {n: f"{module}.{n}" for n in names.split()}


_STAR_EXPORTS: dict[str, dict[str, str]] = {m: _expand(m, names) for m, names in _STAR.items()}
# pylab star-imports numpy, then numpy.random (its `random` is the function).
_STAR_EXPORTS["pylab"] = _STAR_EXPORTS["matplotlib.pylab"] = {
    **_STAR_EXPORTS["numpy"],
    **_STAR_EXPORTS["numpy.random"],
    **_PYLAB,
}


def star_exports(module: str) -> dict[str, str] | None:
    """`{local name: qualified name}` that `from module import *` binds (the
    names rules care about), or None for a module not in the tables
    (relative imports, the project's own modules, other libraries)."""
    got = _STAR_EXPORTS.get(module)
    if got is not None:
        return got
    if module.startswith("fastai.") or module == "fastai":
        if module in _FASTAI_STAR_MODULES or module.endswith(".all"):
            return _FASTAI_REEXPORTS
    return None


# ---------------------------------------------------------------------------
# names used without any binding
# ---------------------------------------------------------------------------

# Conventional aliases: local name -> module.
CONVENTIONS: dict[str, str] = {
    "np": "numpy",
    "pd": "pandas",
    "tf": "tensorflow",
    "torch": "torch",
    "nn": "torch.nn",
    "F": "torch.nn.functional",
    "optim": "torch.optim",
    "plt": "matplotlib.pyplot",
    "sns": "seaborn",
    "xgb": "xgboost",
    "lgb": "lightgbm",
    "sklearn": "sklearn",
    "keras": "keras",
    "random": "random",
    "math": "math",
    "os": "os",
    "pickle": "pickle",
    "joblib": "joblib",
}
# Names a snippet may read that belong to another library: `nn` is also
# flax's, mxnet's and paddle's; `F`/`optim` are torch's only in torch code
# (`F` is also pyspark's `functions`).
_NOT_TORCH_NN = frozenset({"jax", "jnp", "flax", "haiku", "hk", "mxnet", "mx", "gluon", "paddle"})
_TORCH_SIGNS = frozenset({"torch", "fastai", "torchvision", "lightning", "pytorch_lightning"})

# Library names generic enough to be someone else's (`shuffle`, `scale`,
# `Pipeline`: imblearn's too): never assumed.
_NOT_DISTINCTIVE = frozenset({"scale", "normalize", "shuffle", "resample", "Pipeline", "make_pipeline", "text"})
# Distinctive, but a star import of an unknown module may bind them to a
# look-alike (fastai's `DataLoader`): assumed only without one.
_GUARDED = frozenset({"DataLoader", "TensorDataset", "random_split"})


def _distinctive() -> dict[str, str]:
    out: dict[str, str] = {}
    for module in _SKLEARN:
        if module.startswith(("sklearn.cross_validation", "sklearn.grid_search")):
            continue  # the old homes of names whose current home is listed
        for name, q in _STAR_EXPORTS[module].items():
            if name not in _NOT_DISTINCTIVE:
                out.setdefault(name, q)
    for name in _GUARDED:
        out[name] = _STAR_EXPORTS["torch.utils.data"][name]
    return out


DISTINCTIVE: dict[str, str] = _distinctive()
# Every name `assume` may answer for: a cheap first test before any work.
ASSUMABLE: frozenset[str] = frozenset(CONVENTIONS) | frozenset(DISTINCTIVE)
# For `SemanticModel.imports_module`: package -> its conventional aliases.
ALIASES_OF: dict[str, tuple[str, ...]] = {}
for _name, _q in CONVENTIONS.items():
    ALIASES_OF.setdefault(_q.split(".", 1)[0], ())
    ALIASES_OF[_q.split(".", 1)[0]] += (_name,)


class TextAliases:
    """Which conventional aliases a module's text uses as modules in code
    (`np.` not preceded by a name character or a dot, and not, by the look
    of its line, in a comment or a string or docstring): the cheap first
    test (`str.find`) before any walk of the module. Approximate on purpose:
    a use it misses is only left unknown, and a walk confirms any use it finds."""

    __slots__ = ("text", "_seen", "_triples")

    def __init__(self, text: str):
        self.text = text
        self._seen: dict[str, bool] = {}
        self._triples: list[int] | None = None

    def uses(self, alias: str) -> bool:
        hit = self._seen.get(alias)
        if hit is None:
            hit = self._seen[alias] = self._find(alias)
        return hit

    def _find(self, alias: str) -> bool:
        text = self.text
        needle = alias + "."
        i = text.find(needle)
        while i != -1:
            c = text[i - 1] if i else "\n"
            if not (c.isalnum() or c == "_" or c == ".") and self._in_code(i):
                return True
            i = text.find(needle, i + 1)
        return False

    def _in_code(self, i: int) -> bool:
        text = self.text
        line = text[text.rfind("\n", 0, i) + 1 : i]
        if "#" in line or line.count('"') % 2 or line.count("'") % 2:
            return False
        if self._triples is None:
            self._triples = [m.start() for m in _TRIPLE.finditer(text)]
        return bisect_left(self._triples, i) % 2 == 0  # not inside a triple-quoted string


_TRIPLE = re.compile(r'"""|\'\'\'')


class ModuleBindings:
    """What a whole module binds and reads (see `module_bindings`)."""

    __slots__ = ("bound", "loaded", "roots", "unknown_star")

    def __init__(self, bound: frozenset[str], loaded: frozenset[str], roots: frozenset[str], unknown_star: bool):
        self.bound = bound  # every name bound anywhere: imports, targets, parameters, defs, ...
        self.loaded = loaded  # every name read anywhere
        self.roots = roots  # top-level packages imported (absolute imports)
        self.unknown_star = unknown_star  # a `from X import *` of a module not in the tables


def assume(name: str, mb: ModuleBindings) -> str | None:
    """The qualified name `name` is taken to be when the module never binds
    it, or None."""
    if name not in ASSUMABLE or name in mb.bound:
        return None
    q = CONVENTIONS.get(name)
    if q is not None:
        if name == "nn":
            return None if (mb.roots | mb.loaded) & _NOT_TORCH_NN else q
        if name in ("F", "optim"):
            torch_like = bool(mb.roots & _TORCH_SIGNS) or "torch" in mb.loaded or (
                "nn" in mb.loaded and assume("nn", mb) is not None
            )
            return q if torch_like else None
        return q
    if name in _GUARDED and mb.unknown_star:
        return None
    return DISTINCTIVE.get(name)


def bound_in_text(text: str, name: str) -> bool:
    """A cheap test that the module binds `name`: `import x as name`,
    `from x import name` or a line `name = ...` in its text. True may come
    from a comment or a string (then the name is not assumed: only a
    missed assumption); False says nothing (`module_bindings` decides)."""
    n = re.escape(name)
    return re.search(rf"\b(?:as|import)\s+{n}\b|^[ \t]*{n}[ \t]*=(?!=)", text, re.MULTILINE) is not None


def describe(assumed: list[tuple[str, str]]) -> str:
    """How a finding's message says what was assumed: `[("np", "numpy")]` ->
    "assuming `np` means `numpy`: no import or assignment of it here"."""
    parts = [f"`{name}` means `{q}`" for name, q in assumed]
    said = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"assuming {said}: no import or assignment of {'it' if len(parts) == 1 else 'them'} here"


def module_bindings(tree: ast.AST) -> ModuleBindings:
    """Every name bound or read in the module, at any depth (one walk of each
    top-level statement, memoised on its node)."""
    bound: set[str] = set()
    loaded: set[str] = set()
    roots: set[str] = set()
    unknown = False
    body = getattr(tree, "body", None)
    for st in body if isinstance(body, list) else [tree]:
        b, ld, r, u = node_memo(st, "bindings", None, lambda st=st: _statement_bindings(st))
        bound |= b
        loaded |= ld
        roots |= r
        unknown = unknown or u
    return ModuleBindings(frozenset(bound), frozenset(loaded), frozenset(roots), unknown)


def _statement_bindings(st: ast.AST) -> tuple[frozenset, frozenset, frozenset, bool]:
    bound: set[str] = set()
    loaded: set[str] = set()
    roots: set[str] = set()
    unknown = False
    Name, Load = ast.Name, ast.Load
    binders = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler, ast.MatchAs, ast.MatchStar)
    for node in subtree(st):
        t = type(node)
        if t is Name:
            (loaded if type(node.ctx) is Load else bound).add(node.id)  # type: ignore[attr-defined]
        elif t is ast.arg:
            bound.add(node.arg)  # type: ignore[attr-defined]
        elif t is ast.Import:
            for alias in node.names:  # type: ignore[attr-defined]
                top = alias.name.split(".", 1)[0]
                bound.add(alias.asname or top)
                roots.add(top)
        elif t is ast.ImportFrom:
            module = node.module or ""  # type: ignore[attr-defined]
            if not node.level and module:  # type: ignore[attr-defined]
                roots.add(module.split(".", 1)[0])
            for alias in node.names:  # type: ignore[attr-defined]
                if alias.name != "*":
                    bound.add(alias.asname or alias.name)
                    continue
                exports = star_exports(module) if not node.level else None  # type: ignore[attr-defined]
                if exports is None:
                    unknown = True
                else:
                    bound.update(exports)
                    roots.update(q.split(".", 1)[0] for q in exports.values())
        elif t in binders:
            name = getattr(node, "name", None)
            if name:
                bound.add(name)
        elif t is ast.MatchMapping and node.rest:  # type: ignore[attr-defined]
            bound.add(node.rest)  # type: ignore[attr-defined]
        elif t is ast.Global or t is ast.Nonlocal:
            bound.update(node.names)  # type: ignore[attr-defined]
    return frozenset(bound), frozenset(loaded), frozenset(roots), unknown
