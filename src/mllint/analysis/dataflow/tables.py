"""Library knowledge of the leakage analysis: which calls load data, fit,
transform, split, resample, evaluate; the name patterns for held-out data."""

from __future__ import annotations

import builtins
import re

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
# Unsupervised models: learn statistics of the rows (a leak before a split is
# ML201); their `predict` assigns clusters, it is not an evaluation.
CLUSTER_CLASSES = frozenset(
    {
        "KMeans", "MiniBatchKMeans", "BisectingKMeans", "DBSCAN", "HDBSCAN", "OPTICS", "GaussianMixture",
        "BayesianGaussianMixture", "AgglomerativeClustering", "Birch", "MeanShift", "SpectralClustering",
        "AffinityPropagation", "NearestNeighbors",
    }
)
# Fitted, but learn nothing about the rows' distribution worth calling a leak.
STATELESS_CLASSES = frozenset(
    {
        "FunctionTransformer", "PolynomialFeatures", "Binarizer", "Normalizer", "HashingVectorizer",
        "LabelEncoder", "LabelBinarizer", "MultiLabelBinarizer", "SplineTransformer",
    }
)
# Label encoders learn the classes (their codes): refitting one on held-out
# labels can re-number them (ML209).
LABEL_CLASSES = frozenset({"LabelEncoder", "LabelBinarizer", "MultiLabelBinarizer"})
# Encoders learn categories only: a leak before a split (ML201), too mild to
# report for cross-validation (ML205).
ENCODER_CLASSES = frozenset(
    {
        "OneHotEncoder", "OrdinalEncoder", "DictVectorizer", "StringLookup", "IntegerLookup",
        "CategoryEncoding", "BinaryEncoder", "HashingEncoder", "CountVectorizer",
    }
)
# Learn categories or a vocabulary only: a mild leak (medium).
VOCABULARY_CLASSES = ENCODER_CLASSES | frozenset(
    {"TfidfVectorizer", "Tokenizer", "TextVectorization", "HashingVectorizer", "LabelEncoder", "LabelBinarizer"}
)
# Fitted with the target: what they learn is about the labels of the rows.
SUPERVISED_CLASSES = frozenset(
    {
        "TargetEncoder", "WOEEncoder", "LeaveOneOutEncoder", "CatBoostEncoder", "JamesSteinEncoder",
        "MEstimateEncoder", "SelectKBest", "SelectPercentile", "SelectFpr", "SelectFdr", "SelectFwe",
        "GenericUnivariateSelect", "RFE", "RFECV", "SelectFromModel", "SequentialFeatureSelector",
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
STAT_METHODS = frozenset({"mean", "std", "var", "median", "min", "max", "quantile", "mode", "sum", "nanmean", "nanstd", "nanmedian", "percentile", "value_counts"})
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
_FIT_LIKE_METHODS = FIT_METHODS | {"fit_transform", "fit_predict", "fit_resample"}
OBJ_ONLY_METHODS = FIT_METHODS | PREDICT_METHODS | {"fit_transform", "fit_predict", "fit_resample", "fit_sample", "score", "evaluate", "texts_to_sequences"}
OPAQUE_DENY = frozenset(
    {
        "os", "sys", "json", "re", "time", "datetime", "math", "random", "pathlib", "logging", "collections",
        "itertools", "functools", "typing", "argparse", "warnings", "glob", "shutil", "string", "yaml",
        "matplotlib", "seaborn", "plotly", "tqdm", "IPython", "display", "mlflow", "wandb", "copy",
    }
)

# Features computed from neighbouring rows: row order matters.
SERIAL_METHODS = frozenset({"rolling", "shift", "diff", "ewm", "expanding", "pct_change"})
# Random index draws (numpy.random and Generator methods).
DRAW_FUNCS = frozenset({"choice", "randint", "integers"})
# Row selectors: their result indexes rows (`df[df.index.isin(test.index)]`).
MASK_METHODS = frozenset({"isin", "isna", "isnull", "notna", "notnull", "between", "duplicated"})

# Keyword arguments passing data a model is monitored on while it trains.
EVAL_SET_KWARGS = ("eval_set", "validation_data", "valid_sets", "evals")

# A loop variable used as `model.fit(...)`/`model.predict(...)` is a model
# (a loop over models), not a setting being swept.
SWEEP_RECEIVER_METHODS = frozenset({"fit", "predict", "predict_proba", "decision_function", "score", "evaluate", "fit_transform", "transform", "set_params"})

THRESHOLD_METRICS = frozenset(
    {"accuracy_score", "f1_score", "precision_score", "recall_score", "fbeta_score", "balanced_accuracy_score", "jaccard_score"}
)

VAL_NAME = re.compile(r"val|valid|dev\b|^x_v$|^y_v$|hold", re.I)
DATE_NAME = re.compile(r"date|time|timestamp|period", re.I)
HELD_OUT_NAME = re.compile(r"(?i)test|valid|val|holdout|_te$|_va$|oof|fold")
# Which side of a split a name holds (`X_valid, X_train = X[:n], X[n:]`).
_SIDE_TRAIN = re.compile(r"(?i)train|(^|_)(tr|trn|fit)(_|\d|$)")
_SIDE_HELD = re.compile(r"(?i)test|valid|holdout|hold_out|(^|_)(val|dev|te|va|v|ho)(_|\d|$)")


def name_side(name: str | None) -> str | None:
    """"train", "test" (any held-out part) or None (a neutral name) for the
    name a split part is stored in; with both (`X_train_val`) the first wins."""
    if not name:
        return None
    t = _SIDE_TRAIN.search(name)
    h = _SIDE_HELD.search(name)
    if t and h:
        return "train" if t.start() <= h.start() else "test"
    return "train" if t else "test" if h else None


_BUILTINS_CACHE: tuple[int, frozenset] = (-1, frozenset())


def _builtin_names() -> frozenset:
    """`dir(builtins)` as a set, recomputed only if the builtins module changed size."""
    global _BUILTINS_CACHE
    n = len(builtins.__dict__)
    if _BUILTINS_CACHE[0] != n:
        _BUILTINS_CACHE = (n, frozenset(dir(builtins)))
    return _BUILTINS_CACHE[1]
