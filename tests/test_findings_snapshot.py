"""bench/findings.py, the behaviour-neutrality check: its diff reports lost
and new findings and exits 1 on any difference; its inputs include the
generated ML-dense files (which carry the leakage findings the library
corpus lacks)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.findings import diff, inputs  # noqa: E402


def _write(path: Path, rows: list[list]) -> Path:
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_diff_same_and_different(tmp_path, capsys) -> None:
    row = ["a.py", None, 3, 1, 3, 9, "ML101", "msg", "medium", "null"]
    other = ["a.py", None, 4, 1, 4, 9, "ML105", "msg", "low", "null"]
    a = _write(tmp_path / "a.json", [row, other])
    assert diff(a, _write(tmp_path / "b.json", [other, row])) == 0
    assert "lost 0, new 0, same 2" in capsys.readouterr().out
    assert diff(a, _write(tmp_path / "c.json", [row])) == 1
    out = capsys.readouterr().out
    assert "lost " in out and "ML105" in out and "lost 1, new 0, same 1" in out


def test_inputs_include_generated_ml_files(tmp_path) -> None:
    paths = inputs(tmp_path)
    assert str(tmp_path) in paths and str(ROOT / "tests" / "fixtures") in paths
    script = (tmp_path / "train_script.py").read_text(encoding="utf-8")
    module = (tmp_path / "generated_module.py").read_text(encoding="utf-8")
    assert 1900 <= script.count("\n") <= 2100 and "train_test_split" in script
    assert module.count("\n") >= 9000 and "fit_transform" in module
