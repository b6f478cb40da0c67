"""ML3xx: training correctness."""

from __future__ import annotations

import ast

from mllint.rules.fixbuilders import replace_node
from mllint.analysis.inference import binding_type, call_qual, infer_type, kind_of_qualname
from mllint.rules.base import Rule, register
from mllint.analysis.semantic import has_star_kwargs, keyword
from mllint.analysis.training_facts import (
    FRAMEWORK_EVAL_HOOKS,
    LOOP_TYPES,
    TrainingFacts,
    _grad_off_call,
    dotted,
    enclosing_function,
    grad_disabled,
    is_validation_function,
)

# torch.nn classes whose behaviour depends on train/eval mode (or may contain
# such layers). Plain layers (Linear, Conv2d, ReLU...) behave the same in both.
_MODE_DEPENDENT_PREFIXES = (
    "Sequential",
    "Module",
    "Transformer",
    "LSTM",
    "GRU",
    "RNN",
    "Multihead",
    "Dropout",
    "AlphaDropout",
    "FeatureAlphaDropout",
    "BatchNorm",
    "SyncBatchNorm",
    "InstanceNorm",
    "LazyBatchNorm",
    "LazyInstanceNorm",
)


def _is_plain_layer(binding) -> bool:
    q = binding.qualname if binding is not None else None
    if not q or not q.startswith("torch.nn."):
        return False
    cls = q[len("torch.nn.") :].split("(")[0].split(".")[0]
    return not cls.startswith(_MODE_DEPENDENT_PREFIXES)


def _called_module_name(sem, call: ast.Call) -> tuple[str, object] | None:
    """`model(x)` where `model` is known to be a torch module -> ("model", binding)."""
    func = call.func
    if not isinstance(func, ast.Name):
        return None
    b = sem.lookup(func.id)
    if binding_type(sem, b) != "torch_module":
        return None
    return func.id, b


def _eval_target_names(value: ast.AST) -> bool:
    """`Net().to(dev).eval()` -> True (the chain ends in / contains `.eval()`)."""
    node = value
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "eval" and not node.args:
            return True
        if node.func.attr == "train" and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value is False:
            return True
        node = node.func.value
    return False


