"""The flake8 plugin, through the real `flake8` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mllint.flake8_plugin import MLLintChecker

BAD = (
    "from sklearn import model_selection\n"
    "\n"
    "X_train, X_test = model_selection.train_test_split(X)\n"
    "other = model_selection.train_test_split(X)  # noqa: ML102\n"
)


def flake8(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


# ML102 is opt-in (not in the default rule set): the mllint config names it.
OPT_IN = '[tool.mllint]\nextend-select = ["ML102"]\n'


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(BAD)
    (tmp_path / "pyproject.toml").write_text(OPT_IN)
    return tmp_path


def test_select_ml_runs_the_default_set_without_opt_ins(project: Path) -> None:
    (project / "pyproject.toml").unlink()
    r = flake8("--select", "ML", "train.py", cwd=project)
    assert r.returncode == 0 and r.stdout == ""
    (project / "pyproject.toml").write_text('[tool.mllint]\nselect = ["ALL"]\n')
    r = flake8("--select", "ML", "train.py", cwd=project)
    assert r.returncode == 1 and "ML102" in r.stdout


def test_select_ml_reports_and_honours_flake8_noqa(project: Path) -> None:
    r = flake8("--select", "ML", "train.py", cwd=project)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines == [
        "train.py:3:19: ML102 `train_test_split(...)` is called without `random_state`: every run "
        "gives a different split; pass `random_state=42` (or your project's seed)."
    ]


def test_extend_select_adds_to_default_checks(project: Path) -> None:
    r = flake8("--extend-select", "ML", "train.py", cwd=project)
    assert "ML102" in r.stdout and "F821" in r.stdout


def test_plugin_reads_rule_options_from_pyproject(project: Path) -> None:
    (project / "pyproject.toml").write_text(OPT_IN + "seed = 99\n")
    r = flake8("--select", "ML", "train.py", cwd=project)
    assert "random_state=99" in r.stdout


def test_min_severity_option(project: Path) -> None:
    r = flake8("--select", "ML", "--mllint-min-severity", "high", "train.py", cwd=project)
    assert r.returncode == 0 and r.stdout == ""


def test_syntax_error_is_flake8s_e999_not_ours(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def f(:\n")
    r = flake8("--select", "ML,E999", "bad.py", cwd=tmp_path)
    assert "E999" in r.stdout and "ML000" not in r.stdout


def test_plugin_reuses_the_given_tree(monkeypatch) -> None:
    import ast

    import mllint.engine.lint as engine

    def no_parse(*a, **k):
        raise AssertionError("the plugin must not parse again")

    monkeypatch.setattr(engine, "parse_module", no_parse)
    tree = ast.parse(BAD)
    results = list(MLLintChecker(tree, BAD.splitlines(True), "train.py").run())
    # The plugin leaves noqa to flake8, so both calls are yielded.
    assert [(r[0], r[2][:5]) for r in results] == [(3, "ML102"), (4, "ML102")]
