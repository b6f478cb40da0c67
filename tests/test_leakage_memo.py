"""The leakage analysis remembering calls between analyses of an edited file
(`mllint.analysis.dataflow.memo`): findings must be exactly those of a fresh
analysis, after any sequence of edits, and remembered calls must actually be
replayed in the common case (an edit inside one function)."""

from __future__ import annotations

import ast
import random

import pytest
from helpers import FIXTURES, ROOT, random_edit

from mllint.analysis.dataflow import analyse
from mllint.analysis.dataflow import memo as memo_mod
from mllint.analysis.dataflow.names import selected_names
from mllint.core.config import Config
from mllint.core.sources import Source
from mllint.engine.incremental import StatementCache
from mllint.engine.lint import lint_source
from mllint.lsp.parse import IncrementalParser
from mllint.rules.leakage import DataLeakage

CFG = Config()
LEAKAGE_FILES = (
    sorted((FIXTURES / "leakage").glob("*.py"))
    + sorted((FIXTURES / "leakage_holdout").glob("*.py"))
    + sorted((FIXTURES / "rules").glob("ML2*/*.py"))
    + sorted((ROOT / "examples").rglob("*.py"))
)


def _key(findings) -> list[tuple]:
    return sorted((f.code, f.line, f.col, f.end_line, f.end_col, f.message) for f in findings)


class Doc:
    """An open document: the leakage rule over the incremental parser's tree,
    as the language server's worker runs it (calls remembered)."""

    def __init__(self, text: str):
        self.parser, self.cache = IncrementalParser(), StatementCache()
        self.lint(text)

    def lint(self, text: str):
        tree = self.parser.parse(text)
        return lint_source(Source(path="m.py", text=text), CFG, rule_classes=[DataLeakage], tree=tree, incremental=self.cache)


def _fresh(text: str):
    return lint_source(Source(path="m.py", text=text), CFG, rule_classes=[DataLeakage])


def _driver_module(programs: list[str]) -> str:
    """Corpus programs as functions run one after the other by `main()`: the
    shape of a training script (each experiment a function, `main` calls
    them all), where most calls can be replayed."""
    parts, calls = [], []
    for i, src in enumerate(programs):
        lines = src.split("\n")
        imports = [ln for ln in lines if ln.startswith(("import ", "from "))]
        body = [ln for ln in lines if not ln.startswith(("import ", "from "))]
        parts.append("\n".join(imports) + f"\n\n\ndef exp_{i}(cfg):\n" + "\n".join("    " + ln if ln.strip() else "" for ln in body) + "\n    return None\n")
        calls.append(f"    exp_{i}(cfg)")
    return "\n".join(parts) + "\n\ndef main():\n    cfg = object()\n" + "\n".join(calls) + '\n\n\nif __name__ == "__main__":\n    main()\n'


def _inputs() -> list[tuple[str, str]]:
    out = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in LEAKAGE_FILES]
    programs = [p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "leakage").glob("*.py"))]
    rng = random.Random(7)
    for j in range(8):
        text = _driver_module(rng.sample(programs, 6))
        try:
            ast.parse(text)
        except SyntaxError:
            continue
        out.append((f"driver{j}", text))
    return out


@pytest.mark.parametrize("name,text", _inputs(), ids=lambda x: x if len(x) < 80 else None)
def test_edit_sequences_give_the_fresh_analysis(name: str, text: str) -> None:
    rng = random.Random(name)
    doc = Doc(text)
    current = text
    for _ in range(8):
        edited = random_edit(current, rng)
        if edited is None:
            continue
        current = edited
        assert _key(doc.lint(current)) == _key(_fresh(current)), current


SCRIPT = '''import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def load(path):
    return pd.read_csv(path)


def leaky(cfg):
    df = load("a.csv")
    X = StandardScaler().fit_transform(df.drop(columns=["y"]))
    X_train, X_test, y_train, y_test = train_test_split(X, df["y"], random_state=0)
    return LogisticRegression().fit(X_train, y_train).score(X_test, y_test)


def clean(cfg):
    frame = pd.read_csv("b.csv")
    X_train, X_test, y_train, y_test = train_test_split(frame.drop(columns=["y"]), frame["y"], random_state=0)
    scaler = StandardScaler().fit(X_train)
    model = LogisticRegression().fit(scaler.transform(X_train), y_train)
    return model.score(scaler.transform(X_test), y_test)


def main():
    cfg = object()
    leaky(cfg)
    clean(cfg)


if __name__ == "__main__":
    main()
'''


def _analyse_with_memo(parser: IncrementalParser, text: str):
    tree = parser.parse(text)
    return analyse(tree, text, selected_names(tree), memo=True)


def test_unchanged_calls_are_replayed() -> None:
    parser = IncrementalParser()
    first = _analyse_with_memo(parser, SCRIPT)
    assert first.a is not None and first.a.memo_hits == 0
    edited = SCRIPT.replace("model = LogisticRegression()", "modelx = LogisticRegression()").replace(
        "return model.score", "return modelx.score"
    )
    again = _analyse_with_memo(parser, edited)
    assert again.a is not None and again.a.memo_hits >= 1  # `leaky(cfg)`, untouched, is replayed
    fresh = analyse(ast.parse(edited), edited, selected_names(ast.parse(edited)))
    assert sorted((f.code, f.node.lineno) for f in again.findings) == sorted((f.code, f.node.lineno) for f in fresh.findings)
    assert {f.code for f in again.findings} >= {"ML201"}