@register
class TrainingLoopRules(Rule):
    """ML301, ML302, ML303, ML306, ML308: facts about loops and scopes,
    gathered in the single walk (see mllint.analysis.training_facts), judged in finish()."""

    codes = ("ML301", "ML302", "ML303", "ML306", "ML308")
    nodes = (ast.Call, ast.Assign, ast.AugAssign, ast.Expr)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.facts = TrainingFacts.for_context(ctx)
        self.evaled: set[str] = set()  # receivers switched to eval anywhere
        self.eval_state: dict[tuple[int, str], bool] = {}  # (scope id, name) -> in eval mode
        self.scope_grad_off: set[int] = set()  # scopes that called torch.set_grad_enabled(False)
        self.ml302_candidates: list[tuple[str, ast.Call]] = []
        self.ml303_candidates: list[tuple[ast.AST | None, str, ast.Call, list[int]]] = []
        self.ml306_candidates: list[tuple[str, ast.AST, list[int]]] = []

    # ------------------------------------------------------------------
    def visit(self, node: ast.AST) -> None:
        ctx = self.ctx
        sem = ctx.semantic
        anc = ctx.ancestors
        t = type(node)
        if t is ast.Call:
            self.facts.observe(node, anc)
            self._visit_call(node, sem, anc)  # type: ignore[arg-type]
        elif t is ast.Assign:
            self.facts.observe(node, anc)
            if _eval_target_names(node.value):  # type: ignore[attr-defined]
                for tgt in node.targets:  # type: ignore[attr-defined]
                    name = dotted(tgt)
                    if name:
                        self.evaled.add(name)
                        self.eval_state[(id(enclosing_function(anc)), name)] = True
            # total = total + loss
            if len(node.targets) == 1 and isinstance(node.value, ast.BinOp) and isinstance(node.value.op, ast.Add):  # type: ignore[attr-defined]
                tgt = dotted(node.targets[0])  # type: ignore[attr-defined]
                v = node.value  # type: ignore[attr-defined]
                if tgt and dotted(v.left) == tgt:
                    self._ml306_candidate(v.right, anc)
        elif t is ast.AugAssign:
            if isinstance(node.op, ast.Add):  # type: ignore[attr-defined]
                self._ml306_candidate(node.value, anc)  # type: ignore[attr-defined]
        elif t is ast.Expr:
            # bare `torch.set_grad_enabled(False)` statement
            v = node.value  # type: ignore[attr-defined]
            if isinstance(v, ast.Call) and _grad_off_call(sem, v) and sem.call_qualname(v) and "set_grad_enabled" in sem.call_qualname(v):
                self.scope_grad_off.add(id(enclosing_function(anc)))

    def _ml306_candidate(self, value: ast.AST, anc: list[ast.AST]) -> None:
        """`total += loss` / `total += loss * n`: the bare loss tensor."""
        if not self.facts.torch:
            return
        loops = [id(a) for a in anc if isinstance(a, LOOP_TYPES)]
        if not loops or grad_disabled(self.ctx.semantic, anc):
            return  # under no_grad the sum does not reference the graph
        expr = value
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Mult, ast.Div)):
            for side in (expr.left, expr.right):
                name = dotted(side) if isinstance(side, (ast.Name, ast.Attribute)) else None
                if name:
                    self.ml306_candidates.append((name, side, loops))
            return
        if isinstance(expr, (ast.Name, ast.Attribute)):
            name = dotted(expr)
            if name:
                self.ml306_candidates.append((name, expr, loops))

    def _visit_call(self, call: ast.Call, sem, anc: list[ast.AST]) -> None:
        func = call.func
        if isinstance(func, ast.Attribute):
            attr = func.attr
            if attr in ("eval", "train"):
                scope_id = id(enclosing_function(anc))
                key = dotted(func.value)
                if key is None:
                    return
                if attr == "eval" and not call.args and not call.keywords:
                    self.evaled.add(key)
                    self.eval_state[(scope_id, key)] = True
                elif attr == "train":
                    arg = call.args[0] if call.args else None
                    if isinstance(arg, ast.Constant) and arg.value is False:
                        self.evaled.add(key)
                        self.eval_state[(scope_id, key)] = True
                    else:
                        self.eval_state[(scope_id, key)] = False
                return
            if attr == "append" and call.args and len(call.args) == 1 and isinstance(call.args[0], (ast.Name, ast.Attribute)):
                if self.facts.torch:
                    loops = [id(a) for a in anc if isinstance(a, LOOP_TYPES)]
                    name = dotted(call.args[0])
                    if loops and name and not grad_disabled(sem, anc):
                        self.ml306_candidates.append((name, call.args[0], loops))
                return
            return
        hit = _called_module_name(sem, call)
        if hit is None:
            return
        name, binding = hit
        fn = enclosing_function(anc)
        scope_id = id(fn)
        disabled = grad_disabled(sem, anc) or scope_grad_off_in(self.scope_grad_off, anc)
        validation = is_validation_function(fn)
        in_hook = isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name in FRAMEWORK_EVAL_HOOKS
        if in_hook:
            return
        # ML302: evaluation context without .eval() anywhere. Only modules built
        # in this file: for a parameter, the caller owns the mode.
        if (disabled or validation) and binding.kind == "assign" and not _is_plain_layer(binding):  # type: ignore[attr-defined]
            self.ml302_candidates.append((name, call))
        # ML303: inference code (validation function, or after model.eval()) with grad on.
        if not disabled and (validation or self.eval_state.get((scope_id, name))):
            loops = [id(a) for a in anc if isinstance(a, LOOP_TYPES)]
            self.ml303_candidates.append((fn, name, call, loops))

    # ------------------------------------------------------------------
    def finish(self) -> None:
        facts = self.facts
        if facts.torch:
            self._finish_ml301()
            self._finish_ml302()
            self._finish_ml303()
            self._finish_ml306()
        self._finish_ml308()

    def _finish_ml301(self) -> None:
        for lf in self.facts.innermost_training_loops():
            if lf.clears_grad:
                continue
            # A helper called in the loop may clear (e.g. `train_step(...)`): only
            # plain optimizer/loss code is judged, so helpers that we cannot see
            # do not matter here: the backward and the step are in this loop.
            bw = lf.backward[0]
            step = lf.steps[0]
            bw_src = self.ctx.segment(bw)
            step_src = self.ctx.segment(step)
            opt = self.ctx.segment(step.func.value) if isinstance(step.func, ast.Attribute) else "optimizer"  # type: ignore[attr-defined]
            if step.args and "scaler" in opt.lower():
                opt = self.ctx.segment(step.args[0])
            self.report(
                "ML301",
                bw,
                f"`{bw_src}` and `{step_src}` run in the loop at {_where(self.ctx, lf.node)} but gradients are never "  # type: ignore[attr-defined]
                f"cleared in it, so each step uses the sum of all previous gradients; call "
                f"`{opt}.zero_grad()` in the loop (before the backward pass).",
            )

    def _finish_ml302(self) -> None:
        facts = self.facts
        reported: set[str] = set()
        for name, call in self.ml302_candidates:
            if name in self.evaled or name in reported:
                continue
            reported.add(name)
            self.report(
                "ML302",
                call,
                f"`{name}` is run for evaluation here but `{name}.eval()` is never called, so dropout stays "
                f"active and batch-norm uses (and updates) batch statistics; call `{name}.eval()` first.",
            )
        # Training resumed after .eval() without .train().
        done: set[int] = set()
        for lf in facts.training_loops():
            if not lf.evals:
                continue
            helper_trains: set[str] = set()
            for called in lf.called:
                ff = facts.function_by_name.get(called)
                if ff is not None:
                    helper_trains |= ff.calls_train
            for key, call in lf.evals:
                if key in lf.trains or key in helper_trains or id(call) in done:
                    continue
                done.add(id(call))
                self.report(
                    "ML302",
                    call,
                    f"`{key}.eval()` is called inside the training loop at {_where(self.ctx, lf.node)} but "  # type: ignore[attr-defined]
                    f"`{key}.train()` is never called in it, so every later epoch trains in eval mode "
                    f"(dropout off, batch-norm frozen); call `{key}.train()` at the start of each epoch.",
                )

    def _finish_ml303(self) -> None:
        facts = self.facts
        backward_loops = {lid for lid, lf in facts.loops.items() if lf.backward}
        reported: set[tuple[int, str]] = set()
        for fn, name, call, loops in self.ml303_candidates:
            key = (id(fn), name)
            if key in reported:
                continue
            if any(lid in backward_loops for lid in loops):
                continue  # e.g. frozen batch-norm fine-tuning: eval mode, grads needed
            sf = facts.scope_facts(fn) if fn is not None else facts.module
            if fn is not None and sf.backward_lines:
                continue
            if fn is None and any(line > call.lineno for line in sf.backward_lines):
                continue
            reported.add(key)
            self.report(
                "ML303",
                call,
                f"`{self.ctx.segment(call)}` runs inference with autograd on: every activation is kept for a "
                f"backward pass that never comes (memory and time); wrap it in `with torch.no_grad():` "
                f"or `torch.inference_mode()`.",
            )

    def _finish_ml306(self) -> None:
        loops = self.facts.loops
        seen: set[int] = set()
        for name, node, loop_ids in self.ml306_candidates:
            if id(node) in seen:
                continue
            if not any(lid in loops and name in loops[lid].backward_names for lid in loop_ids):
                continue
            seen.add(id(node))
            # `.detach()` keeps the value and the type (a tensor): safe. `.item()`
            # would turn a tensor total into a float and break a later `total.item()`.
            fix = replace_node(self.ctx, node, f"{self.ctx.segment(node)}.detach()", f"Use `{name}.detach()`", "safe")
            self.report(
                "ML306",
                node,
                f"`{name}` still holds its autograd graph when it is accumulated here, so every iteration's "
                f"graph is kept alive (memory grows each step); accumulate `{name}.item()` (or `{name}.detach()`).",
                fix,
            )

    def _finish_ml308(self) -> None:
        facts = self.facts
        for lid, lf in facts.loops.items():
            if lf.clears_session:
                continue
            cleared_by_helper = any(
                (ff := facts.function_by_name.get(c)) is not None and ff.clears_session for c in lf.called
            )
            if cleared_by_helper:
                continue
            builds = list(lf.keras_builds)
            for called in sorted(lf.called):
                ff = facts.function_by_name.get(called)
                if ff is not None and ff.builds_keras:
                    builds.append(called)  # type: ignore[arg-type]
            if not builds:
                continue
            first = builds[0]
            if isinstance(first, str):
                self.report(
                    "ML308",
                    lf.node,
                    f"`{first}()` builds a new Keras model on every iteration of this loop and the session is "
                    f"never cleared, so the old graphs pile up in memory; call "
                    f"`keras.backend.clear_session()` at the start of each iteration.",
                )
            else:
                self.report(
                    "ML308",
                    first,
                    f"`{self.ctx.segment(first.func)}(...)` builds a new Keras model on every iteration of the loop "
                    f"at {_where(self.ctx, lf.node)} and the session is never cleared, so the old graphs pile up in "  # type: ignore[attr-defined]
                    f"memory; call `keras.backend.clear_session()` at the start of each iteration.",
                )


