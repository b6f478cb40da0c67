"""ML105 legacy-global-rng: NumPy's legacy global random API
(`np.random.rand`, ...) instead of a `Generator`."""

from __future__ import annotations

import ast

from mllint.analysis.randomness import NUMPY_LEGACY
from mllint.rules.base import Rule, register
from mllint.rules.call_helpers import call_display, qualname_memo

# --- ML105 legacy-global-rng -------------------------------------------------------

_GENERATOR_EQUIVALENT = {
    "rand": "rng.random(size)",
    "randn": "rng.standard_normal(size)",
    "randint": "rng.integers(low, high)",
    "random_integers": "rng.integers(low, high, endpoint=True)",
    "random_sample": "rng.random(size)",
    "random": "rng.random(size)",
    "ranf": "rng.random(size)",
    "sample": "rng.random(size)",
}


@register
class LegacyGlobalRng(Rule):
    codes = ("ML105",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = NUMPY_LEGACY  # `numpy.random.<fn>` only

    def __init__(self, ctx):
        super().__init__(ctx)
        self.qualname = qualname_memo(ctx)

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        q = self.qualname(node)
        if not q or not q.startswith("numpy.random."):
            return
        fn = q[len("numpy.random.") :]
        if fn not in NUMPY_LEGACY:
            return
        shown = call_display(self.ctx, node)
        seed = self.ctx.config.seed
        if fn in ("get_state", "set_state"):
            msg = (
                f"`{shown}(...)` {'reads' if fn == 'get_state' else 'overwrites'} NumPy's legacy global "
                f"RandomState, shared by every library in the process; keep a local generator "
                f"(`rng = np.random.default_rng({seed})`) and save or restore `rng.bit_generator.state` instead."
            )
        elif fn == "seed":
            msg = (
                f"`{shown}(...)` seeds NumPy's legacy global RandomState, shared by every library in the "
                f"process; create a local generator instead, `rng = np.random.default_rng({seed})`, and draw from it."
            )
        else:
            instead = _GENERATOR_EQUIVALENT.get(fn, f"rng.{fn}(...)")
            msg = (
                f"`{shown}(...)` draws from NumPy's legacy global RandomState; draw from a local generator "
                f"instead: `rng = np.random.default_rng({seed})`, then `{instead}`."
            )
        self.report("ML105", node, msg)
