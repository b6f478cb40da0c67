"""Notebooks as sources: reading, masking IPython syntax, cell mapping,
bad notebooks. See docs/notebooks.md."""

from __future__ import annotations

import json

import pytest
from helpers import lint_notebook_text, notebook_from_cells

from mllint.core.config import Config
from mllint.core.notebooks import load_notebook, mask_cell
from mllint.core.sources import SourceError
from mllint.engine.lint import lint_path

SPLIT = "from sklearn.model_selection import train_test_split\n"


def _load(cells, **kw):
    return load_notebook("nb.ipynb", notebook_from_cells(cells, **kw).encode())


def _compiles(text: str) -> None:
    import ast

    compile(text, "<cell>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


# --- masking ---------------------------------------------------------------------

MASK_CASES = [
    "%matplotlib inline\nimport numpy as np",
    "!pip install numpy\n!!ls\nx = 1",
    "files = !ls -la\nout = %sx ls\na, b = %time f()",
    "%time x = f()\n%timeit -n 10 -r 3 y = g(x)\n%time for i in range(3): pass",
    "np.random?\n??np.load\nnp.*load*?\nnp.load??",
    "if IN_COLAB:\n    !pip install x\n    %pip install y\nelse:\n    pass",
    "for i in range(3):\n    x = i\n    %time y = i\n    !echo {i}",
    "!pip install a \\\n    b c\nx = 1",
    "  %matplotlib inline\nx = 1",
    ",my_func a b\n;my_func c\n/my_func 1 2",
    "%%capture out --no-stderr\n!pip install transformers\nimport transformers",
    "\n\n%%time\nx = 1",
]


@pytest.mark.parametrize("cell", MASK_CASES)
def test_masking_keeps_lines_and_parses(cell: str) -> None:
    masked = mask_cell(cell)
    assert masked.text.count("\n") == cell.count("\n")
    assert not masked.skipped
    _compiles(masked.text)


def test_python_after_time_magics_keeps_its_columns() -> None:
    cell = "%time x = f()\n%timeit -n 10 -r 3 y = g(x)\n    %time z = h()"
    out = mask_cell("if 1:\n" + cell.replace("\n", "\n    ", 1).split("\n", 1)[0] + "\n" + "z = 1").text
    assert out.startswith("if 1:\n")
    lines = mask_cell(cell).text.split("\n")
    assert lines[0].index("x = f()") == cell.split("\n")[0].index("x = f()")
    assert lines[1].index("y = g(x)") == cell.split("\n")[1].index("y = g(x)")
    assert lines[2].index("z = h()") == cell.split("\n")[2].index("z = h()")


def test_time_magic_with_compound_statement_is_masked_whole() -> None:
    out = mask_cell("%time for i in range(3): f(i)").text
    assert out.lstrip().startswith("#")


def test_assignment_magics_keep_the_target() -> None:
    lines = mask_cell("files = !ls\nres = %timeit -o f()").text.split("\n")
    assert lines[0].startswith("files = ")
    assert lines[1].startswith("res = ")


def test_not_magics_continuations_and_strings_untouched() -> None:
    cell = "x = (a\n     % b)\ny = (a\n  != b)\nq = '''\n!not magic\n%neither\nwhat?\n'''\nz = 1  # why?\ns = 'ok?'"
    masked = mask_cell(cell)
    assert masked.text == cell
    assert masked.magics == []


def test_magic_inside_indented_block_keeps_block_valid() -> None:
    cell = "if IN_COLAB:\n    !pip install datasets\n"
    out = mask_cell(cell).text
    _compiles(out)
    assert out.split("\n")[1].startswith("    pass")


def test_magics_are_recorded_with_cell_positions() -> None:
    masked = mask_cell("import os\nif True:\n    %pip install -q numpy\nx = !pip install a \\\n  b")
    got = [(m.line, m.col, m.end_line, m.kind, m.name, m.text) for m in masked.magics]
    assert got == [
        (3, 4, 3, "line", "pip", "pip install -q numpy"),
        (4, 4, 5, "assign", "", "pip install a b"),
    ]


@pytest.mark.parametrize("magic", ["bash", "sh", "sql", "html", "javascript", "writefile out.py", "python", "script bash", "R"])
def test_non_python_cell_magics_skip_the_cell(magic: str) -> None:
    masked = mask_cell(f"%%{magic}\nthis is not python (\nat all")
    assert masked.skipped
    assert all(line.startswith("#") for line in masked.text.split("\n") if line)
    assert masked.text.count("\n") == 2
    assert masked.cell_magic == magic.split()[0]


@pytest.mark.parametrize("magic", ["time", "timeit -n 3", "capture out", "capture --no-stdout cap", "prun"])
def test_python_cell_magics_lint_the_body(magic: str) -> None:
    nb = notebook_from_cells([SPLIT + f"%%{magic}\nX_tr, X_te = train_test_split(X)"])
    # the cell magic is not the first line here: IPython would reject it; the
    # same body as its own cell is what counts
    nb = notebook_from_cells([SPLIT, f"%%{magic}\nX_tr, X_te = train_test_split(X)"])
    found = lint_notebook_text(nb)
    assert [(f.code, f.cell, f.cell_line) for f in found] == [("ML102", 2, 2)]


# --- joining and mapping -------------------------------------------------------

def test_cells_are_numbered_over_all_cells_and_findings_map_back() -> None:
    nb = notebook_from_cells(
        [
            {"cell_type": "markdown", "source": "# Title"},
            "%matplotlib inline\n" + SPLIT,
            {"cell_type": "raw", "source": "raw"},
            "\n\n    # comment\nX_tr, X_te = train_test_split(X, test_size=0.2)",
        ]
    )
    found = lint_notebook_text(nb)
    assert [(f.code, f.cell, f.cell_line, f.col) for f in found] == [("ML102", 4, 4, 13)]
    f = found[0]
    assert f.location() == "nb.ipynb:cell 4:4:14"
    assert f.source_line == "X_tr, X_te = train_test_split(X, test_size=0.2)"


def test_source_line_is_the_original_cell_text() -> None:
    nb = notebook_from_cells([SPLIT, "%time X_tr, X_te = train_test_split(X)"])
    (f,) = lint_notebook_text(nb)
    assert (f.cell, f.cell_line, f.col) == (2, 1, 19)
    assert f.source_line == "%time X_tr, X_te = train_test_split(X)"
    assert f.source_line[f.col :].startswith("train_test_split")


def test_source_as_list_and_missing_source() -> None:
    nb = json.loads(notebook_from_cells(["x = 1", "y = 2"]))
    nb["cells"][0]["source"] = [line for line in (SPLIT + "a, b = train_test_split(X)").splitlines(True)]
    del nb["cells"][1]["source"]
    found = lint_notebook_text(json.dumps(nb))
    assert [(f.code, f.cell, f.cell_line) for f in found] == [("ML102", 1, 2)]


def test_attachments_and_outputs_are_ignored() -> None:
    nb = json.loads(notebook_from_cells([{"cell_type": "markdown", "source": "![img](attachment:a.png)"}, "x = 1"]))
    nb["cells"][0]["attachments"] = {"a.png": {"image/png": "iVBORw0KGgo="}}
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["!pip install x\n"]}]
    nb["cells"][1]["execution_count"] = 1
    assert lint_notebook_text(json.dumps(nb)) == []


