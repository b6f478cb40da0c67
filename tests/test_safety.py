"""Safety guarantees: mllint never imports or executes linted code, reads
YAML only with safe loaders, escapes user text in every output format, and
never touches the network."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, notebook_from_cells

from mllint.core.catalog import default_catalog
from mllint.core.findings import Finding
from mllint.core.severity import Severity
from mllint.report import Report, RunSummary, render


def _payload(marker: Path) -> str:
    return (
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('executed')\n"
        "from sklearn.model_selection import train_test_split\n"
        "parts = train_test_split(X)\n"
    )


@pytest.fixture()
def booby_trapped(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "MARKER"
    proj = tmp_path / "proj"
    pkg = proj / "pkg"
    pkg.mkdir(parents=True)
    for name in ("__init__.py", "train.py", "conftest.py", "setup.py", "__main__.py"):
        (pkg / name).write_text(_payload(marker))
    (proj / "sitecustomize.py").write_text(_payload(marker))
    (proj / "nb.ipynb").write_text(notebook_from_cells([_payload(marker), "!touch " + str(marker), "%run pkg/train.py"]))
    # A config whose values look like code must not be evaluated either.
    (proj / "pyproject.toml").write_text(f"[tool.mllint]\nseed-helpers = [\"__import__('os').system('touch {marker}')\"]\n")
    return proj, marker


def test_check_fix_and_flake8_never_execute_linted_code(booby_trapped) -> None:
    proj, marker = booby_trapped
    for args in (["check", "."], ["check", "--fix", "--unsafe-fixes", "."], ["check", "--format", "sarif", "."]):
        r = subprocess.run([sys.executable, "-m", "mllint", *args], cwd=proj, capture_output=True, text=True, timeout=120)
        assert r.returncode in (0, 1), r.stderr
        assert not marker.exists(), f"`mllint {' '.join(args)}` executed linted code"
    r = subprocess.run([sys.executable, "-m", "flake8", "--select", "ML", "."], cwd=proj, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in r.stderr
    assert not marker.exists(), "the flake8 plugin executed linted code"


def test_mllint_source_uses_only_safe_yaml_loaders() -> None:
    """Dogfood: mllint's own ML604 (unsafe-yaml-load) finds nothing in src/."""
    r = subprocess.run(
        [sys.executable, "-m", "mllint", "check", "--select", "ML604", "--format", "concise", "src"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    # And the loaders actually used are the safe ones.
    text = "\n".join(p.read_text() for p in (ROOT / "src" / "mllint").rglob("*.py"))
    assert "yaml.safe_load" in text
    for bad in ("yaml.load(", "yaml.unsafe_load(", "yaml.full_load(", "Loader=yaml.Loader", "yaml.UnsafeLoader"):
        assert bad not in text.replace('"yaml.load(', "").replace("'yaml.load(", ""), bad


EVIL = "line1\nline2 %0A [bold]x[/bold] \x1b[2J\x1b[31mred, a:b"


def _report() -> Report:
    f = Finding(
        code="ML102",
        message=EVIL,
        path="dir,with:meta%chars\n.py",
        line=3,
        col=0,
        end_line=3,
        end_col=4,
        severity=Severity.HIGH,
        source_line="x = '\x1b[2J' # [red]",
    )
    return Report([f], default_catalog(), RunSummary(files=1))


def test_github_format_escapes_metacharacters() -> None:
    out = render("github", _report())
    [line] = out.splitlines()
    assert "file=dir%2Cwith%3Ameta%25chars%0A.py," in line
    assert line.endswith("::line1%0Aline2 %250A [bold]x[/bold] \\x1b[2J\\x1b[31mred, a:b")


def test_json_and_sarif_round_trip_user_text_exactly() -> None:
    [j] = json.loads(render("json", _report()))
    assert j["message"] == EVIL and j["path"] == "dir,with:meta%chars\n.py"
    sarif = json.loads(render("sarif", _report()))
    assert sarif["runs"][0]["results"][0]["message"]["text"] == EVIL


def test_concise_is_one_line_per_finding() -> None:
    out = render("concise", _report())
    assert out.count("\n") == 1


@pytest.mark.parametrize("color", [True, False])
def test_text_format_neutralises_markup_and_escapes(color: bool) -> None:
    out = render("text", _report(), color=color)
    assert "[bold]x[/bold]" in out and "[red]" in out  # literal, not styling
    assert "\x1b[2J" not in out and "\x1b[31mred" not in out  # no raw user escape sequences
    assert "\\x1b[2J" in out


def test_no_network_access(tmp_path: Path, monkeypatch) -> None:
    """Lint the example project and a notebook with every socket blocked."""
    from mllint.cli.main import main

    def refuse(*a, **k):
        raise AssertionError("mllint tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    out = tmp_path / "out.json"
    status = main(["check", "--jobs", "1", "--no-cache", "--format", "json", "-o", str(out), str(ROOT / "examples")])
    assert status in (0, 1)
    assert isinstance(json.loads(out.read_text()), list)
