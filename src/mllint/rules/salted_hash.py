"""ML110 salted-hash-seed: Python's `hash()` of a string used as a seed or a
bucket (it is salted per process), and a global generator reseeded inside a
request handler."""

from __future__ import annotations

import ast

from mllint.analysis.randomness import (
    FRAMEWORK_ORDER,
    LABEL,
    SEED_CALL_NAMES,
    configured_helper,
    looks_like_seed_helper,
    seed_arguments,
    seeded_frameworks,
)
from mllint.analysis.scalar_kinds import builtin_call, value_kind
from mllint.analysis.semantic import call_name
from mllint.analysis.serving_model import maybe_serving
from mllint.rules.base import Rule, register

FUNC_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)


def _salted_hash_call(sem, node: ast.AST, ancestors: list[ast.AST] | None = None) -> ast.Call | None:
    """`hash(x)` (the builtin, one argument not known to be a number)."""
    if (
        isinstance(node, ast.Call)
        and len(node.args) == 1
        and not node.keywords
        and not isinstance(node.args[0], ast.Starred)
        and builtin_call(sem, node.func, "hash")
        and value_kind(sem, node.args[0], ancestors=ancestors) != "number"
    ):
        return node
    return None


def _hash_in(sem, expr: ast.AST, ancestors: list[ast.AST] | None = None, depth: int = 0) -> ast.Call | None:
    """The salted `hash(x)` a seed expression is computed from: directly,
    through arithmetic (`hash(x) % 2**32`, `abs(hash(x))`), or through a
    name assigned from one."""
    if depth > 6:
        return None
    h = _salted_hash_call(sem, expr, ancestors)
    if h is not None:
        return h
    if isinstance(expr, ast.BinOp):
        return _hash_in(sem, expr.left, ancestors, depth + 1) or _hash_in(sem, expr.right, ancestors, depth + 1)
    if isinstance(expr, ast.UnaryOp):
        return _hash_in(sem, expr.operand, ancestors, depth + 1)
    if isinstance(expr, ast.Call) and len(expr.args) == 1 and builtin_call(sem, expr.func, frozenset({"abs", "int"})):
        return _hash_in(sem, expr.args[0], ancestors, depth + 1)
    if isinstance(expr, ast.Name):
        b = sem.lookup(expr.id)
        if b is not None and b.kind == "assign" and b.value is not None:
            return _hash_in(sem, b.value, None, depth + 1)
    return None


def _mentions_self(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id in ("self", "cls") for n in ast.walk(node))


@register
class SaltedHashSeed(Rule):
    """`random.seed(hash(name))`, `hash(user_id) % 100`, and a global
    generator reseeded while serving a request."""

    codes = ("ML110",)
    nodes = (ast.Call,)
    call_names = SEED_CALL_NAMES | {"hash"}
    call_keywords = frozenset({"seed", "random_state", "random_seed"})

    def __init__(self, ctx):
        super().__init__(ctx)
        self.in_seed: set[int] = set()  # hash() calls reported through the seed they feed
        self.helper_names = frozenset(h.rsplit(".", 1)[-1] for h in ctx.config.seed_helpers)  # `seed-helpers`

    def wants_call(self, key: str) -> bool:
        return looks_like_seed_helper(key) or key in self.helper_names

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        if isinstance(node.func, ast.Name) and node.func.id == "hash":
            if id(node) not in self.in_seed and _salted_hash_call(sem, node, self.ctx.ancestors) is not None:
                self._bucket(node)
            return
        q = sem.call_qualname(node)
        args = seed_arguments(q, node)
        if not args and node.args and configured_helper(q, call_name(node), self.ctx.config):
            args = [node.args[0]]
        for arg in args:
            h = _hash_in(sem, arg, self.ctx.ancestors)
            if h is not None:
                self.in_seed.add(id(h))
                self._seed(node, h)
                return
        fws = seeded_frameworks(q, node)
        if fws:
            self._reseed_in_handler(node, fws)

    # ------------------------------------------------------------------
    def _handler_label(self) -> str | None:
        sm = maybe_serving(self.ctx)
        if sm is None or not sm.handlers:
            return None
        h = sm.per_request(self.ctx.enclosing(*FUNC_TYPES))
        return h.label if h is not None else None

    def _stable(self, h: ast.Call) -> str:
        arg = h.args[0]
        src = self.ctx.segment(arg)
        if value_kind(self.ctx.semantic, arg) == "str" and not isinstance(arg, (ast.Tuple, ast.BinOp)):
            return f"zlib.crc32({src}.encode())" if not src.endswith(".encode()") else f"zlib.crc32({src})"
        return f"zlib.crc32(str({src}).encode())"

    def _seed(self, call: ast.Call, h: ast.Call) -> None:
        seg = self.ctx.segment(call)
        if len(seg) > 60:
            seg = f"{self.ctx.segment(call.func)}(...)"
        handler = self._handler_label()
        where = f", inside request handler {handler}," if handler else ""
        self.report(
            "ML110",
            call,
            f"`{seg}`{where} seeds from `{self.ctx.segment(h)}`: Python salts the `hash()` of strings per process "
            f"(`PYTHONHASHSEED`), so every worker and every restart gets a different seed and the stream is not "
            f"reproducible. Derive the seed from a stable hash: `{self._stable(h)}` (or `hashlib.sha256`).",
        )

    def _bucket(self, h: ast.Call) -> None:
        """`hash(x) % n` / `hash(x) & mask`: a bucket, a shard, an A/B variant."""
        anc = self.ctx.ancestors
        child: ast.AST = h
        bucket: ast.BinOp | None = None
        parent: ast.AST | None = None
        for a in reversed(anc):
            if isinstance(a, ast.BinOp):
                if bucket is None and a.left is child and isinstance(a.op, (ast.Mod, ast.BitAnd)):
                    bucket = a
                child = a
                continue
            if isinstance(a, ast.UnaryOp) or (
                isinstance(a, ast.Call) and child in a.args and builtin_call(self.ctx.semantic, a.func, frozenset({"abs", "int"}))
            ):
                child = a
                continue
            parent = a
            break
        if bucket is None or _mentions_self(bucket.right):
            return  # a dict/cache key, `__hash__`, or an in-memory table sized by the instance
        if isinstance(parent, (ast.Assign, ast.AnnAssign)):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            if any(isinstance(t, ast.Name) and "seed" in t.id.lower() for t in targets):
                return  # a seed: judged where it is used
        seg = self.ctx.segment(bucket)
        fix = seg.replace(self.ctx.segment(h), self._stable(h), 1)
        self.report(
            "ML110",
            bucket,
            f"`{seg}` buckets by Python's `hash()`, which is salted per process for strings (`PYTHONHASHSEED`): "
            f"the same `{self.ctx.segment(h.args[0])}` lands in a different bucket in each worker and after every "
            f"restart (A/B variants, shards and samples change under you). Use a stable hash: `{fix}`.",
        )

    def _reseed_in_handler(self, call: ast.Call, fws: frozenset[str]) -> None:
        handler = self._handler_label()
        if handler is None:
            return
        what = LABEL[next(fw for fw in FRAMEWORK_ORDER if fw in fws)] if len(fws) == 1 else "every global generator"
        self.report(
            "ML110",
            call,
            f"`{self.ctx.segment(call)}` reseeds {what} inside request handler {handler}: that generator is shared "
            "by every request the worker serves, so concurrent requests reset each other's stream and no request "
            "gets the sequence its seed promises. Draw from a local generator instead, e.g. "
            "`rng = random.Random(seed)` or `np.random.default_rng(seed)`.",
        )
