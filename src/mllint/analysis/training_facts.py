"""Loop and scope facts for training code, gathered during the engine's walk.

One `TrainingFacts` per module (shared through `SemanticModel.fact`). Rules
that need it feed it from their `visit` (`facts.observe(node, ctx.ancestors)`
for `ast.Call` and `ast.Assign` nodes; feeding the same node twice is a
no-op, so several rules may feed it) and read it in `finish()`, when the walk
is complete:

* per loop (`For`/`AsyncFor`/`While`, by `id(loop)`): the `backward()` calls
  in it and the names they differentiate, optimizer `step()` calls, whether
  gradients are cleared (`zero_grad()` on anything, `p.grad = None`,
  `p.grad.zero_()`), `.eval()` / `.train()` calls by receiver, Keras model
  constructions, `clear_session()` calls, plain-name helper calls;
* per function: does it call `backward()`, build a Keras model, clear the
  Keras session, call `.train()`;
* module: `has_torch_training_loop` (a loop with `backward()` and an
  optimizer `step()`, in a module importing torch) -- for ML103 and others.

Queries usable during the walk: `grad_disabled(sem, ancestors)` (code under
`torch.no_grad()` / `inference_mode()` / `set_grad_enabled(False)` or in a
function decorated with them), `grad_maybe_disabled(sem, ancestors)` (also
`set_grad_enabled(flag)`), `is_validation_function(func)`,
`validation_loop(ancestors)` (the innermost enclosing loop over evaluation
data: `val_loader`, `testloader`, `dataloaders["val"]`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mllint.analysis.inference import call_qual, infer_type, kind_of_qualname
from mllint.analysis.semantic import BUILTIN_NAMES
from mllint.analysis.semantic import dotted_name as dotted  # shared helper

if TYPE_CHECKING:
    from mllint.analysis.semantic import SemanticModel
    from mllint.engine.lint import Context

LOOP_TYPES = (ast.For, ast.AsyncFor, ast.While)
# Method names whose calls are training facts.
_WATCHED_METHODS = frozenset(
    {"backward", "manual_backward", "step", "zero_grad", "zero_", "eval", "train", "clear_session"}
)
FUNC_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)

GRAD_OFF = frozenset(
    {
        "torch.no_grad",
        "torch.inference_mode",
        "torch.autograd.no_grad",
        "torch.autograd.grad_mode.no_grad",
        "torch.autograd.grad_mode.inference_mode",
    }
)
SET_GRAD = frozenset({"torch.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.autograd.grad_mode.set_grad_enabled"})

# Names of functions that evaluate or serve a model.
_VALIDATION_RE = re.compile(
    r"(?:^|_)(?:val|valid|validate|validation|eval|evaluate|evaluation|predict|prediction|predictions|infer|inference)(?:_|$)",
    re.IGNORECASE,
)
# Framework hooks: the framework (Lightning) switches eval mode and disables grad.
FRAMEWORK_EVAL_HOOKS = frozenset(
    {"validation_step", "test_step", "predict_step", "validation_epoch_end", "on_validation_epoch_end", "test_epoch_end"}
)


def is_validation_function(func: ast.AST | None) -> bool:
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    if func.name in FRAMEWORK_EVAL_HOOKS:
        return False
    return bool(_VALIDATION_RE.search(func.name))


def _grad_off_call(sem: "SemanticModel", expr: ast.AST) -> bool:
    """`torch.no_grad()`, `torch.no_grad`, `torch.inference_mode()`,
    `torch.set_grad_enabled(False)`."""
    if isinstance(expr, ast.Call):
        q = sem.call_qualname(expr)
        if q in GRAD_OFF:
            return not (expr.args and isinstance(expr.args[0], ast.Constant) and expr.args[0].value is False)
        if q in SET_GRAD:
            return bool(expr.args) and isinstance(expr.args[0], ast.Constant) and expr.args[0].value is False
        return False
    return sem.qualname(expr) in GRAD_OFF


def grad_disabled(sem: "SemanticModel", ancestors: list[ast.AST]) -> bool:
    """Is the current node under a no-grad context (with-block or decorator)?"""
    for anc in ancestors:
        t = type(anc)
        if t is ast.With or t is ast.AsyncWith:
            for item in anc.items:  # type: ignore[attr-defined]
                if _grad_off_call(sem, item.context_expr):
                    return True
        elif t is ast.FunctionDef or t is ast.AsyncFunctionDef:
            for dec in anc.decorator_list:  # type: ignore[attr-defined]
                if _grad_off_call(sem, dec):
                    return True
    return False


def grad_maybe_disabled(sem: "SemanticModel", ancestors: list[ast.AST]) -> bool:
    """Under a context or decorator that may switch autograd off, whatever its
    argument: `with torch.set_grad_enabled(phase == "train"):`,
    `with torch.no_grad() if eval_only else nullcontext():`."""
    for anc in ancestors:
        t = type(anc)
        if t is ast.With or t is ast.AsyncWith:
            exprs = [item.context_expr for item in anc.items]  # type: ignore[attr-defined]
        elif t is ast.FunctionDef or t is ast.AsyncFunctionDef:
            exprs = anc.decorator_list  # type: ignore[attr-defined]
        else:
            continue
        for expr in exprs:
            for sub in ast.walk(expr):
                if isinstance(sub, (ast.Name, ast.Attribute)) and (sem.qualname(sub) in GRAD_OFF or sem.qualname(sub) in SET_GRAD):
                    return True
    return False


# Evaluation data, by the words of the iterated names: `val_loader`,
# `testloader`, `X_valid`, `dm.val_dataloader()`, `loaders["test"]`.
_EVAL_WORDS = ("val", "valid", "validation", "test", "testing", "eval", "evaluation", "dev", "holdout")
_EVAL_TOKEN_RE = re.compile(
    r"^(?:" + "|".join(_EVAL_WORDS) + r")(?:s|set|sets|loader|loaders|dataloader|data|dl|ds|dataset|iter|batches|gen|generator)?$"
)
_TRAIN_TOKEN_RE = re.compile(r"^(?:train|training|trn)")
_WORD_SPLIT_RE = re.compile(r"_|(?<=[a-z0-9])(?=[A-Z])")
_WORD_HINTS = ("val", "test", "eval", "dev", "holdout", "tr")  # a cheap test before splitting


def eval_data_name(iterable: ast.AST) -> str | None:
    """The name that makes a loop's iterable evaluation data, or None (also
    None when it names training data too: `zip(train_dl, val_dl)`)."""
    found = None
    todo = [iterable]
    seen = 0
    while todo and seen < 40:  # an iterable is a name or a short call; not a program
        sub = todo.pop()
        seen += 1
        todo.extend(ast.iter_child_nodes(sub))
        if isinstance(sub, ast.Name):
            word = sub.id
        elif isinstance(sub, ast.Attribute):
            word = sub.attr
        elif isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Constant) and isinstance(sub.slice.value, str):
            word = sub.slice.value
        else:
            continue
        low = word.lower()
        if not any(w in low for w in _WORD_HINTS):
            continue
        tokens = [t.lower() for t in _WORD_SPLIT_RE.split(word) if t]
        if any(_TRAIN_TOKEN_RE.match(t) for t in tokens):
            return None
        if found is None and any(_EVAL_TOKEN_RE.match(t) for t in tokens):
            found = word
    return found


def validation_loop(ancestors: list[ast.AST], memo: dict[int, str | None] | None = None) -> tuple[ast.AST, str] | None:
    """The innermost `for` loop around the current node (in the same
    function) that iterates over evaluation data, with the name that says so.
    `memo` (id(loop) -> name) saves re-reading a loop's iterable."""
    for anc in reversed(ancestors):
        if isinstance(anc, FUNC_TYPES):
            return None
        if isinstance(anc, (ast.For, ast.AsyncFor)):
            if memo is None:
                name = eval_data_name(anc.iter)
            elif id(anc) in memo:
                name = memo[id(anc)]
            else:
                name = memo[id(anc)] = eval_data_name(anc.iter)
            if name is not None:
                return anc, name
    return None


