"""Incremental analysis (`mllint.engine.incremental`): statement-scoped rules re-run
only on the top-level statements an edit changed. Whatever the edit, the
findings must be those of a full analysis of the new text: the oracle below
edits every rule fixture and example at random (renames, a statement
replaced by `pass`, a line copied from elsewhere) and compares."""

from __future__ import annotations

import ast
import random
from collections import Counter
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT, random_edit

from mllint.core.config import Config
from mllint.core.findings import Finding
from mllint.core.sources import Source
from mllint.engine.incremental import StatementCache, skeleton
from mllint.engine.lint import lint_source
from mllint.lsp.parse import IncrementalParser
from mllint.rules.base import Rule, registered_rules

PY_FILES = sorted((FIXTURES / "rules").glob("ML*/*.py")) + sorted((ROOT / "examples").rglob("*.py"))


def _key(f: Finding) -> tuple:
    return (f.code, f.line, f.col, f.end_line, f.end_col, f.message, f.severity, f.fix)


class Session:
    """One open document: its parser and statement cache, as the server keeps them."""

    def __init__(self, text: str, path: str = "train.py", config: Config | None = None, rules: list | None = None):
        self.path = path
        self.config = config or Config()
        self.rules = rules
        self.parser = IncrementalParser(path)
        self.cache = StatementCache()
        self.lint(text)

    def lint(self, text: str) -> list[Finding]:
        tree = self.parser.parse(text)
        return lint_source(
            Source(path=self.path, text=text), self.config, rule_classes=self.rules, tree=tree, incremental=self.cache
        )


def _full(text: str, path: str = "train.py", config: Config | None = None, rules: list | None = None) -> list[Finding]:
    return lint_source(Source(path=path, text=text), config or Config(), rule_classes=rules)


STATEMENT_RULES = [rc for rc in registered_rules() if rc.scope == "statement"]