def test_cross_cell_program_is_one_module() -> None:
    # the import in cell 1 resolves the call in cell 3
    nb = notebook_from_cells(["from sklearn import model_selection as ms", "import os", "ms.train_test_split(X)"])
    assert [(f.code, f.cell) for f in lint_notebook_text(nb)] == [("ML102", 3)]


def test_top_level_await_and_late_future_import_parse() -> None:
    nb = notebook_from_cells(["data = await fetch()", "from __future__ import annotations\nx = 1"])
    assert lint_notebook_text(nb) == []


def test_notebook_with_no_code_cells() -> None:
    nb = notebook_from_cells([{"cell_type": "markdown", "source": "# only prose"}])
    src = load_notebook("nb.ipynb", nb.encode())
    assert src.cells == [] and src.text == "" and src.skip_reason is None
    assert lint_notebook_text(nb) == []
    empty = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    assert lint_notebook_text(empty) == []


def test_empty_code_cells_still_occupy_a_line() -> None:
    src = _load(["", SPLIT, "", "x = 1"])
    assert [(c.index, c.start, c.n_lines) for c in src.cells] == [(1, 1, 1), (2, 2, 1), (3, 3, 1), (4, 4, 1)]
    assert src.locate(4) == (4, 1)


# --- bad notebooks ---------------------------------------------------------------

