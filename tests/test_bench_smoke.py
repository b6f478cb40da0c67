"""The benchmark harness on a tiny generated corpus: no downloads, no
installs (peers that are not installed are skipped), so it never rots.
Timings are not asserted; the rows and the document's structure are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import BEGIN, END, update_document  # noqa: E402

EXPECTED_ROWS = [
    "floor: read + ast.parse, 1 process",
    "mllint check, 1 process",
    "mllint check, 2 processes (all cores)",
    "cold cache",
    "warm cache",
    "notebooks: floor",
    "notebooks: mllint check",
    "flake8 default checks, -j1 (no plugin)",
    "flake8 default checks + mllint plugin, -j1",
    "ruff check --select NPY,PD,S, 1 thread",
    "dslinter (pylint plugin)",
]
EXPECTED_TARGETS = [
    "vs the parse floor",
    "vs flake8 default -j1",
    "flake8 + mllint plugin vs flake8 without it",
    "dslinter per file",
    "cold cache vs warm cache",
    "processes, whole corpus",
    "peak RSS",
    "per-line cost at 10% / 50% / 100%",
    "generated module, 2,000 lines",
    "per-line cost, 2,000 lines vs 400 lines (module)",
    "per-line cost, 150 cells vs 30 cells (notebook)",
]


@pytest.mark.slow
def test_smoke_run_prints_every_row_and_rewrites_only_its_block(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(
        "# Performance\n\nIntro kept.\n\n" + BEGIN + "\nold numbers\n" + END + "\n\n"
        "## Language server latency\n\nkept | as | is\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--jobs", "2", "--cache-dir", str(tmp_path / "cache"),
         "--doc", str(doc)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    table = r.stdout
    for row in EXPECTED_ROWS:
        assert row in table, row
    for t in EXPECTED_TARGETS:
        assert t in table, t
    assert "per file: median" in table

    text = doc.read_text()
    assert text.startswith("# Performance\n\nIntro kept.\n\n" + BEGIN)
    assert text.endswith(END + "\n\n## Language server latency\n\nkept | as | is\n")
    assert "old numbers" not in text
    block = text[text.index(BEGIN) : text.index(END)]
    for heading in ("### Targets", "### Tools on the same files", "### Where the time goes", "### Per file",
                    "### Scaling", "Slowest 10"):
        assert heading in block, heading
    for row in EXPECTED_ROWS:
        assert row.replace("|", "\\|") in block, row
    # every tool row of the markdown table has the same number of cells
    tools = block[block.index("### Tools on the same files") : block.index("### Per file")]
    tool_rows = [ln for ln in tools.splitlines() if ln.startswith("| ")]
    assert len(tool_rows) == len(EXPECTED_ROWS) + 2 + 1 + 2  # + header, rule, ruff_all, select-ML, sample
    assert {ln.replace("\\|", "").count(" | ") for ln in tool_rows} == {8}
    # the mllint rows were measured (peers may be skipped on a fresh machine)
    for line in table.splitlines():
        if line.startswith("mllint check, 1 process "):
            assert "skipped" not in line


def test_update_document_keeps_foreign_sections(tmp_path: Path) -> None:
    doc = tmp_path / "p.md"
    doc.write_text("# Performance\n\n## Leakage analysis\n\nmine\n")
    update_document(doc, BEGIN + "\nA\n" + END + "\n")
    assert doc.read_text() == "# Performance\n\n" + BEGIN + "\nA\n" + END + "\n" + "\n## Leakage analysis\n\nmine\n"
    update_document(doc, BEGIN + "\nB\n" + END + "\n")
    assert doc.read_text() == "# Performance\n\n" + BEGIN + "\nB\n" + END + "\n" + "\n## Leakage analysis\n\nmine\n"


def test_update_document_creates_a_missing_file(tmp_path: Path) -> None:
    doc = tmp_path / "new.md"
    update_document(doc, BEGIN + "\nA\n" + END + "\n")
    assert doc.read_text() == "# Performance\n\n" + BEGIN + "\nA\n" + END + "\n"


@pytest.mark.parametrize("kind", ["rename", "newline"])
def test_lsp_latency_benchmark_runs(kind: str) -> None:
    """bench/bench_lsp.py end to end on a small file: a real server, real
    changes, every change's diagnostics arrive (timings not asserted)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_lsp.py"), "--edits", "2", "--lines", "300", "--pause", "0", "--kind", kind, "--json"],
        capture_output=True, text=True, timeout=240, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    import json

    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["edits"] == 4 and result["diagnostics"] > 0 and result["kind"] == kind
    if kind == "rename":
        assert {"analysis_p50_ms", "server_rules_cpu_ms", "leakage_child_cpu_ms", "module_rules_child_cpu_ms"} <= result.keys()
