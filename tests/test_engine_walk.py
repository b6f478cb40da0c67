"""The engine's single walk visits exactly the nodes a pre-order traversal
does, in the same order, with the right ancestors; context and operator
leaves are skipped unless a rule asks for them."""

from __future__ import annotations

import ast

import pytest

from mllint.core.config import Config
from mllint.core.sources import Source
from mllint.engine.lint import Context, run_rules
from mllint.rules.base import Rule

CODE = '''
import numpy as np
from sklearn.model_selection import train_test_split as tts

@decorator(arg=1)
class Model(Base, metaclass=Meta):
    x: int = 3
    def fit(self, X, *args, y=None, **kw):
        for i, (a, b) in enumerate(zip(X, y)):
            if a > b and not a or b is None:
                X[i] += a ** 2 - b
        return [v for v in X if v] + {k: v for k, v in kw.items()}.get("z", ())

async def main():
    async with ctx() as (c, d):
        await c.run(f"{d!r:>10}", *d, **{"k": 1})
    global G
    try:
        pass
    except (ValueError, KeyError) as e:
        raise RuntimeError() from e
    match d:
        case {"k": 1, **rest}: pass
        case Point(x=0, y=yy) | [1, *others]: pass
    lam = lambda q=1, /, *r, s, **t: q
    del lam
X_train, X_test = tts(np.arange(10), test_size=0.2, random_state=0)
'''


def reference(tree: ast.AST, keep_leaves: bool) -> list[tuple[str, int, tuple[str, ...]]]:
    leaves = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
    out = []

    def visit(node: ast.AST, ancestors: tuple[ast.AST, ...]) -> None:
        if not keep_leaves and isinstance(node, leaves):
            return
        out.append((type(node).__name__, getattr(node, "lineno", -1), tuple(type(a).__name__ for a in ancestors)))
        for child in ast.iter_child_nodes(node):
            visit(child, ancestors + (node,))

    visit(tree, ())
    return out


def walk(node_types: tuple[type, ...]) -> list[tuple[str, int, tuple[str, ...]]]:
    seen: list[tuple[str, int, tuple[str, ...]]] = []

    class Recorder(Rule):
        codes = ("ML999",)
        nodes = node_types

        def visit(self, node: ast.AST) -> None:
            seen.append((type(node).__name__, getattr(node, "lineno", -1),
                         tuple(type(a).__name__ for a in self.ctx.ancestors)))

    tree = ast.parse(CODE)
    ctx = Context(Source(path="m.py", text=CODE), tree, Config(), None)  # type: ignore[arg-type]
    run_rules(ctx, [Recorder])
    return seen


ALL_TYPES = tuple(
    t for t in vars(ast).values()
    if isinstance(t, type) and issubclass(t, ast.AST) and t.__module__ == "ast" and t._fields is not None
)


def test_walk_matches_preorder_without_leaves() -> None:
    non_leaf = tuple(
        t for t in ALL_TYPES
        if not issubclass(t, (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop))
    )
    got = walk(non_leaf)
    assert got == reference(ast.parse(CODE), keep_leaves=False)
    assert len(got) > 150


@pytest.mark.parametrize("leaf", [ast.Load, ast.Add, ast.And, ast.Not, ast.Gt])
def test_leaves_are_visited_when_a_rule_asks(leaf: type) -> None:
    got = walk((leaf,))
    expected = [r for r in reference(ast.parse(CODE), keep_leaves=True) if r[0] == leaf.__name__]
    assert got == expected and got
