"""ML108 (unpinned-notebook-install) and ML109 (out-of-order-notebook):
command parsing and execution-count edge cases beyond the fixtures."""

from __future__ import annotations

import json

import pytest

from helpers import lint, lint_notebook_text, notebook_from_cells, notebook_from_percent
from mllint.rules.notebook import unpinned_packages


@pytest.mark.parametrize(
    "command, expected",
    [
        ("pip install numpy pandas==2.2.2", ["numpy"]),
        ("pip install -q -U transformers[torch]==4.40.0 accelerate", ["accelerate"]),
        ("pip install 'numpy>=1.26' scipy~=1.11 torch==2.*", ["numpy", "scipy", "torch"]),
        ("pip install numpy>=1.2", ["numpy"]),  # unquoted: the shell redirects, numpy is unpinned
        ("python -m pip install -r requirements.txt seaborn", ["seaborn"]),
        ("python3.11 -m pip install lightgbm", ["lightgbm"]),
        ("{sys.executable} -m pip install lightgbm", ["lightgbm"]),
        ("pip3 install opencv-python-headless", ["opencv-python-headless"]),
        ("uv pip install polars", ["polars"]),
        ("PIP_NO_CACHE_DIR=1 pip install nltk", ["nltk"]),
        ("sudo pip install nltk", ["nltk"]),
        ("apt-get install -y graphviz && pip install graphviz", ["graphviz"]),
        ("pip install -q datasets evaluate >/dev/null 2>&1", ["datasets", "evaluate"]),
        ("pip install git+https://github.com/org/repo.git", ["repo"]),
        ("pip install 'pkg @ git+ssh://git@github.com/org/pkg.git'", ["pkg"]),
        ("pip install -e git+https://github.com/org/repo.git#egg=repo", ["repo"]),
        ("conda install -c conda-forge -y numpy=1.26.4 pandas", ["pandas"]),
        ("mamba install 'scipy>=1.10'", ["scipy"]),
        ("pip install numpy  # a comment", ["numpy"]),
        ("pip install -c constraints.txt xgboost", []),
        ("pip install -e .", []),
        ("pip install .[dev]", []),
        ("pip install git+https://github.com/org/repo.git@v1.0#egg=repo", []),
        ("pip install --upgrade pip setuptools wheel", []),
        ("mamba install conda-forge::scikit-learn==1.4.2", []),
        ("pip install {pkg}", []),
        ("pip install $PKG", []),
        ("pip list", []),
        ("pip show numpy", []),
        ("pip download numpy", []),
        ("pip install --index-url https://x/simple torch==2.3.0", []),
        ("pip install ./wheels/foo-1.0-py3-none-any.whl", []),
        ("pip install https://host/pkgs/foo-1.0.tar.gz", []),
        ("pip install 'numpy==1.26.4; python_version<\"3.12\"'", []),
        ("pip install -rrequirements.txt", []),
        ("pip install 'torch===2.3.0+cpu'", []),
        ("echo pip install numpy", []),
        ("python train.py --install numpy", []),
        ("pip install 'unbalanced", []),  # the shell would fail: nothing is installed
        ("", []),
    ],
)
def test_unpinned_packages(command: str, expected: list[str]) -> None:
    assert unpinned_packages(command) == expected


def _ml108(cells) -> list[tuple[int, int, int]]:
    return [(f.cell, f.cell_line, f.col) for f in lint_notebook_text(notebook_from_cells(cells)) if f.code == "ML108"]


def test_ml108_each_install_spelling() -> None:
    cells = [
        "%pip install numpy",
        "!pip install numpy",
        "out = !pip install numpy",
        "%conda install numpy",
        "%uv pip install numpy",
        "%%capture\n!pip install numpy",
        "%%bash\npip install numpy",
        "%%sh\n  pip install numpy",
        "%%script bash\npip install numpy",
        "if True:\n    !pip install numpy",
    ]
    assert _ml108(cells) == [
        (1, 1, 0), (2, 1, 0), (3, 1, 6), (4, 1, 0), (5, 1, 0), (6, 2, 0), (7, 2, 0), (8, 2, 2), (9, 2, 0), (10, 2, 4),
    ]


def test_ml108_message_names_packages_and_the_fix() -> None:
    (f,) = [f for f in lint_notebook_text(notebook_from_cells(["%pip install -q pandas scikit-learn==1.5.1 shap"])) if f.code == "ML108"]
    assert "`pandas`, `shap`" in f.message and "scikit-learn" not in f.message.split("installs")[1]
    assert "`pandas==<version>`" in f.message
    assert f.source_line == "%pip install -q pandas scikit-learn==1.5.1 shap"


