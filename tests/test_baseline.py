"""Baselines: matched by path + code + fingerprint of the source text, not by
line number."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mllint.core.config import Config
from mllint.engine.lint import lint_path
from mllint.fix.baseline import Baseline, BaselineError, fingerprint, render_baseline
from helpers import every_rule  # noqa: E402

LEGACY = """\
import torch
import yaml
import requests
from sklearn.model_selection import train_test_split

model = torch.load("model.pt")
cfg = yaml.load(open("config.yaml"))
resp = requests.get("https://example.com/data")
X_train, X_test = train_test_split(X, test_size=0.2)
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mllint", *every_rule(args), "--no-progress", "--format", "concise"],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )


def _reported(r: subprocess.CompletedProcess) -> list[str]:
    return [line for line in r.stdout.splitlines() if " ML" in line]


def test_baseline_survives_inserted_lines_and_catches_new_defect(tmp_path: Path) -> None:
    src = tmp_path / "train.py"
    src.write_text(LEGACY)
    first = run("check", "train.py", cwd=tmp_path)
    assert len(_reported(first)) >= 4, first.stdout
    w = run("check", "--write-baseline", ".mllint-baseline.json", "train.py", cwd=tmp_path)
    assert w.returncode == 0, w.stderr
    doc = json.loads((tmp_path / ".mllint-baseline.json").read_text())
    assert doc["version"] == 1 and sum(e["count"] for e in doc["findings"]) == len(_reported(first))
    # 20 lines at the top: every finding moves, none resurfaces
    src.write_text("".join(f"# header line {i}\n" for i in range(20)) + LEGACY)
    r = run("check", "--baseline", ".mllint-baseline.json", "train.py", cwd=tmp_path)
    assert _reported(r) == [] and r.returncode == 0, r.stdout
    # a new defect: exactly one finding
    src.write_text(src.read_text() + 'other = torch.load("other.pt")\n')
    r = run("check", "--baseline", ".mllint-baseline.json", "train.py", cwd=tmp_path)
    rep = _reported(r)
    new_line = 20 + LEGACY.count("\n") + 1
    assert len(rep) == 1 and "ML602" in rep[0] and f"train.py:{new_line}:" in rep[0], rep


def test_duplicate_of_a_baselined_line_is_reported_once(tmp_path: Path) -> None:
    src = tmp_path / "t.py"
    src.write_text(LEGACY)
    assert run("check", "--write-baseline", "b.json", "t.py", cwd=tmp_path).returncode == 0
    src.write_text(LEGACY + 'model = torch.load("model.pt")\n')  # the same text again
    rep = _reported(run("check", "--baseline", "b.json", "t.py", cwd=tmp_path))
    assert len(rep) == 1 and "ML602" in rep[0], rep


def test_editing_the_offending_line_resurfaces_it(tmp_path: Path) -> None:
    src = tmp_path / "t.py"
    src.write_text(LEGACY)
    run("check", "--write-baseline", "b.json", "t.py", cwd=tmp_path)
    src.write_text(LEGACY.replace('torch.load("model.pt")', 'torch.load("best.pt")'))
    rep = _reported(run("check", "--baseline", "b.json", "t.py", cwd=tmp_path))
    assert len(rep) == 1 and "ML602" in rep[0]


def test_fixed_findings_drop_out_when_rewritten(tmp_path: Path) -> None:
    src = tmp_path / "t.py"
    src.write_text(LEGACY)
    run("check", "--write-baseline", "b.json", "t.py", cwd=tmp_path)
    n_before = sum(e["count"] for e in json.loads((tmp_path / "b.json").read_text())["findings"])
    src.write_text(LEGACY.replace("yaml.load(", "yaml.safe_load("))
    run("check", "--write-baseline", "b.json", "t.py", cwd=tmp_path)
    entries = json.loads((tmp_path / "b.json").read_text())["findings"]
    assert sum(e["count"] for e in entries) == n_before - 1
    assert "ML604" not in {e["code"] for e in entries}


