"""Is this module a program someone runs (an entry point), or a library?

Rules about process-wide state (seeds, determinism switches) only make sense
where the process starts: a library function that draws random numbers is
seeded by whoever calls it. A module is an entry point when it is

    "notebook"   a Jupyter notebook;
    "script"     it has an `if __name__ == "__main__":` block, a `#!` line,
                 or `# %%` cell markers (a Jupytext/VS Code percent script);
    "training"   it does a program's work at module level: a `.fit(`,
                 `.train(`, `.backward(`, `.parse_args(`, `main(` ... call
                 outside any function or class.

    entry_kind(ctx) -> "notebook" | "script" | "training" | None

Computed once per module (a `SemanticModel` fact) by looking at module-level
statements only; function and class bodies are not entered.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mllint.engine.lint import Context

TRAINING_METHODS = frozenset(
    {"fit", "fit_generator", "partial_fit", "train_on_batch", "train", "backward", "fit_transform"}
)
# Module-level calls that only a program makes.
PROGRAM_METHODS = TRAINING_METHODS | {"parse_args", "parse_known_args"}
PROGRAM_FUNCTIONS = frozenset({"main"})
_SKIP = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _is_main_guard(test: ast.AST) -> bool:
    if not isinstance(test, ast.Compare) or len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = (test.left, test.comparators[0])
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    has_main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    return has_name and has_main


def _runs_at_module_level(stmts: list[ast.stmt]) -> bool:
    stack: list[ast.AST] = [s for s in stmts if not isinstance(s, _SKIP)]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in PROGRAM_METHODS:
                return True
            if isinstance(f, ast.Name) and f.id in PROGRAM_FUNCTIONS:
                return True
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _SKIP):
                stack.append(child)
    return False


def _compute(ctx: "Context") -> str | None:
    if ctx.is_notebook:
        return "notebook"
    text = ctx.source.text
    if text.startswith(("#!", "# %%")) or "\n# %%" in text:
        return "script"
    body = ctx.tree.body
    for stmt in body:
        if isinstance(stmt, ast.If) and _is_main_guard(stmt.test):
            return "script"
    if _runs_at_module_level(body):
        return "training"
    return None


def entry_kind(ctx: "Context") -> str | None:
    """How this module is run, or None for a library module."""
    return ctx.semantic.fact("entrypoint.kind", lambda: _compute(ctx))  # type: ignore[return-value]


def program_noun(ctx: "Context") -> str:
    """"notebook" or "script", for messages."""
    return "notebook" if ctx.is_notebook else "script"
