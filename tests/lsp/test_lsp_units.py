"""The server's pure parts, without a server: position conversion, severity
mapping, fix-all selection, noqa edits, incremental parsing, analyses."""

from __future__ import annotations

import ast
import random
import warnings

import pytest
from lsprotocol import types

from mllint.core.config import Config
from mllint.core.findings import Edit, Fix
from mllint.core.severity import Severity
from mllint.lsp.analysis import Cell, analyse_notebook, analyse_python
from mllint.lsp.convert import compatible_fixes, lsp_severity, split_lines, to_units
from mllint.lsp.noqa import NoqaPlanner
from mllint.lsp.parse import IncrementalParser

U8, U16, U32 = (types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16, types.PositionEncodingKind.Utf32)


@pytest.mark.parametrize(
    "line,col,enc,want",
    [
        ("abc = f(x)", 6, U16, 6),
        ('s = "é"; f(x)', 9, U16, 9),  # é is one UTF-16 unit
        ('s = "é"; f(x)', 9, U8, 10),  # ... and two UTF-8 bytes
        ('s = "\U0001f600"; f(x)', 9, U16, 10),  # outside the BMP: a surrogate pair
        ('s = "\U0001f600"; f(x)', 9, U8, 12),
        ('s = "\U0001f600"; f(x)', 9, U32, 9),
        ("ab", 4, U16, 4),  # past the end of the line
        ("ab", -1, U16, 0),
    ],
)
def test_to_units(line, col, enc, want):
    assert to_units(line, col, enc) == want


def test_severity_mapping():
    assert lsp_severity(Severity.CRITICAL) == lsp_severity(Severity.HIGH) == types.DiagnosticSeverity.Error
    assert lsp_severity(Severity.MEDIUM) == lsp_severity(Severity.LOW) == types.DiagnosticSeverity.Warning
    assert lsp_severity(Severity.INFO) == types.DiagnosticSeverity.Information


def test_split_lines_only_at_line_breaks():
    assert split_lines("a\x0cb\r\nc\rd\ne\u2028f") == ["a\x0cb", "c", "d", "e\u2028f"]


def _fix(*spans, applicability="safe"):
    return Fix("t", tuple(Edit(ln, c, el, ec, "x") for ln, c, el, ec in spans), applicability)


def test_compatible_fixes_skips_overlaps_and_unsafe():
    a = _fix((1, 0, 1, 5))
    b = _fix((1, 3, 1, 8))  # overlaps a
    c = _fix((2, 0, 2, 1))
    d = _fix((3, 0, 3, 1), applicability="unsafe")
    e = _fix((2, 1, 2, 1))  # an insertion right where c ends: compatible
    f = _fix((4, 2, 4, 2))
    g = _fix((4, 2, 4, 2))  # two insertions at one point: order unknown
    assert compatible_fixes([b, a, c, d, e, f, g]) == [a, c, e, f]


def test_noqa_appends_merges_and_refuses():
    text = (
        "x = f(a)\n"
        "y = g(b)  # noqa: ML101\n"
        "z = h(c)  # noqa\n"
        's = """text\n'
        'more"""\n'
        "w = k(d) \\\n"
        "    + 1\n"
        "v = m(e)  # a note\n"
    )
    planner = NoqaPlanner(text)
    assert planner.edit(1, "ML102") == Edit(1, 8, 1, 8, "  # noqa: ML102")
    assert planner.edit(2, "ML102") == Edit(2, 23, 2, 23, ", ML102")
    assert planner.edit(2, "ML101") is None  # already there
    assert planner.edit(3, "ML102") is None  # a blanket noqa covers it
    assert planner.edit(4, "ML102") is None  # the line ends inside a string
    assert planner.edit(6, "ML102") is None  # backslash continuation
    assert planner.edit(8, "ML102") == Edit(8, 18, 8, 18, "  # noqa: ML102")
    assert planner.edit(99, "ML102") is None


def test_noqa_on_unparsable_text_still_appends():
    planner = NoqaPlanner("x = (\n")
    assert planner.edit(1, "ML000") == Edit(1, 5, 1, 5, "  # noqa: ML000")


BASE = '''\
import numpy as np
from sklearn.model_selection import train_test_split


@decorator
# a comment between decorator and def
def load(path,
         sep=","):
    """Load.

    Long docstring."""
    return np.loadtxt(path); x = 1


def train(X, y):
    X_train, X_test, y_train, y_test = train_test_split(X, y)
    for i in range(3):
        if i:
            pass
        else:
            print(i)
    return X_train


if __name__ == "__main__":
    train(None, None)
else:
    pass
s = """multi
line"""
'''

