"""Helpers the reproducibility rules (ML101-ML107) share while visiting
calls: the qualified name and enclosing function of the call being
visited, memoised once per node for all of them; how the user wrote the
callee; call-filter keys; recording calls of this module's functions."""

from __future__ import annotations

import ast

from mllint.analysis.local_effects import LocalEffects
from mllint.analysis.semantic import BUILTIN_NAMES, call_name
from mllint.analysis.training_facts import dotted

# --- shared helpers for ML101/ML103/ML104 -----------------------------------------

FUNC_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def call_display(ctx, call: ast.Call) -> str:
    """How the user wrote the called function (`np.random.rand`, `tts`)."""
    text = ctx.segment(call.func)
    if not text or "\n" in text or len(text) > 60:
        text = call_name(call) or "call"
    return text


class QualnameMemo:
    """The qualified name of the call the walk is on, resolved once and shared
    by this module's rules (each of them visits every call)."""

    __slots__ = ("sem", "call", "qualname")

    def __init__(self, sem):
        self.sem = sem
        self.call: ast.AST | None = None
        self.qualname: str | None = None

    def __call__(self, call: ast.Call) -> str | None:
        if call is not self.call:
            self.call, self.qualname = call, self.sem.call_qualname(call)
        return self.qualname


def qualname_memo(ctx) -> QualnameMemo:
    return ctx.semantic.fact("reproducibility.qualname_memo", lambda: QualnameMemo(ctx.semantic))  # type: ignore[return-value]


class EnclosingFuncMemo:
    """`ctx.enclosing(*FUNC_TYPES)` for the node the walk is on, computed
    once and shared by this module's rules that visit the same node."""

    __slots__ = ("ctx", "node", "func")

    def __init__(self, ctx):
        self.ctx = ctx
        self.node: ast.AST | None = None
        self.func: ast.AST | None = None

    def __call__(self, node: ast.AST) -> ast.AST | None:
        if node is not self.node:
            self.node, self.func = node, self.ctx.enclosing(*FUNC_TYPES)
        return self.func


def enclosing_memo(ctx) -> EnclosingFuncMemo:
    return ctx.semantic.fact("reproducibility.enclosing_memo", lambda: EnclosingFuncMemo(ctx))  # type: ignore[return-value]


def terminal_name(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


def last_names(qualnames) -> frozenset[str]:
    """The call-filter keys of qualified names: their last component (for an
    instance method, `numpy.random.default_rng().integers` -> "integers")."""
    return frozenset(q.rpartition(".")[2] for q in qualnames)


# Packages whose transforms `is_random_augmentation` knows (the roots of the
# qualified names it accepts): a module importing one of them sees every call
# in UnseededRandomness, since an augmentation is recognised by its
# qualified name, whatever the callee's last name (`aug = A.Compose(...);
# aug(image=x)`, `T.RandomCrop(32)(img)`).
AUGMENT_ROOTS = frozenset({"torchvision", "torchaudio", "albumentations", "imgaug"})

def helper_filter(ctx) -> frozenset[str] | None:
    """The keys `configured_helper(q, name, config)` can accept through the
    qualified name (its last name equals the key) or a written name equal to
    the key; None when a configured helper is not a plain dotted name (its
    match may end in `()`, whose key is a local name)."""
    helpers = ctx.config.seed_helpers
    if any("(" in h or ")" in h for h in helpers):
        return None
    return last_names(helpers)


def where(ctx, line: int) -> str:
    """`line 12`, or `cell 3` in a notebook."""
    if ctx.source.cells:
        loc = ctx.source.locate(line)
        if loc is not None:
            return f"cell {loc[0]}"
    return f"line {line}"


def picks_a_seed(ctx) -> bool:
    """Is the call being visited the value of an assignment to a seed
    (`opt.manual_seed = random.randint(1, 10000)`, `seed = int(np.random.randint(...))`)?"""
    for anc in reversed(ctx.ancestors):
        if isinstance(anc, (ast.Assign, ast.AnnAssign)):
            targets = anc.targets if isinstance(anc, ast.Assign) else [anc.target]
            return any("seed" in (dotted(t) or "").lower() for t in targets)
        if not isinstance(anc, (ast.Call, ast.BinOp, ast.UnaryOp)):
            return False
    return False


def record_plain_call(ctx, effects: LocalEffects, func: ast.AST | None, call: ast.Call) -> bool:
    """Record `name(...)` when `name` may be one of this module's functions
    (resolved after the walk, since it may be defined further down). True when
    the call is handled here: recorded, or a builtin."""
    if not isinstance(call.func, ast.Name):
        return False
    name = call.func.id
    b = ctx.semantic.lookup(name)
    if (b is None and name not in BUILTIN_NAMES) or (b is not None and b.kind == "def"):
        effects.call(func, call.lineno, name)
        return True
    return b is None  # a builtin: nothing to resolve
