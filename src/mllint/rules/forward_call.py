"""ML304 forward-called-directly: `model.forward(x)` skips the module's hooks."""

from __future__ import annotations

import ast

from mllint.analysis.inference import infer_type
from mllint.rules.base import Rule, register
from mllint.rules.fixbuilders import replace_node

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
