"""The public Python API (docs/api.md): `from mllint import lint_source,
lint_paths, load_config, Finding, FileResult, Config, ConfigError`."""

from __future__ import annotations

import inspect
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import mllint
from mllint import Config, ConfigError, FileResult, Finding, lint_paths, lint_source, load_config
from mllint.engine import runner

from helpers import ROOT, notebook_from_cells

SPLIT = "from sklearn.model_selection import train_test_split\nX_train, X_test = train_test_split(X)\n"
TORCH = "import torch\nmodel = torch.load('m.pt')\n"
CLEAN = "import math\nprint(math.pi)\n"


def _cli_json(*args: str, cwd: Path) -> list[dict]:
    r = subprocess.run(
        [sys.executable, "-m", "mllint", "check", "--no-cache", "--extend-select", "ALL", "--format", "json", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def _as_report(findings: list[Finding]) -> list[tuple]:
    """What the JSON report shows of a finding."""
    return [(f.path, f.code, f.cell, f.display_line, f.col + 1, f.display_end_line, f.end_col + 1, f.severity.value, f.message)
            for f in sorted(findings, key=Finding.sort_key)]


def _from_report(report: list[dict]) -> list[tuple]:
    return [(d["path"], d["code"], d["cell"], d["line"], d["column"], d["end_line"], d["end_column"], d["severity"], d["message"])
            for d in report]


# --- the package exports ----------------------------------------------------------


def test_importing_a_core_module_does_not_load_the_engine() -> None:
    code = (
        "import sys, mllint.core.severity, mllint\n"
        "assert mllint.__version__\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('mllint.engine', 'mllint.rules', 'mllint.api')))\n"
        "assert not loaded, loaded\n"
        "from mllint import lint_source, lint_paths\n"
        "assert 'mllint.api' in sys.modules and lint_source('x = 1\\n') == []\n"
        "try:\n    mllint.no_such_name\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit('no AttributeError')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_exports_are_the_documented_names() -> None:
    assert set(mllint.__all__) == {"__version__", "lint_source", "lint_paths", "load_config",
                                  "Finding", "FileResult", "Config", "ConfigError"}
    for name in mllint.__all__:
        assert getattr(mllint, name) is not None
    assert set(mllint.__all__) <= set(dir(mllint))


# --- lint_source ---------------------------------------------------------------------


def test_python_text_gives_sorted_findings_with_the_given_path() -> None:
    found = lint_source(TORCH + SPLIT.replace("X)", "X)  # noqa: ML102"), path="pkg/serve.py")
    assert [f.code for f in found] == ["ML602"]
    assert found[0].path == "pkg/serve.py" and found[0].fixable
    several = lint_source(SPLIT + TORCH, path="a.py")
    assert several == sorted(several, key=Finding.sort_key) and len(several) == 2


def test_syntax_error_is_ml000_not_an_exception() -> None:
    for text in ("def f(:\n", b"def f(:\n", "x = 1\x00\n", b"\xff\xfe\x00\x01", "x = '\ud800'\n"):
        found = lint_source(text, path="bad.py")
        assert [f.code for f in found] == ["ML000"], text
    assert lint_source("def f(:\n")[0].path == "<string>"


def test_bytes_are_decoded_as_python_decodes_source() -> None:
    latin1 = "# -*- coding: latin-1 -*-\nname = 'café'\n" + TORCH
    assert [f.code for f in lint_source(latin1.encode("latin-1"), "x.py")] == ["ML602"]
    assert lint_source(b"\xef\xbb\xbf" + TORCH.encode(), "x.py") == lint_source("\ufeff" + TORCH, "x.py") == lint_source(TORCH, "x.py")


def test_notebook_text_and_bytes_give_cell_positions() -> None:
    nb = notebook_from_cells(["import torch\n", {"cell_type": "markdown", "source": "hi"},
                              "x = 1\nmodel = torch.load('m.pt')\n"])
    as_text = lint_source(nb, path="nb.ipynb")
    assert [(f.code, f.cell, f.cell_line, f.cell_end_line) for f in as_text] == [("ML602", 3, 2, 2)]
    assert lint_source(nb.encode(), path="nb.ipynb") == as_text
    # The same text under a .py name is Python (and not valid Python code).
    assert "ML602" not in [f.code for f in lint_source(nb, path="nb.py")]


def test_notebook_findings_equal_the_cli_report(tmp_path: Path) -> None:
    src = ROOT / "examples" / "notebooks" / "churn_baseline.ipynb"
    (tmp_path / "nb.ipynb").write_bytes(src.read_bytes())
    cli = _from_report(_cli_json("nb.ipynb", cwd=tmp_path))
    assert cli and all(row[2] is not None for row in cli)
    assert _as_report(lint_source(src.read_text(encoding="utf-8"), path="nb.ipynb")) == cli


def test_invalid_notebooks_are_ml000() -> None:
    for text in ("{", '{"cells": 5}', "[1, 2]", b"\xff\xfe"):
        assert [f.code for f in lint_source(text, path="x.ipynb")] == ["ML000"], text


def test_non_python_notebook_is_skipped_without_findings() -> None:
    assert lint_source(notebook_from_cells(["library(ggplot2)\n"], language="R"), path="r.ipynb") == []


def test_config_select_ignore_and_per_file_ignores_are_honoured() -> None:
    text = SPLIT + TORCH
    assert {f.code for f in lint_source(text, "a.py")} == {"ML102", "ML602"}
    assert [f.code for f in lint_source(text, "a.py", Config(select=["ML6"]))] == ["ML602"]
    assert [f.code for f in lint_source(text, "a.py", Config(ignore=["ML602"]))] == ["ML102"]
    cfg = Config(per_file_ignores={"tests/*": ["ML1"]})
    assert [f.code for f in lint_source(text, "tests/t.py", cfg)] == ["ML602"]
    assert {f.code for f in lint_source(text, "src/t.py", cfg)} == {"ML102", "ML602"}
    assert lint_source(text, "a.py", Config(min_severity="high")) == [f for f in lint_source(text, "a.py") if f.code == "ML602"]


def test_default_config_does_not_look_for_a_project_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.mllint]\nignore = ["ML6"]\n')
    monkeypatch.chdir(tmp_path)
    assert [f.code for f in lint_source(TORCH, "x.py")] == ["ML602"]
    assert lint_source(TORCH, "x.py", load_config(".")) == []


def test_an_internal_error_is_ml001_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    import mllint.engine.lint as engine

    def broken(*a, **kw):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "lint_source", broken)
    (f,) = lint_source(TORCH, "x.py")
    assert f.code == "ML001" and "boom" in f.message


# --- load_config ---------------------------------------------------------------------


def test_load_config_reads_a_file_or_discovers_from_a_directory(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.mllint]\nignore = ["ML6"]\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "m.py").write_text(TORCH)
    for where in (tmp_path / "pyproject.toml", tmp_path, tmp_path / "sub", tmp_path / "sub" / "m.py"):
        cfg = load_config(where)
        assert cfg.ignore == ["ML6"] and cfg.root == tmp_path.resolve(), where
    other = tmp_path / "other.yaml"
    other.write_text("select: [ML1]\n")
    assert load_config(other).select == ["ML1"]
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")
    (tmp_path / "bad.yaml").write_text("ignore: 3\n")
    with pytest.raises(ConfigError, match="ignore"):
        load_config(tmp_path / "bad.yaml")


