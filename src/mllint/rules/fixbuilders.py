"""Small helpers rules use to describe fixes as Edits (module coordinates,
character columns). Applying them is `mllint.fix.apply`' job."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from mllint.core.findings import Applicability, Edit, Fix

if TYPE_CHECKING:
    from mllint.engine.lint import Context


def add_keyword(
    ctx: "Context", call: ast.Call, name: str, value_src: str, title: str, applicability: Applicability = "safe"
) -> Fix | None:
    """`f(a)` -> `f(a, name=value)`; replaces the value if `name=` exists.
    Returns None when a safe edit cannot be described (e.g. `**kwargs`)."""
    for kw in call.keywords:
        if kw.arg is None:
            return None
        if kw.arg == name:
            line, col, end_line, end_col = ctx.node_range(kw.value)
            return Fix(title, (Edit(line, col, end_line, end_col, value_src),), applicability)
    args: list[ast.AST] = [*call.args, *call.keywords]
    if args:
        last = max(args, key=lambda n: (n.end_lineno or 0, n.end_col_offset or 0))
        _, _, end_line, end_col = ctx.node_range(last)
        return Fix(title, (Edit(end_line, end_col, end_line, end_col, f", {name}={value_src}"),), applicability)
    _, _, end_line, end_col = ctx.node_range(call)
    # The call ends with ')': insert just before it.
    return Fix(title, (Edit(end_line, end_col - 1, end_line, end_col - 1, f"{name}={value_src}"),), applicability)


def replace_node(ctx: "Context", node: ast.AST, text: str, title: str, applicability: Applicability = "safe") -> Fix:
    line, col, end_line, end_col = ctx.node_range(node)
    return Fix(title, (Edit(line, col, end_line, end_col, text),), applicability)