def _random_edits(text: str, rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    for _ in range(n * 3):
        if len(out) == n:
            break
        edited = random_edit(text, rng)
        if edited is not None:
            out.append(edited)
    return out


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_random_edits_give_the_full_analysis(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    rng = random.Random(path.name)
    incremental_runs = 0
    for edited in _random_edits(text, rng, 6):
        s = Session(text, str(path))
        for current in (edited, text):  # the edit, then undone
            got = Counter(map(_key, s.lint(current)))
            assert got == Counter(map(_key, _full(current, str(path)))), current
            incremental_runs += s.cache.last_mode == "incremental"
    if _random_edits(text, random.Random(path.name), 1):
        assert incremental_runs > 0  # the incremental path was exercised


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_random_edits_with_statement_rules_alone(path: Path) -> None:
    """As the language server runs them (module-scoped rules in its worker
    processes): unchanged function and class bodies are not even walked."""
    text = path.read_text(encoding="utf-8")
    rng = random.Random("alone" + path.name)
    for edited in _random_edits(text, rng, 4):
        s = Session(text, str(path), rules=STATEMENT_RULES)
        for current in (edited, text):
            got = Counter(map(_key, s.lint(current)))
            assert got == Counter(map(_key, _full(current, str(path), rules=STATEMENT_RULES))), current


def test_imports_in_unwalked_bodies_still_count() -> None:
    """ML312 is silent when the module imports a tuner anywhere, also in a
    function body the incremental walk skips."""
    src = (
        "from sklearn.ensemble import RandomForestClassifier\n\n\n"
        "def tune():\n    import optuna\n    return optuna\n\n\n"
        "def train(X, y):\n    model = RandomForestClassifier()\n    return model.fit(X, y)\n"
    )
    s = Session(src, rules=STATEMENT_RULES)
    edited = src.replace("model = Random", "modelx = Random").replace("return model.fit", "return modelx.fit")
    got = s.lint(edited)
    assert s.cache.last_mode == "incremental" and s.cache.last_dirty == 1
    assert Counter(map(_key, got)) == Counter(map(_key, _full(edited, rules=STATEMENT_RULES)))
    assert "ML312" not in {f.code for f in got}
    assert "ML312" in {f.code for f in _full(edited.replace("import optuna", "import json"), rules=STATEMENT_RULES)}


TRAIN = '''import numpy as np
import torch
from sklearn.model_selection import train_test_split


def load(path):
    import pandas as pd
    return pd.read_csv(path)


def fit(frame):
    values = frame.values
    x = np.random.rand(3)
    return values, x


def train(model, loader, optimizer):
    for batch in loader:
        loss = model(batch)
        loss.backward()
        optimizer.step()
'''


def test_an_edit_inside_one_function_rewalks_only_that_statement() -> None:
    s = Session(TRAIN)
    assert s.cache.last_mode == "full"
    edited = TRAIN.replace("values = frame.values", "valuesx = frame.values")
    got = s.lint(edited)
    assert s.cache.last_mode == "incremental" and s.cache.last_dirty == 1
    assert Counter(map(_key, got)) == Counter(map(_key, _full(edited)))
    assert "ML105" in {f.code for f in got}  # a statement-scoped finding of the edited function, recomputed
    assert "ML301" in {f.code for f in got}  # one of an untouched function, module-scoped


@pytest.mark.parametrize(
    "edit",
    [
        ("import numpy as np", "import numpy as onp"),  # an import: the semantic model changes
        ("def fit(frame):", "def fit(frame, extra=1):"),  # a signature
        ("    import pandas as pd", "    import polars as pd"),  # an import inside a function body
    ],
)
def test_a_skeleton_change_means_a_full_analysis(edit: tuple[str, str]) -> None:
    s = Session(TRAIN)
    edited = TRAIN.replace(*edit)
    got = s.lint(edited)
    assert s.cache.last_mode == "full"
    assert Counter(map(_key, got)) == Counter(map(_key, _full(edited)))


def test_findings_of_unchanged_statements_move_with_them() -> None:
    s = Session(TRAIN)
    edited = TRAIN.replace("    values = frame.values\n", "    values = frame.values\n\n\n")
    got = s.lint(edited)
    assert s.cache.last_mode == "incremental" and s.cache.last_dirty == 1
    assert Counter(map(_key, got)) == Counter(map(_key, _full(edited)))
    moved = [f for f in got if f.code == "ML301"]  # in `train`, below the edit
    assert moved and all(f.source_line == edited.split("\n")[f.line - 1] for f in moved)


def test_config_change_means_a_full_analysis() -> None:
    s = Session(TRAIN)
    s.config = Config(ignore=["ML105"])
    got = s.lint(TRAIN.replace("values = frame.values", "valuesx = frame.values"))
    assert s.cache.last_mode == "full"
    assert "ML105" not in {f.code for f in got}


def test_skeleton_keeps_headers_and_module_code_not_bodies() -> None:
    src = '@decorate\ndef f(a, b=2):\n    return a\n\n\nclass C(Base):\n    x = 1\n\n    def m(self):\n        return 3\n\n\nSEED = 1\n'
    tree = ast.parse(src)
    lines = src.split("\n")
    f, c, seed = tree.body
    assert skeleton(f, lines) == "@decorate\ndef f(a, b=2):"
    assert skeleton(c, lines) == "class C(Base):\n    x = 1\n    def m(self):"
    assert skeleton(seed, lines) == "SEED = 1"


def test_a_statement_scoped_rule_that_reads_other_statements_is_caught() -> None:
    """The oracle can fail: a rule that wrongly declares itself
    statement-scoped (it reports every call to a function some *other*
    function's body also calls) gives stale findings after an edit."""

    class CallsSharedHelper(Rule):
        codes = ("ML401",)  # borrowed code: the rule is not registered
        nodes = (ast.Call,)
        scope = "statement"

        def visit(self, node: ast.Call) -> None:  # type: ignore[override]
            name = getattr(node.func, "id", None)
            calls = [n for n in ast.walk(self.ctx.tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == name]
            if name and len(calls) > 1:
                self.report("ML401", node, "shared")

    src = "def a():\n    helper()\n\n\ndef b():\n    helper()\n"
    tree = IncrementalParser()
    cache = StatementCache()
    cfg = Config()
    first = lint_source(Source(path="m.py", text=src), cfg, rule_classes=[CallsSharedHelper], tree=tree.parse(src), incremental=cache)
    assert len(first) == 2
    edited = src.replace("def b():\n    helper()", "def b():\n    other()")
    got = lint_source(Source(path="m.py", text=edited), cfg, rule_classes=[CallsSharedHelper], tree=tree.parse(edited), incremental=cache)
    full = lint_source(Source(path="m.py", text=edited), cfg, rule_classes=[CallsSharedHelper])
    assert cache.last_mode == "incremental"
    assert len(got) == 1 and full == []  # stale: why such a rule must stay module-scoped


def test_a_rule_that_breaks_clears_the_cache() -> None:
    class Breaks(Rule):
        codes = ("ML401",)
        nodes = (ast.Call,)
        scope = "statement"

        def visit(self, node: ast.AST) -> None:
            raise RuntimeError("boom")

    cache = StatementCache()
    parser = IncrementalParser()
    got = lint_source(Source(path="m.py", text=TRAIN), Config(), rule_classes=[Breaks], tree=parser.parse(TRAIN), incremental=cache)
    assert [f.code for f in got] == ["ML001"]
    assert cache.key is None and not cache.entries


def test_skeleton_of_a_function_lists_the_imports_in_its_body() -> None:
    src = "def f():\n    x = 1\n    if x:\n        import torch\n    return x\n"
    f = ast.parse(src).body[0]
    assert skeleton(f, src.split("\n")) == "def f():\n        import torch"


def test_declared_scopes() -> None:
    """Rules that read other statements stay module-scoped (each was shown
    to give stale findings when declared otherwise)."""
    scopes = {rc.__name__: rc.scope for rc in registered_rules()}
    for name in (
        "DataLeakage",
        "UnseededRandomness",
        "NondeterministicTraining",
        "TrainingLoopRules",
        "UnboundedTimeout",
        "UnsafeDeserialization",
        "TrustRemoteCode",
        # "nothing in this module ..." rules: a fact anywhere silences them everywhere
        "UnscaledScaleSensitiveModel",
        "HardCodedDevice",
        "ProtectedAttributeFeature",
        "EmptyColumnMisinit",
    ):
        assert scopes[name] == "module", name
    assert sum(s == "statement" for s in scopes.values()) == 20


def test_a_rule_that_breaks_during_an_incremental_run_gives_the_full_result() -> None:
    """The findings reused from untouched statements must not be lost when
    a rule breaks on the edited one: the analysis is redone in full."""

    class Flags(Rule):
        codes = ("ML401",)
        nodes = (ast.Call,)
        scope = "statement"

        def visit(self, node: ast.Call) -> None:  # type: ignore[override]
            name = getattr(node.func, "id", "")
            if name == "boom":
                raise RuntimeError("boom")
            if name == "flag":
                self.report("ML401", node, "flagged")

    src = "def a():\n    flag()\n\n\ndef b():\n    pass\n"
    edited = src.replace("    pass", "    boom()")
    parser, cache, cfg = IncrementalParser(), StatementCache(), Config()
    lint_source(Source(path="m.py", text=src), cfg, rule_classes=[Flags], tree=parser.parse(src), incremental=cache)
    got = lint_source(Source(path="m.py", text=edited), cfg, rule_classes=[Flags], tree=parser.parse(edited), incremental=cache)
    full = lint_source(Source(path="m.py", text=edited), cfg, rule_classes=[Flags])
    assert Counter(map(_key, got)) == Counter(map(_key, full))
    assert {f.code for f in got} == {"ML001", "ML401"}
    assert cache.key is None  # nothing is reused after a failure


def test_statement_scoped_messages_name_no_line() -> None:
    """Findings of a statement that moved are moved as they are, so a
    statement-scoped rule must not name a line in its message."""
    import re

    codes = {c for rc in STATEMENT_RULES for c in rc.codes}
    seen = 0
    for path in PY_FILES:
        for f in _full(path.read_text(encoding="utf-8"), str(path)):
            if f.code in codes:
                seen += 1
                assert not re.search(r"\bline \d|\blines \d|:\d+\b", f.message), (f.code, f.message)
    assert seen > 50


def test_astwalk_helpers() -> None:
    """The shared pieces: `imports_in` finds nested imports in source order
    without entering expressions; `node_memo` recomputes when its key changes."""
    from mllint.core.astwalk import imports_in, node_memo

    src = "import a\ndef f():\n    if x:\n        from b import c\n    y = lambda: __import__('d')\nclass K:\n    import e\n"
    tree = ast.parse(src)
    assert [st.lineno for st in imports_in(tree.body)] == [1, 4, 7]
    calls: list[int] = []
    f = tree.body[1]
    assert node_memo(f, "t", 1, lambda: calls.append(1) or "one") == "one"
    assert node_memo(f, "t", 1, lambda: calls.append(2) or "again") == "one"
    assert node_memo(f, "t", 2, lambda: calls.append(3) or "two") == "two"
    assert calls == [1, 3]