def _where(ctx, node: ast.AST) -> str:
    """"line 12", or "cell 3, line 4" in a notebook."""
    line = getattr(node, "lineno", 0)
    if ctx.is_notebook:
        loc = ctx.source.locate(line)
        if loc is not None:
            return f"cell {loc[0]}, line {loc[1]}"
    return f"line {line}"


def scope_grad_off_in(scopes: set[int], anc: list[ast.AST]) -> bool:
    return id(enclosing_function(anc)) in scopes


# --- ML304 -------------------------------------------------------------------

_TORCH_FAMILY = ("torch", "lightning", "pytorch_lightning", "transformers", "timm", "torchvision")


@register
class ForwardCalledDirectly(Rule):
    codes = ("ML304",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = frozenset({"forward"})

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr != "forward":
            return
        recv = func.value
        if isinstance(recv, ast.Name) and recv.id in ("self", "cls"):
            return
        if isinstance(recv, ast.Call) and isinstance(recv.func, ast.Name) and recv.func.id == "super":
            return
        sem = self.ctx.semantic
        # `nn.Module.forward(self, x)` / `Parent.forward(self, x)`: explicit base call.
        if node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "self":
            return
        if isinstance(recv, ast.Name):
            b = sem.lookup(recv.id)
            if b is not None and b.kind in ("class", "import"):
                return
            if b is not None and b.kind == "assign" and b.qualname and b.type != "torch_module":
                return  # built by a known library call that does not return a module (e.g. a pipeline)
        rtype = infer_type(sem, recv)
        if rtype != "torch_module":
            if rtype is not None or not isinstance(recv, (ast.Name, ast.Attribute)):
                return
            torch_used = sem.fact("ml304.torch", lambda: any(sem.imports_module(m) for m in _TORCH_FAMILY))
            if not torch_used:
                return
        recv_src = self.ctx.segment(recv)
        if not isinstance(recv, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)):
            recv_src = f"({recv_src})"
        fix = replace_node(self.ctx, func, recv_src, f"Call `{recv_src}(...)`", "safe")
        self.report(
            "ML304",
            node,
            f"`{recv_src}.forward(...)` bypasses the module's `__call__`, so registered hooks (and "
            f"autocast/compile wrappers) do not run; call `{recv_src}(...)` instead.",
            fix,
        )


