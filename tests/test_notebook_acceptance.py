"""Acceptance for notebooks as first-class sources (issue 3):

* `mllint check examples/` reports findings in the example notebook at
  `cell N:line:col` positions that point at the right code;
* a notebook whose seed is set in cell 1 and whose randomness is used in
  cell 5 is not flagged (ML101); the reverse order is.
"""

from __future__ import annotations

import json

import pytest
from helpers import ROOT, lint_notebook_text, notebook_from_cells

from mllint.cli.main import main

EXAMPLE = ROOT / "examples" / "notebooks" / "churn_baseline.ipynb"

# (code, cell, line in cell, the code the column must point at)
EXPECTED = [
    ("ML108", 2, 1, "%pip install -q pandas==2.2.2 scikit-learn"),
    ("ML101", 5, 3, "np.random.normal(0, 0.5"),
    ("ML102", 6, 3, "train_test_split(X, y, test_size=0.2"),
    ("ML109", 8, 2, "clf = RandomForestClassifier("),
]


def _cell_lines(cell: int) -> list[str]:
    nb = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    src = nb["cells"][cell - 1]["source"]
    return ("".join(src) if isinstance(src, list) else src).split("\n")


def test_check_examples_reports_notebook_findings_at_cell_positions(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    status = main(["check", "examples/", "--format", "json", "--no-cache"])
    out = capsys.readouterr().out
    assert status == 1
    findings = [f for f in json.loads(out) if f["path"].endswith("churn_baseline.ipynb")]
    got = {(f["code"], f["cell"], f["line"]): f for f in findings}
    for code, cell, line, snippet in EXPECTED:
        assert (code, cell, line) in got, sorted(got)
        f = got[(code, cell, line)]
        text = _cell_lines(cell)[line - 1]
        assert text[f["column"] - 1 :].startswith(snippet), (code, text, f["column"])
    # every notebook finding points inside its cell
    for f in findings:
        assert f["cell"] is not None
        lines = _cell_lines(f["cell"])
        assert 1 <= f["line"] <= len(lines)
        assert 1 <= f["column"] <= len(lines[f["line"] - 1]) + 1


def test_check_examples_concise_locations(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    main(["check", "examples/notebooks", "--format", "concise", "--no-cache", "--select", "ML101,ML102,ML108,ML109"])
    out = capsys.readouterr().out
    path = "examples/notebooks/churn_baseline.ipynb"
    assert f"{path}:cell 2:1:1: ML108" in out
    assert f"{path}:cell 5:3:50: ML101" in out
    assert f"{path}:cell 6:3:36: ML102" in out
    assert f"{path}:cell 8:2:1: ML109" in out


SEED_FIRST = [
    "import numpy as np\nimport torch\n\nnp.random.seed(42)\ntorch.manual_seed(42)",
    {"cell_type": "markdown", "source": "## Data"},
    "import pandas as pd\ndf = pd.read_csv('train.csv')",
    "features = df.drop(columns=['label']).to_numpy()",
    "noise = np.random.normal(0, 0.1, size=features.shape)\nweights = torch.randn(features.shape[1])",
]
DRAW_FIRST = [
    "import numpy as np\nimport torch\n\nnoise = np.random.normal(0, 0.1, size=(100, 8))\nweights = torch.randn(8)",
    {"cell_type": "markdown", "source": "## Data"},
    "import pandas as pd\ndf = pd.read_csv('train.csv')",
    "features = df.drop(columns=['label']).to_numpy()",
    "np.random.seed(42)\ntorch.manual_seed(42)",
]


def test_seed_in_cell_1_and_randomness_in_cell_5_is_not_flagged() -> None:
    found = lint_notebook_text(notebook_from_cells(SEED_FIRST))
    assert [f for f in found if f.code == "ML101"] == []


def test_randomness_before_the_seed_is_flagged() -> None:
    found = [f for f in lint_notebook_text(notebook_from_cells(DRAW_FIRST)) if f.code == "ML101"]
    assert sorted((f.cell, f.cell_line, f.col) for f in found) == [(1, 4, 8), (1, 5, 10)]
    assert all("cell 5" in f.message for f in found), [f.message for f in found]


@pytest.mark.parametrize("order", ["seed-first", "draw-first"])
def test_seed_order_across_cells_with_magics_between(order: str) -> None:
    cells = list(SEED_FIRST if order == "seed-first" else DRAW_FIRST)
    cells.insert(2, "%matplotlib inline\n!nvidia-smi")
    cells.insert(4, "%%bash\necho not python")
    found = [f for f in lint_notebook_text(notebook_from_cells(cells)) if f.code == "ML101"]
    assert bool(found) == (order == "draw-first")


# --- discovery and report formats for notebooks ------------------------------------

BAD_CELLS = [
    {"cell_type": "markdown", "source": "# t"},
    "from sklearn.model_selection import train_test_split",
    "%matplotlib inline\nX_tr, X_te = train_test_split(X)",
]


def _project(tmp_path):
    (tmp_path / "train.py").write_text("from sklearn.model_selection import train_test_split\na, b = train_test_split(X)\n")
    (tmp_path / "exp.ipynb").write_text(notebook_from_cells(BAD_CELLS))
    ck = tmp_path / ".ipynb_checkpoints"
    ck.mkdir()
    (ck / "exp-checkpoint.ipynb").write_text(notebook_from_cells(BAD_CELLS))
    r = json.loads(notebook_from_cells(["x <- 1 %>% f("]))
    r["metadata"]["kernelspec"]["language"] = "R"
    r["metadata"]["language_info"]["name"] = "R"
    (tmp_path / "analysis_r.ipynb").write_text(json.dumps(r))
    return tmp_path


def test_discovery_picks_up_notebooks_and_skips_checkpoints(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(_project(tmp_path))
    status = main(["check", ".", "--format", "json", "--no-cache"])
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert status == 1
    assert sorted((f["path"], f["code"], f["cell"], f["line"], f["column"]) for f in data) == [
        ("exp.ipynb", "ML102", 3, 2, 14),
        ("train.py", "ML102", None, 2, 8),
    ]
    # the R notebook is skipped with an info line on stderr, not a finding
    assert "analysis_r.ipynb: skipped: notebook kernel language is 'R', not Python" in captured.err


def _file_line_col(path, line: int, col: int) -> str:
    return path.read_text().split("\n")[line - 1][col - 1 :]


def test_sarif_and_github_locations_for_notebooks(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(_project(tmp_path))
    main(["check", "exp.ipynb", "--format", "sarif", "--no-cache"])
    sarif = json.loads(capsys.readouterr().out)
    (result,) = sarif["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    # the region is the place in the .ipynb JSON text holding the code
    assert _file_line_col(tmp_path / "exp.ipynb", region["startLine"], region["startColumn"]).startswith(
        'train_test_split(X)"'
    )
    assert region["endLine"] == region["startLine"]
    assert region["endColumn"] - region["startColumn"] == len("train_test_split(X)")
    assert result["properties"]["cell"] == 3
    assert (result["properties"]["cellLine"], result["properties"]["cellColumn"]) == (2, 14)
    assert result["message"]["text"].startswith("cell 3: ")

    main(["check", "exp.ipynb", "--format", "github", "--no-cache"])
    (line,) = capsys.readouterr().out.splitlines()
    props = dict(p.split("=", 1) for p in line.split("::")[1].split(" ", 1)[1].split(","))
    assert props["file"] == "exp.ipynb"
    assert _file_line_col(tmp_path / "exp.ipynb", int(props["line"]), int(props["col"])).startswith("train_test_split")
    assert line.split("::", 2)[2].startswith("cell 3, line 2, col 14: ")


def test_notebook_report_without_an_exact_file_position(tmp_path, monkeypatch) -> None:
    from mllint.core.catalog import default_catalog
    from mllint.core.config import Config
    from mllint.engine.lint import lint_path
    from mllint.report import Report, render

    monkeypatch.chdir(_project(tmp_path))
    findings = lint_path("exp.ipynb", Config())
    # the notebook changed on disk between linting and reporting
    (tmp_path / "exp.ipynb").write_text("{}")
    report = Report(findings=findings, catalog=default_catalog(), root=tmp_path)
    (result,) = json.loads(render("sarif", report))["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert "region" not in location and location["artifactLocation"]["uri"] == "exp.ipynb"
    assert result["properties"]["cell"] == 3
    (line,) = render("github", report).splitlines()
    assert "line=" not in line.split("::")[1] and "cell 3, line 2, col 14: " in line
