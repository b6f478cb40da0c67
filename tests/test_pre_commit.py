"""The hooks in .pre-commit-hooks.yaml, driven by the real `pre-commit`.

`pre-commit try-repo` installs this project into a fresh hook environment
(from a temporary git copy of the checkout, so uncommitted work is what gets
tested) and runs the hook in a temporary git repository holding a bad `.py`
and a bad `.ipynb`: the hook must fail with the expected codes, honour the
config's `exclude` for files pre-commit passes explicitly, and pass once the
files are clean. Installing the hook environment needs the package index
(pip), like any pre-commit user's first run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import ROOT, copy_checkout, notebook_from_cells

PRE_COMMIT = Path(sys.executable).with_name("pre-commit")

BAD_PY = """\
from sklearn.model_selection import train_test_split


def split(X, y):
    return train_test_split(X, y, test_size=0.2)
"""
CLEAN_PY = BAD_PY.replace("test_size=0.2)", "test_size=0.2, random_state=0)")

BAD_NB_CELLS = [
    {"cell_type": "markdown", "source": "# Experiment"},
    {"source": "%pip install scikit-learn", "execution_count": 1},
    {"source": "from sklearn.model_selection import train_test_split", "execution_count": 3},
    {"source": "X_tr, X_te = train_test_split(X)", "execution_count": 2},
]
CLEAN_NB_CELLS = [
    {"cell_type": "markdown", "source": "# Experiment"},
    {"source": "%pip install scikit-learn==1.5.1", "execution_count": 1},
    {"source": "from sklearn.model_selection import train_test_split", "execution_count": 2},
    {"source": "X_tr, X_te = train_test_split(X, random_state=0)", "execution_count": 3},
]

# What the hook repository needs to build and install the package.
HOOK_REPO_FILES = ("src", "rules", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")


def _git(cwd: Path, *args: str) -> None:
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.invalid",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.invalid",
        GIT_CONFIG_NOSYSTEM="1",
        HOME=str(cwd),
    )
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _make_hook_repo(dest: Path) -> Path:
    copy_checkout(dest, HOOK_REPO_FILES)
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "hook repo snapshot")
    return dest


def _write_project(repo: Path, clean: bool) -> None:
    (repo / "train.py").write_text(CLEAN_PY if clean else BAD_PY)
    (repo / "explore.ipynb").write_text(notebook_from_cells(CLEAN_NB_CELLS if clean else BAD_NB_CELLS))
    legacy = repo / "legacy"
    legacy.mkdir(exist_ok=True)
    # Excluded by the config below: never reported, although pre-commit
    # passes it on the command line.
    (legacy / "old.py").write_text(BAD_PY)
    (repo / "pyproject.toml").write_text('[tool.mllint]\nselect = ["ALL"]  # ML102 is opt-in\nexclude = ["legacy/"]\n')
    _git(repo, "add", "-A")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    if not PRE_COMMIT.exists() and shutil.which("pre-commit") is None:
        pytest.fail("pre-commit is not installed (it is a dev dependency: make dev)")
    if shutil.which("git") is None:
        pytest.fail("git is needed to run pre-commit")
    base = tmp_path_factory.mktemp("pre-commit")
    hook_repo = _make_hook_repo(base / "hook-repo")
    project = base / "project"
    project.mkdir()
    _git(project, "init", "-q", "-b", "main")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "VIRTUAL_ENV", "PYTHONPATH"))}
    env["PRE_COMMIT_HOME"] = str(base / "pre-commit-home")
    env["HOME"] = os.environ.get("HOME", str(base))
    env["NO_COLOR"] = "1"
    return hook_repo, project, env


def _try_repo(workspace) -> subprocess.CompletedProcess:
    """Run every hook of the repo (one hook environment per call: try-repo
    always installs into a fresh temporary store)."""
    hook_repo, project, env = workspace
    exe = str(PRE_COMMIT) if PRE_COMMIT.exists() else "pre-commit"
    return subprocess.run(
        [exe, "try-repo", str(hook_repo), "--all-files", "--verbose", "--color", "never"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _sections(output: str) -> dict[str, str]:
    """Split pre-commit's output into each hook's part, by hook name."""
    parts: dict[str, str] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("mllint (flake8)."):
            current = "mllint-flake8"
        elif line.startswith("mllint (fix)."):
            current = "mllint-fix"
        elif line.startswith("mllint."):
            current = "mllint"
        if current:
            parts[current] = parts.get(current, "") + line + "\n"
    return parts


def test_hooks_manifest_is_valid() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert by_id["mllint"]["entry"] == "mllint check"
    assert by_id["mllint"]["types_or"] == ["python", "pyi", "jupyter"]
    assert by_id["mllint-fix"]["entry"] == "mllint fix"
    assert by_id["mllint-flake8"]["entry"].startswith("flake8") and "--select ML" in by_id["mllint-flake8"]["entry"]
    assert all(h["language"] == "python" for h in hooks)


def test_hooks_fail_on_bad_files_and_pass_on_clean(workspace) -> None:
    _, project, _ = workspace
    _write_project(project, clean=False)
    bad = _try_repo(workspace)
    out = bad.stdout + bad.stderr
    assert bad.returncode == 1, out
    hooks = _sections(bad.stdout)
    assert set(hooks) == {"mllint", "mllint-fix", "mllint-flake8"}, out

    mllint = hooks["mllint"]
    assert "Failed" in mllint.splitlines()[0], out
    # the text report groups findings under each file's path
    assert "train.py" in mllint and "5:12       ML102" in mllint, out
    assert "explore.ipynb" in mllint, out
    assert "cell 2:1:1 ML108" in mllint, out
    assert "cell 4:1:1 ML109" in mllint, out
    assert "cell 4:1:14 ML102" in mllint, out
    # legacy/old.py is passed explicitly by pre-commit but excluded by the config
    assert "Found 4 findings in 2 of 2 files" in mllint, out
    assert "old.py" not in mllint, out

    # only unsafe fixes are available: nothing is changed, the findings remain
    fix = hooks["mllint-fix"]
    assert "Failed" in fix.splitlines()[0] and "ML102" in fix, out
    assert "files were modified" not in fix, out

    flake8 = hooks["mllint-flake8"]
    assert "Failed" in flake8.splitlines()[0], out
    assert "train.py:5:12: ML102" in flake8, out
    assert ".ipynb" not in flake8, out  # flake8 is given Python files only

    _write_project(project, clean=True)
    (project / "legacy" / "old.py").write_text(CLEAN_PY)  # flake8 has its own excludes
    _git(project, "add", "-A")
    good = _try_repo(workspace)
    out = good.stdout + good.stderr
    assert good.returncode == 0, out
    hooks = _sections(good.stdout)
    assert "Passed" in hooks["mllint"].splitlines()[0], out
    assert "Passed" in hooks["mllint-fix"].splitlines()[0], out
    assert "Passed" in hooks["mllint-flake8"].splitlines()[0], out
    assert "ML1" not in good.stdout, out
