"""The engine's call filters (`Rule.call_names` / `Rule.call_keywords`):
which calls reach a filtered rule, in which order, and what happens when a
filtered rule breaks."""

from __future__ import annotations

import ast
import subprocess
import sys

from mllint.core.catalog import default_catalog
from mllint.core.config import Config
from mllint.core.sources import Source
from mllint.engine.lint import Context, run_rules
from mllint.rules.base import Rule

TEXT = """\
import numpy as np
from numpy.random import rand as r
from pickle import load
import torch as T

np.random.seed(0)
r(3)
load(f)
T(1)
x.fit(X, y)
fit(X)
f()(1)
models[0](X)
build(trust_remote_code=True)
other(1)

def inner():
    load = make_loader()
    load(f)
"""


def _seen(*rule_specs) -> dict[str, list[int]]:
    """Run rules built from (name, call_names, call_keywords) and return the
    lines of the calls each one saw, plus the order of visits."""
    seen: dict[str, list[int]] = {}
    order: list[str] = []
    classes = []
    for name, names, kws in rule_specs:

        class R(Rule):
            codes = ("ML102",)
            nodes = (ast.Call,)
            call_names = names
            call_keywords = kws

            def visit(self, node, _name=name):
                seen.setdefault(_name, []).append(node.lineno)
                order.append(_name)

        classes.append(R)
    ctx = Context(Source("t.py", TEXT), ast.parse(TEXT), Config(), default_catalog())
    run_rules(ctx, classes)
    seen["<order>"] = order  # type: ignore[assignment]
    return seen


def test_unfiltered_rule_sees_every_call() -> None:
    assert len(_seen(("all", None, frozenset()))["all"]) == 13


def test_attribute_and_alias_keys() -> None:
    seen = _seen(
        ("seed", frozenset({"seed"}), frozenset()),
        ("rand", frozenset({"rand"}), frozenset()),
        ("fit", frozenset({"fit"}), frozenset()),
        ("torch", frozenset({"torch"}), frozenset()),
    )
    assert seen["seed"] == [6]
    assert seen["rand"] == [7]  # `r` is `numpy.random.rand`
    assert seen["fit"] == [10, 11]  # method and plain-name spellings
    assert seen["torch"] == [9]  # `T` is the module `torch`


def test_local_rebinding_is_not_the_import() -> None:
    # inside `inner`, `load` is a local assignment, not pickle's `load`:
    # its key is the name as written, which still matches "load"
    seen = _seen(("load", frozenset({"load"}), frozenset()))
    assert seen["load"] == [8, 19]


def test_calls_without_a_name_reach_only_unfiltered_rules() -> None:
    seen = _seen(("named", frozenset({"f", "models"}), frozenset()), ("all", None, frozenset()))
    # `f()(1)`: the inner `f()` is a call named "f", the outer one has no
    # name; `models[0](X)` has none either
    assert seen["named"] == [12]
    assert seen["all"].count(12) == 2 and 13 in seen["all"]


def test_keyword_filter_and_rule_order() -> None:
    seen = _seen(
        ("first", None, frozenset()),
        ("kw", frozenset(), frozenset({"trust_remote_code"})),
        ("last", frozenset({"build"}), frozenset()),
    )
    assert seen["kw"] == [14]
    order = seen["<order>"]
    i = order.index("kw")
    # on line 14 the three rules run in their registration order
    assert order[i - 1 : i + 2] == ["first", "kw", "last"]


def test_a_filtered_rule_that_breaks_is_dropped_and_reported() -> None:
    calls: list[int] = []

    class Broken(Rule):
        codes = ("ML102",)
        nodes = (ast.Call,)
        call_names = frozenset({"seed", "rand"})

        def visit(self, node):
            raise ValueError("boom")

    class Counter(Rule):
        codes = ("ML105",)
        nodes = (ast.Call,)
        call_names = frozenset({"seed", "rand", "other"})

        def visit(self, node):
            calls.append(node.lineno)

    ctx = Context(Source("t.py", TEXT), ast.parse(TEXT), Config(), default_catalog())
    run_rules(ctx, [Broken, Counter])
    assert [f.code for f in ctx.findings] == ["ML001"]
    assert calls == [6, 7, 15]  # the other rule still sees every call it asked for


def test_cli_process_tunes_the_collector() -> None:
    code = (
        "import gc, sys\n"
        "from mllint.engine.runner import tune_gc\n"
        "before = gc.get_threshold()[0]\n"
        "tune_gc(); tune_gc()\n"
        "print(before, gc.get_threshold()[0], gc.get_freeze_count() > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["700", "70000", "True"]


def test_name_predicate_is_asked_once_per_name() -> None:
    asked: list[str] = []
    seen: list[int] = []

    class Pred(Rule):
        codes = ("ML102",)
        nodes = (ast.Call,)
        call_names = frozenset({"seed"})

        def wants_call(self, key):
            asked.append(key)
            return key.startswith(("lo", "ot"))

        def visit(self, node):
            seen.append(node.lineno)

    text = TEXT + "load(g)\nother(2)\n"
    ctx = Context(Source("t.py", text), ast.parse(text), Config(), default_catalog())
    run_rules(ctx, [Pred])
    assert seen == [6, 8, 15, 19, 20, 21]  # seed, load (x3), other (x2)
    assert len(asked) == len(set(asked)) and "load" in asked and "seed" in asked


def test_statement_scans_reach_every_statement_body() -> None:
    # One table (astwalk.STATEMENT_FIELDS) tells every statement-level scan
    # where nested statements live: imports under `async with`, `match`
    # cases and `except*` handlers are found like the others.
    from mllint.analysis.dataflow.imports import import_map

    text = (
        "async def f():\n"
        "    async with lock:\n"
        "        import pandas as pd\n"
        "match cmd:\n"
        "    case 'x':\n"
        "        from sklearn.model_selection import train_test_split as tts\n"
        "try:\n"
        "    pass\n"
        "except* ValueError:\n"
        "    import numpy as np\n"
    )
    assert import_map(ast.parse(text)) == {
        "pd": "pandas",
        "tts": "sklearn.model_selection.train_test_split",
        "np": "numpy",
    }