# --- lint_paths ----------------------------------------------------------------------


def _corpus(root: Path, n: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = root / f"m{i:03d}.py"
        p.write_text(SPLIT if i % 3 == 0 else (TORCH if i % 3 == 1 else CLEAN))
        out.append(p)
    return out


def test_lint_paths_is_a_lazy_generator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _corpus(tmp_path / "c", 30)
    calls: list[str] = []
    real = runner.lint_file

    def counting(path, config, data=None):
        calls.append(path)
        return real(path, config, data)

    monkeypatch.setattr(runner, "lint_file", counting)
    results = lint_paths(tmp_path / "c", Config(), jobs=1)
    assert inspect.isgenerator(results)
    assert calls == []  # nothing is linted before the first next()
    first = next(results)
    assert isinstance(first, FileResult) and calls == [first.path] == [str(files[0])]
    rest = list(results)
    assert len(calls) == 30 and [r.path for r in [first, *rest]] == [str(f) for f in files]


def test_lint_paths_equals_mllint_check_json_on_examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    cli = _from_report(_cli_json("examples", cwd=tmp_path))
    monkeypatch.chdir(tmp_path)
    results = list(lint_paths("examples"))
    assert len(cli) > 10
    assert _as_report([f for r in results for f in r.findings]) == cli
    assert {r.path for r in results} >= {"examples/notebooks/churn_baseline.ipynb", "examples/serving/app.py"}


def test_a_pool_streams_in_completion_order_with_the_same_results(tmp_path: Path) -> None:
    _corpus(tmp_path / "c", runner.PARALLEL_THRESHOLD * 3)
    serial = list(lint_paths(tmp_path / "c", Config(), jobs=1))
    started: list[int] = []
    real = runner.ProcessPoolExecutor

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, *a, **kw):
            started.append(kw["max_workers"])
            super().__init__(*a, **kw)

    mp = pytest.MonkeyPatch()
    mp.setattr(runner, "ProcessPoolExecutor", Spy)
    try:
        parallel = list(lint_paths(tmp_path / "c", Config(), jobs=2))
    finally:
        mp.undo()
    assert started == [2]
    assert sorted(parallel, key=lambda r: r.path) == serial
    assert sum(len(r.findings) for r in parallel) == runner.PARALLEL_THRESHOLD * 2