def test_ml108_not_in_python_cell_magics_other_than_shell() -> None:
    cells = ["%%python\nimport subprocess", "%%writefile setup.sh\npip install numpy", "%%html\n<p>pip install numpy</p>"]
    assert _ml108(cells) == []


def test_ml108_noqa() -> None:
    assert _ml108(["%pip install numpy  # noqa: ML108"]) == []
    assert _ml108(["%%bash\npip install numpy  # noqa: ML108\npip install scipy"]) == [(1, 3, 0)]
    assert _ml108(["if True:\n    !pip install numpy  # noqa: ML108"]) == []


def test_ml108_only_notebooks() -> None:
    assert "ML108" not in [f.code for f in lint("import os\n# !pip install numpy\n")]


def _ml109(text: str):
    return [f for f in lint_notebook_text(notebook_from_percent(text)) if f.code == "ML109"]


@pytest.mark.parametrize(
    "text, cell",
    [
        ("# %% [1]\na = 1\n# %% [3]\nb = 2\n# %% [2]\nc = 3", 3),
        ("# %% [1]\na = 1\n# %% []\nb = 2\n# %% [2]\nc = 3", 3),
        ("# %% [2]\na = 1\n# %% [2]\nb = 2", 2),
        ("# %% []\na = 1\n# %% [1]\nb = 2", 2),
    ],
)
def test_ml109_flags_first_offending_cell(text: str, cell: int) -> None:
    (f,) = _ml109(text)
    assert f.cell == cell and f.cell_line == 1


@pytest.mark.parametrize(
    "text",
    [
        "# %% [1]\na = 1\n# %% [2]\nb = 2\n# %% [3]\nc = 3",
        "# %% [1]\na = 1\n# %% [5]\nb = 2\n# %% [9]\nc = 3",  # gaps: re-runs, not reported
        "# %% []\na = 1\n# %% []\nb = 2",  # cleared outputs
        "# %% [1]\na = 1\n# %% [2]\nb = 2\n# %% []\nc = 3",  # new cell at the end
        "# %% [1]\na = 1\n# %% []\n\n# %% []\n# only a comment\n# %% [2]\nb = 2",  # no code in between
        "# %% [markdown]\nText\n# %% [1]\na = 1",
    ],
)
def test_ml109_silent(text: str) -> None:
    assert _ml109(text) == []


def test_ml109_counts_all_problem_cells_once() -> None:
    (f,) = _ml109("# %% [5]\na = 1\n# %% [1]\nb = 2\n# %% [2]\nc = 3\n# %% [3]\nd = 4")
    assert f.cell == 2 and "3 cells in all" in f.message


def test_ml109_ignores_bogus_execution_counts() -> None:
    nb = json.loads(notebook_from_cells(["a = 1", "b = 2"]))
    nb["cells"][0]["execution_count"] = "7"
    nb["cells"][1]["execution_count"] = True
    assert [f for f in lint_notebook_text(json.dumps(nb)) if f.code == "ML109"] == []


def test_ml109_python_files_untouched() -> None:
    assert "ML109" not in [f.code for f in lint("# %% [3]\na = 1\n# %% [1]\nb = 2\n")]


@pytest.mark.parametrize(
    "code, flagged",
    [
        ('import subprocess, sys\nsubprocess.check_call([sys.executable, "-m", "pip", "install", "shap"])', True),
        ('import subprocess\nsubprocess.run("pip install -q shap", shell=True, check=True)', True),
        ('import os\nos.system("pip install shap")', True),
        ('get_ipython().system("pip install shap")', True),
        ('get_ipython().run_line_magic("pip", "install shap")', True),
        ('import subprocess, sys\nsubprocess.check_call([sys.executable, "-m", "pip", "install", "shap==0.46.0"])', False),
        ('import subprocess, sys\nsubprocess.check_call([sys.executable, "-m", "pip", "install", pkg])', False),
        ('import subprocess\nsubprocess.run(["python", "train.py"])', False),
        ('import os\nos.system(cmd)', False),
        ('get_ipython().run_line_magic("matplotlib", "inline")', False),
    ],
)
def test_ml108_installs_spelled_as_python_calls(code: str, flagged: bool) -> None:
    found = [f for f in lint_notebook_text(notebook_from_cells(["x = 1", code])) if f.code == "ML108"]
    assert bool(found) == flagged, found
    if flagged:
        (f,) = found
        assert f.cell == 2 and "`shap`" in f.message


def test_ml108_python_calls_not_in_scripts() -> None:
    assert "ML108" not in [f.code for f in lint('import os\nos.system("pip install shap")\n')]
