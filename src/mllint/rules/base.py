"""The rule API.

A rule is a class with the codes it reports and the `ast` node types it wants.
The engine makes one instance per analysed module (only if one of its codes
is enabled), calls `visit(node)` for each node of those types during its
single walk, then `finish()` once. Rules read `self.ctx.semantic` and report
with `self.report(...)`.

    @register
    class UnsafeYamlLoad(Rule):
        codes = ("ML604",)
        nodes = (ast.Call,)

        def visit(self, node):
            if self.ctx.semantic.call_qualname(node) == "yaml.unsafe_load":
                self.report("ML604", node, "`yaml.unsafe_load` ...")
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from mllint.core.findings import Fix
    from mllint.engine.lint import Context

_REGISTRY: list[type["Rule"]] = []


class Rule:
    codes: ClassVar[tuple[str, ...]] = ()
    nodes: ClassVar[tuple[type[ast.AST], ...]] = ()
    # Call filter (a rule that has ast.Call in `nodes`): when `call_names` is
    # set, the engine passes a Call to `visit` only if its callee's last name
    # is in it, or the call has a keyword argument named in `call_keywords`.
    # The last name is the attribute (`x.fit(...)` -> "fit") or, for a plain
    # name, the imported name behind an alias (`from numpy.random import rand
    # as r; r()` -> "rand"). Calls of anything else (`f()()`, `x[0]()`) reach
    # only unfiltered rules. None (the default): every call. A rule may set
    # `self.call_names = None` in `__init__` to see every call of one module
    # (the engine reads the instance's value).
    call_names: ClassVar[frozenset[str] | None] = None
    call_keywords: ClassVar[frozenset[str]] = frozenset()
    # "statement": every finding lies inside one top-level statement and
    # depends only on that statement and the module's skeleton (see
    # `mllint.engine.incremental.skeleton`: imports, module-level code, the names,
    # signatures and decorators of functions and classes, but not their
    # bodies), and no message names a line (findings of a statement that
    # moved are moved as they are). The language server then re-runs the rule only on the
    # top-level statements an edit changed. "module" (the default): the rule
    # may read anything, and runs over the whole module on every change.
    scope: ClassVar[str] = "module"

    def wants_call(self, key: str) -> bool:
        """With `call_names` set: also visit calls whose last name this
        accepts, for names that cannot be listed (helpers recognised by the
        look of their name, this module's own functions). Asked once per
        distinct name per module; must depend only on the name and on what
        the rule knew when it was created."""
        return False

    def __init__(self, ctx: "Context"):
        self.ctx = ctx

    def visit(self, node: ast.AST) -> None:  # pragma: no cover - default no-op
        pass

    def finish(self) -> None:
        pass

    def report(
        self,
        code: str,
        node: ast.AST | tuple[int, int, int, int],
        message: str,
        fix: "Fix | None" = None,
    ) -> None:
        self.ctx.report(code, node, message, fix)

    def enabled(self, code: str) -> bool:
        return self.ctx.enabled(code)


def register(cls: type[Rule]) -> type[Rule]:
    if not cls.codes:
        raise ValueError(f"{cls.__name__} declares no codes")
    _REGISTRY.append(cls)
    return cls


def registered_rules() -> list[type[Rule]]:
    import mllint.rules  # noqa: F401  (imports every rule module)

    return list(_REGISTRY)


def implemented_codes() -> set[str]:
    codes: set[str] = {"ML000", "ML001"}
    for cls in registered_rules():
        codes.update(cls.codes)
    return codes