def test_stopping_early_closes_the_pool(tmp_path: Path) -> None:
    _corpus(tmp_path / "c", runner.PARALLEL_THRESHOLD * 4)
    gen = lint_paths(tmp_path / "c", Config(), jobs=2)
    assert isinstance(next(gen), FileResult)
    gen.close()  # cancels the chunks not started; must not hang or raise


def test_lint_paths_discovers_config_and_honours_gitignore_and_excludes(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "src").mkdir(parents=True)
    (proj / "src" / "a.py").write_text(SPLIT + TORCH)
    (proj / "gen").mkdir()
    (proj / "gen" / "b.py").write_text(TORCH)
    (proj / "skip_me").mkdir()
    (proj / "skip_me" / "c.py").write_text(TORCH)
    (proj / ".git").mkdir()
    (proj / ".gitignore").write_text("gen/\n")
    (proj / "pyproject.toml").write_text('[tool.mllint]\nignore = ["ML1"]\nexclude = ["skip_me"]\n')
    results = list(lint_paths([proj]))
    assert [Path(r.path).relative_to(proj).as_posix() for r in results] == ["src/a.py"]
    assert [f.code for f in results[0].findings] == ["ML602"]
    # An explicit config wins over discovery.
    (res,) = lint_paths(proj / "src" / "a.py", Config())
    assert [f.code for f in res.findings] == ["ML102", "ML602"]


def test_lint_paths_raises_at_the_call_for_a_missing_path_or_a_bad_config(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        lint_paths([tmp_path / "nope"])  # not at the first next()
    (tmp_path / "pyproject.toml").write_text('[tool.mllint]\nselect = "ML1"\n')
    (tmp_path / "a.py").write_text(CLEAN)
    with pytest.raises(ConfigError, match="select"):
        lint_paths(tmp_path)


def test_skipped_notebook_and_unwalkable_directory_come_with_info(tmp_path: Path) -> None:
    import os

    (tmp_path / "r.ipynb").write_text(notebook_from_cells(["library(x)\n"], language="R"))
    (tmp_path / "a.py").write_text(TORCH)
    results = {Path(r.path).name: r for r in lint_paths(tmp_path, Config())}
    assert results["r.ipynb"].findings == [] and results["r.ipynb"].info.startswith("skipped:")
    assert results["a.py"].info is None
    if os.geteuid() != 0:  # root reads any directory
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0)
        try:
            first = next(lint_paths(tmp_path, Config()))
            assert first.path.endswith("locked") and first.findings == [] and first.info
        finally:
            locked.chmod(0o755)


# --- Finding: to_dict / from_dict ------------------------------------------------------


def test_every_example_finding_round_trips_through_json_and_pickle() -> None:
    found = [f for r in lint_paths(ROOT / "examples", Config(), jobs=1) for f in r.findings]
    assert any(f.cell is not None for f in found) and any(f.fix is not None for f in found)
    for f in found:
        d = json.loads(json.dumps(f.to_dict()))
        back = Finding.from_dict(d)
        assert back == f and back.source_line == f.source_line and back.detail == f.detail
        assert pickle.loads(pickle.dumps(f)) == f
        assert d["severity"] == f.severity.value and d["cell"] == f.cell


def test_from_dict_accepts_the_required_fields_alone_and_rejects_bad_input() -> None:
    minimal = {"code": "ML602", "message": "m", "path": "p.py", "line": 2, "col": 0, "end_line": 2, "end_col": 5,
               "severity": "high"}
    f = Finding.from_dict(minimal)
    assert f.fix is None and f.cell is None and f.source_line == "" and not f.fixable
    assert Finding.from_dict(f.to_dict()) == f
    bad = [
        {**minimal, "extra": 1},
        {k: v for k, v in minimal.items() if k != "line"},
        {**minimal, "line": "2"},
        {**minimal, "line": True},
        {**minimal, "severity": "urgent"},
        {**minimal, "cell": 1.5},
        {**minimal, "fix": {"title": "t", "applicability": "maybe", "edits": []}},
        {**minimal, "fix": {"title": "t", "applicability": "safe", "edits": [[1, 0, 1, 0, "x"]]}},
        ["not", "a", "dict"],
    ]
    for d in bad:
        with pytest.raises(ValueError):
            Finding.from_dict(d)  # type: ignore[arg-type]