def test_cell_that_does_not_parse_is_reported_and_others_still_linted() -> None:
    nb = notebook_from_cells([SPLIT, "def broken(:\n    pass", "a, b = train_test_split(X)", "x = (1,"])
    found = lint_notebook_text(nb)
    got = [(f.code, f.cell, f.cell_line) for f in found]
    assert ("ML102", 3, 1) in got
    assert ("ML000", 2, 1) in got
    assert ("ML000", 4, 1) in got
    assert all("cannot analyse this cell" in f.message for f in found if f.code == "ML000")


def test_unclosed_bracket_does_not_swallow_next_cell() -> None:
    nb = notebook_from_cells([SPLIT, "x = foo(", "a, b = train_test_split(X)"])
    got = [(f.code, f.cell) for f in lint_notebook_text(nb)]
    assert got == [("ML000", 2), ("ML102", 3)]


# --- indented cells and Python 2 (issue 17) ---------------------------------------

TORCH = "import torch\n" + SPLIT


def test_indented_cell_is_dedented_like_ipython_and_keeps_its_columns() -> None:
    # IPython strips the first line's indentation from every line that starts
    # with it; a line that does not (the last one) is left as it is.
    cell = "    a, b = train_test_split(X)\n    \n    m = torch.load('m.pt')\nc, d = train_test_split(X)"
    nb = notebook_from_cells([TORCH, cell, "e, f = train_test_split(X)"])
    found = [f for f in lint_notebook_text(nb) if f.code in ("ML000", "ML102", "ML602")]
    got = {(f.code, f.cell, f.cell_line, f.col, f.end_col) for f in found}
    assert got == {
        ("ML102", 2, 1, 11, 30),  # the call as written, 4 columns in
        ("ML602", 2, 3, 8, 26),
        ("ML102", 2, 4, 7, 26),  # a line IPython did not dedent keeps its columns
        ("ML102", 3, 1, 7, 26),
    }
    for f in found:  # the columns point at the call in the cell's own text
        assert f.source_line[f.col : f.end_col] in ("train_test_split(X)", "torch.load('m.pt')")


def test_no_fix_in_a_dedented_cell_but_elsewhere() -> None:
    nb = notebook_from_cells([TORCH, "    m = torch.load('m.pt')", "m2 = torch.load('m.pt')"])
    fixes = {f.cell: f.fix is not None for f in lint_notebook_text(nb) if f.code == "ML602"}
    assert fixes == {2: False, 3: True}


def test_tab_indented_cell_and_error_column_in_a_dedented_cell() -> None:
    nb = notebook_from_cells([SPLIT, "\ta, b = train_test_split(X)\n\tif a:\n\t    pass", "    x = (1,\n    y = 2"])
    found = lint_notebook_text(nb)
    assert ("ML102", 2, 1, 8) in {(f.code, f.cell, f.cell_line, f.col) for f in found}
    errors = [f for f in found if f.code == "ML000"]
    assert [(f.cell, f.severity.name) for f in errors] == [(3, "HIGH")]
    assert errors[0].col >= 4  # reported in the text as written, past the stripped indentation


def test_indented_python_file_is_still_an_error(tmp_path) -> None:
    p = tmp_path / "s.py"
    p.write_text("import os\n    import sys\n", encoding="utf-8")
    [f] = lint_path(p, Config())
    assert f.code == "ML000" and "unexpected indent" in f.message


def test_python2_kernel_notebook_is_one_info_note() -> None:
    nb = json.loads(notebook_from_cells([SPLIT, 'print "hello"', "a, b = train_test_split(X)"]))
    nb["metadata"]["kernelspec"] = {"name": "python2", "display_name": "Python 2", "language": "python"}
    found = lint_notebook_text(json.dumps(nb), min_severity="info")
    assert [(f.code, f.cell, f.severity.name) for f in found] == [("ML000", 2, "INFO")]
    assert found[0].message.startswith("Python 2 source, not analysed (the notebook's kernel is Python 2)")
    assert lint_notebook_text(json.dumps(nb), min_severity="low") == []