def enclosing_function(ancestors: list[ast.AST]) -> ast.AST | None:
    for anc in reversed(ancestors):
        if isinstance(anc, FUNC_TYPES):
            return anc
    return None


def enclosing_loops(ancestors: list[ast.AST]) -> list[ast.AST]:
    """Loops around the current node, innermost first."""
    return [a for a in reversed(ancestors) if isinstance(a, LOOP_TYPES)]


@dataclass
class LoopFacts:
    node: ast.AST
    backward: list[ast.Call] = field(default_factory=list)
    backward_names: set[str] = field(default_factory=set)
    steps: list[ast.Call] = field(default_factory=list)
    clears_grad: bool = False
    evals: list[tuple[str, ast.Call]] = field(default_factory=list)
    trains: set[str] = field(default_factory=set)
    mode_set: set[str] = field(default_factory=set)  # `.train(flag)`: mode unknown
    keras_builds: list[ast.Call] = field(default_factory=list)
    clears_session: bool = False
    called: set[str] = field(default_factory=set)

    @property
    def is_training(self) -> bool:
        return bool(self.backward) and bool(self.steps)


@dataclass
class FunctionFacts:
    node: ast.AST
    backward_lines: list[int] = field(default_factory=list)
    builds_keras: bool = False
    clears_session: bool = False
    calls_train: set[str] = field(default_factory=set)
    sets_eval: bool = False  # `.eval()`, `.train(False)` or `.train(flag)` on anything