# --- ML305 -------------------------------------------------------------------

_SOFTMAX = frozenset({"torch.softmax", "torch.nn.functional.softmax", "torch.special.softmax", "torch.Tensor.softmax"})
_LOG_SOFTMAX = frozenset({"torch.log_softmax", "torch.nn.functional.log_softmax", "torch.special.log_softmax"})
_SIGMOID = frozenset({"torch.sigmoid", "torch.nn.functional.sigmoid", "torch.special.expit"})
_ACT_MODULES = {"torch.nn.Softmax": "softmax", "torch.nn.LogSoftmax": "log_softmax", "torch.nn.Sigmoid": "sigmoid"}
_ACT_METHODS = {"softmax": "softmax", "log_softmax": "log_softmax", "sigmoid": "sigmoid"}

_CE = frozenset({"torch.nn.CrossEntropyLoss", "torch.nn.functional.cross_entropy"})
_BCE_LOGITS = frozenset({"torch.nn.BCEWithLogitsLoss", "torch.nn.functional.binary_cross_entropy_with_logits"})
_NLL = frozenset({"torch.nn.NLLLoss", "torch.nn.functional.nll_loss"})


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
        return _ACT_MODULES.get(sem.call_qualname(func) or "")
    if isinstance(func, ast.Name):
        b = sem.lookup(func.id)
        if b is not None and b.kind == "assign" and b.qualname in _ACT_MODULES:
            return _ACT_MODULES[b.qualname]
    q = sem.qualname(func)
    if q in _SOFTMAX:
        return "softmax"
    if q in _LOG_SOFTMAX:
        return "log_softmax"
    if q in _SIGMOID:
        return "sigmoid"
    if q in ("tensorflow.nn.softmax", "tensorflow.math.softmax", "tensorflow.keras.activations.softmax", "keras.activations.softmax"):
        return "softmax"
    if q in ("tensorflow.nn.sigmoid", "tensorflow.math.sigmoid", "tensorflow.sigmoid", "keras.activations.sigmoid"):
        return "sigmoid"
    if q in ("scipy.special.softmax",):
        return "softmax"
    if q in ("scipy.special.expit",):
        return "sigmoid"
    if isinstance(func, ast.Attribute) and func.attr in _ACT_METHODS and (q is None or "()" in q):
        # x.softmax(dim=1) on a tensor (not a module-level function of another library)
        return _ACT_METHODS[func.attr]
    return None


def _loss_kind(sem, call: ast.Call) -> str | None:
    func = call.func
    q = None
    if isinstance(func, ast.Call):
        q = sem.call_qualname(func)
    elif isinstance(func, ast.Name):
        b = sem.lookup(func.id)
        if b is not None and b.kind == "assign":
            q = b.qualname
        elif b is not None and b.kind == "import":
            q = b.qualname
    else:
        q = call_qual(sem, call)
        if q is not None and "()" in q:
            q = None
    if q in _CE:
        return "ce"
    if q in _BCE_LOGITS:
        return "bce_logits"
    if q in _NLL:
        return "nll"
    return None


_KERAS_CE = {
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "binary_crossentropy": "BinaryCrossentropy",
}


@register
class LossInputMismatch(Rule):
    codes = ("ML305",)
    scope = "statement"
    nodes = (ast.Call,)

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "compile":
            self._keras(node)
            return
        kind = _loss_kind(sem, node)
        if kind is None:
            return
        inp = node.args[0] if node.args else (keyword(node, "input").value if keyword(node, "input") else None)
        act = activation_of(sem, inp)
        if act is None:
            return
        src = self.ctx.segment(inp)  # type: ignore[arg-type]
        loss = self.ctx.segment(func)
        if kind == "ce" and act == "softmax":
            msg = (f"`{loss}` receives `{src}`, a softmax output, but cross-entropy applies log-softmax itself: "
                   f"the loss is computed on doubly-squashed scores and learns slowly; pass the raw logits.")
        elif kind == "ce" and act == "log_softmax":
            msg = (f"`{loss}` receives `{src}`, already log-softmaxed, but cross-entropy applies log-softmax "
                   f"itself; pass the raw logits (or use NLLLoss with log-probabilities).")
        elif kind == "ce" and act == "sigmoid":
            msg = (f"`{loss}` receives `{src}`, a sigmoid output, but cross-entropy expects raw logits; "
                   f"pass the logits.")
        elif kind == "bce_logits" and act == "sigmoid":
            msg = (f"`{loss}` receives `{src}`, a sigmoid output, but BCEWithLogitsLoss applies the sigmoid "
                   f"itself; pass the raw logits (or use BCELoss on probabilities).")
        elif kind == "nll" and act in ("softmax", "sigmoid"):
            msg = (f"`{loss}` receives `{src}`, probabilities, but NLLLoss expects log-probabilities; use "
                   f"`log_softmax` instead of `{act}` (or CrossEntropyLoss on the logits).")
        else:
            return
        self.report("ML305", inp, msg)  # type: ignore[arg-type]

    def _keras(self, call: ast.Call) -> None:
        sem = self.ctx.semantic
        recv = call.func.value  # type: ignore[attr-defined]
        if not isinstance(recv, ast.Name):
            return
        b = sem.lookup(recv.id)
        if b is None or b.type != "keras_model" or not isinstance(b.value, ast.Call):
            return
        last = _last_keras_layer(b.value)
        if last is None:
            return
        output = _keras_layer_output(sem, last)
        if output is None:
            return
        loss_node = keyword(call, "loss")
        if loss_node is None:
            return
        lv = loss_node.value
        from_logits: bool | None = None
        lname = None
        if isinstance(lv, ast.Constant) and isinstance(lv.value, str) and lv.value in _KERAS_CE:
            from_logits, lname = False, lv.value
        elif isinstance(lv, ast.Call):
            q = sem.call_qualname(lv) or ""
            short = q.rsplit(".", 1)[-1]
            if short in _KERAS_CE.values() and ("keras" in q):
                fl = keyword(lv, "from_logits")
                if fl is None:
                    from_logits = False
                elif isinstance(fl.value, ast.Constant) and isinstance(fl.value.value, bool):
                    from_logits = fl.value.value
                lname = short
        if from_logits is None:
            return
        if output == "probs" and from_logits:
            self.report(
                "ML305",
                lv,
                f"`{lname}` is told `from_logits=True` but the model's last layer already outputs "
                f"probabilities (softmax/sigmoid); drop `from_logits=True` or remove the final activation.",
            )
        elif output == "logits" and not from_logits:
            self.report(
                "ML305",
                lv,
                f"`{lname}` expects probabilities but the model's last layer has no activation (it outputs "
                f"logits); pass `from_logits=True` to the loss or add a softmax/sigmoid activation.",
            )


