"""ML301 missing-zero-grad, ML302 eval-mode-not-set, ML303 inference-without-no-grad,
ML306 loss-accumulates-graph, ML308 memory-not-freed: one rule over PyTorch
training and evaluation loops (they share the loop facts of
`analysis.training_facts`)."""

from __future__ import annotations

import ast

from mllint.analysis.inference import binding_type
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
from mllint.rules.base import Rule, register
from mllint.rules.fixbuilders import replace_node

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
