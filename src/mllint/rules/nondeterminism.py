"""ML103 nondeterministic-training: GPU training without deterministic
kernels (`torch.use_deterministic_algorithms`,
`tf.config.experimental.enable_op_determinism`)."""

from __future__ import annotations

import ast

from mllint.analysis.entrypoint import entry_kind, program_noun
from mllint.analysis.inference import infer_type
from mllint.analysis.local_effects import LocalEffects
from mllint.analysis.module_names import module_names
from mllint.analysis.randomness import (
    DETERMINISM_QUALNAMES,
    configured_helper,
    enables_tf_determinism,
    enables_torch_determinism,
    is_known_package,
    is_lightning_trainer,
    looks_like_determinism_helper,
    looks_like_seed_helper,
)
from mllint.analysis.semantic import has_star_kwargs, is_false, is_none, is_true, keyword, kwarg_value
from mllint.analysis.training_facts import TrainingFacts, dotted
from mllint.rules.base import Rule, register
from mllint.rules.call_helpers import (
    call_display,
    enclosing_memo,
    helper_filter,
    last_names,
    qualname_memo,
    record_plain_call,
    terminal_name,
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
# Calls that show the program can put PyTorch work on a GPU (`_gpu_call`).
_GPU_METHODS = frozenset({"cuda", "to"})
_GPU_CALLS = frozenset({"device", "DataParallel", "DistributedDataParallel", "Accelerator"})
_TORCH_CUDA_NOT_GPU = frozenset({"manual_seed", "manual_seed_all", "seed", "seed_all"})
_GPU_KEYWORDS = frozenset({"device", "accelerator", "gpus", "device_map", "pin_memory", "use_gpu", "device_type"})
_HIDE_GPU_CALLS = frozenset({"set_visible_devices"})
# `torch.cuda` functions a program that uses the GPU calls (by last name, for
# the call filter; any `torch.cuda.*` call but the seeding ones counts).
_TORCH_CUDA_CALLS = frozenset(
    {
        "is_available", "device_count", "set_device", "empty_cache", "synchronize", "get_device_name",
        "current_device", "memory_allocated", "max_memory_allocated", "reset_peak_memory_stats",
    }
)  # fmt: skip
NONDETERMINISTIC_TRAINING_NAMES = (
    last_names(DETERMINISM_QUALNAMES)
    | last_names(("lightning.pytorch.Trainer",))
    | _KERAS_TRAINING_METHODS
    | _TRAINING_LOOP_METHODS
    | _GPU_METHODS
    | _GPU_CALLS
    | _HIDE_GPU_CALLS
    | _TORCH_CUDA_CALLS
    | frozenset({"autocast", "GradScaler"})
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
    # * `record_plain_call` and the helper heuristics: as in
    #   UnseededRandomness (`wants_call`), with the determinism-helper one.
    # * the GPU evidence (`_gpu_call`): `.cuda()`, `.to(...)`, `torch.device`,
    #   the usual `torch.cuda.*` functions, `autocast`/`GradScaler`,
    #   `DataParallel`, `Accelerator`, `set_visible_devices` by name, and any
    #   call passing `device=`, `device_type=`, `accelerator=`, `gpus=`,
    #   `device_map=`, `pin_memory=` or `use_gpu=` (Ray).
    call_names = NONDETERMINISTIC_TRAINING_NAMES
    call_keywords = _GPU_KEYWORDS

    def __init__(self, ctx):
        super().__init__(ctx)
        self.qualname = qualname_memo(ctx)
        self.enclosing = enclosing_memo(ctx)
        self.facts: TrainingFacts | None = None
        self.effects = LocalEffects(ctx.semantic)
        self.benchmarks: list[ast.Assign] = []
        self.trainers: list[ast.Call] = []
        self.tf_training: ast.Call | None = None
        self.compiled: set[str] = set()
        # PyTorch work can run on a GPU (ML103 is about GPU kernels: a
        # CPU-only loop has none to make deterministic); the GPUs are hidden
        # (`CUDA_VISIBLE_DEVICES=""`, `tf.config.set_visible_devices([], "GPU")`).
        self.torch_gpu = False
        self.gpus_hidden: int | None = None  # the first line hiding them
        names = module_names(ctx)
        helpers = helper_filter(ctx)
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
        if not self.torch_gpu and _names_cuda(node.value):
            self.torch_gpu = True  # device = "cuda" / "cuda" if ... else "cpu"
        for target in node.targets:
            if isinstance(target, ast.Attribute):
                q = sem.qualname(target)
                if q and q.startswith("torch.backends.cudnn."):
                    self.torch_gpu = True  # cuDNN is the GPU library
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
                elif isinstance(key, ast.Constant) and key.value == "CUDA_VISIBLE_DEVICES":
                    value = node.value
                    if isinstance(value, ast.Constant) and str(value.value).strip() in ("", "-1"):
                        self._hide(node)

    def _call(self, node: ast.Call, func) -> None:
        ctx = self.ctx
        sem = ctx.semantic
        q = self.qualname(node)
        if not self.torch_gpu and self._gpu_call(node, q):
            self.torch_gpu = True
        if q == "tensorflow.config.set_visible_devices" and _hides_gpus(node):
            self._hide(node)
        if enables_torch_determinism(q, node):
            self.effects.add(func, node.lineno, {_TORCH_DET})
        if enables_tf_determinism(q):
            self.effects.add(func, node.lineno, {_TF_DET})
        if is_lightning_trainer(q):
            kw = keyword(node, "deterministic")
            if has_star_kwargs(node) or (kw is not None and not is_false(kw.value) and not is_none(kw.value)):
                self.effects.add(func, node.lineno, {_TORCH_DET})
            elif not _cpu_trainer(node):
                self.trainers.append(node)
            return
        if record_plain_call(ctx, self.effects, func, node):
            return
        name = terminal_name(node)
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

    def _hide(self, node: ast.AST) -> None:
        if self.gpus_hidden is None or node.lineno < self.gpus_hidden:
            self.gpus_hidden = node.lineno

    def _gpu_call(self, node: ast.Call, q: str | None) -> bool:
        """Whether this call shows PyTorch work can go to a GPU: `.cuda()`,
        `.to(device)` / `.to("cuda")`, `torch.device(...)` other than the
        CPU, `torch.cuda.is_available()` and the like, `DataParallel`,
        Hugging Face `Accelerator()`, and `device=` / `device_map=` naming a
        device that is not the CPU, `accelerator=` / `gpus=`, `pin_memory=True`,
        Ray's `use_gpu=True`."""
        func = node.func
        attr = func.attr if isinstance(func, ast.Attribute) else None
        if attr == "cuda":
            return q != "torch.cuda"
        if attr == "to":
            return bool(node.args) and _device_value(node.args[0])
        if q:
            if q.startswith("torch.cuda.") and q.rpartition(".")[2] not in _TORCH_CUDA_NOT_GPU:
                return True
            if q == "torch.device":
                return not node.args or _device_value(node.args[0])
            if q in ("torch.autocast", "torch.amp.autocast", "torch.amp.GradScaler") and node.args:
                return _device_value(node.args[0])  # torch.autocast("cuda")
            last = q.rpartition(".")[2]
            if last in ("DataParallel", "DistributedDataParallel", "Accelerator") and q.startswith(
                ("torch.", "accelerate.")
            ):
                return True
        for kw in node.keywords:
            if kw.arg in ("device", "device_map", "device_type"):
                if _device_value(kw.value):
                    return True
            elif kw.arg in ("accelerator", "gpus"):
                if not (is_none(kw.value) or _is_cpu(kw.value) or (isinstance(kw.value, ast.Constant) and kw.value.value == 0)):
                    return True
            elif kw.arg in ("pin_memory", "use_gpu") and is_true(kw.value):
                return True
        return False

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
        if self.gpus_hidden is not None:
            # Every kernel runs on the CPU, if the GPUs were hidden before
            # the first training (later, the framework already holds them).
            first = [n.lineno for n in (*(lf.node for lf in loops), *self.trainers, self.tf_training) if n is not None]
            if not first or self.gpus_hidden < min(first):
                return
        # A PyTorch loop runs on the CPU unless something moves work to a GPU
        # (a Lightning Trainer picks one by itself unless told `accelerator="cpu"`).
        torch_training = bool((loops and self.torch_gpu) or self.trainers)
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
            if not self.torch_gpu:
                first_loop = None
            if first_loop is not None and (first_trainer is None or first_loop.lineno <= first_trainer.lineno):
                backward = min(
                    (lf.backward[0] for lf in loops if lf.node is first_loop), key=lambda c: c.lineno
                )
                self.report(
                    "ML103",
                    _loop_header(self.ctx, first_loop),
                    f"This training loop (`{call_display(self.ctx, backward)}()`) runs with "
                    f"nondeterministic GPU kernels: this {noun} never calls "
                    "`torch.use_deterministic_algorithms(True)` or sets `torch.backends.cudnn.deterministic "
                    "= True`, so even a seeded run is not repeatable; enable one at start-up.",
                )
            elif first_trainer is not None:
                self.report(
                    "ML103",
                    first_trainer,
                    f"`{call_display(self.ctx, first_trainer)}(...)` is built without `deterministic=True` and "
                    f"this {noun} never calls `torch.use_deterministic_algorithms(True)`, so even a seeded run "
                    "is not repeatable; pass `deterministic=True`.",
                )
        if self.tf_training is not None and _TF_DET not in enabled:
            self.report(
                "ML103",
                self.tf_training,
                f"`{call_display(self.ctx, self.tf_training)}(...)` trains with TensorFlow's nondeterministic "
                f"ops: this {noun} never calls `tf.config.experimental.enable_op_determinism()`, so even a "
                "seeded run is not repeatable; call it at start-up (with "
                "`tf.keras.utils.set_random_seed(...)`).",
            )


def _is_cpu(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower().startswith("cpu")


def _is_cuda_text(value: object) -> bool:
    return isinstance(value, str) and value.lower().startswith(("cuda", "gpu", "/gpu", "/device:gpu"))


def _names_cuda(node: ast.AST) -> bool:
    """`"cuda"`, `"cuda:0"`, or a conditional one of whose branches is."""
    if isinstance(node, ast.Constant):
        return _is_cuda_text(node.value)
    if isinstance(node, ast.IfExp):
        return _names_cuda(node.body) or _names_cuda(node.orelse)
    return False


def _device_value(node: ast.AST) -> bool:
    """A device argument that may be a GPU: a CUDA literal, a conditional
    naming one, `torch.device(...)`, or a variable / attribute whose name
    says it holds a device (`device`, `args.device`, `self.dev`) -- code
    written to pick the device at run time. Dtypes and `"cpu"` are not."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value >= 0  # a GPU index (`device=0`)
    if isinstance(node, (ast.Constant, ast.IfExp)):
        return _names_cuda(node)
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
    if name is not None:
        low = name.lower()
        return "device" in low or low in ("dev", "gpu", "cuda") or low.endswith("_dev")
    if isinstance(node, ast.Call):
        func = node.func
        callee = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return callee == "device" and (not node.args or _device_value(node.args[0]))
    return False


def _cpu_trainer(node: ast.Call) -> bool:
    """A Lightning `Trainer(accelerator="cpu")` (or `gpus=0`): no GPU kernels."""
    acc = kwarg_value(node, "accelerator")
    if acc is not None:
        return _is_cpu(acc)
    gpus = kwarg_value(node, "gpus")
    return isinstance(gpus, ast.Constant) and gpus.value in (0, None) and keyword(node, "devices") is None


def _hides_gpus(node: ast.Call) -> bool:
    """`tf.config.set_visible_devices([], "GPU")`."""
    if not node.args or not isinstance(node.args[0], (ast.List, ast.Tuple)) or node.args[0].elts:
        return False
    kind = node.args[1] if len(node.args) > 1 else kwarg_value(node, "device_type")
    return isinstance(kind, ast.Constant) and str(kind.value).upper() == "GPU"


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