def test_python2_by_its_syntax_and_a_stray_print_statement() -> None:
    py2 = notebook_from_cells([SPLIT, 'print "a"', "a, b = train_test_split(X)", "x = 1\nprint x", "def f(:\n    pass"])
    found = lint_notebook_text(py2, min_severity="info")
    assert [(f.code, f.cell, f.severity.name) for f in found] == [("ML000", 2, "INFO")]
    assert "cell 2: missing parentheses in call to 'print'" in found[0].message
    stray = notebook_from_cells([SPLIT, 'print "a"', "a, b = train_test_split(X)"])  # Python 3 kernel, one cell
    got = [(f.code, f.cell, f.severity.name) for f in lint_notebook_text(stray, min_severity="info")]
    assert ("ML000", 2, "HIGH") in got and ("ML102", 3, "MEDIUM") in got


@pytest.mark.parametrize(
    "text",
    [
        'import os\nprint "x"\n',
        "try:\n    pass\nexcept ValueError, e:\n    pass\n",
        'exec "x = 1"\n',
        "#!/usr/bin/env python2\nx = `1`\n",
    ],
)
def test_python2_scripts(tmp_path, text: str) -> None:
    p = tmp_path / "old.py"
    p.write_text(text, encoding="utf-8")
    found = lint_path(p, Config(min_severity="info"))
    assert [(f.code, f.severity.name) for f in found] == [("ML000", "INFO")]
    assert found[0].message.startswith("Python 2 source, not analysed")


def test_invalid_json_is_ml000_with_position(tmp_path) -> None:
    p = tmp_path / "bad.ipynb"
    p.write_text('{"cells": [\n  {"cell_type": "code",\n}')
    (f,) = lint_path(p, Config())
    assert f.code == "ML000" and "invalid notebook JSON" in f.message
    assert f.line == 3 and f.cell is None


