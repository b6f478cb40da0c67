"""ML1xx: reproducibility."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from mllint.analysis.semantic import kwarg_value as _kw  # shared helpers
from mllint.analysis.entrypoint import entry_kind, program_noun
from mllint.rules.fixbuilders import add_keyword
from mllint.analysis.inference import PANDAS_TAGS, infer_type
from mllint.analysis.literals import HOLE, const_int, const_str, str_template
from mllint.analysis.local_effects import LocalEffects
from mllint.analysis.model_refs import (
    PACKAGED_DATASET_BUILDERS,
    artifact_alias_latest,
    is_hub_id,
    mlflow_moving_ref,
    moving_revision,
    torch_hub_ref,
)
from mllint.analysis.module_names import module_names
from mllint.analysis.randomness import (
    ALL_FRAMEWORKS,
    DATALOADERS,
    DETERMINISM_QUALNAMES,
    DIRECT_SEEDERS,
    KERAS_WEIGHTED_LAYERS,
    LABEL,
    NUMPY,
    NUMPY_DRAWS,
    NUMPY_LEGACY,
    RANDOM,
    SEED_CALL,
    STDLIB_DRAWS,
    TENSORFLOW,
    TF_DRAWS,
    TORCH,
    TORCH_DRAWS,
    TORCH_INIT_DRAWS,
    TORCH_WEIGHTED_LAYERS,
    UMBRELLA_SEEDERS,
    Draw,
    configured_helper,
    enables_tf_determinism,
    enables_torch_determinism,
    global_draw,
    is_known_package,
    is_lightning_trainer,
    is_random_augmentation,
    looks_like_determinism_helper,
    looks_like_seed_helper,
    pandas_sample_draw,
    seeded_frameworks,
    unseeded_generator,
)
from mllint.rules.base import Rule, register
from mllint.analysis.semantic import (
    BUILTIN_NAMES,
    call_name,
    has_star_kwargs,
    is_false,
    is_none,
    is_true,
    keyword,
)
from mllint.analysis.training_facts import TrainingFacts, dotted

# --- ML102 -------------------------------------------------------------------

# sklearn callables whose result depends on a random state when none is given.
SKLEARN_RANDOM = frozenset(
    {
        "train_test_split",
        "ShuffleSplit",
        "StratifiedShuffleSplit",
        "GroupShuffleSplit",
        "RepeatedKFold",
        "RepeatedStratifiedKFold",
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
        "RandomTreesEmbedding",
        "GradientBoostingClassifier",
        "GradientBoostingRegressor",
        "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor",
        "BaggingClassifier",
        "BaggingRegressor",
        "AdaBoostClassifier",
        "AdaBoostRegressor",
        "IsolationForest",
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "ExtraTreeClassifier",
        "ExtraTreeRegressor",
        "SGDClassifier",
        "SGDRegressor",
        "SGDOneClassSVM",
        "MLPClassifier",
        "MLPRegressor",
        "KMeans",
        "MiniBatchKMeans",
        "BisectingKMeans",
        "TSNE",
        "TruncatedSVD",
        "RandomizedSearchCV",
        "HalvingRandomSearchCV",
        "GaussianMixture",
        "BayesianGaussianMixture",
        "Perceptron",
        "PassiveAggressiveClassifier",
        "PassiveAggressiveRegressor",
        "RandomOverSampler",
        "RandomUnderSampler",
        "SMOTE",
        "ADASYN",
        "BorderlineSMOTE",
        "SVMSMOTE",
        "SMOTENC",
        "SMOTEN",
        "KMeansSMOTE",
        "BalancedRandomForestClassifier",
        "BalancedBaggingClassifier",
        "EasyEnsembleClassifier",
        "RUSBoostClassifier",
        "shuffle",
        "resample",
        "make_classification",
        "make_regression",
        "make_blobs",
        "make_moons",
        "make_circles",
    }
)
# Randomness only with shuffle=True.
SKLEARN_SHUFFLE_ONLY = frozenset({"KFold", "StratifiedKFold", "StratifiedGroupKFold"})
RANDOM_PACKAGES = ("sklearn.", "imblearn.")
# ML102's call filter: the short names `sklearn_random_callable` accepts.
SKLEARN_RANDOM_NAMES = SKLEARN_RANDOM | SKLEARN_SHUFFLE_ONLY


def sklearn_random_callable(qualname: str | None) -> str | None:
    """The short name if `qualname` is a seedable sklearn/imblearn callable."""
    if not qualname or not qualname.startswith(RANDOM_PACKAGES):
        return None
    short = qualname.rsplit(".", 1)[-1]
    if short in SKLEARN_RANDOM or short in SKLEARN_SHUFFLE_ONLY:
        return short
    return None


@register
class RandomStateUnset(Rule):
    codes = ("ML102",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = SKLEARN_RANDOM_NAMES

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        short = sklearn_random_callable(self.ctx.semantic.call_qualname(node))
        if short is None or has_star_kwargs(node):
            return
        if short in SKLEARN_SHUFFLE_ONLY and not is_true(_kw(node, "shuffle")):
            return
        kw = keyword(node, "random_state")
        if kw is not None and not is_none(kw.value):
            return
        seed = self.ctx.config.seed
        what = "with `random_state=None`" if kw is not None else "without `random_state`"
        fix = add_keyword(self.ctx, node, "random_state", str(seed), f"Set random_state={seed}", "unsafe")
        self.report(
            "ML102",
            node,
            f"`{short}(...)` is called {what}: every run gives a different "
            f"{'split' if short[0].islower() or 'Split' in short or 'Fold' in short else 'model'}; "
            f"pass `random_state={seed}` (or your project's seed).",
            fix,
        )


# --- shared helpers for ML101/ML103/ML104 -----------------------------------------

_FUNC_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _display(ctx, call: ast.Call) -> str:
    """How the user wrote the called function (`np.random.rand`, `tts`)."""
    text = ctx.segment(call.func)
    if not text or "\n" in text or len(text) > 60:
        text = call_name(call) or "call"
    return text


class _QualnameMemo:
    """The qualified name of the call the walk is on, resolved once and shared
    by this module's rules (each of them visits every call)."""

    __slots__ = ("sem", "call", "qualname")

    def __init__(self, sem):
        self.sem = sem
        self.call: ast.AST | None = None
        self.qualname: str | None = None

    def __call__(self, call: ast.Call) -> str | None:
        if call is not self.call:
            self.call, self.qualname = call, self.sem.call_qualname(call)
        return self.qualname


