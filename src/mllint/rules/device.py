"""ML310 hard-coded-device: `"cuda"` with no availability check."""

from __future__ import annotations

import ast

from mllint.analysis.inference import call_qual
from mllint.analysis.semantic import keyword
from mllint.rules.base import Rule, register

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