def _last_keras_layer(ctor: ast.Call) -> ast.AST | None:
    if ctor.args and isinstance(ctor.args[0], ast.List) and ctor.args[0].elts:
        return ctor.args[0].elts[-1]
    layers = keyword(ctor, "layers")
    if layers is not None and isinstance(layers.value, ast.List) and layers.value.elts:
        return layers.value.elts[-1]
    return None


def _keras_layer_output(sem, layer: ast.AST) -> str | None:
    """"probs" | "logits" | None for a Keras layer expression."""
    if not isinstance(layer, ast.Call):
        return None
    q = sem.call_qualname(layer) or ""
    if "keras" not in q:
        return None
    short = q.rsplit(".", 1)[-1]
    if short == "Softmax":
        return "probs"
    if short == "Activation":
        a = layer.args[0] if layer.args else None
        if isinstance(a, ast.Constant) and a.value in ("softmax", "sigmoid"):
            return "probs"
        return None
    if short != "Dense":
        return None
    act = keyword(layer, "activation")
    val = act.value if act is not None else (layer.args[1] if len(layer.args) > 1 else None)
    if val is None or (isinstance(val, ast.Constant) and val.value in (None, "linear")):
        return "logits"
    if isinstance(val, ast.Constant) and val.value in ("softmax", "sigmoid"):
        return "probs"
    vq = sem.qualname(val) or ""
    if vq.endswith((".softmax", ".sigmoid")):
        return "probs"
    return None


# --- ML307 -------------------------------------------------------------------

_LOG_FUNCS = frozenset(
    {
        "torch.log",
        "torch.log2",
        "torch.log10",
        "numpy.log",
        "numpy.log2",
        "numpy.log10",
        "tensorflow.math.log",
        "tensorflow.log",
        "tensorflow.experimental.numpy.log",
    }
)
# ML307's call filter: the last names of `_LOG_FUNCS`, and the `.log()` method.
_LOG_CALL_NAMES = frozenset(q.rpartition(".")[2] for q in _LOG_FUNCS) | {"log"}
_SUM_FUNCS = frozenset({"sum", "numpy.sum", "torch.sum", "tensorflow.reduce_sum", "tensorflow.math.reduce_sum"})


def _probability(sem, expr: ast.AST | None, depth: int = 0) -> str | None:
    """A short description when `expr` is evidently a probability that can be 0."""
    if expr is None or depth > 3:
        return None
    act = activation_of(sem, expr)
    if act in ("softmax", "sigmoid"):
        return f"a {act} output"
    if isinstance(expr, ast.Subscript):  # probs[i, y]: still probabilities
        return _probability(sem, expr.value, depth + 1)
    if (
        isinstance(expr, ast.BinOp)
        and isinstance(expr.op, ast.Sub)
        and isinstance(expr.left, ast.Constant)
        and expr.left.value in (1, 1.0)
    ):  # 1 - p
        return _probability(sem, expr.right, depth + 1)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "predict_proba":
        return "predicted probabilities"
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
        den = expr.right
        if isinstance(den, ast.Call):
            q = sem.call_qualname(den)
            if q in _SUM_FUNCS or (isinstance(den.func, ast.Attribute) and den.func.attr == "sum"):
                return "a normalised ratio"
        return None
    if isinstance(expr, ast.Name):
        b = sem.lookup(expr.id)
        if b is not None and b.kind == "assign" and b.value is not None:
            return _probability(sem, b.value, depth + 1)
    return None