def test_baseline_from_config_and_other_cwd(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "pkg").mkdir(parents=True)
    (proj / "pkg" / "t.py").write_text(LEGACY)
    (proj / "pyproject.toml").write_text('[tool.mllint]\nbaseline = ".mllint-baseline.json"\n')
    assert run("check", "--write-baseline", ".mllint-baseline.json", "pkg", cwd=proj).returncode == 0
    assert _reported(run("check", "pkg", cwd=proj)) == []
    # paths are relative to the baseline file, so another cwd matches too
    assert _reported(run("check", "proj/pkg/t.py", cwd=tmp_path)) == []
    assert _reported(run("check", "t.py", cwd=proj / "pkg")) == []


def test_missing_or_broken_baseline_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("x = 1\n")
    r = run("check", "--baseline", "nope.json", "t.py", cwd=tmp_path)
    assert r.returncode == 2 and "nope.json" in r.stderr
    (tmp_path / "bad.json").write_text("{not json")
    r = run("check", "--baseline", "bad.json", "t.py", cwd=tmp_path)
    assert r.returncode == 2 and "invalid baseline JSON" in r.stderr


def test_fingerprint_ignores_position_and_indentation(tmp_path: Path) -> None:
    p = tmp_path / "a.py"
    p.write_text(LEGACY)
    f1 = next(f for f in lint_path(p, Config()) if f.code == "ML602")
    p.write_text("\n\n" + LEGACY.replace('model = torch.load("model.pt")', 'if True:\n    model = torch.load("model.pt")'))
    f2 = next(f for f in lint_path(p, Config()) if f.code == "ML602")
    assert f1.line != f2.line and fingerprint(f1) == fingerprint(f2)


def test_internal_errors_are_never_baselined(tmp_path: Path) -> None:
    from mllint.core.findings import Finding
    from mllint.core.severity import Severity

    f = Finding("ML001", "boom", str(tmp_path / "a.py"), 1, 0, 1, 0, Severity.HIGH, source_line="x")
    doc = json.loads(render_baseline([f], tmp_path / "b.json"))
    assert doc["findings"] == []
    (tmp_path / "b.json").write_text(json.dumps({"version": 1, "findings": []}))
    assert Baseline.load(tmp_path / "b.json").filter([f]) == [f]


def test_wrong_version_rejected(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text(json.dumps({"version": 99, "findings": []}))
    with pytest.raises(BaselineError):
        Baseline.load(tmp_path / "b.json")


def test_fix_leaves_baselined_findings_alone(tmp_path: Path) -> None:
    src = tmp_path / "t.py"
    src.write_text(LEGACY)
    run("check", "--write-baseline", "b.json", "t.py", cwd=tmp_path)
    r = run("fix", "--unsafe-fixes", "--baseline", "b.json", "t.py", cwd=tmp_path)
    assert src.read_text() == LEGACY, r.stdout


def test_notebook_baseline_survives_a_new_cell_on_top(tmp_path: Path) -> None:
    from helpers import notebook_from_cells

    cells = ["import torch", 'model = torch.load("model.pt")']
    nb = tmp_path / "nb.ipynb"
    nb.write_text(notebook_from_cells(cells))
    assert len(_reported(run("check", "nb.ipynb", cwd=tmp_path))) == 1
    assert run("check", "--write-baseline", "b.json", "nb.ipynb", cwd=tmp_path).returncode == 0
    nb.write_text(notebook_from_cells(["# setup\nimport os\nimport sys", *cells]))
    assert _reported(run("check", "--baseline", "b.json", "nb.ipynb", cwd=tmp_path)) == []
    nb.write_text(notebook_from_cells([*cells, 'other = torch.load("x.pt")']))
    rep = _reported(run("check", "--baseline", "b.json", "nb.ipynb", cwd=tmp_path))
    assert len(rep) == 1 and "cell 3:1:" in rep[0], rep
