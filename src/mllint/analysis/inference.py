"""Light type inference: "what kind of object is this expression?"

No type checker, no imports of user code. Given the `SemanticModel` (at the
current point of the walk) and an expression, `infer_type` returns one tag:

    "dataframe"     pd.read_*(), pd.DataFrame(...), frame-returning methods,
                    df[["a", "b"]], df[mask]
    "series"        pd.Series(...), df["col"], series methods
    "pandas"        a pandas object of unknown shape (df.loc[...], df[name])
    "ndarray"       np.array/zeros/..., df.to_numpy(), df.values
    "torch_module"  instances of torch.nn layers, of user classes subclassing
                    nn.Module / LightningModule, torchvision/timm/transformers
                    models, and `.to()/.cuda()/.eval()/.train()` of those
    "optimizer"     torch.optim.* instances (not lr schedulers)
    "dataloader"    torch.utils.data.DataLoader(...)
    "keras_model"   keras Sequential/Model/load_model/applications

or None when the evidence is not there ("unknown stays unknown"): a rule that
needs a type does not guess. `SemanticModel.on_assign` stores the result in
`Binding.type`, so a name's type is computed once, at binding time.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mllint.analysis.semantic import Binding, SemanticModel

PANDAS_TAGS = frozenset({"dataframe", "series", "pandas"})

# pandas functions returning a DataFrame.
_PD_FRAME_FUNCS = frozenset(
    {
        "DataFrame",
        "concat",
        "merge",
        "merge_asof",
        "merge_ordered",
        "get_dummies",
        "pivot_table",
        "pivot",
        "crosstab",
        "json_normalize",
        "melt",
        "wide_to_long",
    }
)
# DataFrame/Series methods that return an edited copy of the receiver (the
# receiver is unchanged unless `inplace=True`): shared with ML403.
COPY_RETURNING_EDITS = frozenset(
    {
        "abs",
        "add_prefix",
        "add_suffix",
        "assign",
        "astype",
        "bfill",
        "clip",
        "convert_dtypes",
        "drop",
        "drop_duplicates",
        "droplevel",
        "dropna",
        "explode",
        "ffill",
        "fillna",
        "infer_objects",
        "interpolate",
        "mask",
        "query",
        "reindex",
        "rename",
        "rename_axis",
        "replace",
        "reset_index",
        "round",
        "set_index",
        "sort_index",
        "sort_values",
        "where",
    }
)

# DataFrame/Series methods that return an object of the receiver's kind.
SAME_KIND_METHODS = COPY_RETURNING_EDITS | frozenset(
    {
        "copy",
        "cumprod",
        "cumsum",
        "diff",
        "filter",
        "head",
        "isna",
        "isnull",
        "nlargest",
        "notna",
        "notnull",
        "nsmallest",
        "pct_change",
        "pipe",
        "rank",
        "sample",
        "select_dtypes",
        "shift",
        "tail",
        "transform",
        "truncate",
        "tz_convert",
        "tz_localize",
    }
)
# Methods of a DataFrame that return a DataFrame whatever the receiver.
FRAME_METHODS = frozenset({"merge", "join", "pivot", "pivot_table", "melt", "transpose", "to_frame", "describe", "corr", "cov"})
NDARRAY_FROM_PANDAS = frozenset({"to_numpy"})

_NP_ARRAY_FUNCS = frozenset(
    {
        "array",
        "asarray",
        "zeros",
        "ones",
        "empty",
        "full",
        "zeros_like",
        "ones_like",
        "empty_like",
        "full_like",
        "arange",
        "linspace",
        "logspace",
        "eye",
        "identity",
        "concatenate",
        "stack",
        "vstack",
        "hstack",
        "column_stack",
        "where",
        "load",
        "loadtxt",
        "genfromtxt",
        "fromfile",
        "frombuffer",
        "meshgrid",
        "tile",
        "repeat",
        "append",
        "dot",
        "matmul",
        "outer",
        "transpose",
        "reshape",
        "diag",
        "tril",
        "triu",
        "clip",
        "abs",
        "exp",
        "log",
        "sqrt",
    }
)
_NP_RANDOM_FUNCS = frozenset({"rand", "randn", "random", "randint", "normal", "uniform", "standard_normal", "choice", "permutation", "binomial", "poisson"})
NDARRAY_SAME_METHODS = frozenset({"reshape", "astype", "copy", "flatten", "ravel", "transpose", "squeeze", "clip", "round", "T"})

# torch.nn classes that are not layers/containers.
_TORCH_NN_NON_MODULES = frozenset({"Parameter", "ParameterList", "ParameterDict", "utils", "functional", "init"})
TORCH_MODULE_SAME_METHODS = frozenset({"to", "cuda", "cpu", "eval", "train", "float", "half", "double", "bfloat16", "requires_grad_", "to_empty"})
_TORCH_MODULE_BASES = frozenset(
    {
        "torch.nn.Module",
        "torch.nn.modules.module.Module",
        "pytorch_lightning.LightningModule",
        "pytorch_lightning.core.LightningModule",
        "pytorch_lightning.core.module.LightningModule",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "lightning.pytorch.core.LightningModule",
        "lightning.pytorch.core.module.LightningModule",
        "transformers.PreTrainedModel",
        "transformers.modeling_utils.PreTrainedModel",
    }
)
LIGHTNING_BASES = frozenset(b for b in _TORCH_MODULE_BASES if "ightning" in b)

_KERAS_PREFIXES = ("keras.", "tensorflow.keras.", "tf_keras.", "tensorflow.python.keras.")
_KERAS_MODEL_NAMES = frozenset({"Sequential", "Model", "load_model", "clone_model", "model_from_json", "model_from_config"})

_OPTIMIZER_EXCLUDE = frozenset({"lr_scheduler", "swa_utils", "Optimizer"})


def _pandas_qual(q: str) -> str | None:
    """The function name if `q` is a pandas top-level callable."""
    if q.startswith("pandas."):
        rest = q[len("pandas.") :]
        if "." not in rest:
            return rest
    return None


def kind_of_qualname(q: str | None, sem: "SemanticModel | None" = None, func: ast.AST | None = None) -> str | None:
    """Type tag of the object a call to `q` returns (constructors, factories)."""
    if not q:
        return None
    if q.endswith("()"):
        return None
    p = _pandas_qual(q)
    if p is not None:
        if p.startswith("read_") and p not in ("read_pickle",):
            return "dataframe"
        if p == "read_pickle":
            return None
        if p in _PD_FRAME_FUNCS:
            return "dataframe"
        if p == "Series":
            return "series"
        return None
    if q.startswith("numpy."):
        parts = q.split(".")
        if len(parts) == 2 and parts[1] in _NP_ARRAY_FUNCS:
            return "ndarray"
        if len(parts) == 3 and parts[1] == "random" and parts[2] in _NP_RANDOM_FUNCS:
            return "ndarray"
        return None
    if q.startswith("torch."):
        parts = q.split(".")
        if len(parts) == 3 and parts[1] == "nn" and parts[2][:1].isupper() and parts[2] not in _TORCH_NN_NON_MODULES:
            return "torch_module"
        if len(parts) == 3 and parts[1] == "optim" and parts[2][:1].isupper() and parts[2] not in _OPTIMIZER_EXCLUDE:
            return "optimizer"
        if q in ("torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"):
            return "dataloader"
        if q in ("torch.jit.load", "torch.jit.script", "torch.compile"):
            return None
        return None
    if q.startswith("torchvision.models."):
        last = q.rsplit(".", 1)[-1]
        if last[:1].islower() and not last.startswith("get_weight") and last not in ("list_models", "get_model_weights", "get_weight"):
            return "torch_module"
        if last == "get_model":
            return "torch_module"
        return None
    if q in ("timm.create_model", "timm.models.create_model"):
        return "torch_module"
    if q.startswith("transformers.") and q.endswith((".from_pretrained", ".from_config")):
        cls = q.split(".")[-2]
        if "Model" in cls or "For" in cls:
            return "torch_module" if not cls.startswith("TF") and not cls.startswith("Flax") else None
        return None
    if q.startswith(("lightning.", "pytorch_lightning.", "transformers.")):
        return None
    if q.startswith(_KERAS_PREFIXES):
        last = q.rsplit(".", 1)[-1]
        if last in _KERAS_MODEL_NAMES:
            return "keras_model"
        if ".applications." in q and last[:1].isupper():
            return "keras_model"
        if (".optimizers." in q) and last[:1].isupper():
            return "optimizer"
        return None
    return None


def user_class_kind(sem: "SemanticModel", cls: ast.ClassDef, _depth: int = 0) -> str | None:
    """"torch_module" for a user class subclassing nn.Module / LightningModule
    (directly or through another class of the module), else None. Cached."""
    cache: dict[int, str | None] = sem.fact("inference.class_kinds", dict)  # type: ignore[assignment]
    key = id(cls)
    if key in cache:
        return cache[key]
    cache[key] = None  # cycle guard
    result = None
    if _depth < 8:
        for base in cls.bases:
            q = sem.qualname(base)
            if q in _TORCH_MODULE_BASES:
                result = "torch_module"
                break
            if isinstance(base, ast.Name):
                b = sem.lookup(base.id)
                if b is not None and b.kind == "class" and isinstance(b.node, ast.ClassDef) and b.node is not cls:
                    if user_class_kind(sem, b.node, _depth + 1) == "torch_module":
                        result = "torch_module"
                        break
    cache[key] = result
    return result


def is_lightning_class(sem: "SemanticModel", cls: ast.ClassDef) -> bool:
    for base in cls.bases:
        if sem.qualname(base) in LIGHTNING_BASES:
            return True
    return False


def _annotation_kind(sem: "SemanticModel", ann: ast.AST | None) -> str | None:
    if ann is None:
        return None
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        return None
    q = sem.qualname(ann)
    if q is None:
        return None
    if q in ("pandas.DataFrame", "pandas.core.frame.DataFrame"):
        return "dataframe"
    if q in ("pandas.Series", "pandas.core.series.Series"):
        return "series"
    if q in ("numpy.ndarray", "numpy.typing.NDArray", "numpy.typing.ArrayLike") and q == "numpy.ndarray":
        return "ndarray"
    if q in _TORCH_MODULE_BASES:
        return "torch_module"
    if q in ("torch.optim.Optimizer", "torch.optim.optimizer.Optimizer"):
        return "optimizer"
    if q in ("torch.utils.data.DataLoader",):
        return "dataloader"
    return None


def binding_type(sem: "SemanticModel", b: "Binding | None") -> str | None:
    """The type of a looked-up binding (params: from their annotation)."""
    if b is None:
        return None
    if b.type is not None:
        return b.type
    if b.kind == "param" and isinstance(b.node, ast.arg):
        return _annotation_kind(sem, b.node.annotation)
    return None


def infer_type(sem: "SemanticModel", node: ast.AST | None, _depth: int = 0) -> str | None:
    """Type tag of `node`, or None if unknown. Never raises for odd input
    (it runs inside the semantic model's feeding, outside any rule guard)."""
    try:
        return _infer(sem, node, _depth)
    except Exception:  # pragma: no cover - defensive: unknown stays unknown
        return None


def _infer(sem: "SemanticModel", node: ast.AST | None, _depth: int = 0) -> str | None:
    if node is None or _depth > 12:
        return None
    t = type(node)
    if t is ast.Name:
        return binding_type(sem, sem.lookup(node.id))  # type: ignore[attr-defined]
    if t is ast.Call:
        return _call_type(sem, node, _depth)  # type: ignore[arg-type]
    if t is ast.Subscript:
        base = infer_type(sem, node.value, _depth + 1)  # type: ignore[attr-defined]
        if base == "dataframe":
            sl = node.slice  # type: ignore[attr-defined]
            if isinstance(sl, ast.Constant) and isinstance(sl.value, str):
                return "series"
            if isinstance(sl, ast.List):
                return "dataframe"
            if isinstance(sl, (ast.Compare, ast.BoolOp, ast.Slice)) or (
                isinstance(sl, ast.UnaryOp) and isinstance(sl.op, ast.Invert)
            ):
                return "dataframe"
            return "pandas"
        if base in ("series", "pandas"):
            return "pandas"
        if base == "ndarray":
            return None  # an element or a sub-array: unknown
        # df.loc[...] / df.iloc[...]
        v = node.value  # type: ignore[attr-defined]
        if isinstance(v, ast.Attribute) and v.attr in ("loc", "iloc") and infer_type(sem, v.value, _depth + 1) in PANDAS_TAGS:
            return "pandas"
        return None
    if t is ast.Attribute:
        attr = node.attr  # type: ignore[attr-defined]
        if attr in ("values",):
            return "ndarray" if infer_type(sem, node.value, _depth + 1) in PANDAS_TAGS else None  # type: ignore[attr-defined]
        if attr == "T":
            base = infer_type(sem, node.value, _depth + 1)  # type: ignore[attr-defined]
            return base if base in ("dataframe", "ndarray") else None
        return None
    if t is ast.NamedExpr:
        return infer_type(sem, node.value, _depth + 1)  # type: ignore[attr-defined]
    if t is ast.BinOp and not isinstance(node.op, ast.MatMult):  # type: ignore[attr-defined]
        # arithmetic keeps the container: df * 2, s1 + s2, (a - mu) / sd
        sides = (infer_type(sem, node.left, _depth + 1), infer_type(sem, node.right, _depth + 1))  # type: ignore[attr-defined]
        if "dataframe" in sides:
            return "dataframe"
        if "series" in sides:
            return "series"
        if "pandas" in sides:
            return "pandas"
        if "ndarray" in sides:
            return "ndarray"
        return None
    return None


def _call_type(sem: "SemanticModel", call: ast.Call, depth: int) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        method = func.attr
        recv = func.value
        # Module-level functions (pd.read_csv, np.zeros, nn.Linear): by qualname.
        q = sem.qualname(func)
        if q is not None and not q.endswith("()") and "()." not in q:
            return _reader_adjust(q, call, kind_of_qualname(q, sem, func))
        rtype = infer_type(sem, recv, depth + 1)
        if rtype is None:
            return None
        if rtype in PANDAS_TAGS:
            if method in NDARRAY_FROM_PANDAS:
                return "ndarray"
            if method in FRAME_METHODS:
                return "dataframe"
            if method in SAME_KIND_METHODS:
                return rtype
            return None
        if rtype == "ndarray" and method in NDARRAY_SAME_METHODS:
            return "ndarray"
        if rtype == "torch_module" and method in TORCH_MODULE_SAME_METHODS:
            return "torch_module"
        return None
    if isinstance(func, ast.Name):
        b = sem.lookup(func.id)
        if b is not None and b.kind == "class" and isinstance(b.node, ast.ClassDef):
            return user_class_kind(sem, b.node)
        q = sem.qualname(func)
        return _reader_adjust(q, call, kind_of_qualname(q, sem, func))
    return None


def _reader_adjust(q: str | None, call: ast.Call, kind: str | None) -> str | None:
    """pandas readers that do not return one DataFrame: `chunksize=` /
    `iterator=True` (a reader object), `read_excel(sheet_name=None or a
    list)` (a dict), `read_html` (a list)."""
    if kind != "dataframe" or not q or not q.startswith("pandas.read_"):
        return kind
    if q == "pandas.read_html":
        return None
    for kw in call.keywords:
        if kw.arg is None:
            return None  # **kwargs may hold chunksize
        if kw.arg == "chunksize" and not (isinstance(kw.value, ast.Constant) and kw.value.value is None):
            return None
        if kw.arg == "iterator" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
            return None
        if kw.arg == "sheet_name" and not (
            isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, (str, int)) and kw.value.value is not None
        ):
            return None
        if kw.arg == "typ" and isinstance(kw.value, ast.Constant) and kw.value.value == "series":
            return "series"
    return kind


