"""The peer tools, each in its own virtualenv under the bench cache directory,
installed from PyPI at pinned versions. A peer that cannot be installed is
skipped with a note, never a failure of the whole benchmark."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FLAKE8 = "flake8==7.5.0"  # the same flake8 mllint's own venv runs
RUFF = "ruff==0.17.6"
DSLINTER = "dslinter==2.0.9"
DSLINTER_PYTHON = "3.10"  # dslinter's pylint/astroid pins need it


@dataclass
class Peer:
    name: str
    bin: Path | None  # the executable, None when unavailable
    version: str = ""
    note: str = ""

    @property
    def available(self) -> bool:
        return self.bin is not None and self.bin.exists()


def _venv_bin(venv: Path, exe: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / exe


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else ""


def _ensure_venv(venv: Path, python: str, requirement: str, exe: str, log) -> Path | None:
    target = _venv_bin(venv, exe)
    stamp = venv / ".mllint-bench-requirement"
    if target.exists() and stamp.exists() and stamp.read_text() == requirement:
        return target
    log(f"installing {requirement} into {venv}")
    if venv.exists():
        shutil.rmtree(venv)
    r = subprocess.run([python, "-m", "venv", str(venv)], capture_output=True, text=True)
    if r.returncode != 0:
        log(f"  cannot create a venv with {python}: {r.stderr.strip()[:200]}")
        return None
    pip = [str(_venv_bin(venv, "python")), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    r = subprocess.run([*pip, requirement], capture_output=True, text=True)
    if r.returncode != 0 or not target.exists():
        log(f"  pip install {requirement} failed: {r.stderr.strip()[-300:]}")
        return None
    stamp.write_text(requirement)
    return target


def find_python310() -> str | None:
    """pyenv's 3.10 if present, else a python3.10 on PATH."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    versions = sorted((pyenv_root / "versions").glob(f"{DSLINTER_PYTHON}.*"), reverse=True)
    for v in versions:
        exe = v / "bin" / "python"
        if exe.exists():
            return str(exe)
    return shutil.which(f"python{DSLINTER_PYTHON}")


def setup_peers(cache: Path, log=print, want: tuple[str, ...] = ("flake8", "ruff", "dslinter")) -> dict[str, Peer]:
    venvs = cache / "venvs"
    peers: dict[str, Peer] = {}
    here = Path(sys.executable).parent
    # flake8 in mllint's own environment: the plugin is installed there.
    own = here / "flake8"
    peers["flake8+mllint"] = Peer("flake8+mllint", own if own.exists() else None, _version([str(own), "--version"]) if own.exists() else "",
                                  "" if own.exists() else "flake8 is not installed next to mllint")
    if "flake8" in want:
        exe = _ensure_venv(venvs / "flake8", sys.executable, FLAKE8, "flake8", log)
        peers["flake8"] = Peer("flake8", exe, _version([str(exe), "--version"]) if exe else "",
                               "" if exe else f"could not install {FLAKE8}")
    if "ruff" in want:
        exe = _ensure_venv(venvs / "ruff", sys.executable, RUFF, "ruff", log)
        peers["ruff"] = Peer("ruff", exe, _version([str(exe), "--version"]) if exe else "",
                             "" if exe else f"could not install {RUFF}")
    if "dslinter" in want:
        py310 = find_python310()
        if py310 is None:
            peers["dslinter"] = Peer("dslinter", None, note="skipped: no Python 3.10 (pyenv or PATH) to run it")
        else:
            exe = _ensure_venv(venvs / "dslinter", py310, DSLINTER, "pylint", log)
            peers["dslinter"] = Peer(
                "dslinter", exe,
                f"{DSLINTER} on pylint {_pylint_version(exe)}" if exe else "",
                "" if exe else f"could not install {DSLINTER} into a Python 3.10 venv",
            )
    return peers


def _pylint_version(exe: Path) -> str:
    first = _version([str(exe), "--version"])
    return first.split()[-1] if first else "?"


def existing_peers(cache: Path) -> dict[str, Peer]:
    """Peers already installed (the smoke test never installs anything)."""
    venvs = cache / "venvs"
    here = Path(sys.executable).parent
    found = {
        "flake8+mllint": here / "flake8",
        "flake8": _venv_bin(venvs / "flake8", "flake8"),
        "ruff": _venv_bin(venvs / "ruff", "ruff"),
        "dslinter": _venv_bin(venvs / "dslinter", "pylint"),
    }
    return {
        name: Peer(name, exe if exe.exists() else None, note="" if exe.exists() else "not installed (smoke run)")
        for name, exe in found.items()
    }