class TrainingFacts:
    def __init__(self, sem: "SemanticModel"):
        self.sem = sem
        self.loops: dict[int, LoopFacts] = {}
        self.functions: dict[int, FunctionFacts] = {}
        self.module = FunctionFacts(None)  # type: ignore[arg-type]
        # For each function name defined anywhere: its FunctionFacts (last wins).
        self.function_by_name: dict[str, FunctionFacts] = {}
        self._last: ast.AST | None = None
        self._backward_chains: list[list[int]] = []  # loop ids, outermost first, per backward()
        self._keras_memo: tuple[int, bool] = (-1, False)
        self._torch_memo: tuple[int, bool] = (-1, False)

    @property
    def torch(self) -> bool:
        """Does the module import torch (or Lightning)? Meaningful once the
        imports have been walked (they come first in real code)."""
        sem = self.sem
        n = len(sem.imported)
        if self._torch_memo[0] != n:
            self._torch_memo = (
                n,
                sem.imports_module("torch") or sem.imports_module("lightning") or sem.imports_module("pytorch_lightning"),
            )
        return self._torch_memo[1]

    @classmethod
    def for_context(cls, ctx: "Context") -> "TrainingFacts":
        return ctx.semantic.fact("training_facts", lambda: cls(ctx.semantic))  # type: ignore[return-value]

    # ------------------------------------------------------------------
    def _loop(self, node: ast.AST) -> LoopFacts:
        lf = self.loops.get(id(node))
        if lf is None:
            lf = self.loops[id(node)] = LoopFacts(node)
        return lf

    def scope_facts(self, func: ast.AST | None) -> FunctionFacts:
        if func is None:
            return self.module
        ff = self.functions.get(id(func))
        if ff is None:
            ff = self.functions[id(func)] = FunctionFacts(func)
            name = getattr(func, "name", None)
            if name:
                self.function_by_name[name] = ff
        return ff

    def observe(self, node: ast.AST, ancestors: list[ast.AST]) -> None:
        if node is self._last:
            return
        self._last = node
        if isinstance(node, ast.Call):
            self._observe_call(node, ancestors)
        elif isinstance(node, ast.Assign):
            # `p.grad = None` clears a gradient.
            if isinstance(node.value, ast.Constant) and node.value.value is None and any(
                isinstance(t, ast.Attribute) and t.attr == "grad" for t in node.targets
            ):
                for loop in enclosing_loops(ancestors):
                    self._loop(loop).clears_grad = True

    def _keras_imported(self) -> bool:
        sem = self.sem
        n = len(sem.imported)
        if self._keras_memo[0] != n:
            self._keras_memo = (
                n,
                any(sem.imports_module(m) for m in ("keras", "tensorflow", "tf_keras")),
            )
        return self._keras_memo[1]

    def _observe_call(self, call: ast.Call, ancestors: list[ast.AST]) -> None:
        func = call.func
        sem = self.sem
        if isinstance(func, ast.Name):
            # builtins (len, range, print, ...) are neither helpers nor models
            if func.id in BUILTIN_NAMES and sem.lookup(func.id) is None:
                return
            keras = self._keras_imported() and kind_of_qualname(call_qual(sem, call)) == "keras_model"
            loops = [a for a in ancestors if isinstance(a, LOOP_TYPES)]
            for loop in loops:
                self._loop(loop).called.add(func.id)
            if keras:
                self._keras_build(call, loops, enclosing_function(ancestors))
            return
        if not isinstance(func, ast.Attribute):
            return
        attr = func.attr
        if attr not in _WATCHED_METHODS:
            if self._keras_imported():
                q = call_qual(sem, call)
                if q is not None and "()" not in q and kind_of_qualname(q) == "keras_model":
                    loops = [a for a in ancestors if isinstance(a, LOOP_TYPES)]
                    self._keras_build(call, loops, enclosing_function(ancestors))
            return
        loops = [a for a in ancestors if isinstance(a, LOOP_TYPES)]
        fn = enclosing_function(ancestors)
        recv = func.value
        if attr in ("backward", "manual_backward"):
            target = call.args[0] if call.args else recv
            if attr == "backward" and not call.args and isinstance(recv, ast.Call) and recv.args:
                target = recv.args[0]  # scaler.scale(loss).backward()
            name = dotted(target)
            self.scope_facts(fn).backward_lines.append(call.lineno)
            self._backward_chains.append([id(loop) for loop in loops])
            for loop in loops:
                lf = self._loop(loop)
                lf.backward.append(call)
                if name:
                    lf.backward_names.add(name)
            return
        if attr == "step":
            if self._is_optimizer_step(call, recv):
                for loop in loops:
                    self._loop(loop).steps.append(call)
            return
        if attr == "zero_grad" or (attr == "zero_" and _mentions_grad(recv)):
            for loop in loops:
                self._loop(loop).clears_grad = True
            return
        if attr in ("eval", "train"):
            key = dotted(recv)
            if key is None:
                return
            is_eval = attr == "eval" and not call.args and not call.keywords
            if attr == "train":
                arg = call.args[0] if call.args else (call.keywords[0].value if call.keywords else None)
                if isinstance(arg, ast.Constant) and arg.value is False:
                    is_eval = True
                elif arg is not None and not (isinstance(arg, ast.Constant) and arg.value is True):
                    for loop in loops:  # model.train(mode): unknown
                        self._loop(loop).mode_set.add(key)
                    self.scope_facts(fn).sets_eval = True
                    return
            if is_eval:
                for loop in loops:
                    self._loop(loop).evals.append((key, call))
                self.scope_facts(fn).sets_eval = True
            elif attr == "train":
                for loop in loops:
                    self._loop(loop).trains.add(key)
                self.scope_facts(fn).calls_train.add(key)
            return
        if attr == "clear_session":
            for loop in loops:
                self._loop(loop).clears_session = True
            self.scope_facts(fn).clears_session = True
            return

    def _keras_build(self, call: ast.Call, loops: list[ast.AST], fn: ast.AST | None) -> None:
        if fn is not None:
            self.scope_facts(fn).builds_keras = True
        if loops:
            self._loop(loops[-1]).keras_builds.append(call)

    def _is_optimizer_step(self, call: ast.Call, recv: ast.AST) -> bool:
        t = infer_type(self.sem, recv)
        if t == "optimizer":
            return True
        if t is not None:
            return False
        name = dotted(recv)
        if name is None:
            return False
        last = name.rsplit(".", 1)[-1].lower()
        if "sched" in last:
            return False
        if "scaler" in last:
            return bool(call.args)  # scaler.step(optimizer)
        if call.args or call.keywords:
            # optimizer.step(closure) for LBFGS; anything else (env.step(a)) is not.
            return ("optim" in last or last in ("opt", "optimiser")) and len(call.args) <= 1
        return "optim" in last or last in ("opt", "optimiser") or last.startswith("opt_") or last.endswith("_opt")

    # ------------------------------------------------------------------
    # after the walk
    # ------------------------------------------------------------------
    def training_loops(self) -> list[LoopFacts]:
        return [lf for lf in self.loops.values() if lf.is_training]

    @property
    def has_torch_training_loop(self) -> bool:
        """A loop calling `backward()` and an optimizer `step()` in a module
        importing torch/lightning. Complete only after the walk (finish())."""
        return self.torch and any(lf.is_training for lf in self.loops.values())

    def innermost_training_loops(self) -> list[LoopFacts]:
        """Training loops that contain no other training loop (linear in the
        number of backward() calls times loop depth)."""
        outer_ids: set[int] = set()
        for chain in self._backward_chains:
            seen_training = False
            for loop_id in reversed(chain):  # innermost first
                lf = self.loops.get(loop_id)
                if lf is None or not lf.is_training:
                    continue
                if seen_training:
                    outer_ids.add(loop_id)
                seen_training = True
        return [lf for lf in self.training_loops() if id(lf.node) not in outer_ids]