def test_a_changed_helper_invalidates_its_callers() -> None:
    """`leaky` inlines `load`: editing `load` (a function `leaky` looked up)
    must not replay `leaky`'s old analysis."""
    parser = IncrementalParser()
    _analyse_with_memo(parser, SCRIPT)
    edited = SCRIPT.replace('return pd.read_csv(path)', 'return pd.read_csv("test.csv")')
    replayed: list[str] = []
    orig = memo_mod.replay

    def spy(a, fn, *args):
        out = orig(a, fn, *args)
        if out is not None:
            replayed.append(fn.name)
        return out

    memo_mod.replay = spy
    try:
        again = _analyse_with_memo(parser, edited)
    finally:
        memo_mod.replay = orig
    assert "leaky" not in replayed and "clean" in replayed
    fresh = analyse(ast.parse(edited), edited, selected_names(ast.parse(edited)))
    assert sorted((f.code, f.node.lineno) for f in again.findings) == sorted((f.code, f.node.lineno) for f in fresh.findings)


def test_a_call_reading_earlier_results_is_not_remembered() -> None:
    """A helper whose result an earlier call computed (a remembered helper
    result read from outside) taints the recording: not stored."""
    src = SCRIPT.replace("    clean(cfg)\n", "    clean(cfg)\n    again(cfg)\n") + "\n\ndef again(cfg):\n    return load()\n"
    src = src.replace("def load(path):", "def load(path=\"a.csv\"):").replace('df = load("a.csv")', "df = load()")
    tree = IncrementalParser().parse(src)
    analyse(tree, src, selected_names(tree), memo=True)
    again = next(st for st in tree.body if isinstance(st, ast.FunctionDef) and st.name == "again")
    assert not again.__dict__.get(memo_mod.MEMO_ATTR)


def test_the_cli_never_remembers() -> None:
    tree = ast.parse(SCRIPT)
    lint_source(Source(path="m.py", text=SCRIPT), CFG, tree=tree)
    assert not any(memo_mod.MEMO_ATTR in st.__dict__ for st in tree.body)


def test_a_call_touching_an_earlier_fit_is_not_remembered() -> None:
    """`b` fits the same scaler call on the same module-level data as `a`
    did (the helper's fit event already exists): `b` changes an event that
    is not its own, so it is analysed afresh every time."""
    src = (
        "import pandas as pd\nfrom sklearn.preprocessing import StandardScaler\n"
        "from sklearn.model_selection import train_test_split\n\n"
        'DF = pd.read_csv("d.csv")\n\n\n'
        "def prep(frame):\n    return StandardScaler().fit_transform(frame)\n\n\n"
        "def a(cfg):\n    return prep(DF)\n\n\n"
        "def b(cfg):\n    X = prep(DF)\n    return train_test_split(X, random_state=0)\n\n\n"
        "def main():\n    a(1)\n    b(1)\n\n\n"
        'if __name__ == "__main__":\n    main()\n'
    )
    parser = IncrementalParser()
    tree = parser.parse(src)
    facts = analyse(tree, src, selected_names(tree), memo=True)
    by_name = {st.name: st for st in tree.body if isinstance(st, ast.FunctionDef)}
    assert by_name["a"].__dict__.get(memo_mod.MEMO_ATTR)  # a's own events: remembered
    assert not by_name["b"].__dict__.get(memo_mod.MEMO_ATTR)  # b touched a's fit
    fresh = analyse(ast.parse(src), src, selected_names(ast.parse(src)))
    assert sorted((f.code, f.node.lineno) for f in facts.findings) == sorted((f.code, f.node.lineno) for f in fresh.findings)


def test_events_after_a_replayed_call_keep_their_order() -> None:
    """`prep` (replayed) fits a scaler on every row; `main` (edited, analysed
    afresh) splits afterwards: the fit must still come before the split."""
    src = (
        "import pandas as pd\nfrom sklearn.preprocessing import StandardScaler\n"
        "from sklearn.model_selection import train_test_split\nfrom sklearn.linear_model import LogisticRegression\n\n"
        'DF = pd.read_csv("d.csv")\n\n\n'
        "def prep(cfg):\n    return StandardScaler().fit_transform(DF)\n\n\n"
        "def main():\n    X = prep(1)\n    X_train, X_test, y_train, y_test = train_test_split(X, DF['y'], random_state=0)\n"
        "    model = LogisticRegression().fit(X_train, y_train)\n    return model.score(X_test, y_test)\n\n\n"
        'if __name__ == "__main__":\n    main()\n'
    )
    doc = Doc(src)
    edited = src.replace("    model = Logistic", "    modelx = Logistic").replace("return model.score", "return modelx.score")
    got = doc.lint(edited)
    assert "ML201" in {f.code for f in got}
    assert _key(got) == _key(_fresh(edited))
