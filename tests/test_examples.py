"""The bundled example project (what `make demo` lints)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from helpers import ROOT

EXAMPLES = ROOT / "examples"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_check_examples_json_has_ml1xx_findings_and_no_internal_errors() -> None:
    r = _run(sys.executable, "-m", "mllint", "check", "--select", "ALL", "examples/", "--format", "json", "--no-cache")
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    codes = {f["code"] for f in data}
    assert any(c.startswith("ML1") for c in codes), codes
    assert "ML001" not in codes and "ML000" not in codes
    # the notebook's findings carry their cell
    nb = [f for f in data if f["path"].endswith(".ipynb")]
    assert nb and all(isinstance(f["cell"], int) and f["cell"] >= 1 for f in nb)


def test_flake8_reports_the_same_findings_as_mllint_concise_for_py_files() -> None:
    f8 = _run(sys.executable, "-m", "flake8", "--select", "ML", "examples/")
    ml = _run(sys.executable, "-m", "mllint", "check", "examples/", "--format", "concise", "--no-cache")
    assert "Traceback" not in f8.stderr + ml.stderr
    f8_lines = sorted(l for l in f8.stdout.splitlines() if l.strip())
    ml_lines = sorted(l for l in ml.stdout.splitlines() if re.match(r"^[^:]+\.py:\d+:\d+: ML\d{3} ", l))
    assert f8_lines, "flake8 reported nothing on the examples"
    assert f8_lines == ml_lines
