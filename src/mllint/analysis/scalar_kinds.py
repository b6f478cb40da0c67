"""The kind of a plain Python value: "number" (int, float, bool, complex,
or a tuple of them) or "str" (str or bytes, or a tuple holding one), read
from literals, builtin calls, annotations, assignments and `range()` loops.
Shared fact for rules that care whether a value is a number or text (ML110:
`hash()` of numbers is the same in every process, of text it is salted)."""

from __future__ import annotations

import ast

# Builtins whose result is a number / a string, whatever their argument.
_NUMBER_CALLS = frozenset({"int", "float", "len", "round", "ord", "bool", "complex"})
_STRING_CALLS = frozenset({"str", "repr", "format", "chr", "ascii", "bytes"})
_STRING_METHODS = frozenset(
    {"encode", "decode", "lower", "upper", "strip", "lstrip", "rstrip", "casefold", "title", "join", "format", "replace", "hexdigest", "isoformat"}
)
_NUMBER_ANNOTATIONS = frozenset({"int", "float", "bool", "complex"})
_STRING_ANNOTATIONS = frozenset({"str", "bytes"})
_NUMPY_SCALARS = frozenset(
    f"numpy.{t}" for t in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64", "intc", "intp")
)


def builtin_call(sem, func: ast.AST, names: frozenset[str] | str) -> bool:
    """Is `func` a plain name among `names` that the module does not rebind
    (the builtin, not a local `len = ...`)?"""
    if not isinstance(func, ast.Name):
        return False
    if isinstance(names, str):
        if func.id != names:
            return False
    elif func.id not in names:
        return False
    return sem.lookup(func.id) is None


def _comprehension_range(name: str, ancestors: list[ast.AST]) -> bool | None:
    """For a name bound by an enclosing comprehension: is it a `range()`
    item? None when no comprehension binds it."""
    for anc in reversed(ancestors):
        if isinstance(anc, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            for gen in anc.generators:
                if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(gen.target)):
                    return (
                        isinstance(gen.target, ast.Name)
                        and isinstance(gen.iter, ast.Call)
                        and isinstance(gen.iter.func, ast.Name)
                        and gen.iter.func.id == "range"
                    )
    return None


def value_kind(sem, expr: ast.AST | None, depth: int = 0, ancestors: list[ast.AST] | None = None) -> str | None:
    """"number" (int, float, bool, or a tuple of them: `hash()` is not
    salted), "str" (str or bytes, or a tuple holding one: salted), or None.
    `ancestors` (of `expr`): for names bound by an enclosing comprehension."""
    if expr is None or depth > 4:
        return None
    if ancestors and isinstance(expr, ast.Name):
        in_range = _comprehension_range(expr.id, ancestors)
        if in_range is not None:
            return "number" if in_range else None
    if isinstance(expr, ast.Constant):
        if isinstance(expr.value, (str, bytes)):
            return "str"
        if isinstance(expr.value, (int, float, complex)):  # bool is an int
            return "number"
        return None
    if isinstance(expr, ast.JoinedStr):
        return "str"
    if isinstance(expr, ast.Tuple):
        kinds = [value_kind(sem, e, depth + 1) for e in expr.elts]
        if "str" in kinds:
            return "str"
        return "number" if kinds and all(k == "number" for k in kinds) else None
    if isinstance(expr, ast.BinOp):
        sides = (value_kind(sem, expr.left, depth + 1), value_kind(sem, expr.right, depth + 1))
        if "str" in sides and isinstance(expr.op, (ast.Add, ast.Mod)):
            return "str"
        return "number" if sides == ("number", "number") else None
    if isinstance(expr, ast.UnaryOp):
        return "number" if value_kind(sem, expr.operand, depth + 1) == "number" else None
    if isinstance(expr, ast.Call):
        f = expr.func
        if builtin_call(sem, f, _NUMBER_CALLS):
            return "number"
        if builtin_call(sem, f, _STRING_CALLS):
            return "str"
        if isinstance(f, ast.Attribute) and f.attr in _STRING_METHODS:
            return "str"
        if sem.qualname(f) in _NUMPY_SCALARS:
            return "number"
        return None
    if isinstance(expr, ast.Name):
        b = sem.lookup(expr.id)
        if b is None:
            return None
        if b.kind == "param" and isinstance(b.node, ast.arg) and isinstance(b.node.annotation, ast.Name):
            ann = b.node.annotation.id
            return "number" if ann in _NUMBER_ANNOTATIONS else "str" if ann in _STRING_ANNOTATIONS else None
        if b.kind == "assign" and b.value is not None and b.value is not expr:
            return value_kind(sem, b.value, depth + 1)
        if b.kind == "for" and isinstance(b.node, (ast.For, ast.AsyncFor)):
            it = b.node.iter
            if isinstance(it, ast.Call) and builtin_call(sem, it.func, "range") and isinstance(b.node.target, ast.Name):
                return "number"
        return None
    return None