def _qualname_memo(ctx) -> _QualnameMemo:
    return ctx.semantic.fact("reproducibility.qualname_memo", lambda: _QualnameMemo(ctx.semantic))  # type: ignore[return-value]


class _EnclosingFuncMemo:
    """`ctx.enclosing(*_FUNC_TYPES)` for the node the walk is on, computed
    once and shared by this module's rules that visit the same node."""

    __slots__ = ("ctx", "node", "func")

    def __init__(self, ctx):
        self.ctx = ctx
        self.node: ast.AST | None = None
        self.func: ast.AST | None = None

    def __call__(self, node: ast.AST) -> ast.AST | None:
        if node is not self.node:
            self.node, self.func = node, self.ctx.enclosing(*_FUNC_TYPES)
        return self.func


def _enclosing_memo(ctx) -> _EnclosingFuncMemo:
    return ctx.semantic.fact("reproducibility.enclosing_memo", lambda: _EnclosingFuncMemo(ctx))  # type: ignore[return-value]


def _terminal_name(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


def _last_names(qualnames) -> frozenset[str]:
    """The call-filter keys of qualified names: their last component (for an
    instance method, `numpy.random.default_rng().integers` -> "integers")."""
    return frozenset(q.rpartition(".")[2] for q in qualnames)


# Packages whose transforms `is_random_augmentation` knows (the roots of the
# qualified names it accepts): a module importing one of them sees every call
# in UnseededRandomness, since an augmentation is recognised by its
# qualified name, whatever the callee's last name (`aug = A.Compose(...);
# aug(image=x)`, `T.RandomCrop(32)(img)`).
_AUGMENT_ROOTS = frozenset({"torchvision", "torchaudio", "albumentations", "imgaug"})

def _helper_filter(ctx) -> frozenset[str] | None:
    """The keys `configured_helper(q, name, config)` can accept through the
    qualified name (its last name equals the key) or a written name equal to
    the key; None when a configured helper is not a plain dotted name (its
    match may end in `()`, whose key is a local name)."""
    helpers = ctx.config.seed_helpers
    if any("(" in h or ")" in h for h in helpers):
        return None
    return _last_names(helpers)


def _where(ctx, line: int) -> str:
    """`line 12`, or `cell 3` in a notebook."""
    if ctx.source.cells:
        loc = ctx.source.locate(line)
        if loc is not None:
            return f"cell {loc[0]}"
    return f"line {line}"


def _picks_a_seed(ctx) -> bool:
    """Is the call being visited the value of an assignment to a seed
    (`opt.manual_seed = random.randint(1, 10000)`, `seed = int(np.random.randint(...))`)?"""
    for anc in reversed(ctx.ancestors):
        if isinstance(anc, (ast.Assign, ast.AnnAssign)):
            targets = anc.targets if isinstance(anc, ast.Assign) else [anc.target]
            return any("seed" in (dotted(t) or "").lower() for t in targets)
        if not isinstance(anc, (ast.Call, ast.BinOp, ast.UnaryOp)):
            return False
    return False


def _record_plain_call(ctx, effects: LocalEffects, func: ast.AST | None, call: ast.Call) -> bool:
    """Record `name(...)` when `name` may be one of this module's functions
    (resolved after the walk, since it may be defined further down). True when
    the call is handled here: recorded, or a builtin."""
    if not isinstance(call.func, ast.Name):
        return False
    name = call.func.id
    b = ctx.semantic.lookup(name)
    if (b is None and name not in BUILTIN_NAMES) or (b is not None and b.kind == "def"):
        effects.call(func, call.lineno, name)
        return True
    return b is None  # a builtin: nothing to resolve


# --- ML101 unseeded-randomness, ML104 unseeded-dataloader-workers --------------------

_SEED_ALTERNATIVE = {
    RANDOM: " (or draw from a `random.Random({seed})` instance)",
    NUMPY: " (or draw from `rng = np.random.default_rng({seed})`)",
    TORCH: " (or `lightning.seed_everything({seed})`)",
    TENSORFLOW: " (or `keras.utils.set_random_seed({seed})`, which seeds Python, NumPy and TensorFlow)",
}


@dataclass
class _DrawSite:
    framework: str
    verb: str
    call: ast.Call
    in_function: bool
    pandas: bool = False

    @property
    def initialises_weights(self) -> bool:
        return "weights" in self.verb


# Calls that show a module trains (so freshly initialised weights matter).
_TRAINING_CALLS = frozenset({"backward", "manual_backward", "fit", "fit_generator", "train_on_batch", "train"})

# ML101/ML104's call filter, from the tables `visit` consults: what seeds
# (`seeded_frameworks`), draws (`global_draw`, `pandas_sample_draw`), makes an
# unseeded generator (`unseeded_generator`), builds a DataLoader, or shows
# training. Every one of them matches a qualified name whose last name is the
# call's key. The rest is in `UnseededRandomness.wants_call`.
_SEEDER_NAMES = _last_names((*DIRECT_SEEDERS, *UMBRELLA_SEEDERS)) | {"seed_everything"}  # + Lightning's
_RANDOM_SPLITS = ("torch.utils.data.random_split", "torch.utils.data.dataset.random_split")
_TF_DATASET_SHUFFLE = ("tensorflow.data.Dataset().shuffle",)
_DRAW_NAMES = (
    STDLIB_DRAWS
    | NUMPY_DRAWS
    | TORCH_DRAWS
    | TORCH_INIT_DRAWS
    | TORCH_WEIGHTED_LAYERS
    | TF_DRAWS
    | KERAS_WEIGHTED_LAYERS
    | _last_names(_RANDOM_SPLITS + _TF_DATASET_SHUFFLE)
    | {"sample"}  # pandas `df.sample(...)`
)
_GENERATOR_NAMES = _last_names(("numpy.random.default_rng", "numpy.random.RandomState", "random.Random"))
UNSEEDED_RANDOMNESS_NAMES = _SEEDER_NAMES | _DRAW_NAMES | _GENERATOR_NAMES | _last_names(DATALOADERS) | _TRAINING_CALLS


@dataclass
class _LoaderSite:
    call: ast.Call
    reason: str  # "shuffle" | "workers"
    workers: int = 0


@register
class UnseededRandomness(Rule):
    """ML101 (a framework's global RNG drawn from, never seeded before) and
    ML104 (a shuffling / augmenting DataLoader with no generator in a program
    that never seeds torch). Entry modules only: a library is seeded by its
    caller."""

    codes = ("ML101", "ML104")
    nodes = (ast.Call,)
    # The call filter. A call whose key fails it is a no-op for `visit`:
    # * the tables: every qualified name they match ends in the key
    #   (`UNSEEDED_RANDOMNESS_NAMES`);
    # * `_record_plain_call` records a plain name (= its key) that only matters
    #   if it names a function of this module or passes the fallback of
    #   `finish()` (the seed-helper heuristics): `wants_call`;
    # * the seed-helper heuristics on the name as written: equal to the key,
    #   except for a local name bound by an import (an alias, or a copy of
    #   one): `wants_call` accepts the keys of those whose written name passes;
    #   `configured_helper` on the qualified name: the last names of the
    #   configured helpers;
    # * `is_random_augmentation` matches qualified names whatever their key
    #   (and calls with no key, `T.RandomCrop(32)(img)`): a module importing
    #   an augmentation package sees every call (`call_names` set to None
    #   on the instance). So does one whose configured helpers are not plain
    #   dotted names.
    call_names = UNSEEDED_RANDOMNESS_NAMES

    def __init__(self, ctx):
        super().__init__(ctx)
        self.qualname = _qualname_memo(ctx)
        self.enclosing = _enclosing_memo(ctx)
        self.effects = LocalEffects(ctx.semantic)
        self.draws: list[_DrawSite] = []
        self.generators: list[ast.Call] = []
        self.loaders: list[_LoaderSite] = []
        self.augments = False
        self.trains = False
        names = module_names(ctx)
        helpers = _helper_filter(ctx)
        if helpers is None or not names.imported_roots.isdisjoint(_AUGMENT_ROOTS):
            self.call_names = None  # type: ignore[misc]  # every call, as without a filter
            self._wanted: frozenset[str] = frozenset()
        else:
            config = ctx.config
            self._wanted = (
                names.defs
                | helpers
                | names.keys_of_names(lambda n: configured_helper(None, n, config) or looks_like_seed_helper(n))
            )

    def wants_call(self, key: str) -> bool:
        return key in self._wanted or looks_like_seed_helper(key)

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        ctx = self.ctx
        sem = ctx.semantic
        if isinstance(node.func, ast.Attribute) and node.func.attr in _TRAINING_CALLS:
            self.trains = True
        q = self.qualname(node)
        func = self.enclosing(node)
        # Seeding.
        fws = seeded_frameworks(q, node)
        if fws is None and not _record_plain_call(ctx, self.effects, func, node):
            name = _terminal_name(node)
            if name and not is_known_package(q) and (
                configured_helper(q, name, ctx.config) or looks_like_seed_helper(name)
            ):
                fws = ALL_FRAMEWORKS
        if fws:
            self.effects.add(func, node.lineno, fws)
            return
        # Draws from a global generator.
        draw = global_draw(q, node)
        pandas = False
        if (
            draw is None
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "sample"
            and infer_type(sem, node.func.value) in PANDAS_TAGS
            and pandas_sample_draw(node)
        ):
            draw, pandas = Draw(NUMPY, "samples rows with"), True
        if draw is not None:
            if _picks_a_seed(ctx):
                return  # `seed = random.randint(0, 10**6)`: choosing (and logging) a seed is the fix
            self.draws.append(_DrawSite(draw.framework, draw.verb, node, func is not None, pandas))
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) and func.name in ("__getitem__", "__iter__"):
                self.augments = True
            return
        if unseeded_generator(q, node):
            self.generators.append(node)
            return
        if q in DATALOADERS:
            site = self._loader_site(node)
            if site is not None:
                self.loaders.append(site)
            return
        if is_random_augmentation(q):
            self.augments = True

    def _loader_site(self, call: ast.Call) -> _LoaderSite | None:
        if has_star_kwargs(call) or any(isinstance(a, ast.Starred) for a in call.args):
            return None

        def arg(pos: int, name: str) -> ast.AST | None:
            if len(call.args) > pos:
                return call.args[pos]
            kw = keyword(call, name)
            return kw.value if kw is not None else None

        # DataLoader(dataset, batch_size, shuffle, sampler, batch_sampler,
        #            num_workers, collate_fn, pin_memory, drop_last, timeout,
        #            worker_init_fn, multiprocessing_context, generator, ...)
        for pos, name in ((3, "sampler"), (4, "batch_sampler"), (10, "worker_init_fn"), (12, "generator")):
            value = arg(pos, name)
            if value is not None and not is_none(value):
                return None
        if is_true(arg(2, "shuffle")):
            return _LoaderSite(call, "shuffle")
        workers = const_int(self.ctx.semantic, arg(5, "num_workers"))
        if workers is not None and workers > 0:
            return _LoaderSite(call, "workers", workers)
        return None

    # -- after the walk -----------------------------------------------------------
    def finish(self) -> None:
        if not (self.draws or self.generators or self.loaders):
            return
        if entry_kind(self.ctx) is None:
            return
        config = self.ctx.config
        self.effects.resolve(
            lambda name, _local: ALL_FRAMEWORKS
            if configured_helper(None, name, config) or looks_like_seed_helper(name)
            else frozenset()
        )
        everywhere = self.effects.everywhere()
        timeline = self.effects.module_timeline()
        self._report_draws(everywhere, timeline)
        self._report_generators()
        if TORCH not in everywhere:
            self._report_loaders()

    def _report_draws(self, everywhere, timeline) -> None:
        ctx = self.ctx
        noun = program_noun(ctx)
        seed = ctx.config.seed
        first_seed: dict[str, int] = {}  # framework -> line of its first top-level seeding
        for at, tags in timeline:
            for fw in tags:
                first_seed.setdefault(fw, at)
        done: set[str] = set()
        for site in sorted(self.draws, key=lambda s: (s.call.lineno, s.call.col_offset)):
            fw = site.framework
            if fw in done:
                continue
            if site.initialises_weights and not self.trains:
                continue  # weights loaded or only inspected: their initial values do not matter
            if site.in_function:
                if fw in everywhere:
                    continue
                later = None
            else:
                later = first_seed.get(fw)
                if later is not None and later < site.call.lineno:
                    continue
                if later is None and fw in everywhere:
                    continue  # seeded inside a function we cannot place in time: unknown
            done.add(fw)
            shown = _display(ctx, site.call)
            what = f"`{shown}(...)` {site.verb} {LABEL[fw]}"
            seed_call = SEED_CALL[fw].format(seed=seed)
            if later is not None:
                msg = (
                    f"{what} before this {noun} seeds it ({_where(ctx, later)}): the first draws differ on "
                    f"every run; move the seeding above the first draw."
                )
            elif site.pandas:
                msg = (
                    f"{what}, which this {noun} never seeds: the sample differs on every run; pass "
                    f"`random_state={seed}` (or call `{seed_call}` at start-up)."
                )
            else:
                alt = _SEED_ALTERNATIVE[fw].format(seed=seed)
                msg = (
                    f"{what}, which this {noun} never seeds: results differ on every run; call "
                    f"`{seed_call}` once at start-up{alt}."
                )
            self.report("ML101", site.call, msg)

    def _report_generators(self) -> None:
        ctx = self.ctx
        seed = ctx.config.seed
        for call in self.generators:
            shown = _display(ctx, call)
            self.report(
                "ML101",
                call,
                f"`{shown}()` creates a generator without a seed, so it produces different numbers on every "
                f"run (global seeds do not reach it); pass one: `{shown}({seed})`.",
            )

    def _report_loaders(self) -> None:
        ctx = self.ctx
        noun = program_noun(ctx)
        seed = ctx.config.seed
        for site in self.loaders:
            if site.reason == "workers" and not self.augments:
                continue  # no random work in the workers that we can see
            shown = _display(ctx, site.call)
            if site.reason == "shuffle":
                what = f"`{shown}(..., shuffle=True)` draws its batch order"
            else:
                what = f"`{shown}(..., num_workers={site.workers})` seeds its workers' random augmentations"
            self.report(
                "ML104",
                site.call,
                f"{what} from torch's global generator, which this {noun} never seeds, and has no "
                f"`generator=` or `worker_init_fn=`: pass `generator=torch.Generator().manual_seed({seed})` "
                f"(or call `torch.manual_seed({seed})` at start-up).",
            )


