"""Effects of a module's own functions, followed through calls by plain name.

A rule records, during the walk, *where* something happens -- at module level
or inside a function -- as a set of string tags ("seeds numpy", "enables
determinism"), and which plain-name calls are made from where. After the
walk, `resolve()` propagates tags through calls of the module's top-level
functions (`def set_seed(s): np.random.seed(s)` ... `set_seed(0)`), so a call
site carries the tags of everything it reaches. Linear in the number of
recorded events; recursion-safe.

    fx = LocalEffects(sem)
    fx.add(func_or_None, line, {"numpy"})      # during the walk
    fx.call(func_or_None, line, "set_seed")    # a call `set_seed(...)`
    fx.resolve(fallback)                       # in finish()
    fx.module_timeline()  -> [(line, tags)]    # module-level events, in order
    fx.everywhere()       -> all tags recorded anywhere

`fallback(name, is_local_def)` gives the tags of a called name that is not a
module-level function, or is one whose body showed none (an imported or
opaque helper): rules use it for "unknown helper named like a seeder".
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from mllint.analysis.semantic import SemanticModel

Tags = frozenset[str]
_EMPTY: Tags = frozenset()


class LocalEffects:
    def __init__(self, sem: "SemanticModel"):
        self.sem = sem
        # (function node or None, line, tags or None, called name or None)
        self._events: list[tuple[ast.AST | None, int, Tags | None, str | None]] = []
        self._resolved: list[tuple[ast.AST | None, int, Tags]] = []
        self._closure: dict[int, Tags] = {}

    # -- during the walk ---------------------------------------------------------
    def add(self, func: ast.AST | None, line: int, tags: Tags) -> None:
        if tags:
            self._events.append((func, line, frozenset(tags), None))

    def call(self, func: ast.AST | None, line: int, name: str) -> None:
        self._events.append((func, line, None, name))

    # -- after the walk ----------------------------------------------------------
    def resolve(self, fallback: Callable[[str, bool], Tags]) -> None:
        direct: dict[int, set[str]] = {}
        calls: dict[int, list[str]] = {}
        for func, _line, tags, name in self._events:
            if func is None:
                continue
            if tags is not None:
                direct.setdefault(id(func), set()).update(tags)
            elif name is not None:
                calls.setdefault(id(func), []).append(name)
        functions = self.sem.functions
        closure = self._closure

        def of_name(name: str) -> Tags:
            node = functions.get(name)
            if node is None:
                return fallback(name, False)
            tags = of_func(node)
            return tags if tags else fallback(name, True)

        def of_func(node: ast.AST) -> Tags:
            key = id(node)
            if key in closure:
                return closure[key]
            closure[key] = _EMPTY  # cycle guard
            acc = set(direct.get(key, ()))
            for name in calls.get(key, ()):
                acc.update(of_name(name))
            result = frozenset(acc)
            closure[key] = result
            return result

        self._resolved = []
        for func, line, tags, name in self._events:
            if tags is None:
                tags = of_name(name) if name is not None else _EMPTY
            if tags:
                self._resolved.append((func, line, tags))

    def module_timeline(self) -> list[tuple[int, Tags]]:
        return sorted(((line, tags) for func, line, tags in self._resolved if func is None), key=lambda e: e[0])

    def everywhere(self) -> Tags:
        out: set[str] = set()
        for _func, _line, tags in self._resolved:
            out.update(tags)
        return frozenset(out)