@pytest.mark.parametrize(
    "content, reason",
    [
        ('{"cells": "nope", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "'cells' must be a list"),
        ('{"cells": [{"source": "x = 1"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "cell 1"),
        ('{"cells": [{"cell_type": "code", "source": 42}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "'source'"),
        ('{"cells": [3], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "cell 1"),
        ('{"cells": [], "metadata": {}, "nbformat": 5, "nbformat_minor": 0}', "nbformat version 5"),
        ('{"metadata": {}}', "not a Jupyter notebook"),
        ("[1, 2, 3]", "not a Jupyter notebook"),
    ],
)
def test_schema_invalid_notebooks_are_ml000(tmp_path, content: str, reason: str) -> None:
    p = tmp_path / "bad.ipynb"
    p.write_text(content)
    found = lint_path(p, Config())
    assert [f.code for f in found] == ["ML000"], found
    assert reason in found[0].message
    with pytest.raises(SourceError):
        load_notebook(p)


def test_undecodable_notebook_is_ml000(tmp_path) -> None:
    p = tmp_path / "bad.ipynb"
    p.write_bytes(b'{"cells": ["\xff\xfe"]}')
    (f,) = lint_path(p, Config())
    assert f.code == "ML000" and "UTF-8" in f.message


def test_lint_schema_violations_that_do_not_touch_code(tmp_path) -> None:
    # no outputs, no metadata on the cell, a bogus execution_count: still linted
    nb = {
        "cells": [{"cell_type": "code", "source": SPLIT + "a, b = train_test_split(X)", "execution_count": "x"}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    p = tmp_path / "nb.ipynb"
    p.write_text(json.dumps(nb))
    assert [(f.code, f.cell, f.cell_line) for f in lint_path(p, Config())] == [("ML102", 1, 2)]


@pytest.mark.parametrize(
    "meta",
    [
        {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}, "language_info": {"name": "R"}},
        {"kernelspec": {"name": "julia-1.10", "display_name": "Julia 1.10", "language": "julia"}, "language_info": {"name": "julia"}},
        {"kernelspec": {"name": "scala", "language": "scala"}},
    ],
)
def test_non_python_kernels_are_skipped_with_a_reason(meta) -> None:
    nb = {
        "cells": [{"cell_type": "code", "source": "library(ggplot2)\nx <- c(1, 2) %>% sum(", "metadata": {}, "outputs": [], "execution_count": 1}],
        "metadata": meta,
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    text = json.dumps(nb)
    src = load_notebook("r.ipynb", text.encode())
    assert src.skip_reason and "not Python" in src.skip_reason
    assert meta["kernelspec"]["language"] in src.skip_reason
    assert lint_notebook_text(text) == []


@pytest.mark.parametrize(
    "meta",
    [
        {},
        {"kernelspec": {"name": "python3", "language": "python"}},
        {"language_info": {"name": "python", "version": "3.11.4"}},
        {"language_info": {"name": "pyspark", "mimetype": "text/x-python", "pygments_lexer": "python3"}},
    ],
)
def test_python_kernels_are_linted(meta) -> None:
    nb = {
        "cells": [{"cell_type": "code", "source": SPLIT + "a, b = train_test_split(X)", "metadata": {}, "outputs": [], "execution_count": None}],
        "metadata": meta,
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    text = json.dumps(nb)
    assert load_notebook("nb.ipynb", text.encode()).skip_reason is None
    assert [f.code for f in lint_notebook_text(text)] == ["ML102"]


def test_vscode_cell_language_override_skips_cell() -> None:
    nb = json.loads(notebook_from_cells([SPLIT, "SELECT * FROM t WHERE (", "a, b = train_test_split(X)"]))
    nb["cells"][1]["metadata"]["vscode"] = {"languageId": "sql"}
    assert [(f.code, f.cell) for f in lint_notebook_text(json.dumps(nb))] == [("ML102", 3)]


V3 = {
    "metadata": {"name": "old"},
    "nbformat": 3,
    "nbformat_minor": 0,
    "worksheets": [
        {
            "cells": [
                {"cell_type": "heading", "level": 1, "metadata": {}, "source": ["Old notebook"]},
                {
                    "cell_type": "code",
                    "collapsed": False,
                    "input": ["%pylab inline\n", "from sklearn.model_selection import train_test_split"],
                    "language": "python",
                    "metadata": {},
                    "outputs": [],
                    "prompt_number": 1,
                },
                {"cell_type": "markdown", "metadata": {}, "source": ["text"]},
                {
                    "cell_type": "code",
                    "collapsed": False,
                    "input": ["a, b = train_test_split(X)"],
                    "language": "python",
                    "metadata": {},
                    "outputs": [],
                    "prompt_number": 2,
                },
            ],
            "metadata": {},
        }
    ],
}


def test_v3_notebook_is_upgraded() -> None:
    text = json.dumps(V3)
    src = load_notebook("old.ipynb", text.encode())
    assert [(c.index, c.execution_count) for c in src.cells] == [(2, 1), (4, 2)]
    assert [(f.code, f.cell, f.cell_line) for f in lint_notebook_text(text)] == [("ML102", 4, 1)]


def test_noqa_on_a_cell_line() -> None:
    nb = notebook_from_cells([SPLIT, "a, b = train_test_split(X)  # noqa: ML102", "c, d = train_test_split(X)"])
    assert [(f.code, f.cell) for f in lint_notebook_text(nb)] == [("ML102", 3)]


def test_windows_line_endings_and_form_feed() -> None:
    nb = json.loads(notebook_from_cells(["x = 1"]))
    nb["cells"][0]["source"] = "import os\r\n\x0c\r\n" + SPLIT.replace("\n", "\r\n") + "a, b = train_test_split(X)"
    found = lint_notebook_text(json.dumps(nb))
    assert [(f.code, f.cell, f.cell_line) for f in found] == [("ML102", 1, 4)]
    assert found[0].source_line == "a, b = train_test_split(X)"


# --- robustness ------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mllint.rules.notebook import unpinned_packages  # noqa: E402

_PIECES = [*"%!?#\\'\"()[]{}=:;,/ \t\nabcxyz019.*-_@$&|<>\r", "pip install ", "%%time\n", "%%bash\n", "'''", "if x:\n    ", "%time "]
_CELL_TEXT = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_CELL_TEXT)
def test_masking_never_raises_and_keeps_lines(cell: str) -> None:
    masked = mask_cell(cell)
    normalised = cell.replace("\r\n", "\n").replace("\r", "\n")
    assert masked.text.count("\n") == normalised.count("\n")
    for m in masked.magics:
        assert 1 <= m.line <= m.end_line <= normalised.count("\n") + 1


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELL_TEXT, max_size=4), st.lists(st.one_of(st.none(), st.integers(-2, 9), st.text(max_size=2)), max_size=4))
def test_notebooks_of_arbitrary_cells_never_raise(cells: list[str], counts: list) -> None:
    nb = json.loads(notebook_from_cells(cells or [""]))
    for cell, count in zip(nb["cells"], counts):
        cell["execution_count"] = count
    found = lint_notebook_text(json.dumps(nb))
    assert not [f for f in found if f.code == "ML001"], [f.message for f in found]
    for f in found:
        assert f.cell is not None and f.cell_line is not None and f.cell_line >= 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_install_parsing_never_raises(command: str) -> None:
    assert isinstance(unpinned_packages("pip install " + command), list)


# --- positions in the .ipynb text (SARIF / GitHub) ----------------------------------

from mllint.core.notebooks import NotebookFileMap  # noqa: E402


def _at(text: str, pos) -> str:
    line, col = pos
    return text.split("\n")[line - 1][col:]


def test_file_map_list_sources_with_escapes() -> None:
    text = notebook_from_cells([{"cell_type": "markdown", "source": "# t"}, 'import os\nx = "é\\"q\\\\" + f(1)\n\tz = "🙂" + g()'])
    fmap = NotebookFileMap.from_text(text)
    assert _at(text, fmap.position(2, 1, 0)).startswith("import os")
    assert _at(text, fmap.position(2, 2, 15)).startswith("f(1)")
    assert _at(text, fmap.position(2, 3, 11)).startswith("g()")
    assert fmap.position(2, 9, 0) is None  # no such line
    assert fmap.position(1, 1, 0) is not None  # a markdown cell has a source too
    assert fmap.position(7, 1, 0) is None


def test_file_map_string_source_and_odd_splits() -> None:
    nb = json.loads(notebook_from_cells(["x"]))
    nb["cells"][0]["source"] = "import os\ny = train_test_split(X)"
    text = json.dumps(nb, indent=1, ensure_ascii=True)
    fmap = NotebookFileMap.from_text(text)
    assert _at(text, fmap.position(1, 2, 4)).startswith("train_test_split(X)")
    # a list whose pieces do not end at line ends
    nb["cells"][0]["source"] = ["import o", "s\ny = tr", "ain_test_split(X)"]
    text = json.dumps(nb, indent=2)
    fmap = NotebookFileMap.from_text(text)
    assert _at(text, fmap.position(1, 2, 4)).startswith("tr")
    assert _at(text, fmap.position(1, 2, 6)).startswith("ain_test_split")


def test_file_map_rejects_non_v4() -> None:
    assert NotebookFileMap.from_text("{not json") is None
    assert NotebookFileMap.from_text('{"worksheets": []}') is None


@pytest.mark.parametrize(
    "cells",
    [
        ["if x:\n    a = 1", "else:\n    b = 2", "a, b = train_test_split(X)"],  # a block continued in the next cell
        ["x = foo(1,", "2)", "a, b = train_test_split(X)"],  # brackets closed in the next cell
        ['s = """', '"""', "a, b = train_test_split(X)"],  # a string closed in the next cell
        ["x = 1 + \\", "2", "a, b = train_test_split(X)"],  # backslash continuation into the next cell
    ],
)
def test_statements_never_run_across_cells(cells) -> None:
    nb = notebook_from_cells([SPLIT, *cells])
    got = sorted((f.code, f.cell) for f in lint_notebook_text(nb))
    assert ("ML102", 4) in got
    assert any(code == "ML000" for code, _ in got), got
