"""ML301 missing-zero-grad, ML302 eval-mode-not-set, ML303 inference-without-no-grad,
ML306 loss-accumulates-graph, ML308 memory-not-freed: one rule over PyTorch
training and evaluation loops (they share the loop facts of
`analysis.training_facts`)."""

from __future__ import annotations

import ast

from mllint.analysis.inference import binding_type
from mllint.analysis.module_names import module_names
from mllint.analysis.semantic import is_true, keyword
from mllint.analysis.training_facts import (
    FRAMEWORK_EVAL_HOOKS,
    LOOP_TYPES,
    TrainingFacts,
    _grad_off_call,
    dotted,
    enclosing_function,
    grad_disabled,
    grad_maybe_disabled,
    is_validation_function,
    validation_loop,
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


# Calls that capture a module for deployment in the mode it is in (the first
# argument): how it is described, and whether only a saved result matters.
EXPORTERS = {
    "torch.onnx.export": "exports",
    "torch.onnx.dynamo_export": "exports",
    "torch.export.export": "exports",
    "torch.jit.trace": "traces",
    "torch.jit.trace_module": "traces",
    "torch.jit.script": "scripts",
}
_EXPORT_NAMES = frozenset(q.rsplit(".", 1)[-1] for q in EXPORTERS)
_EXPORT_OR_SAVE = _EXPORT_NAMES | {"save"}


def _volatile_input(sem, call: ast.Call) -> bool:
    """`model(Variable(x, volatile=True))` (or a name bound to one): PyTorch
    < 0.4's way of running without autograd."""
    for arg in call.args:
        value = arg
        if isinstance(arg, ast.Name):
            b = sem.lookup(arg.id)
            value = b.value if b is not None and b.kind == "assign" else None
        if isinstance(value, ast.Call):
            kw = keyword(value, "volatile")
            if kw is not None and is_true(kw.value):
                return True
    return False


def _onnx_exports_current_mode(call: ast.Call) -> bool:
    """`torch.onnx.export` keeps the module's mode unless the TorchScript
    exporter (`dynamo=False`, the default before PyTorch 2.9) is asked for,
    which switches to eval mode unless `training=` says otherwise; an export
    asked to be in training mode is deliberate."""
    training = keyword(call, "training")
    text = ast.unparse(training.value) if training is not None else ""
    if "TRAINING" in text:
        return False
    dynamo = keyword(call, "dynamo")
    if dynamo is not None and isinstance(dynamo.value, ast.Constant) and dynamo.value.value is False:
        return "PRESERVE" in text
    return True


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
        # calls in a loop over evaluation data: (name, binding or None, call,
        # validation loop, enclosing loops innermost first, function, data name, grad: "off"/"maybe"/"on")
        self.val_candidates: list[tuple[str, object, ast.Call, ast.AST, list[ast.AST], ast.AST | None, str, str]] = []
        self.export_candidates: list[tuple[str, ast.Call, str, list[str]]] = []  # (name, call, qualname, names its result is bound to)
        self.saved: set[str] = set()  # receivers of `.save(...)` / first arguments of `torch.jit.save`
        self.reported_302: set[str] = set()
        self.eval_data_memo: dict[int, str | None] = {}  # id(for loop) -> its evaluation-data name
        self.mode_names: set[str] = set()  # receivers of `.train()` / `.eval()` seen so far
        self.defs = module_names(ctx).defs
        self.passed: list[tuple[str, str]] = []  # (function of this module, name passed to it)
        # local names imported as an exporter or `save` under another name -> that name
        self.export_aliases: dict[str, str] = {
            local: next(iter(keys & _EXPORT_OR_SAVE))
            for local, keys in module_names(ctx).import_keys.items()
            if keys & _EXPORT_OR_SAVE and local not in _EXPORT_OR_SAVE
        }
        self.val_reported_303: set[tuple[int, str, int]] = set()  # (scope, name, validation loop)
        self.val_reported_calls: set[int] = set()

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
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if last in self.export_aliases:  # `from torch.onnx import export as to_onnx`
            last = self.export_aliases[last]
        if last in _EXPORT_NAMES or last == "save":
            self._export_or_save(call, sem, anc, last)
        if isinstance(func, ast.Attribute):
            attr = func.attr
            if attr in ("eval", "train"):
                scope_id = id(enclosing_function(anc))
                key = dotted(func.value)
                if key is None:
                    return
                self.mode_names.add(key)
                if attr == "eval" and not call.args and not call.keywords:
                    self.evaled.add(key)
                    self.eval_state[(scope_id, key)] = True
                elif attr == "train":
                    mode = keyword(call, "mode")
                    arg = call.args[0] if call.args else mode.value if mode is not None else None
                    if isinstance(arg, ast.Constant) and arg.value is False:
                        self.evaled.add(key)
                        self.eval_state[(scope_id, key)] = True
                    elif arg is None or isinstance(arg, ast.Constant):
                        self.eval_state[(scope_id, key)] = False
                    else:  # `.train(phase == "train")`: may switch to eval
                        self.evaled.add(key)
                        self.eval_state.pop((scope_id, key), None)
                return
            if attr == "append" and call.args and len(call.args) == 1 and isinstance(call.args[0], (ast.Name, ast.Attribute)):
                if self.facts.torch:
                    loops = [id(a) for a in anc if isinstance(a, LOOP_TYPES)]
                    name = dotted(call.args[0])
                    if loops and name and not grad_disabled(sem, anc):
                        self.ml306_candidates.append((name, call.args[0], loops))
                return
            return
        if isinstance(func, ast.Name) and func.id in self.defs:
            # `prepare(model)`: a function of this module that may call `.eval()` on it
            self.passed.extend((func.id, a.id) for a in call.args if isinstance(a, ast.Name))
        hit = _called_module_name(sem, call)
        if hit is None:
            # `net(x)` in a loop over evaluation data: a module if the enclosing
            # training loop switches its mode (decided in finish()).
            if isinstance(func, ast.Name) and func.id in self.mode_names:
                self._validation_candidate(func.id, None, call, sem, anc)
            return
        name, binding = hit
        fn = enclosing_function(anc)
        scope_id = id(fn)
        disabled = grad_disabled(sem, anc) or scope_grad_off_in(self.scope_grad_off, anc) or _volatile_input(sem, call)
        validation = is_validation_function(fn)
        in_hook = isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name in FRAMEWORK_EVAL_HOOKS
        if in_hook:
            return
        self._validation_candidate(name, binding, call, sem, anc, disabled)
        # ML302: evaluation context without .eval() anywhere. Only modules built
        # in this file: for a parameter, the caller owns the mode.
        if (disabled or validation) and binding.kind == "assign" and not _is_plain_layer(binding):  # type: ignore[attr-defined]
            self.ml302_candidates.append((name, call))
        # ML303: inference code (validation function, or after model.eval()) with grad on.
        if not disabled and (validation or self.eval_state.get((scope_id, name))):
            loops = [id(a) for a in anc if isinstance(a, LOOP_TYPES)]
            self.ml303_candidates.append((fn, name, call, loops))

    def _validation_candidate(self, name: str, binding, call: ast.Call, sem, anc: list[ast.AST], disabled: bool | None = None) -> None:
        if not any(type(a) is ast.For or type(a) is ast.AsyncFor for a in anc):
            return
        hit = validation_loop(anc, self.eval_data_memo)
        if hit is None:
            return
        loop, data = hit
        outer = []  # loops around the validation loop, innermost first, in the same function
        for a in reversed(anc[: anc.index(loop)]):
            if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                break
            if isinstance(a, LOOP_TYPES):
                outer.append(a)
        if not outer:
            return  # only a validation pass inside a training loop is judged here
        fn = enclosing_function(anc)
        if disabled is None:
            disabled = grad_disabled(sem, anc) or scope_grad_off_in(self.scope_grad_off, anc) or _volatile_input(sem, call)
        grad = "off" if disabled else "maybe" if grad_maybe_disabled(sem, anc) else "on"
        self.val_candidates.append((name, binding, call, loop, outer, fn, data, grad))

    def _export_or_save(self, call: ast.Call, sem, anc: list[ast.AST], last: str) -> None:
        """`torch.onnx.export(model, ...)` & co.; `x.save(...)` and
        `torch.jit.save(x, ...)` for a scripted module that is saved."""
        q = sem.call_qualname(call)
        if last == "save":
            if q in ("torch.jit.save", "torch.jit._serialization.save"):
                if call.args:
                    self.saved.add(ast.unparse(call.args[0]))
            elif isinstance(call.func, ast.Attribute):
                self.saved.add(ast.unparse(call.func.value))
            return
        if q not in EXPORTERS or not self.facts.torch:
            return
        target = call.args[0] if call.args else None
        if target is None:
            kw = keyword(call, "model") or keyword(call, "mod") or keyword(call, "obj") or keyword(call, "func")
            target = kw.value if kw is not None else None
        if not isinstance(target, ast.Name):
            return  # `model.eval()` inline, `self.model`, a loaded module: not judged
        b = sem.lookup(target.id)
        if b is None or b.kind != "assign" or binding_type(sem, b) != "torch_module" or _is_plain_layer(b):
            return
        if q == "torch.onnx.export" and not _onnx_exports_current_mode(call):
            return
        bound: list[str] = []
        parent = anc[-1] if anc else None
        if q == "torch.jit.script":
            if isinstance(parent, ast.Assign) and parent.value is call:
                bound = [ast.unparse(t) for t in parent.targets]
            elif isinstance(parent, ast.Attribute) and parent.attr == "save":
                bound = ["<saved>"]  # torch.jit.script(model).save(path)
            elif isinstance(parent, ast.Call) and sem.call_qualname(parent) in ("torch.jit.save",) and call in parent.args:
                bound = ["<saved>"]
            else:
                return
        self.export_candidates.append((target.id, call, q, bound))

    # ------------------------------------------------------------------
    def finish(self) -> None:
        facts = self.facts
        if facts.torch:
            for fname, arg in self.passed:
                ff = facts.function_by_name.get(fname)
                if ff is not None and ff.sets_eval:
                    self.evaled.add(arg)
            self._finish_ml301()
            self._finish_validation_passes()
            self._finish_exports()
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

    def _finish_validation_passes(self) -> None:
        """A pass over evaluation data inside a training loop: in train mode
        (ML302) or with autograd on (ML303)."""
        facts = self.facts
        for name, binding, call, loop, outer, fn, data, grad in self.val_candidates:
            own = facts.loops.get(id(loop))
            if own is not None and (own.backward or own.steps):
                continue  # it trains on that data (test-time adaptation, a phase loop)
            train_lf = next((facts.loops[id(o)] for o in outer if id(o) in facts.loops and facts.loops[id(o)].is_training), None)
            if train_lf is None:
                continue
            helpers = [facts.function_by_name[c] for c in train_lf.called if c in facts.function_by_name]
            trained = name in train_lf.trains or any(name in h.calls_train for h in helpers)
            evaled = (
                any(k == name for k, _ in train_lf.evals)
                or name in train_lf.mode_set
                or any(h.sets_eval for h in helpers)  # a helper switching (maybe under another name)
            )
            switched = trained or evaled  # the loop sets this name's mode: it is a module
            if binding is None and not switched:
                continue
            mode_dependent = binding is not None and binding.kind == "assign" and not _is_plain_layer(binding)  # type: ignore[attr-defined]
            where = _where(self.ctx, train_lf.node)
            if not evaled and name not in self.reported_302 and (
                (trained and (mode_dependent or binding is None or binding.kind == "param"))  # type: ignore[attr-defined]
                or (mode_dependent and name not in self.evaled)
            ):
                self.reported_302.add(name)
                state = f"`{name}.train()` is called in that loop" if trained else f"`{name}.eval()` is never called"
                self.report(
                    "ML302",
                    call,
                    f"`{name}` runs a validation pass over `{data}` inside the training loop at {where}, but "
                    f"{state} and it is not switched to eval mode for the pass, so dropout stays active and "
                    f"batch-norm uses (and updates) the validation batches' statistics; call `{name}.eval()` "
                    f"before the pass and `{name}.train()` before the next epoch's training.",
                )
            key = (id(fn), name, id(loop))
            if grad == "on" and key not in self.val_reported_303 and (switched or binding is not None and not _is_plain_layer(binding)):
                self.val_reported_303.add(key)
                self.val_reported_calls.add(id(call))
                self.report(
                    "ML303",
                    call,
                    f"`{self.ctx.segment(call)}` runs a validation pass over `{data}` inside the training loop at "
                    f"{where} with autograd on: every activation is kept for a backward pass that never comes "
                    f"(memory and time); wrap the pass in `with torch.no_grad():` or `torch.inference_mode()`.",
                )

    def _finish_exports(self) -> None:
        for name, call, q, bound in self.export_candidates:
            if name in self.evaled or name in self.reported_302:
                continue
            verb = EXPORTERS[q]
            if verb == "scripts":
                if not ("<saved>" in bound or any(b in self.saved for b in bound)):
                    continue
                consequence = "the saved module keeps training mode, so whoever loads it runs dropout and batch statistics unless they remember `.eval()`"
            elif verb == "traces":
                consequence = "the trace records dropout and batch-norm in training mode (random masks, batch statistics) and that graph is what gets deployed"
            else:
                consequence = "the exported graph keeps dropout and batch-norm in training mode (random masks, batch statistics)"
                if q == "torch.onnx.export":
                    consequence += "; the dynamo exporter (the default since PyTorch 2.9) exports the module in the mode it is in"
            self.reported_302.add(name)
            self.report(
                "ML302",
                call,
                f"`{q}` {verb} `{name}` but `{name}.eval()` is never called: {consequence}; "
                f"call `{name}.eval()` first.",
            )

    def _finish_ml302(self) -> None:
        facts = self.facts
        reported = self.reported_302
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
            if key in reported or id(call) in self.val_reported_calls:
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
