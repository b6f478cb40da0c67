"""What literal value does an expression hold? Through names bound to
constants, f-strings and `+` concatenation, without evaluating anything.

    const_str(sem, node)       -> "bert-base-uncased" or None
    str_template(sem, node)    -> "models:/" + HOLE + "/Production" or None
    const_int(sem, node)       -> 4 or None

`str_template` keeps the parts it cannot know as `HOLE`, so a rule can match
the shape of a string (`models:/{name}/latest`) without guessing the rest.
Names are followed through simple assignments the semantic model recorded
(`MODEL = "org/name"`), a few levels deep; anything else is unknown (None).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mllint.analysis.semantic import SemanticModel

HOLE = "\ufffc"  # stands for a part of the string that is not known
_MAX_DEPTH = 4


def _bound_value(sem: "SemanticModel", node: ast.Name) -> ast.AST | None:
    b = sem.lookup(node.id)
    if b is None or b.kind != "assign":
        return None
    return b.value


def str_template(sem: "SemanticModel", node: ast.AST | None, _depth: int = 0) -> str | None:
    """The string an expression builds, with unknown parts as HOLE; None if
    the expression is not (known to be) a string."""
    if node is None or _depth > _MAX_DEPTH:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        for v in node.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                parts.append(v.value)
            elif isinstance(v, ast.FormattedValue):
                inner = str_template(sem, v.value, _depth + 1) if v.conversion == -1 and v.format_spec is None else None
                parts.append(inner if inner is not None else HOLE)
            else:
                parts.append(HOLE)
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = str_template(sem, node.left, _depth + 1)
        right = str_template(sem, node.right, _depth + 1)
        if left is None and right is None:
            return None
        return (left if left is not None else HOLE) + (right if right is not None else HOLE)
    if isinstance(node, ast.Name):
        value = _bound_value(sem, node)
        return str_template(sem, value, _depth + 1) if value is not None else None
    return None


def const_str(sem: "SemanticModel", node: ast.AST | None) -> str | None:
    """The exact string, or None if any part is unknown."""
    s = str_template(sem, node)
    if s is None or HOLE in s:
        return None
    return s


def const_int(sem: "SemanticModel", node: ast.AST | None, _depth: int = 0) -> int | None:
    if node is None or _depth > _MAX_DEPTH:
        return None
    if isinstance(node, ast.Constant):
        v = node.value
        return v if isinstance(v, int) and not isinstance(v, bool) else None
    if isinstance(node, ast.Name):
        value = _bound_value(sem, node)
        return const_int(sem, value, _depth + 1)
    return None