@register
class UnmaskedLog(Rule):
    codes = ("ML307",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = _LOG_CALL_NAMES

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        func = node.func
        q = call_qual(sem, node)
        if q in _LOG_FUNCS and node.args:
            arg = node.args[0]
            what = _probability(sem, arg)
            if what is None:
                return
            framework = q.split(".", 1)[0]
        elif isinstance(func, ast.Attribute) and func.attr == "log" and not node.args and (q is None or "()" in q):
            arg = func.value
            what = _probability(sem, arg)
            if what is None:
                return
            framework = "torch"
        else:
            return
        advice = {
            "numpy": "clip first (`np.clip(p, eps, 1)`) or add an epsilon (`p + eps`)",
            "tensorflow": "use `tf.nn.log_softmax`, or clip first (`tf.clip_by_value(p, eps, 1.0)`)",
        }.get(framework, "use `log_softmax`/`F.logsigmoid`, or clamp first (`torch.clamp(p, min=eps)`)")
        self.report(
            "ML307",
            node,
            f"`{self.ctx.segment(node)}` takes the log of {what} (`{self.ctx.segment(arg)}`), which can be exactly 0 "
            f"and gives -inf/NaN losses; {advice}.",
        )


# --- ML309 -------------------------------------------------------------------

_GROW_FUNCS = frozenset(
    {
        "torch.cat",
        "torch.concat",
        "torch.concatenate",
        "torch.vstack",
        "torch.hstack",
        "numpy.append",
        "numpy.concatenate",
        "numpy.vstack",
        "numpy.hstack",
        "numpy.row_stack",
        "numpy.column_stack",
        "tensorflow.concat",
        "pandas.concat",
    }
)


@register
class GrowingTensorInLoop(Rule):
    codes = ("ML309",)
    scope = "statement"
    # Only assignments: reads of a candidate's name are counted in finish(),
    # over that loop alone (candidates are rare; Name nodes are the most
    # numerous of all, so subscribing to them would tax every module).
    nodes = (ast.Assign,)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.candidates: list[tuple[ast.AST, str, ast.Call]] = []

    def _innermost_loop(self) -> ast.AST | None:
        for anc in reversed(self.ctx.ancestors):
            if isinstance(anc, LOOP_TYPES):
                return anc
            if isinstance(anc, _SCOPE_BOUNDARY):
                return None
        return None

    def visit(self, node: ast.AST) -> None:
        if len(node.targets) != 1 or not isinstance(node.value, ast.Call):  # type: ignore[attr-defined]
            return
        target_node = node.targets[0]  # type: ignore[attr-defined]
        if not isinstance(target_node, ast.Name):
            return
        call = node.value  # type: ignore[attr-defined]
        q = call_qual(self.ctx.semantic, call)
        if q not in _GROW_FUNCS or not call.args:
            return
        target = target_node.id
        loop = self._innermost_loop()
        if loop is None:
            return
        first = call.args[0]
        if q == "numpy.append":
            grows = isinstance(first, ast.Name) and first.id == target
        else:
            grows = isinstance(first, (ast.List, ast.Tuple)) and any(
                isinstance(e, ast.Name) and e.id == target for e in first.elts
            )
        if grows:
            self.candidates.append((loop, target, call))

    def finish(self) -> None:
        for loop, target, call in self.candidates:
            # Read only by its own concatenation: pure accumulation. Read elsewhere
            # in the loop (autoregressive generation feeding the sequence back to
            # the model, a while-condition on its length): the whole value is
            # needed every iteration, not flagged.
            if _reads_in_loop(loop, target) > 1:
                continue
            fname = self.ctx.segment(call.func)
            self.report(
                "ML309",
                call,
                f"`{target} = {fname}(...)` copies the whole of `{target}` on every iteration (quadratic time and "
                f"memory); append the pieces to a list and call `{fname}` once after the loop.",
            )


_SCOPE_BOUNDARY = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_OWN_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def _reads_in_loop(loop: ast.AST, name: str) -> int:
    """Loads of `name` in `loop` itself (header included), not in loops nested in it."""
    n = 0
    stack = list(ast.iter_child_nodes(loop))
    while stack:
        node = stack.pop()
        if isinstance(node, _OWN_LOOPS):
            continue
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            n += 1
        stack.extend(ast.iter_child_nodes(node))
    return n


# --- ML310 -------------------------------------------------------------------


_AVAILABILITY = frozenset({"is_available", "device_count", "num_cuda_devices", "is_cuda_available"})


def _is_cuda_literal(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and (
        node.value == "cuda" or node.value.startswith("cuda:")
    )


@register
class HardCodedDevice(Rule):
    codes = ("ML310",)
    # Availability checks are calls (`torch.cuda.is_available()`), so Call
    # covers them; Attribute nodes are too numerous to subscribe to.
    nodes = (ast.Call, ast.Assign)
    # Calls: availability checks, `.cuda()`, `torch.device(...)` /
    # `torch.set_default_device(...)`, `.to("cuda")`, and `device=` / `map_location=`.
    call_names = _AVAILABILITY | {"cuda", "device", "set_default_device", "to"}
    call_keywords = frozenset({"device", "map_location"})

    def __init__(self, ctx):
        super().__init__(ctx)
        self.candidates: list[tuple[ast.AST, str]] = []
        self.checked = False

    def _availability_check(self, func: ast.Attribute) -> None:
        if func.attr in ("is_available", "device_count"):
            q = self.ctx.semantic.qualname(func) or ""
            if q.startswith(("torch.", "tensorflow.")) or "accelerat" in q:
                self.checked = True
        elif func.attr in ("num_cuda_devices", "is_cuda_available"):
            self.checked = True  # lightning helpers

    def visit(self, node: ast.AST) -> None:
        sem = self.ctx.semantic
        if isinstance(node, ast.Assign):
            if _is_cuda_literal(node.value) and any(
                isinstance(t, ast.Name) and "device" in t.id.lower() for t in node.targets
            ):
                self.candidates.append((node.value, f"{self.ctx.segment(node.targets[0])} = {self.ctx.segment(node.value)}"))
            return
        call: ast.Call = node  # type: ignore[assignment]
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _AVAILABILITY:
            self._availability_check(func)
            return
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "cuda"
            and not call.keywords
            and (not call.args or (len(call.args) == 1 and isinstance(call.args[0], ast.Constant)))
        ):
            if sem.qualname(func.value) in ("torch",):
                return
            fn = self.ctx.enclosing(ast.FunctionDef, ast.AsyncFunctionDef)
            if fn is not None and fn.name in ("cuda", "to", "to_device", "_apply"):  # type: ignore[attr-defined]
                return  # a class implementing its own .cuda() by delegating to its tensors
            if not sem.fact("ml310.torch", lambda: sem.imports_module("torch")):
                return
            self.candidates.append((call, self.ctx.segment(call)))
            return
        q = call_qual(sem, call)
        if q in ("torch.device", "torch.set_default_device") and call.args and _is_cuda_literal(call.args[0]):
            if len(call.args) > 1 and not isinstance(call.args[1], ast.Constant):
                return  # torch.device("cuda", index): the index is chosen by code
            if keyword(call, "index") is not None and not isinstance(keyword(call, "index").value, ast.Constant):
                return
            self.candidates.append((call, self.ctx.segment(call)))
            return
        if isinstance(func, ast.Attribute) and func.attr == "to" and call.args and _is_cuda_literal(call.args[0]):
            self.candidates.append((call, self.ctx.segment(call)))
            return
        for kw in call.keywords:
            if kw.arg in ("device", "map_location") and _is_cuda_literal(kw.value):
                self.candidates.append((kw.value, f"{kw.arg}={self.ctx.segment(kw.value)}"))

    def finish(self) -> None:
        if self.checked or not self.candidates:
            return
        if any(
            i.rsplit(".", 1)[-1] in ("is_available", "device_count", "num_cuda_devices", "is_cuda_available")
            for i in self.ctx.semantic.imported
        ):
            return  # `from torch.cuda import is_available` and similar helpers
        for node, src in self.candidates:
            self.report(
                "ML310",
                node,
                f"`{src}` hard-codes the GPU and nothing in this module checks `torch.cuda.is_available()`, "
                f"so it crashes on CPU-only machines; pick the device once "
                f"(`device = 'cuda' if torch.cuda.is_available() else 'cpu'`) and use it.",
            )


# --- ML311 -------------------------------------------------------------------

SCALE_SENSITIVE = frozenset(
    {
        "SVC",
        "SVR",
        "NuSVC",
        "NuSVR",
        "LinearSVC",
        "LinearSVR",
        "KNeighborsClassifier",
        "KNeighborsRegressor",
        "RadiusNeighborsClassifier",
        "RadiusNeighborsRegressor",
        "PCA",
        "KernelPCA",
        "MLPClassifier",
        "MLPRegressor",
        "SGDClassifier",
        "SGDRegressor",
        "Ridge",
        "RidgeClassifier",
        "Lasso",
        "ElasticNet",
        "LogisticRegression",
    }
)
SCALERS = frozenset(
    {
        "StandardScaler",
        "MinMaxScaler",
        "MaxAbsScaler",
        "RobustScaler",
        "Normalizer",
        "QuantileTransformer",
        "PowerTransformer",
        "scale",
        "minmax_scale",
        "maxabs_scale",
        "robust_scale",
        "normalize",
        "quantile_transform",
        "power_transform",
        "StandardScalar",
    }
)


@register
class UnscaledScaleSensitiveModel(Rule):
    codes = ("ML311",)
    nodes = (ast.Call, ast.BinOp)
    call_names = SCALERS | SCALE_SENSITIVE  # `sklearn.<short>` only

    def __init__(self, ctx):
        super().__init__(ctx)
        self.candidates: list[tuple[ast.Call, str]] = []
        self.scaled = False

    def visit(self, node: ast.AST) -> None:
        sem = self.ctx.semantic
        if isinstance(node, ast.BinOp):
            # manual standardisation/normalisation: (X - mu) / sd, X / 255, X / X.max()
            if isinstance(node.op, ast.Div):
                r = node.right
                if isinstance(r, ast.Constant) and r.value in (255, 255.0):
                    self.scaled = True
                elif isinstance(r, ast.Call) and isinstance(r.func, ast.Attribute) and r.func.attr in ("std", "max", "norm"):
                    self.scaled = True
                elif isinstance(r, ast.Call) and (sem.call_qualname(r) or "").endswith((".std", ".linalg.norm")):
                    self.scaled = True
            return
        q = call_qual(sem, node)  # type: ignore[arg-type]
        if not q or not q.startswith("sklearn."):
            return
        short = q.rsplit(".", 1)[-1]
        if short in SCALERS:
            self.scaled = True
            return
        if short not in SCALE_SENSITIVE or "()" in q:
            return
        call: ast.Call = node  # type: ignore[assignment]
        if short == "LogisticRegression":
            pen = keyword(call, "penalty")
            if pen is not None and (
                (isinstance(pen.value, ast.Constant) and pen.value.value in (None, "none"))
            ):
                return
        self.candidates.append((call, short))

    def finish(self) -> None:
        if self.scaled or not self.candidates:
            return
        imported = self.ctx.semantic.imported
        if any(i.rsplit(".", 1)[-1] in SCALERS for i in imported):
            return
        for call, short in self.candidates:
            self.report(
                "ML311",
                call,
                f"`{short}` is sensitive to feature scale but nothing in this module scales the features "
                f"(no StandardScaler/MinMaxScaler/...); put a scaler before it, e.g. "
                f"`make_pipeline(StandardScaler(), {short}(...))`.",
            )


# --- ML312 -------------------------------------------------------------------

KEY_ESTIMATORS = frozenset(
    {
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
        "GradientBoostingClassifier",
        "GradientBoostingRegressor",
        "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor",
        "SVC",
        "SVR",
        "KNeighborsClassifier",
        "KNeighborsRegressor",
        "MLPClassifier",
        "MLPRegressor",
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "XGBClassifier",
        "XGBRegressor",
        "LGBMClassifier",
        "LGBMRegressor",
        "CatBoostClassifier",
        "CatBoostRegressor",
        "KMeans",
        "MiniBatchKMeans",
        "DBSCAN",
        "AgglomerativeClustering",
        "Ridge",
        "Lasso",
        "ElasticNet",
    }
)
_NEUTRAL_KWARGS = frozenset({"random_state", "n_jobs", "verbose", "seed", "random_seed", "verbosity"})
_SEARCH_TOOLS = ("GridSearchCV", "RandomizedSearchCV", "HalvingGridSearchCV", "HalvingRandomSearchCV", "BayesSearchCV")


@register
class ImplicitHyperparameters(Rule):
    codes = ("ML312",)
    scope = "statement"
    nodes = (ast.Call,)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.estimators: list[tuple[ast.Call, str]] = []

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "fit"
            and not has_star_kwargs(node)
            and len(node.args) < 4
            and keyword(node, "epochs") is None
            and infer_type(sem, func.value) == "keras_model"
        ):
            self.report(
                "ML312",
                node,
                f"`{self.ctx.segment(func)}(...)` has no `epochs=`, so Keras trains for a single epoch by default; "
                f"pass `epochs=` (and `batch_size=`) explicitly.",
            )
            return
        q = call_qual(sem, node)
        if not q or "()" in q or has_star_kwargs(node):
            return
        kind = kind_of_qualname(q)
        short = q.rsplit(".", 1)[-1]
        if kind == "optimizer":
            if q.startswith("torch."):
                if keyword(node, "lr") is None and len(node.args) < 2:
                    self.report(
                        "ML312",
                        node,
                        f"`{self.ctx.segment(node.func)}(...)` relies on the default learning rate; pass `lr=` "
                        f"explicitly so the most important hyperparameter is visible and tunable.",
                    )
            elif keyword(node, "learning_rate") is None and keyword(node, "lr") is None and not node.args:
                self.report(
                    "ML312",
                    node,
                    f"`{self.ctx.segment(node.func)}(...)` relies on the default learning rate; pass "
                    f"`learning_rate=` explicitly.",
                )
            return
        if kind == "dataloader":
            if len(node.args) < 2 and keyword(node, "batch_size") is None and keyword(node, "batch_sampler") is None:
                self.report(
                    "ML312",
                    node,
                    f"`{self.ctx.segment(node.func)}(...)` has no `batch_size`, so it yields batches of 1 by "
                    f"default; pass `batch_size=` explicitly.",
                )
            return
        if short in KEY_ESTIMATORS and q.startswith(("sklearn.", "xgboost.", "lightgbm.", "catboost.")):
            if node.args or any(kw.arg not in _NEUTRAL_KWARGS for kw in node.keywords):
                return
            self.estimators.append((node, short))

    def finish(self) -> None:
        if not self.estimators:
            return
        imported = self.ctx.semantic.imported
        if any(i.rsplit(".", 1)[-1] in _SEARCH_TOOLS for i in imported) or any(
            i == "optuna" or i.startswith(("optuna.", "hyperopt", "ray.tune", "skopt")) for i in imported
        ):
            return  # hyperparameters are searched
        for call, short in self.estimators:
            self.report(
                "ML312",
                call,
                f"`{short}()` is trained with every hyperparameter left at its library default; state the "
                f"important ones explicitly (or tune them), so results are reviewable and stable across versions.",
            )