_SPLITTERS = frozenset({"sklearn.model_selection.train_test_split", "sklearn.cross_validation.train_test_split"})
_KEEP_THROUGH_SPLIT = frozenset({"dataframe", "series", "ndarray"})


def infer_unpacked(sem: "SemanticModel", value: ast.AST | None, targets: list[ast.AST]) -> list[str | None]:
    """Types for `a, b = value`, one per target (None when unknown):
    `X, y = df.drop(columns="t"), df["t"]` element-wise, and
    `X_tr, X_te, y_tr, y_te = train_test_split(X, y)` (each array's type is
    kept by the split). Never raises."""
    n = len(targets)
    out: list[str | None] = [None] * n
    try:
        if value is None or any(isinstance(t, ast.Starred) for t in targets):
            return out
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == n:
            if not any(isinstance(e, ast.Starred) for e in value.elts):
                return [infer_type(sem, e) for e in value.elts]
            return out
        if isinstance(value, ast.Call) and sem.call_qualname(value) in _SPLITTERS:
            arrays = value.args
            if arrays and not any(isinstance(a, ast.Starred) for a in arrays) and n == 2 * len(arrays):
                for i, arr in enumerate(arrays):
                    t = infer_type(sem, arr)
                    if t in _KEEP_THROUGH_SPLIT:
                        out[2 * i] = out[2 * i + 1] = t
    except Exception:  # pragma: no cover - defensive
        return [None] * n
    return out


