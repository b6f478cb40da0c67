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

from mllint.analysis.known_names import CONVENTIONS, TextAliases, assume, module_bindings, star_exports
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


def import_map(tree: ast.Module, text: str | None = None, assumed: dict[str, str] | None = None) -> dict[str, str]:
    """`{local alias: qualified target}` for every import in the module, and
    the names a star import of a known library binds. Names the module
    never binds, by convention (`mllint.analysis.known_names`): `assumed`
    (what the engine's walk resolved that way: `np` -> "numpy") and, in a
    module with no import at all (a cell pasted without its imports), the
    conventional aliases its `text` uses."""
    out: dict[str, str] = {}
    stars: list[str] = []
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
                    stars.append(module)
        else:
            fields = STATEMENT_FIELDS.get(t)
            if fields:
                for field in fields:
                    stack.extend(getattr(node, field, ()) or ())
    # `from sklearn.preprocessing import *`: what it binds (a name imported
    # explicitly keeps its own import).
    for module in stars:
        for local, q in (star_exports(module) or {}).items():
            out.setdefault(local, q)
    if assumed:
        for local, q in assumed.items():
            out.setdefault(local, q)
    if not out and text is not None and "import" not in text:
        _add_conventions(tree, text, out)
    return out


def _add_conventions(tree: ast.Module, text: str, out: dict[str, str]) -> None:
    """Conventional aliases the module's text uses (`np.`) and that it never
    binds: `known_names.assume`. The module's names are collected only when
    its text uses one."""
    in_text = TextAliases(text)
    candidates = [a for a in CONVENTIONS if in_text.uses(a)]
    if not candidates:
        return
    mb = module_bindings(tree)
    for name in candidates:
        q = assume(name, mb)
        if q is not None:
            out[name] = q


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
