"""ML101 unseeded-randomness and ML104 unseeded-dataloader-workers: draws
from a global random generator (Python, NumPy, PyTorch, TensorFlow) in a
program that never seeds it, and DataLoader shuffling/workers with no
generator."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from mllint.analysis.entrypoint import entry_kind, program_noun
from mllint.analysis.inference import PANDAS_TAGS, infer_type
from mllint.analysis.literals import const_int
from mllint.analysis.local_effects import LocalEffects
from mllint.analysis.module_names import module_names
from mllint.analysis.randomness import (
    ALL_FRAMEWORKS,
    DATALOADERS,
    DIRECT_SEEDERS,
    KERAS_LABEL,
    KERAS_SEED_CALL,
    KERAS_WEIGHTED_LAYERS,
    LABEL,
    NUMPY,
    NUMPY_DRAWS,
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
    global_draw,
    is_known_package,
    is_random_augmentation,
    looks_like_seed_helper,
    pandas_sample_draw,
    seeded_frameworks,
    unseeded_generator,
)
from mllint.analysis.semantic import has_star_kwargs, is_none, is_true, keyword
from mllint.rules.base import Rule, register
from mllint.rules.call_helpers import (
    AUGMENT_ROOTS,
    call_display,
    enclosing_memo,
    helper_filter,
    last_names,
    picks_a_seed,
    qualname_memo,
    record_plain_call,
    terminal_name,
    where,
)

# --- ML101 unseeded-randomness, ML104 unseeded-dataloader-workers --------------------

_SEED_ALTERNATIVE = {
    RANDOM: " (or draw from a `random.Random({seed})` instance)",
    NUMPY: " (or draw from `rng = np.random.default_rng({seed})`)",
    TORCH: " (or `lightning.seed_everything({seed})`)",
    TENSORFLOW: " (or `keras.utils.set_random_seed({seed})`, which seeds Python, NumPy and TensorFlow)",
}

_KERAS_ALTERNATIVE = " (before Keras 2.7: `np.random.seed({seed})` and `tf.random.set_seed({seed})`)"


@dataclass
class _DrawSite:
    framework: str
    verb: str
    call: ast.Call
    in_function: bool
    pandas: bool = False
    seeds: frozenset[str] = frozenset()  # the frameworks whose seeding seeds it

    @property
    def initialises_weights(self) -> bool:
        return "weights" in self.verb


# Calls that show a module trains (so freshly initialised weights matter):
# these methods, and scikit-learn's cross-validation functions, which fit the
# estimator they are given (a Keras model wrapped by `KerasClassifier`).
_TRAINING_CALLS = frozenset({"backward", "manual_backward", "fit", "fit_generator", "train_on_batch", "train"})
_TRAINING_FUNCTIONS = frozenset(
    f"sklearn.{module}.{name}"
    for module in ("model_selection", "cross_validation")  # the second before scikit-learn 0.20
    for name in ("cross_val_score", "cross_validate", "cross_val_predict", "learning_curve", "validation_curve")
)

# ML101/ML104's call filter, from the tables `visit` consults: what seeds
# (`seeded_frameworks`), draws (`global_draw`, `pandas_sample_draw`), makes an
# unseeded generator (`unseeded_generator`), builds a DataLoader, or shows
# training. Every one of them matches a qualified name whose last name is the
# call's key. The rest is in `UnseededRandomness.wants_call`.
_SEEDER_NAMES = last_names((*DIRECT_SEEDERS, *UMBRELLA_SEEDERS)) | {"seed_everything"}  # + Lightning's
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
    | last_names(_RANDOM_SPLITS + _TF_DATASET_SHUFFLE)
    | {"sample"}  # pandas `df.sample(...)`
)
_GENERATOR_NAMES = last_names(("numpy.random.default_rng", "numpy.random.RandomState", "random.Random"))
UNSEEDED_RANDOMNESS_NAMES = (
    _SEEDER_NAMES
    | _DRAW_NAMES
    | _GENERATOR_NAMES
    | last_names(DATALOADERS)
    | _TRAINING_CALLS
    | last_names(_TRAINING_FUNCTIONS)
)


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
    # * `record_plain_call` records a plain name (= its key) that only matters
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
        self.qualname = qualname_memo(ctx)
        self.enclosing = enclosing_memo(ctx)
        self.effects = LocalEffects(ctx.semantic)
        self.draws: list[_DrawSite] = []
        self.generators: list[ast.Call] = []
        self.loaders: list[_LoaderSite] = []
        self.augments = False
        self.trains = False
        names = module_names(ctx)
        helpers = helper_filter(ctx)
        if helpers is None or not names.imported_roots.isdisjoint(AUGMENT_ROOTS):
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
        if q in _TRAINING_FUNCTIONS:
            self.trains = True
            return
        func = self.enclosing(node)
        # Seeding.
        fws = seeded_frameworks(q, node)
        if fws is None and not record_plain_call(ctx, self.effects, func, node):
            name = terminal_name(node)
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
            if picks_a_seed(ctx):
                return  # `seed = random.randint(0, 10**6)`: choosing (and logging) a seed is the fix
            self.draws.append(_DrawSite(draw.framework, draw.verb, node, func is not None, pandas, draw.seeds))
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
        done: set[str] = set()  # one finding per framework (standalone Keras counts as TensorFlow's)
        for site in sorted(self.draws, key=lambda s: (s.call.lineno, s.call.col_offset)):
            fw = site.framework
            keras = site.seeds != {fw}  # standalone Keras: seeded by any of several
            if fw in done:
                continue
            if site.initialises_weights and not self.trains:
                continue  # weights loaded or only inspected: their initial values do not matter
            if site.initialises_weights and not site.in_function and _discarded_model(ctx.tree, site.call):
                continue  # a model built, then replaced before anything used it
            if site.in_function:
                if not site.seeds.isdisjoint(everywhere):
                    continue
                later = None
            else:
                later = min((first_seed[s] for s in site.seeds if s in first_seed), default=None)
                if later is not None and later < site.call.lineno:
                    continue
                if later is None and not site.seeds.isdisjoint(everywhere):
                    continue  # seeded inside a function we cannot place in time: unknown
            done.add(fw)
            shown = call_display(ctx, site.call)
            what = f"`{shown}(...)` {site.verb} {KERAS_LABEL if keras else LABEL[fw]}"
            seed_call = (KERAS_SEED_CALL if keras else SEED_CALL[fw]).format(seed=seed)
            if later is not None:
                msg = (
                    f"{what} before this {noun} seeds it ({where(ctx, later)}): the first draws differ on "
                    f"every run; move the seeding above the first draw."
                )
            elif site.pandas:
                msg = (
                    f"{what}, which this {noun} never seeds: the sample differs on every run; pass "
                    f"`random_state={seed}` (or call `{seed_call}` at start-up)."
                )
            else:
                alt = (_KERAS_ALTERNATIVE if keras else _SEED_ALTERNATIVE[fw]).format(seed=seed)
                msg = (
                    f"{what}, which this {noun} never seeds: results differ on every run; call "
                    f"`{seed_call}` once at start-up{alt}."
                )
            self.report("ML101", site.call, msg)

    def _report_generators(self) -> None:
        ctx = self.ctx
        seed = ctx.config.seed
        for call in self.generators:
            shown = call_display(ctx, call)
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
            shown = call_display(ctx, site.call)
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


def _discarded_model(tree: ast.Module, call: ast.Call) -> bool:
    """Is the model this top-level layer call builds thrown away unused? The
    statement holding the call binds or extends one name (`model =
    Sequential([...Dense(...)])`, `model.add(Dense(...))`), and the next
    top-level statement that touches the name, past more `model.add(...)`,
    rebinds it without reading it (`model = Sequential(...)` again, after seeding). A builder whose
    result is assigned to its own name (`build = build()`) reads nothing
    here: its layers are drawn inside the function, not at top level."""
    body = tree.body
    line = call.lineno
    for i, stmt in enumerate(body):
        if stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
            break
    else:
        return False
    name = _model_name(stmt)
    if name is None:
        return False
    for later in body[i + 1 :]:
        if _model_name(later) == name and isinstance(later, ast.Expr):
            if not any(isinstance(n, ast.Name) and n.id == name for a in later.value.args for n in ast.walk(a)):  # type: ignore[attr-defined]
                continue  # another `model.add(layer)`: still building it
        rebinds = isinstance(later, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in later.targets
        )
        for node in ast.walk(later.value if rebinds else later):  # type: ignore[attr-defined]
            if isinstance(node, ast.Name) and node.id == name:
                return False  # used (or rebound in a way we do not follow)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
                return False
        if rebinds:
            return True
    return False


def _model_name(stmt: ast.stmt) -> str | None:
    """`model = ...` -> "model"; `model.add(...)` -> "model"."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        if isinstance(func, ast.Attribute) and func.attr == "add" and isinstance(func.value, ast.Name):
            return func.value.id
    return None
