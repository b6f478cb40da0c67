"""What seeds, draws from, or makes deterministic the random number generators
of Python ML frameworks. Pure tables and classifiers over qualified names
(from `SemanticModel.qualname`); no walking, no state.

Frameworks are named by four keys:

    "random"      the standard library's module-level generator
    "numpy"       NumPy's legacy global RandomState (`np.random.rand`, ...)
    "torch"       torch's default CPU generator (`torch.manual_seed`)
    "tensorflow"  TensorFlow's global seed (`tf.random.set_seed`)

    seeded_frameworks(q, call, config)  -> frozenset of keys a call seeds, or None
    seed_arguments(q, call)             -> the expressions a call takes as a seed
    global_draw(q, call)                -> Draw(framework, verb) or None
    unseeded_generator(q, call)         -> True for `np.random.default_rng()` & co.
    NUMPY_LEGACY                        -> NumPy's legacy global-state functions
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mllint.analysis.semantic import has_star_kwargs, is_false, is_none, keyword

if TYPE_CHECKING:
    from mllint.core.config import Config

RANDOM = "random"
NUMPY = "numpy"
TORCH = "torch"
TENSORFLOW = "tensorflow"
ALL_FRAMEWORKS = frozenset({RANDOM, NUMPY, TORCH, TENSORFLOW})
FRAMEWORK_ORDER = (RANDOM, NUMPY, TORCH, TENSORFLOW)

LABEL = {
    RANDOM: "Python's `random` module",
    NUMPY: "NumPy's global random state",
    TORCH: "torch's global generator",
    TENSORFLOW: "TensorFlow's global random seed",
}
SEED_CALL = {
    RANDOM: "random.seed({seed})",
    NUMPY: "np.random.seed({seed})",
    TORCH: "torch.manual_seed({seed})",
    TENSORFLOW: "tf.random.set_seed({seed})",
}

# --- NumPy's legacy global API (the functions ruff's NPY002 also lists) ------
NUMPY_LEGACY = frozenset(
    {
        "beta", "binomial", "bytes", "chisquare", "choice", "dirichlet", "exponential", "f",
        "gamma", "geometric", "get_state", "gumbel", "hypergeometric", "laplace", "logistic",
        "lognormal", "logseries", "multinomial", "multivariate_normal", "negative_binomial",
        "noncentral_chisquare", "noncentral_f", "normal", "pareto", "permutation", "poisson",
        "power", "rand", "randint", "randn", "random", "random_integers", "random_sample",
        "ranf", "rayleigh", "sample", "seed", "set_state", "shuffle", "standard_cauchy",
        "standard_exponential", "standard_gamma", "standard_normal", "standard_t", "triangular",
        "uniform", "vonmises", "wald", "weibull", "zipf",
    }
)  # fmt: skip
NUMPY_DRAWS = NUMPY_LEGACY - {"seed", "get_state", "set_state"}

STDLIB_DRAWS = frozenset(
    {
        "random", "randint", "randrange", "choice", "choices", "shuffle", "sample", "uniform",
        "gauss", "normalvariate", "triangular", "betavariate", "expovariate", "gammavariate",
        "lognormvariate", "vonmisesvariate", "paretovariate", "weibullvariate", "getrandbits",
        "randbytes", "binomialvariate",
    }
)  # fmt: skip

TORCH_DRAWS = frozenset(
    {
        "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
        "bernoulli", "multinomial", "normal", "poisson",
    }
)  # fmt: skip
TORCH_INIT_DRAWS = frozenset(
    {
        "uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
        "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
    }
)  # fmt: skip
# torch.nn layers whose constructor initialises weights from the global generator.
TORCH_WEIGHTED_LAYERS = frozenset(
    {
        "Linear", "Bilinear", "LazyLinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
        "ConvTranspose2d", "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d",
        "Embedding", "EmbeddingBag", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
        "MultiheadAttention", "Transformer", "TransformerEncoderLayer", "TransformerDecoderLayer",
    }
)  # fmt: skip
TF_DRAWS = frozenset(
    {"normal", "uniform", "truncated_normal", "shuffle", "categorical", "gamma", "poisson"}
)
KERAS_WEIGHTED_LAYERS = frozenset(
    {
        "Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
        "Conv3DTranspose", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv2D", "Embedding",
        "LSTM", "GRU", "SimpleRNN", "MultiHeadAttention",
    }
)  # fmt: skip
KERAS_PREFIXES = ("keras.", "tensorflow.keras.", "tf_keras.")
# Where Keras 1/2 kept its layers (`from keras.layers.core import Dense`).
_KERAS_LAYER_MODULES = (".layers", ".layers.core", ".layers.convolutional", ".layers.recurrent", ".layers.embeddings")
# Standalone Keras initialisers: multi-backend Keras 2 draws each layer's
# seed from NumPy's global state (`np.random.randint(10e6)` when `seed=None`),
# Keras 3 from Python's `random` (`make_default_seed`), and the tf.keras
# code that Keras 2.4-2.15 ships uses TensorFlow's global seed: any of the
# three seeds them (which one depends on the installed version). tf.keras
# (`tensorflow.keras`, `tf_keras`) uses TensorFlow's.
STANDALONE_KERAS_SEEDS = frozenset({"numpy", "random", "tensorflow"})
KERAS_LABEL = (
    "Keras's global seed (NumPy's random state in Keras 2, Python's `random` in Keras 3, TensorFlow's "
    "seed under tf.keras)"
)
KERAS_SEED_CALL = "keras.utils.set_random_seed({seed})"


@dataclass(frozen=True)
class Draw:
    framework: str
    verb: str  # "draws from", "initialises its weights from", ...
    # Frameworks whose seeding seeds this draw (default: `framework` alone).
    seeded_by: frozenset[str] = frozenset()

    @property
    def seeds(self) -> frozenset[str]:
        return self.seeded_by or frozenset({self.framework})


def _has_arg(call: ast.Call, position: int, name: str) -> bool:
    """Is parameter `name` (at `position`) given a value other than None?"""
    if len(call.args) > position:
        return not is_none(call.args[position])
    kw = keyword(call, name)
    return kw is not None and not is_none(kw.value)


def _has_seed_argument(call: ast.Call) -> bool:
    """`seed(x)` with x not None (no argument re-seeds from OS entropy)."""
    if has_star_kwargs(call) or any(isinstance(a, ast.Starred) for a in call.args):
        return True
    if call.args:
        return not is_none(call.args[0])
    return any(not is_none(kw.value) for kw in call.keywords)


# --- seeding -------------------------------------------------------------------
_RNT = frozenset({RANDOM, NUMPY, TORCH})
_RNTF = frozenset({RANDOM, NUMPY, TENSORFLOW})
# Calls that seed exactly these frameworks, given a non-None seed.
DIRECT_SEEDERS: dict[str, frozenset[str]] = {
    "random.seed": frozenset({RANDOM}),
    "numpy.random.seed": frozenset({NUMPY}),
    "torch.manual_seed": frozenset({TORCH}),
    "torch.random.manual_seed": frozenset({TORCH}),
    "torch.default_generator.manual_seed": frozenset({TORCH}),
    "tensorflow.random.set_seed": frozenset({TENSORFLOW}),
    "tensorflow.set_random_seed": frozenset({TENSORFLOW}),
    "tensorflow.random.set_random_seed": frozenset({TENSORFLOW}),
    "tensorflow.compat.v1.set_random_seed": frozenset({TENSORFLOW}),
    "tensorflow.compat.v1.random.set_random_seed": frozenset({TENSORFLOW}),
}
# Library helpers that seed several frameworks at once.
UMBRELLA_SEEDERS: dict[str, frozenset[str]] = {
    "keras.utils.set_random_seed": ALL_FRAMEWORKS,  # Keras 3: python, numpy, backend
    "tensorflow.keras.utils.set_random_seed": _RNTF,
    "tf_keras.utils.set_random_seed": _RNTF,
    "transformers.set_seed": ALL_FRAMEWORKS,
    "transformers.trainer_utils.set_seed": ALL_FRAMEWORKS,
    "transformers.enable_full_determinism": ALL_FRAMEWORKS,
    "transformers.trainer_utils.enable_full_determinism": ALL_FRAMEWORKS,
    "accelerate.utils.set_seed": _RNT,
    "accelerate.utils.random.set_seed": _RNT,
}
LIGHTNING_PACKAGES = ("lightning.", "pytorch_lightning.", "lightning_fabric.")

# Packages whose own functions are classified by the tables above; a call into
# them is never taken for a project's seed helper.
KNOWN_PACKAGES = (
    "random.", "numpy.", "torch.", "tensorflow.", "keras.", "tf_keras.", "jax.", "sklearn.",
    "pandas.", "scipy.", "transformers.", "accelerate.", "os.", "secrets.", "lightning.",
    "pytorch_lightning.", "lightning_fabric.",
)  # fmt: skip

# A project's seed helper: set_seed, set_random_seed, seed_everything,
# seed_all, fix_seeds, init_seeds, setup_seed, set_global_seed, seed, ...
_SEED_HELPER_RE = re.compile(
    r"^(?:set|fix|init|setup|reset|apply|configure)?_?(?:global|random|all|rng)?_?seeds?(?:_(?:everything|all|everywhere|globally|rngs?))?$"
)


def looks_like_seed_helper(name: str) -> bool:
    low = name.lower()
    return "seed" in low and bool(_SEED_HELPER_RE.match(low))


def configured_helper(qualname: str | None, name: str | None, config: "Config") -> bool:
    """Is this call one of the `seed-helpers` the project configured?"""
    for helper in config.seed_helpers:
        if qualname and (qualname == helper or qualname.endswith("." + helper)):
            return True
        if name and (name == helper or helper.rsplit(".", 1)[-1] == name and "." not in helper):
            return True
    return False


def seeded_frameworks(qualname: str | None, call: ast.Call) -> frozenset[str] | None:
    """Frameworks a library call seeds (None if it seeds nothing known)."""
    if not qualname:
        return None
    fws = DIRECT_SEEDERS.get(qualname)
    if fws is not None:
        return fws if _has_seed_argument(call) else None
    fws = UMBRELLA_SEEDERS.get(qualname)
    if fws is not None:
        return fws
    if qualname.startswith(LIGHTNING_PACKAGES) and qualname.endswith(".seed_everything"):
        return _RNT
    return None


def is_known_package(qualname: str | None) -> bool:
    return bool(qualname) and (qualname + ".").startswith(KNOWN_PACKAGES)  # type: ignore[operator]


# --- drawing from a global generator ------------------------------------------------
def global_draw(qualname: str | None, call: ast.Call) -> Draw | None:
    """Does this call draw from a framework's global (seedable) generator?
    Calls given their own generator or seed (`generator=`, `seed=`,
    `random_state=`) do not."""
    if not qualname:
        return None
    head, _, last = qualname.rpartition(".")
    if head == "random" and last in STDLIB_DRAWS:
        return Draw(RANDOM, "draws from")
    if head == "numpy.random" and last in NUMPY_DRAWS:
        return Draw(NUMPY, "draws from")
    if head == "torch":
        if last in TORCH_DRAWS and keyword(call, "generator") is None:
            return Draw(TORCH, "draws from")
        return None
    if head == "torch.nn.init" and last in TORCH_INIT_DRAWS and keyword(call, "generator") is None:
        return Draw(TORCH, "initialises weights from")
    if head == "torch.nn" and last in TORCH_WEIGHTED_LAYERS:
        return Draw(TORCH, "initialises its weights from")
    if qualname in ("torch.utils.data.random_split", "torch.utils.data.dataset.random_split"):
        if keyword(call, "generator") is None and len(call.args) < 3:
            return Draw(TORCH, "splits with")
        return None
    if head == "tensorflow.random" and last in TF_DRAWS:
        if keyword(call, "seed") is None:
            return Draw(TENSORFLOW, "draws from")
        return None
    if qualname.startswith("tensorflow.data.") and last == "shuffle" and "()" in qualname:
        # Dataset.shuffle(buffer_size, seed=None, ...)
        if keyword(call, "seed") is None and len(call.args) < 2:
            return Draw(TENSORFLOW, "shuffles with")
        return None
    if qualname.startswith(KERAS_PREFIXES) and head.endswith(_KERAS_LAYER_MODULES) and last in KERAS_WEIGHTED_LAYERS:
        if keyword(call, "kernel_initializer") is None and keyword(call, "init") is None and not has_star_kwargs(call):
            if qualname.startswith("keras."):
                return Draw(TENSORFLOW, "initialises its weights from", STANDALONE_KERAS_SEEDS)
            return Draw(TENSORFLOW, "initialises its weights from")
        return None
    return None


def pandas_sample_draw(call: ast.Call) -> bool:
    """`df.sample(...)` without `random_state` draws from NumPy's global state
    (the receiver must already be known to be a pandas object)."""
    if has_star_kwargs(call):
        return False
    return not _has_arg(call, 4, "random_state")


def unseeded_generator(qualname: str | None, call: ast.Call) -> bool:
    """A generator object created without a seed: it draws fresh OS entropy,
    whatever the global seeds are."""
    if qualname in ("numpy.random.default_rng", "numpy.random.RandomState", "random.Random"):
        if has_star_kwargs(call) or any(isinstance(a, ast.Starred) for a in call.args):
            return False
        name = "x" if qualname == "random.Random" else "seed"
        return not _has_arg(call, 0, name)
    return False


# --- determinism (ML103) ----------------------------------------------------------
# Calls that turn deterministic kernels on (ML103), by qualified name. The
# rule's call filter is derived from these tables.
TORCH_DETERMINISM_CALLS = ("torch.use_deterministic_algorithms",)
FULL_DETERMINISM_CALLS = ("transformers.enable_full_determinism", "transformers.trainer_utils.enable_full_determinism")
ACCELERATE_SEEDERS = ("accelerate.utils.set_seed", "accelerate.utils.random.set_seed")  # with deterministic=True
TRAINING_ARGUMENTS = ("transformers.TrainingArguments", "transformers.training_args.TrainingArguments")  # full_determinism=
TF_DETERMINISM_CALLS = (
    "tensorflow.config.experimental.enable_op_determinism",
    "tensorflow.config.enable_op_determinism",
    *FULL_DETERMINISM_CALLS,
)
DETERMINISM_QUALNAMES = frozenset(
    (*TORCH_DETERMINISM_CALLS, *FULL_DETERMINISM_CALLS, *ACCELERATE_SEEDERS, *TRAINING_ARGUMENTS, *TF_DETERMINISM_CALLS)
)


def enables_torch_determinism(qualname: str | None, call: ast.Call) -> bool:
    if qualname in TORCH_DETERMINISM_CALLS:
        arg = call.args[0] if call.args else (keyword(call, "mode").value if keyword(call, "mode") else None)
        return arg is not None and not is_false(arg)
    if qualname in FULL_DETERMINISM_CALLS:
        return True
    if qualname in ACCELERATE_SEEDERS:
        kw = keyword(call, "deterministic")
        return kw is not None and not is_false(kw.value) and not is_none(kw.value)
    if qualname in TRAINING_ARGUMENTS:
        kw = keyword(call, "full_determinism")
        return kw is not None and not is_false(kw.value) and not is_none(kw.value)
    return False


def enables_tf_determinism(qualname: str | None) -> bool:
    return qualname in TF_DETERMINISM_CALLS


def is_lightning_trainer(qualname: str | None) -> bool:
    return bool(qualname) and qualname.startswith(LIGHTNING_PACKAGES) and qualname.endswith(".Trainer")  # type: ignore[union-attr]


def looks_like_determinism_helper(name: str) -> bool:
    """`make_deterministic`, `enable_determinism`, ..."""
    return "determinis" in name.lower()


# --- data-loader randomness (ML104) --------------------------------------------------
DATALOADERS = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})
_AUGMENT_NAMES = frozenset(
    {"ColorJitter", "RandAugment", "AutoAugment", "TrivialAugmentWide", "AugMix", "GaussianBlur", "ElasticTransform"}
)


def is_random_augmentation(qualname: str | None) -> bool:
    """A random data augmentation (applied per sample, in loader workers)."""
    if not qualname:
        return False
    if qualname.startswith(("torchvision.transforms.", "torchaudio.transforms.")):
        last = qualname.rsplit(".", 1)[-1]
        return last.startswith("Random") or last in _AUGMENT_NAMES or last.endswith("Masking")
    return qualname.startswith(("albumentations.", "imgaug.augmenters."))


# --- seed arguments (ML110) ----------------------------------------------------------
# Calls whose argument at this position is a seed (of a global generator or of
# a generator object). Any call's `seed=` / `random_state=` / `random_seed=`
# keyword is one too.
SEED_POSITIONS: dict[str, int] = {
    **{q: 0 for q in DIRECT_SEEDERS},
    **{q: 0 for q in UMBRELLA_SEEDERS if not q.endswith("enable_full_determinism")},
    **{f"numpy.random.{n}": 0 for n in ("default_rng", "RandomState", "SeedSequence", "PCG64", "PCG64DXSM", "Philox", "MT19937", "SFC64")},
    "random.Random": 0,
    "torch.cuda.manual_seed": 0,
    "torch.cuda.manual_seed_all": 0,
    "tensorflow.random.Generator.from_seed": 0,
    "tensorflow.random.experimental.Generator.from_seed": 0,
    "jax.random.PRNGKey": 0,
    "jax.random.key": 0,
}
SEED_KEYWORDS = frozenset({"seed", "random_state", "random_seed"})
# Methods that seed the object they are called on: `g.manual_seed(s)` (a
# torch.Generator), `rng.seed(s)` (a random.Random), `fake.seed_instance(s)`.
SEED_METHODS = frozenset({"manual_seed", "manual_seed_all", "seed", "seed_instance"})
SEED_CALL_NAMES = frozenset(
    {q.rsplit(".", 1)[-1] for q in SEED_POSITIONS} | SEED_METHODS | {"seed_everything"}
)


def seed_arguments(qualname: str | None, call: ast.Call) -> list[ast.AST]:
    """The arguments of `call` that are used as a seed: the positional seed of
    a known seeding call, a method seeding its receiver, a project seed helper
    (`set_seed(s)`), and any `seed=` / `random_state=` / `random_seed=`."""
    out: list[ast.AST] = [kw.value for kw in call.keywords if kw.arg in SEED_KEYWORDS]
    if not call.args or isinstance(call.args[0], ast.Starred):
        return out
    pos = SEED_POSITIONS.get(qualname or "")
    f = call.func
    last = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    if pos is not None:
        if len(call.args) > pos:
            out.append(call.args[pos])
    elif qualname and qualname.startswith(LIGHTNING_PACKAGES) and qualname.endswith(".seed_everything"):
        out.append(call.args[0])
    elif last in SEED_METHODS and isinstance(f, ast.Attribute):
        out.append(call.args[0])
    elif last is not None and looks_like_seed_helper(last) and not is_known_package(qualname):
        out.append(call.args[0])
    return out
