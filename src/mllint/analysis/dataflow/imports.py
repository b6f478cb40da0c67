"""A cheap import map for the data-flow pass.

The engine's `SemanticModel` resolves names scope by scope during its walk;
the data-flow pass runs afterwards over the whole module in statement order
and only needs "which local alias means which library object". This helper
reads every `import`/`from ... import` statement of the module once (at any
depth: imports inside functions and `try:` blocks count) and returns
`{alias: qualified name}`.
"""

from __future__ import annotations

import ast

from mllint.core.astwalk import STATEMENT_FIELDS

# Top-level packages that make a module worth a leakage analysis.
ML_PACKAGES = frozenset(
    {
        "sklearn",
        "pandas",
        "numpy",
        "imblearn",
        "tensorflow",
        "keras",
        "torch",
        "xgboost",
        "lightgbm",
        "catboost",
        "category_encoders",
        "scipy",
        "datasets",
        "polars",
        "seaborn",
    }
)


def import_map(tree: ast.Module) -> dict[str, str]:
    """`{local alias: qualified target}` for every import in the module."""
    out: dict[str, str] = {}
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        t = type(node)
        if t is ast.Import:
            for alias in node.names:  # type: ignore[attr-defined]
                if alias.asname:
                    out[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    out.setdefault(top, top)
        elif t is ast.ImportFrom:
            if node.level:  # type: ignore[attr-defined]
                continue  # relative imports are the project's own code
            module = node.module or ""  # type: ignore[attr-defined]
            for alias in node.names:  # type: ignore[attr-defined]
                if alias.name != "*":
                    out[alias.asname or alias.name] = f"{module}.{alias.name}" if module else alias.name
        else:
            fields = STATEMENT_FIELDS.get(t)
            if fields:
                for field in fields:
                    stack.extend(getattr(node, field, ()) or ())
    return out


def uses_ml_packages(imports: dict[str, str]) -> bool:
    return any(q.split(".", 1)[0] in ML_PACKAGES for q in imports.values())


def resolve(node: ast.AST, imports: dict[str, str]) -> str | None:
    """Qualified name of a Name/Attribute chain rooted at an import alias."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    base = imports.get(node.id)
    if base is None:
        return None
    if attrs:
        return base + "." + ".".join(reversed(attrs))
    return base
