"""nbqa is the flake8 route for notebooks: `nbqa flake8 NOTEBOOK --select=ML`
converts the code cells to a temporary .py file, runs flake8 (and so
mllint's plugin) on it, and maps flake8's `path:line:col: CODE message`
lines back to `NOTEBOOK:cell_N:line:col`. See docs/notebooks.md."""

from __future__ import annotations

import re
import subprocess
import sys

from helpers import notebook_from_cells


def _nbqa(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nbqa", "flake8", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_nbqa_flake8_maps_findings_to_cells(tmp_path) -> None:
    nb = notebook_from_cells(
        [
            {"cell_type": "markdown", "source": "# Experiment"},
            "%matplotlib inline\nfrom sklearn.model_selection import train_test_split",
            "!nvidia-smi\nX_tr, X_te = train_test_split(X, test_size=0.2)",
            "import torch\nstate = torch.load('model.pt')",
        ]
    )
    (tmp_path / "exp.ipynb").write_text(nb)
    (tmp_path / ".mllint.yaml").write_text("select: [ALL]\n")  # ML102 and ML602 are opt-in
    result = _nbqa(tmp_path, "exp.ipynb", "--select=ML")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    lines = [l for l in result.stdout.splitlines() if re.match(r"exp\.ipynb:cell_\d+:\d+:\d+: ML\d{3} ", l)]
    # nbqa numbers *code* cells (cell_2 is the second code cell, the
    # notebook's third cell); `mllint check` numbers all cells.
    assert any(l.startswith("exp.ipynb:cell_2:2:14: ML102 ") for l in lines), out
    assert any(l.startswith("exp.ipynb:cell_3:2:9: ML602 ") for l in lines), out
    # nbqa masks the magic lines: nothing is reported on them
    assert not [l for l in lines if l.startswith(("exp.ipynb:cell_1:1:", "exp.ipynb:cell_2:1:"))], out


def test_nbqa_flake8_clean_notebook_passes(tmp_path) -> None:
    nb = notebook_from_cells(
        [
            "%matplotlib inline\nfrom sklearn.model_selection import train_test_split",
            "X_tr, X_te = train_test_split(X, test_size=0.2, random_state=0)",
        ]
    )
    (tmp_path / "ok.ipynb").write_text(nb)
    result = _nbqa(tmp_path, "ok.ipynb", "--select=ML")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ML" not in result.stdout
