"""The package's shape (docs/development.md, "The map"): no import cycles
between mllint's modules, no module over 1,000 lines, each package imports
only the packages below it, and no more than a dozen modules directly under
`src/mllint/`. Read from the source with `ast`; nothing is imported.

An import at module level (also inside `if`/`try`/`with` and class bodies,
which run at import time) is an edge of the import-time graph. Imports under
`if TYPE_CHECKING:` never run and are not edges. `from pkg import name`
is an edge to `pkg` (its `__init__` runs) and, when `name` is a submodule,
to that submodule. The layer check also reads imports inside functions:
importing lazily is no way around the layering.
"""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import ROOT

PKG = ROOT / "src" / "mllint"
MAX_LINES = 1000
MAX_TOP_LEVEL_MODULES = 12

# Each package and the packages it may import (besides itself). Top-level
# modules (`mllint`, `mllint.__main__`, `mllint.flake8_plugin`, ...) may
# import any package; no package imports them.
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "analysis": {"core"},
    "rules": {"core", "analysis"},
    "engine": {"core", "analysis", "rules"},
    "fix": {"core", "analysis", "rules", "engine"},
    "report": {"core"},
    "lsp": {"core", "analysis", "rules", "engine", "fix"},
    "docs": {"core", "analysis", "rules", "engine", "fix"},
    "cli": {"core", "analysis", "rules", "engine", "fix", "report", "lsp", "docs"},
}


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(body: list[ast.stmt], module_level_only: bool):
    """Import statements that run: at module level (into if/try/with/class
    bodies), or anywhere with `module_level_only=False`."""
    for st in body:
        if isinstance(st, (ast.Import, ast.ImportFrom)):
            yield st
        elif isinstance(st, ast.If):
            if not _is_type_checking(st.test):
                yield from _imports(st.body, module_level_only)
            yield from _imports(st.orelse, module_level_only)
        elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not module_level_only:
                yield from _imports(st.body, module_level_only)
        elif isinstance(st, ast.ClassDef):
            yield from _imports(st.body, module_level_only)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(st, field, None)
                if isinstance(inner, list):
                    stmts = [h for h in inner if isinstance(h, ast.stmt)]
                    for h in inner:
                        if isinstance(h, ast.ExceptHandler):
                            stmts.extend(h.body)
                    yield from _imports(stmts, module_level_only)
            if isinstance(st, ast.Match):
                for case in st.cases:
                    yield from _imports(case.body, module_level_only)


def import_graph(root: Path, module_level_only: bool = True) -> dict[str, set[str]]:
    """module -> the package's modules it imports."""
    mods = modules(root)
    top = root.name
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_pkg = path.name == "__init__.py"
        edges: set[str] = set()
        for st in _imports(tree.body, module_level_only):
            if isinstance(st, ast.Import):
                targets = [a.name for a in st.names]
            else:
                base = st.module or ""
                if st.level:
                    anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (st.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in st.names]
            for t in targets:
                if t in mods and t != name and (t == top or t.startswith(top + ".")):
                    edges.add(t)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def oversized(root: Path, limit: int = MAX_LINES) -> dict[str, int]:
    out = {}
    for name, path in modules(root).items():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out[name] = n
    return out


def package_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None
    # `mllint.x` is a package only if it has a directory; top-level modules have none.
    return parts[1] if (PKG / parts[1]).is_dir() else None


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for src, targets in sorted(graph.items()):
        p = package_of(src)
        if p is None:
            continue  # top-level modules may import anything
        allowed = LAYERS.get(p)
        if allowed is None:
            bad.append(f"{src}: package {p!r} is not in LAYERS (add it, with what it may import)")
            continue
        for t in sorted(targets):
            q = package_of(t)
            if q is None:
                bad.append(f"{src} imports the top-level module {t}")
            elif q != p and q not in allowed:
                bad.append(f"{src} imports {t} ({p} may import only {sorted(allowed) or 'no other package'})")
    return bad


# --- the checks ----------------------------------------------------------------


def test_no_import_cycles() -> None:
    found = cycles(import_graph(PKG))
    assert not found, "module-level import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_module_over_1000_lines() -> None:
    assert oversized(PKG) == {}


def test_packages_import_only_the_layers_below() -> None:
    assert layer_violations(import_graph(PKG, module_level_only=False)) == []


def test_every_package_states_its_contract() -> None:
    for init in sorted(PKG.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import" in doc and "Must not import" in doc, f"{init.relative_to(ROOT)}: no contract"
        assert init.parent.name in LAYERS, f"{init.parent.name} is not in LAYERS"


def test_at_most_a_dozen_top_level_modules() -> None:
    top = sorted(p.name for p in PKG.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


# --- the checkers themselves can fail ---------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_checker_finds_a_cycle_through_a_package_init(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "flow/__init__.py": "from pkg.flow.core import run\n",
        "flow/core.py": "import ast\nfrom pkg.flow import memo\n",
        "flow/memo.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.flow.core import run\n",
        "lazy.py": "def f():\n    from pkg import other\n",
        "other.py": "from pkg import lazy\n",
    })
    found = cycles(import_graph(root))
    # core -> flow (its __init__) -> core; the TYPE_CHECKING import and the
    # import inside a function are not import-time edges.
    assert found == [["pkg.flow", "pkg.flow.core"]]
    assert "pkg.other" in import_graph(root, module_level_only=False)["pkg.lazy"]


def test_checker_sees_relative_imports_and_imports_in_try_blocks(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "try:\n    from . import b\nexcept ImportError:\n    pass\n",
        "b.py": "from .a import x\n",
    })
    assert cycles(import_graph(root)) == [["pkg.a", "pkg.b"]]


def test_checker_counts_lines(tmp_path: Path) -> None:
    root = _package(tmp_path, {"__init__.py": "", "big.py": "x = 1\n" * 1001, "ok.py": "x = 1\n" * 1000})
    assert oversized(root) == {"pkg.big": 1001}


def test_layer_check_reports_an_upward_import() -> None:
    graph = {"mllint.core.config": {"mllint.engine.lint"}, "mllint.engine.lint": {"mllint.core.config"},
             "mllint.rules.base": {"mllint.flake8_plugin"}}
    bad = layer_violations(graph)
    assert len(bad) == 2
    assert bad[0].startswith("mllint.core.config imports mllint.engine.lint")
    assert "top-level module mllint.flake8_plugin" in bad[1]