# --- ML103 nondeterministic-training ---------------------------------------------

_TORCH_DET = "torch"
_TF_DET = "tensorflow"
_BOTH_DET = frozenset({_TORCH_DET, _TF_DET})

# ML103's call filter, from what `_call` consults: the qualified names of
# `enables_torch_determinism` / `enables_tf_determinism`, Lightning's Trainer
# (`is_lightning_trainer`), the Keras training methods, and the methods whose
# TrainingFacts make a training loop. The rest is in `wants_call`.
_KERAS_TRAINING_METHODS = frozenset({"compile", "fit", "apply_gradients"})
_TRAINING_LOOP_METHODS = frozenset({"backward", "manual_backward", "step"})
NONDETERMINISTIC_TRAINING_NAMES = (
    _last_names(DETERMINISM_QUALNAMES)
    | _last_names(("lightning.pytorch.Trainer",))
    | _KERAS_TRAINING_METHODS
    | _TRAINING_LOOP_METHODS
)


@register
class NondeterministicTraining(Rule):
    """ML103: torch / TensorFlow training in an entry module that never turns
    on deterministic kernels, and `cudnn.benchmark = True` in training code."""

    codes = ("ML103",)
    nodes = (ast.Call, ast.Assign)
    # The call filter (Assign nodes are not filtered). A call whose key fails
    # it is a no-op for this rule:
    # * the determinism tables, Lightning's `Trainer` and the Keras methods:
    #   every qualified name they match ends in the key;
    # * the shared TrainingFacts: this rule reads only its training loops
    #   (`innermost_training_loops`: loops with `backward()` and an optimizer
    #   `step()`), which come from those method calls alone. TrainingLoopRules
    #   observes every call itself (observing a node twice is a no-op), so
    #   the facts it reads do not depend on what this rule observes;
    # * `_record_plain_call` and the helper heuristics: as in
    #   UnseededRandomness (`wants_call`), with the determinism-helper one.
    call_names = NONDETERMINISTIC_TRAINING_NAMES

    def __init__(self, ctx):
        super().__init__(ctx)
        self.qualname = _qualname_memo(ctx)
        self.enclosing = _enclosing_memo(ctx)
        self.facts: TrainingFacts | None = None
        self.effects = LocalEffects(ctx.semantic)
        self.benchmarks: list[ast.Assign] = []
        self.trainers: list[ast.Call] = []
        self.tf_training: ast.Call | None = None
        self.compiled: set[str] = set()
        names = module_names(ctx)
        helpers = _helper_filter(ctx)
        if helpers is None:
            self.call_names = None  # type: ignore[misc]  # every call, as without a filter
            self._wanted: frozenset[str] = frozenset()
        else:
            self._wanted = names.defs | helpers | names.keys_of_names(lambda n: self._opaque_helper(None, n))

    def wants_call(self, key: str) -> bool:
        return key in self._wanted or looks_like_seed_helper(key) or looks_like_determinism_helper(key)

    def visit(self, node: ast.AST) -> None:
        if self.facts is None:
            # The shared facts are created on first use, after the imports above it were seen.
            self.facts = TrainingFacts.for_context(self.ctx)
        self.facts.observe(node, self.ctx.ancestors)
        func = self.enclosing(node)
        if isinstance(node, ast.Assign):
            self._assign(node, func)
        elif isinstance(node, ast.Call):
            self._call(node, func)

    def _assign(self, node: ast.Assign, func) -> None:
        sem = self.ctx.semantic
        for target in node.targets:
            if isinstance(target, ast.Attribute):
                q = sem.qualname(target)
                if q == "torch.backends.cudnn.deterministic" and is_true(node.value):
                    self.effects.add(func, node.lineno, {_TORCH_DET})
                elif q == "torch.backends.cudnn.benchmark" and is_true(node.value):
                    self.benchmarks.append(node)
            elif isinstance(target, ast.Subscript) and sem.qualname(target.value) == "os.environ":
                key = target.slice
                if isinstance(key, ast.Constant) and key.value == "TF_DETERMINISTIC_OPS":
                    value = node.value
                    if isinstance(value, ast.Constant) and str(value.value).lower() in ("1", "true"):
                        self.effects.add(func, node.lineno, {_TF_DET})

    def _call(self, node: ast.Call, func) -> None:
        ctx = self.ctx
        sem = ctx.semantic
        q = self.qualname(node)
        if enables_torch_determinism(q, node):
            self.effects.add(func, node.lineno, {_TORCH_DET})
        if enables_tf_determinism(q):
            self.effects.add(func, node.lineno, {_TF_DET})
        if is_lightning_trainer(q):
            kw = keyword(node, "deterministic")
            if has_star_kwargs(node) or (kw is not None and not is_false(kw.value) and not is_none(kw.value)):
                self.effects.add(func, node.lineno, {_TORCH_DET})
            else:
                self.trainers.append(node)
            return
        if _record_plain_call(ctx, self.effects, func, node):
            return
        name = _terminal_name(node)
        if name and not is_known_package(q) and self._opaque_helper(q, name):
            self.effects.add(func, node.lineno, _BOTH_DET)
            return
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if attr in _KERAS_TRAINING_METHODS and sem.imports_module("tensorflow"):
            recv = node.func.value  # type: ignore[union-attr]
            if attr == "compile" and (node.args or keyword(node, "loss") or keyword(node, "optimizer")):
                key = dotted(recv)
                if key:
                    self.compiled.add(key)
            elif self.tf_training is None and (
                attr == "apply_gradients"
                or (attr == "fit" and (infer_type(sem, recv) == "keras_model" or dotted(recv) in self.compiled))
            ):
                self.tf_training = node

    def _opaque_helper(self, q: str | None, name: str) -> bool:
        """A helper we cannot see into that may set determinism (a seeding or
        determinism helper imported from the project)."""
        return (
            configured_helper(q, name, self.ctx.config)
            or looks_like_seed_helper(name)
            or looks_like_determinism_helper(name)
        )

    def finish(self) -> None:
        sem = self.ctx.semantic
        torch_module = any(sem.imports_module(m) for m in ("torch", "lightning", "pytorch_lightning"))
        loops = self.facts.innermost_training_loops() if torch_module and self.facts is not None else []
        torch_training = bool(loops or self.trainers)
        if not (torch_training or self.tf_training is not None):
            return
        self.effects.resolve(lambda name, _local: _BOTH_DET if self._opaque_helper(None, name) else frozenset())
        enabled = self.effects.everywhere()
        if torch_training:
            for node in self.benchmarks:
                self.report(
                    "ML103",
                    node,
                    "`torch.backends.cudnn.benchmark = True` lets cuDNN pick convolution algorithms by timing "
                    "them, so two runs can use different kernels and produce different weights; set it to "
                    "`False` when training must be reproducible.",
                )
        if entry_kind(self.ctx) is None:
            return
        noun = program_noun(self.ctx)
        if torch_training and _TORCH_DET not in enabled:
            first_loop = min((lf.node for lf in loops), key=lambda n: (n.lineno, n.col_offset), default=None)
            first_trainer = self.trainers[0] if self.trainers else None
            if first_loop is not None and (first_trainer is None or first_loop.lineno <= first_trainer.lineno):
                backward = min(
                    (lf.backward[0] for lf in loops if lf.node is first_loop), key=lambda c: c.lineno
                )
                self.report(
                    "ML103",
                    _loop_header(self.ctx, first_loop),
                    f"This training loop (`{_display(self.ctx, backward)}()`) runs with "
                    f"nondeterministic GPU kernels: this {noun} never calls "
                    "`torch.use_deterministic_algorithms(True)` or sets `torch.backends.cudnn.deterministic "
                    "= True`, so even a seeded run is not repeatable; enable one at start-up.",
                )
            elif first_trainer is not None:
                self.report(
                    "ML103",
                    first_trainer,
                    f"`{_display(self.ctx, first_trainer)}(...)` is built without `deterministic=True` and "
                    f"this {noun} never calls `torch.use_deterministic_algorithms(True)`, so even a seeded run "
                    "is not repeatable; pass `deterministic=True`.",
                )
        if self.tf_training is not None and _TF_DET not in enabled:
            self.report(
                "ML103",
                self.tf_training,
                f"`{_display(self.ctx, self.tf_training)}(...)` trains with TensorFlow's nondeterministic "
                f"ops: this {noun} never calls `tf.config.experimental.enable_op_determinism()`, so even a "
                "seeded run is not repeatable; call it at start-up (with "
                "`tf.keras.utils.set_random_seed(...)`).",
            )


