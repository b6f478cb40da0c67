"""Names a module defines and imports, from a cheap scan of its statements
before the engine's walk (expressions are not visited). Shared by rules whose
call filter must know them up front (see `Rule.wants_call`)."""

from __future__ import annotations

import ast

from mllint.analysis.known_names import star_exports
from mllint.core.astwalk import STATEMENT_FIELDS


class ModuleNames:
    """What a module names, known before the engine's walk from its
    statements alone (cheap): for call filters that must accept the calls of
    this module's own functions and of import aliases (`Rule.wants_call`;
    ML101/ML103/ML104 use it).

    * `defs`: the name of every function defined anywhere (a plain-name call
      of one may be resolved to its definition only after the walk);
    * `import_keys`: for each local name bound by an import, or assigned from
      such a name (`sa = seed_all`), the call-filter keys a call of it gets
      (the last name of what it was imported as). A heuristic on the name as
      written (a helper that looks like a seeding function) sees the alias,
      the filter sees the key:
      `from utils import seed_everything as se; se()` has key
      "seed_everything", written name "se". A `:=` copy (`(sa := seed_all)`)
      sits in an expression, which is not walked: in a module whose text has
      a `:=`, every local name bound by an import is taken to have every
      import's keys (`walrus`);
    * `imported_roots`: the top-level packages it imports (absolute imports).

    A star import of a known library counts as importing the names
    `known_names.star_exports` lists (`from fastai.vision.all import *`:
    `np`, `torch`, ...). A name the module reads without any binding (`np`,
    `StandardScaler` in a cell pasted without its imports) needs nothing
    here: its call-filter key is the name itself, as written.
    """

    __slots__ = ("defs", "import_keys", "imported_roots", "walrus")

    def __init__(self, ctx):
        defs: set[str] = set()
        keys: dict[str, set[str]] = {}
        copies: list[tuple[str, str]] = []  # (target, source) of `target = source`
        roots: set[str] = set()
        stack: list[ast.AST] = list(getattr(ctx.tree, "body", ()))
        body_fields = STATEMENT_FIELDS
        Import, ImportFrom, Assign, AnnAssign, Name = ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.Name
        while stack:
            node = stack.pop()
            t = type(node)
            if t is Assign:
                value = node.value  # type: ignore[attr-defined]
                if type(value) is Name:
                    for target in node.targets:  # type: ignore[attr-defined]
                        if type(target) is Name:
                            copies.append((target.id, value.id))
                continue
            if t is Import:
                for alias in node.names:  # type: ignore[attr-defined]
                    top = alias.name.split(".", 1)[0]
                    if alias.asname:
                        keys.setdefault(alias.asname, set()).add(alias.name.rpartition(".")[2])
                    else:
                        keys.setdefault(top, set()).add(top)
                    roots.add(top)
                continue
            if t is ImportFrom:
                module = node.module or ""  # type: ignore[attr-defined]
                if not node.level and module:  # type: ignore[attr-defined]
                    roots.add(module.split(".", 1)[0])
                for alias in node.names:  # type: ignore[attr-defined]
                    if alias.name != "*":
                        keys.setdefault(alias.asname or alias.name, set()).add(alias.name.rpartition(".")[2])
                    elif not node.level and module:  # type: ignore[attr-defined]
                        # `from sklearn.model_selection import *`: the names the semantic model binds.
                        for local, q in (star_exports(module) or {}).items():
                            keys.setdefault(local, set()).add(q.rpartition(".")[2])
                            roots.add(q.split(".", 1)[0])
                continue
            if t is AnnAssign:
                value, target = node.value, node.target  # type: ignore[attr-defined]
                if type(value) is Name and type(target) is Name:
                    copies.append((target.id, value.id))
                continue
            fields = body_fields.get(t)
            if fields is None:
                continue
            if t is ast.FunctionDef or t is ast.AsyncFunctionDef:
                defs.add(node.name)  # type: ignore[attr-defined]
            for field in fields:
                stack.extend(getattr(node, field))
        changed = bool(copies)
        while changed:  # `a = seed_all; b = a`: follow copies of copies
            changed = False
            for target, src in copies:
                ks = keys.get(src)
                if ks:
                    have = keys.setdefault(target, set())
                    if not ks <= have:
                        have |= ks
                        changed = True
        self.defs = frozenset(defs)
        self.import_keys = keys
        self.imported_roots = frozenset(roots)
        self.walrus = ":=" in ctx.source.text

    def keys_of_names(self, pred) -> frozenset[str]:
        """The keys a call of an import-bound local name that satisfies `pred`
        may have."""
        out: set[str] = set()
        if self.walrus:
            for ks in self.import_keys.values():
                out |= ks
            return frozenset(out)
        for local, ks in self.import_keys.items():
            if pred(local):
                out |= ks
        return frozenset(out)


def module_names(ctx) -> ModuleNames:
    """The module's `ModuleNames`, computed once per module."""
    return ctx.semantic.fact("module_names", lambda: ModuleNames(ctx))  # type: ignore[return-value]
