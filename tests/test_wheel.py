"""Build the wheel, install it into a fresh virtualenv, run it from there."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_and_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [wheel] = dist.glob("flake8_mllint-*.whl")
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "mllint/_catalogue/ML102.yaml" in names and "mllint/py.typed" in names
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=900)
    work = tmp_path / "work"
    work.mkdir()
    (work / "train.py").write_text(
        "from sklearn.model_selection import train_test_split\nXa, Xb = train_test_split(X)\n"
    )
    (work / ".mllint.yaml").write_text("select: [ALL]\n")  # ML102 is opt-in
    rules = subprocess.run([str(env_dir / "bin" / "mllint"), "rules", "--format", "json"], cwd=work,
                           capture_output=True, text=True, timeout=120)
    assert rules.returncode == 0 and '"ML102"' in rules.stdout
    # The catalogue comes from the wheel, not from this checkout.
    where = subprocess.run([str(py), "-c", "import mllint.core.catalog as c; print(c.catalogue_dir())"],
                           cwd=work, capture_output=True, text=True, timeout=60)
    assert "_catalogue" in where.stdout and str(ROOT) not in where.stdout
    f8 = subprocess.run([str(env_dir / "bin" / "flake8"), "--select", "ML", "train.py"], cwd=work,
                        capture_output=True, text=True, timeout=120)
    assert f8.returncode == 1 and "train.py:2:10: ML102" in f8.stdout
    mod = subprocess.run([str(py), "-m", "mllint", "check", "--format", "concise", "train.py"], cwd=work,
                         capture_output=True, text=True, timeout=120)
    assert mod.returncode == 1 and "train.py:2:10: ML102" in mod.stdout
    # The Python API works after a plain install (docs/api.md) ...
    api = subprocess.run(
        [str(py), "-c", "from mllint import lint_source, lint_paths, load_config; "
         "print([f.code for f in lint_source(open('train.py').read(), 'train.py', config=load_config('.'))])"],
        cwd=work, capture_output=True, text=True, timeout=120,
    )
    assert api.returncode == 0 and "['ML102']" in api.stdout, api.stderr
    # ... and --dask, without the extra, names it (exit 2).
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "Provides-Extra: dask" in meta
    no_dask = subprocess.run([str(env_dir / "bin" / "mllint"), "check", "--dask", "local", "train.py"], cwd=work,
                             capture_output=True, text=True, timeout=120)
    assert no_dask.returncode == 2 and 'pip install "flake8-mllint[dask]"' in no_dask.stderr