def _mentions_grad(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute):
        if node.attr == "grad":
            return True
        node = node.value
    return False


# ---------------------------------------------------------------------------
# activations: which function produced a tensor (ML305, ML307)
# ---------------------------------------------------------------------------

SOFTMAX_FUNCS = frozenset({"torch.softmax", "torch.nn.functional.softmax", "torch.special.softmax", "torch.Tensor.softmax"})
LOG_SOFTMAX_FUNCS = frozenset({"torch.log_softmax", "torch.nn.functional.log_softmax", "torch.special.log_softmax"})
SIGMOID_FUNCS = frozenset({"torch.sigmoid", "torch.nn.functional.sigmoid", "torch.special.expit"})
ACTIVATION_MODULES = {"torch.nn.Softmax": "softmax", "torch.nn.LogSoftmax": "log_softmax", "torch.nn.Sigmoid": "sigmoid"}
ACTIVATION_METHODS = {"softmax": "softmax", "log_softmax": "log_softmax", "sigmoid": "sigmoid"}


def activation_of(sem, expr: ast.AST | None, depth: int = 0) -> str | None:
    """"softmax" | "log_softmax" | "sigmoid" when `expr` is evidently the
    output of that activation (directly, or a name assigned from it)."""
    if expr is None or depth > 3:
        return None
    if isinstance(expr, ast.Name):
        b = sem.lookup(expr.id)
        if b is not None and b.kind == "assign" and b.value is not None:
            return activation_of(sem, b.value, depth + 1)
        return None
    if not isinstance(expr, ast.Call):
        return None
    func = expr.func
    if isinstance(func, ast.Call):  # nn.Softmax(dim=1)(x)
        return ACTIVATION_MODULES.get(sem.call_qualname(func) or "")
    if isinstance(func, ast.Name):
        b = sem.lookup(func.id)
        if b is not None and b.kind == "assign" and b.qualname in ACTIVATION_MODULES:
            return ACTIVATION_MODULES[b.qualname]
    q = sem.qualname(func)
    if q in SOFTMAX_FUNCS:
        return "softmax"
    if q in LOG_SOFTMAX_FUNCS:
        return "log_softmax"
    if q in SIGMOID_FUNCS:
        return "sigmoid"
    if q in ("tensorflow.nn.softmax", "tensorflow.math.softmax", "tensorflow.keras.activations.softmax", "keras.activations.softmax"):
        return "softmax"
    if q in ("tensorflow.nn.sigmoid", "tensorflow.math.sigmoid", "tensorflow.sigmoid", "keras.activations.sigmoid"):
        return "sigmoid"
    if q in ("scipy.special.softmax",):
        return "softmax"
    if q in ("scipy.special.expit",):
        return "sigmoid"
    if isinstance(func, ast.Attribute) and func.attr in ACTIVATION_METHODS and (q is None or "()" in q):
        # x.softmax(dim=1) on a tensor (not a module-level function of another library)
        return ACTIVATION_METHODS[func.attr]
    return None