def _loop_header(ctx, loop: ast.AST) -> tuple[int, int, int, int]:
    """The range of a loop's first line: `for batch in loader:`."""
    line, col, _, _ = ctx.node_range(loop)
    head = loop.iter if isinstance(loop, (ast.For, ast.AsyncFor)) else getattr(loop, "test", loop)
    _, _, end_line, end_col = ctx.node_range(head)
    text = ctx.source.line_text(line)
    if end_line != line:
        return line, col, line, len(text.rstrip())
    if text[end_col : end_col + 1] == ":":
        end_col += 1
    return line, col, line, end_col


# --- ML105 legacy-global-rng -------------------------------------------------------

_GENERATOR_EQUIVALENT = {
    "rand": "rng.random(size)",
    "randn": "rng.standard_normal(size)",
    "randint": "rng.integers(low, high)",
    "random_integers": "rng.integers(low, high, endpoint=True)",
    "random_sample": "rng.random(size)",
    "random": "rng.random(size)",
    "ranf": "rng.random(size)",
    "sample": "rng.random(size)",
}


@register
class LegacyGlobalRng(Rule):
    codes = ("ML105",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = NUMPY_LEGACY  # `numpy.random.<fn>` only

    def __init__(self, ctx):
        super().__init__(ctx)
        self.qualname = _qualname_memo(ctx)

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        q = self.qualname(node)
        if not q or not q.startswith("numpy.random."):
            return
        fn = q[len("numpy.random.") :]
        if fn not in NUMPY_LEGACY:
            return
        shown = _display(self.ctx, node)
        seed = self.ctx.config.seed
        if fn in ("get_state", "set_state"):
            msg = (
                f"`{shown}(...)` {'reads' if fn == 'get_state' else 'overwrites'} NumPy's legacy global "
                f"RandomState, shared by every library in the process; keep a local generator "
                f"(`rng = np.random.default_rng({seed})`) and save or restore `rng.bit_generator.state` instead."
            )
        elif fn == "seed":
            msg = (
                f"`{shown}(...)` seeds NumPy's legacy global RandomState, shared by every library in the "
                f"process; create a local generator instead, `rng = np.random.default_rng({seed})`, and draw from it."
            )
        else:
            instead = _GENERATOR_EQUIVALENT.get(fn, f"rng.{fn}(...)")
            msg = (
                f"`{shown}(...)` draws from NumPy's legacy global RandomState; draw from a local generator "
                f"instead: `rng = np.random.default_rng({seed})`, then `{instead}`."
            )
        self.report("ML105", node, msg)


# --- ML106 unpinned-pretrained-model -------------------------------------------------

_HUB_DOWNLOADS = frozenset(
    {
        "huggingface_hub.hf_hub_download",
        "huggingface_hub.file_download.hf_hub_download",
        "huggingface_hub.snapshot_download",
        "huggingface_hub._snapshot_download.snapshot_download",
    }
)
_HFAPI_DOWNLOADS = ("HfApi().hf_hub_download", "HfApi().snapshot_download")
# Packages whose loaders this rule knows (besides any `.from_pretrained`).
_HUB_PACKAGES = ("torch.hub.", "huggingface_hub.", "transformers.", "sentence_transformers.", "datasets.")
_PIPELINES = frozenset({"transformers.pipeline", "transformers.pipelines.pipeline"})
_SENTENCE_MODELS = frozenset(
    {
        "sentence_transformers.SentenceTransformer",
        "sentence_transformers.CrossEncoder",
        "sentence_transformers.cross_encoder.CrossEncoder",
        "sentence_transformers.SentenceTransformer.SentenceTransformer",
    }
)
_LOAD_DATASET = frozenset({"datasets.load_dataset", "datasets.load.load_dataset"})
_TORCH_HUB_LOAD = frozenset({"torch.hub.load"})
# Calls whose string argument names a local directory the module writes to.
_SAVE_METHODS = frozenset({"save_pretrained", "save_model", "save_to_disk", "save"})
# ML106's call filter: the last names of every loader above, `.from_pretrained`
# and the save methods (calls with `output_dir=` also record a saved directory).
_HUB_CALL_NAMES = (
    frozenset(
        q.rpartition(".")[2]
        for q in (*_HUB_DOWNLOADS, *_HFAPI_DOWNLOADS, *_PIPELINES, *_SENTENCE_MODELS, *_LOAD_DATASET, *_TORCH_HUB_LOAD)
    )
    | {"from_pretrained"}
    | _SAVE_METHODS
)


def _arg(call: ast.Call, pos: int | None, *names: str) -> ast.AST | None:
    for name in names:
        kw = keyword(call, name)
        if kw is not None:
            return kw.value
    if pos is not None and len(call.args) > pos and not isinstance(call.args[pos], ast.Starred):
        return call.args[pos]
    return None


@dataclass
class _HubSite:
    call: ast.Call
    kind: str  # "model" | "dataset" | "download" | "pipeline-default"
    repo: str | None  # the id when known
    revision: str | None  # the moving revision given, if any


@register
class UnpinnedPretrainedModel(Rule):
    """ML106: Hub / torch.hub loads that follow a moving branch."""

    codes = ("ML106",)
    nodes = (ast.Call,)
    call_names = _HUB_CALL_NAMES
    call_keywords = frozenset({"output_dir"})

    def __init__(self, ctx):
        super().__init__(ctx)
        self.qualname = _qualname_memo(ctx)
        self.sites: list[_HubSite] = []
        self.saved: set[str] = set()

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        func = node.func
        attr = func.attr if isinstance(func, ast.Attribute) else None
        if attr in _SAVE_METHODS:
            target = _arg(node, 0, "save_directory", "output_dir", "dataset_path")
            s = const_str(sem, target)
            if s:
                self.saved.add(s.rstrip("/"))
        if node.keywords:
            out_dir = const_str(sem, _arg(node, None, "output_dir"))
            if out_dir:
                self.saved.add(out_dir.rstrip("/"))
        q = self.qualname(node)
        if attr != "from_pretrained" and not (q and q.startswith(_HUB_PACKAGES)):
            return
        if has_star_kwargs(node) or is_true(_arg(node, None, "local_files_only")):
            return
        if q in _TORCH_HUB_LOAD:
            self._torch_hub(node)
            return
        if q in _HUB_DOWNLOADS or (q and q.startswith("huggingface_hub.") and q.endswith(_HFAPI_DOWNLOADS)):
            self._check(node, "download", const_str(sem, _arg(node, 0, "repo_id")), require_id=False)
            return
        if q in _PIPELINES:
            model = _arg(node, 1, "model")
            if model is None:
                if _arg(node, 0, "task") is not None:
                    self._check(node, "pipeline-default", None, require_id=False)
                return
            self._check(node, "model", str_template(sem, model))
            return
        if q in _SENTENCE_MODELS:
            self._check(node, "model", str_template(sem, _arg(node, 0, "model_name_or_path", "model_name")))
            return
        if q in _LOAD_DATASET:
            path = str_template(sem, _arg(node, 0, "path"))
            if path is not None and path.lower() in PACKAGED_DATASET_BUILDERS:
                return
            self._check(node, "dataset", path)
            return
        if attr == "from_pretrained":
            # PeftModel*.from_pretrained(base_model, adapter_id): the id comes second.
            receiver = (dotted(func.value) or "").rsplit(".", 1)[-1]
            if receiver.startswith(("PeftModel", "PeftMixedModel")):
                repo = _arg(node, 1, "model_id")
            else:
                repo = _arg(node, 0, "pretrained_model_name_or_path", "model_name_or_path", "repo_id")
            self._check(node, "model", str_template(self.ctx.semantic, repo))

    def _check(self, call: ast.Call, kind: str, repo: str | None, require_id: bool = True) -> None:
        if require_id and not is_hub_id(repo):
            return
        rev_node = _arg(call, None, "revision", "commit_id")
        revision = None
        if rev_node is not None and not is_none(rev_node):
            revision = str_template(self.ctx.semantic, rev_node)
            if not moving_revision(revision):
                return  # pinned, or unknown
        self.sites.append(_HubSite(call, kind, repo, revision))

    def _torch_hub(self, call: ast.Call) -> None:
        source = const_str(self.ctx.semantic, _arg(call, None, "source"))
        if source == "local":
            return
        repo = const_str(self.ctx.semantic, _arg(call, 0, "repo_or_dir"))
        ref = torch_hub_ref(repo)
        if ref is None:
            return
        _, branch = ref
        if branch is not None and not moving_revision(branch):
            return
        shown = _display(self.ctx, call)
        owner_repo = repo.split(":", 1)[0] if repo else "owner/repo"
        detail = f"the `{branch}` branch" if branch else "the default branch"
        self.report(
            "ML106",
            call,
            f"`{shown}(\"{repo}\", ...)` loads code and weights from {detail} of {owner_repo}, which moves; "
            f"pin a release tag or commit: `\"{owner_repo}:<tag>\"`.",
        )

    def finish(self) -> None:
        for site in self.sites:
            if site.repo is not None and site.repo.rstrip("/") in self.saved:
                continue  # a directory this module writes: local
            shown = _display(self.ctx, site.call)
            if site.kind == "pipeline-default":
                msg = (
                    f"`{shown}(...)` without `model=` loads the task's default model, which can change between "
                    "transformers releases; pass `model=\"<hub id>\"` and `revision=\"<commit sha>\"`."
                )
            else:
                what = {"model": "model", "dataset": "dataset", "download": "files"}[site.kind]
                if what == "model" and ("Tokenizer" in shown or "Processor" in shown):
                    what = "tokenizer" if "Tokenizer" in shown else "processor"
                repo = f"`{site.repo}`" if site.repo and HOLE not in site.repo else "the repo"
                if site.revision is not None:
                    msg = (
                        f"`{shown}(...)` loads {repo} at `revision=\"{site.revision}\"`, a branch that moves "
                        f"with every push, so the {what} can change under you; pin a commit sha (or a release tag)."
                    )
                else:
                    msg = (
                        f"`{shown}(...)` loads {repo} from the Hub's main branch as it is at run time, so the "
                        f"{what} can change under you; pin it with `revision=\"<commit sha>\"`."
                    )
            self.report("ML106", site.call, msg)


# --- ML107 mutable-model-reference -------------------------------------------------

_ARTIFACT_METHODS = frozenset({"use_artifact", "artifact", "use_model", "download_artifact"})


@register
class MutableModelReference(Rule):
    """ML107: a model loaded through a reference that moves (an MLflow stage
    or `latest`, a W&B `:latest` alias, `get_latest_versions`)."""

    codes = ("ML107",)
    scope = "statement"
    nodes = (ast.Call,)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.qualname = _qualname_memo(ctx)
        self._registry = False  # does the module import mlflow or wandb (so far)?
        self._imports_seen = -1

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        registry = self._imports_registry()
        values = [a for a in node.args if _may_be_str(a, registry)]
        values += [k for k in node.keywords if _may_be_str(k.value, registry)]
        name = _terminal_name(node)
        if not values and name != "get_latest_versions":
            return
        sem = self.ctx.semantic
        q = self.qualname(node)
        if name == "get_latest_versions" and ((q is not None and q.startswith("mlflow.")) or registry):
            self.report(
                "ML107",
                node,
                f"`{_display(self.ctx, node)}(...)` picks whichever version currently holds a stage (or is "
                "newest), so what gets loaded changes whenever someone promotes a model; load a fixed "
                "version (`models:/<name>/<version>`) and record it.",
            )
            return
        mlflow_call = q is not None and q.startswith("mlflow.")
        for item in values:
            value, kw_name = (item.value, item.arg) if isinstance(item, ast.keyword) else (item, None)
            text = str_template(sem, value)
            if text is None:
                continue
            moving = mlflow_moving_ref(text)
            if moving is not None and (mlflow_call or _mentions_model(name, kw_name)):
                self._report_mlflow(node, value, text, moving)
                continue
            if artifact_alias_latest(text) and (
                (q is not None and q.startswith("wandb.")) or name in _ARTIFACT_METHODS
            ):
                self.report(
                    "ML107",
                    value,
                    f"`{_display(self.ctx, node)}(\"{_shown(text)}\")` resolves the `latest` alias at run "
                    "time, so a new upload silently changes the model; reference a version (`:v3`) instead.",
                )

    def _imports_registry(self) -> bool:
        """Cheap and incremental: re-checked only when new imports were seen."""
        imported = self.ctx.semantic.imported
        if not self._registry and len(imported) != self._imports_seen:
            self._imports_seen = len(imported)
            self._registry = any(q.split(".", 1)[0] in ("mlflow", "wandb") for q in imported)
        return self._registry

    def _report_mlflow(self, call: ast.Call, value: ast.AST, uri: str, moving: str) -> None:
        ref = uri.rstrip("/").rsplit("/", 1)[-1]
        if moving == "latest":
            why = "resolves to the newest registered version at load time, so every new registration changes it"
        else:
            why = (
                f"resolves to whichever version holds the `{ref}` stage at load time, so a promotion changes "
                "what runs (stages are also deprecated in MLflow)"
            )
        self.report(
            "ML107",
            value,
            f"`{_display(self.ctx, call)}(\"{_shown(uri)}\")` {why}; load a fixed version "
            "(`models:/<name>/<version>`) and record which one.",
        )


def _may_be_str(node: ast.AST, follow_names: bool) -> bool:
    """Cheap pre-filter: could this argument hold a registry reference?
    Names are only followed in modules that import a registry client."""
    t = type(node)
    if t is ast.Constant:
        v = node.value  # type: ignore[attr-defined]
        return isinstance(v, str) and (v.startswith("models:/") or v.endswith(":latest"))
    if t is ast.Name:
        return follow_names
    return t is ast.JoinedStr or (t is ast.BinOp and isinstance(node.op, ast.Add))  # type: ignore[attr-defined]


def _mentions_model(func_name: str | None, kw_name: str | None) -> bool:
    words = ("model", "uri", "artifact", "load")
    return any(w in (func_name or "").lower() for w in words) or any(w in (kw_name or "").lower() for w in words)


def _shown(text: str) -> str:
    return text.replace(HOLE, "{...}")
