"""Does this notebook code run once?

A notebook cell's top-level statement runs once per execution of the cell;
inside a loop, a comprehension or a lambda it runs once per item; a
function runs as often as it is called. ML501 reports an unbounded outbound
call in one-off notebook code (a download at the top of a cell, a helper
that only such code calls) as low, and keeps it high where it repeats (a
loop over rows, a function called from a loop, passed as a value, or
decorated -- a route or a callback).

    runs_once(ctx, ancestors)   # ancestors of the node, outermost first

Only notebooks: a script's top level is its main program, and a module's
functions are called from elsewhere.
"""

from __future__ import annotations

import ast

FUNC_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)
# Nodes whose body runs more than once (or later, more than once).
REPEAT_TYPES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)


def _once_functions(tree: ast.Module) -> frozenset[int]:
    """ids of the notebook's top-level functions that only run once: every
    call is a plain call from one-off code (top level outside loops, or a
    function that itself runs once), and the function is never decorated,
    passed as a value or called from a class."""
    funcs: dict[str, list[ast.AST]] = {}
    for stmt in tree.body:
        if isinstance(stmt, FUNC_TYPES):
            funcs.setdefault(stmt.name, []).append(stmt)
    if not funcs:
        return frozenset()
    repeated: set[str] = {name for name, defs in funcs.items() if any(d.decorator_list for d in defs)}  # type: ignore[attr-defined]
    edges: dict[str, set[str]] = {}  # caller function -> callees
    # (node, caller, repeating context); caller: a top-level function's name,
    # "" for top-level code, None elsewhere (methods, nested functions)
    todo: list[tuple[ast.AST, str | None, bool]] = []
    for stmt in tree.body:
        if isinstance(stmt, FUNC_TYPES):
            todo.extend((d, "", False) for d in stmt.decorator_list)
            todo.extend((d, "", False) for d in (*stmt.args.defaults, *stmt.args.kw_defaults) if d is not None)
            todo.extend((s, stmt.name, False) for s in stmt.body)
        else:
            todo.append((stmt, "", False))
    while todo:
        node, caller, rep = todo.pop()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in funcs:
            callee = node.func.id
            if rep or caller is None:
                repeated.add(callee)
            elif caller:
                edges.setdefault(caller, set()).add(callee)
            todo.extend((child, caller, rep) for child in (*node.args, *node.keywords))
            continue
        if isinstance(node, ast.Name) and node.id in funcs and isinstance(node.ctx, ast.Load):
            repeated.add(node.id)  # passed as a value: map(f, ...), df.apply(f), a callback
            continue
        if isinstance(node, (*FUNC_TYPES, ast.ClassDef)):
            caller = None
        elif isinstance(node, REPEAT_TYPES):
            rep = True
        todo.extend((child, caller, rep) for child in ast.iter_child_nodes(node))
    # repetition flows from callers to callees
    stack = list(repeated)
    while stack:
        name = stack.pop()
        for callee in edges.get(name, ()):
            if callee not in repeated:
                repeated.add(callee)
                stack.append(callee)
    return frozenset(id(d) for name, defs in funcs.items() if name not in repeated for d in defs)


def runs_once(ctx, ancestors: list[ast.AST]) -> bool:
    """True for notebook code that runs once per cell execution: top-level
    code outside loops and comprehensions, or the body of a top-level
    function only such code calls."""
    if not ctx.is_notebook:
        return False
    func = None
    for anc in ancestors:
        if isinstance(anc, REPEAT_TYPES):
            return False
        if isinstance(anc, ast.ClassDef):
            return False
        if isinstance(anc, FUNC_TYPES):
            if func is not None:
                return False  # a nested function: runs as often as its parent calls it
            func = anc
    if func is None:
        return True
    once = ctx.semantic.fact("runs_once.functions", lambda: _once_functions(ctx.tree))
    return id(func) in once  # type: ignore[operator]
