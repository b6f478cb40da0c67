"""ML309 growing-tensor-in-loop: concatenating onto a tensor or array in a
loop (quadratic copies)."""

from __future__ import annotations

import ast

from mllint.analysis.inference import call_qual
from mllint.analysis.training_facts import LOOP_TYPES
from mllint.rules.base import Rule, register

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