def call_qual(sem: "SemanticModel", call: ast.Call) -> str | None:
    """`sem.call_qualname(call)`, memoised for the node being visited: the
    engine hands one node to every interested rule in a row, so the rules of
    this issue resolve each call once instead of once per rule."""
    memo = sem.__dict__.get("_inference_call_memo")
    if memo is not None and memo[0] is call:
        return memo[1]
    q = sem.call_qualname(call)
    sem.__dict__["_inference_call_memo"] = (call, q)
    return q


def is_pandas(sem: "SemanticModel", node: ast.AST | None) -> bool:
    return infer_type(sem, node) in PANDAS_TAGS


def ndim(sem: "SemanticModel", node: ast.AST | None, _depth: int = 0) -> int | None:
    """Number of dimensions of a NumPy array expression when it is evident
    (`np.zeros((3, 4))`, `np.random.rand(3, 4)`, `np.eye(3)`, a nested list
    literal, `.reshape(a, b)`, `.T`), else None."""
    if node is None or _depth > 8:
        return None
    if isinstance(node, ast.Name):
        b = sem.lookup(node.id)
        if b is None or b.kind != "assign" or b.type != "ndarray" or b.value is None:
            return None
        return ndim(sem, b.value, _depth + 1)
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return ndim(sem, node.value, _depth + 1)
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    q = sem.qualname(func)
    if q and q.startswith("numpy.") and "()" not in q:
        name = q.rsplit(".", 1)[-1]
        if name in ("zeros", "ones", "empty", "full") and node.args:
            shape = node.args[0]
            if isinstance(shape, (ast.Tuple, ast.List)):
                return len(shape.elts)
            if isinstance(shape, ast.Constant) and isinstance(shape.value, int):
                return 1
            return None
        if name in ("eye", "identity"):
            return 2
        if q in ("numpy.random.rand", "numpy.random.randn") and node.args:
            return len(node.args)
        if name in ("array", "asarray") and node.args:
            depth = 0
            v = node.args[0]
            while isinstance(v, (ast.List, ast.Tuple)) and v.elts:
                depth += 1
                v = v.elts[0]
            return depth or None
        if name == "reshape" and len(node.args) >= 2:
            shape = node.args[1]
            if isinstance(shape, (ast.Tuple, ast.List)):
                return len(shape.elts)
        return None
    if isinstance(func, ast.Attribute) and func.attr == "reshape" and infer_type(sem, func.value) == "ndarray":
        if len(node.args) == 1 and isinstance(node.args[0], (ast.Tuple, ast.List)):
            return len(node.args[0].elts)
        if len(node.args) >= 1 and not any(isinstance(a, ast.Starred) for a in node.args):
            return len(node.args)
    return None
