"""ML305 loss-input-mismatch: a loss function fed the wrong activation
(probabilities into CrossEntropyLoss, logits into NLLLoss, ...)."""

from __future__ import annotations

import ast

from mllint.analysis.inference import call_qual
from mllint.analysis.semantic import keyword
from mllint.analysis.training_facts import activation_of
from mllint.rules.base import Rule, register

# --- ML305 -------------------------------------------------------------------


_CE = frozenset({"torch.nn.CrossEntropyLoss", "torch.nn.functional.cross_entropy"})
_BCE_LOGITS = frozenset({"torch.nn.BCEWithLogitsLoss", "torch.nn.functional.binary_cross_entropy_with_logits"})
_NLL = frozenset({"torch.nn.NLLLoss", "torch.nn.functional.nll_loss"})


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