_GOOD = ["z = 1", "pass", "# note", "", "a = (1,\n{ind}2)", "if z:\n{ind}    pass", "def h():\n{ind}    return 1"]
_BAD = ["(", ")", "else:", "@d", '"""', "\\", ":", "'", "    "]


def test_incremental_parser_matches_full_parse_on_random_edits():
    rng = random.Random(7)
    incremental = 0
    for _ in range(2):
        parser = IncrementalParser()
        current = BASE
        parser.parse(current)
        for _ in range(120):
            lines = current.split("\n")
            i = rng.randrange(len(lines))
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            op = rng.random()
            if op < 0.15:
                col = rng.randrange(len(lines[i]) + 1)
                lines[i] = lines[i][:col] + rng.choice(_BAD + ["x", "1", " "]) + lines[i][col:]
            elif op < 0.4:
                del lines[i : i + rng.randrange(1, 4)]
            elif op < 0.55:
                lines[i] += rng.choice(["x", "  # note", "1", ""])
            else:
                lines.insert(i, indent + rng.choice(_GOOD).format(ind=indent))
            new = "\n".join(lines)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    want = ast.dump(ast.parse(new), include_attributes=True)
            except SyntaxError:
                want = None
            try:
                got = ast.dump(parser.parse(new), include_attributes=True)
            except SyntaxError:
                got = None
            assert got == want, new
            if want is not None and parser.last_mode == "incremental":
                incremental += 1
            if want is not None:  # a broken text is parsed, then edited from the last good one
                current = new
    assert incremental >= 20, incremental  # the shortcut is actually taken


def test_incremental_parser_edit_in_one_function_reuses_the_others():
    parser = IncrementalParser()
    first = parser.parse(BASE)
    train_before = first.body[3]
    second = parser.parse(BASE.replace("return X_train", "return X_test"))
    assert parser.last_mode == "incremental"
    assert second.body[0] is first.body[0]  # untouched statements are reused
    assert second.body[3] is not train_before
    edited = BASE.replace("return X_train", "return X_test").replace("import numpy as np\n", "import numpy as np\n\n\n")
    third = parser.parse(edited)  # lines inserted above: later statements are shifted
    assert parser.last_mode == "incremental"
    assert ast.dump(third, include_attributes=True) == ast.dump(ast.parse(edited), include_attributes=True)


def test_analyse_python_reports_ml000_for_unparsable_text():
    result = analyse_python("file:///t.py", None, "def f(:\n", 3, Config(), U16, IncrementalParser())
    assert [e.finding.code for e in result.entries] == ["ML000"]
    assert result.version == 3


def test_analyse_notebook_places_findings_in_cells():
    cells = [
        Cell("cell:0", "markdown", "# title"),
        Cell("cell:1", "code", "from sklearn.model_selection import train_test_split", "python"),
        Cell("cell:2", "code", "!pip install x\nparts = train_test_split(X, y)", "python"),
    ]
    result = analyse_notebook("file:///nb.ipynb", None, cells, 1, Config(), U16)
    (entry,) = [e for e in result.entries if e.finding.code == "ML102"]
    assert entry.uri == "cell:2"
    assert entry.diagnostic.range.start == types.Position(line=1, character=8)
    assert entry.fix_edits is not None and entry.fix_edits[0].range.start.line == 1
    noqa = entry.noqa_edit()
    assert noqa is not None and noqa.range.start.line == 1 and noqa.new_text == "  # noqa: ML102"
    assert result.targets == ["cell:1", "cell:2"]


def test_config_cache_reloads_changed_file_and_survives_a_broken_one(tmp_path):
    from mllint.lsp.analysis import ConfigCache

    (tmp_path / "pyproject.toml").write_text('[tool.mllint]\nignore = ["ML102"]\n')
    doc = str(tmp_path / "train.py")
    cache = ConfigCache(min_severity=Severity.MEDIUM)
    config = cache.for_path(doc)
    assert config.ignore == ["ML102"] and config.min_severity == Severity.MEDIUM
    (tmp_path / "pyproject.toml").write_text('[tool.mllint]\nignore = ["ML1"]\nbogus-key = 1\n')
    config = cache.for_path(doc)  # size changed: re-read, invalid: defaults
    assert config.ignore == [] and cache.errors and "bogus-key" in cache.errors[0]
    (tmp_path / "pyproject.toml").write_text('[tool.mllint]\nignore = ["ML201"]\n')
    assert cache.for_path(doc).ignore == ["ML201"]
