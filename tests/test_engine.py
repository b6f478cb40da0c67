"""Engine: single walk, semantic resolution, suppressions, error isolation."""

from __future__ import annotations

import ast

from helpers import codes, lint, qualname_probes

from mllint.analysis.semantic import SemanticModel
from mllint.core.config import Config
from mllint.core.sources import Source
from mllint.engine.lint import lint_source
from mllint.rules.base import Rule


def _resolve(text: str, expr: str) -> str | None:
    """Qualified name of `expr` as seen at the end of `text`."""
    return qualname_probes(text + f"\n__probe__ = {expr}\n")[0]


def test_import_alias_resolution() -> None:
    assert _resolve("import numpy as np", "np.random.seed") == "numpy.random.seed"
    assert _resolve("import sklearn.model_selection as ms", "ms.KFold") == "sklearn.model_selection.KFold"
    assert _resolve("import torch.nn", "torch.nn.Linear") == "torch.nn.Linear"
    assert (
        _resolve("from sklearn.model_selection import train_test_split as tts", "tts")
        == "sklearn.model_selection.train_test_split"
    )
    assert _resolve("from sklearn import model_selection", "model_selection.train_test_split") == (
        "sklearn.model_selection.train_test_split"
    )


def test_instance_resolution_through_assignment() -> None:
    text = "import numpy as np\nrng = np.random.default_rng(0)"
    assert _resolve(text, "rng.integers") == "numpy.random.default_rng().integers"
    text = "from sklearn.ensemble import RandomForestClassifier\nclf = RandomForestClassifier()"
    assert _resolve(text, "clf.fit") == "sklearn.ensemble.RandomForestClassifier().fit"


def test_unknown_names_stay_unknown_and_builtins_resolve() -> None:
    assert _resolve("", "mystery.attr") is None
    assert _resolve("", "open") == "open"
    assert _resolve("open = 3", "open") is None


def test_function_parameter_shadows_import() -> None:
    text = "from sklearn.model_selection import train_test_split as tts\ndef f(tts):\n    return tts(X)\n"
    assert codes(text) == []


def test_noqa_line_codes_and_blanket() -> None:
    src = (
        "from sklearn.model_selection import train_test_split\n"
        "a = train_test_split(X)  # noqa: ML102\n"
        "b = train_test_split(X)  # noqa\n"
        "c = train_test_split(X)  # noqa: ML101\n"
        "d = train_test_split(X)  # NOQA:ML101,ML102\n"
    )
    assert [f.line for f in lint(src)] == [4]


def test_noqa_inside_string_is_not_a_suppression() -> None:
    src = (
        "from sklearn.model_selection import train_test_split\n"
        "a = train_test_split(X, stratify='# noqa')\n"
    )
    assert [f.line for f in lint(src)] == [2]


def test_file_level_noqa() -> None:
    body = "from sklearn.model_selection import train_test_split\na = train_test_split(X)\n"
    assert lint("# mllint: noqa\n" + body) == []
    assert lint("# mllint: noqa: ML102\n" + body) == []
    assert [f.code for f in lint("# mllint: noqa: ML101\n" + body)] == ["ML102"]


def test_syntax_error_is_ml000_with_position() -> None:
    [f] = lint("def train(:\n    pass\n")
    assert f.code == "ML000" and f.line == 1 and "syntax error" in f.message


def test_deep_expression_is_walked_without_recursion() -> None:
    # Deep enough that a recursive walker would exceed the recursion limit.
    deep = "x = " + "+".join(["1"] * 900) + "\n"
    assert lint(deep) == []


def test_too_deep_for_the_parser_is_ml000_not_a_crash() -> None:
    deep = "x = " + "+".join(["1"] * 200000) + "\n"
    [f] = lint(deep)
    assert f.code == "ML000" and "too deeply nested" in f.message


def test_crashing_rule_is_isolated_and_reported() -> None:
    class Boom(Rule):
        codes = ("ML102",)
        nodes = (ast.Call,)

        def visit(self, node):
            raise ValueError("kaboom")

    src = "from sklearn.model_selection import train_test_split\ntrain_test_split(X)\n"
    from mllint.rules.random_state import RandomStateUnset

    findings = lint_source(Source("f.py", src), Config(), rule_classes=[Boom, RandomStateUnset])
    got = {f.code for f in findings}
    assert "ML001" in got and "ML102" in got
    [err] = [f for f in findings if f.code == "ML001"]
    assert "Boom" in err.message and "kaboom" in err.message and "f.py" == err.path


def test_columns_are_characters_not_bytes() -> None:
    src = "from sklearn.model_selection import train_test_split\nè = 'é'; a = train_test_split(X)\n"
    [f] = lint(src)
    assert f.col == src.splitlines()[1].index("train_test_split")


def test_min_severity_filters() -> None:
    src = "from sklearn.model_selection import train_test_split\na = train_test_split(X)\n"
    assert lint(src, min_severity="high") == []
    assert len(lint(src, min_severity="medium")) == 1


def test_severity_override() -> None:
    src = "from sklearn.model_selection import train_test_split\na = train_test_split(X)\n"
    [f] = lint(src, severity={"ML102": "critical"})
    assert f.severity.value == "critical"


def test_semantic_model_scopes() -> None:
    sem = SemanticModel()
    sem.on_import(ast.parse("import numpy as np").body[0])
    fn = ast.parse("def f(np): pass").body[0]
    sem.push_scope(fn)
    assert sem.lookup("np").kind == "param"
    sem.pop_scope()
    assert sem.lookup("np").qualname == "numpy"


def test_exception_escaping_a_whole_file_becomes_ml001(tmp_path, monkeypatch) -> None:
    import mllint.core.sources as sources
    from mllint.engine.runner import lint_file

    p = tmp_path / "a.py"
    p.write_text("x = 1\n")

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sources, "load_source", boom)
    [f] = lint_file(str(p), Config()).findings
    assert f.code == "ML001" and "RuntimeError: disk on fire" in f.message
    assert "Traceback" in f.detail and "disk on fire" in f.detail
