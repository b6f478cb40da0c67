"""The benchmark corpus: pinned sdists from PyPI, unpacked outside the repo,
notebooks built from them, and generated stress inputs.

Everything lives under the bench cache directory (default
~/.cache/mllint-bench, override with MLLINT_BENCH_CACHE or --cache-dir);
nothing is written into the repository.
"""

from __future__ import annotations

import ast
import json
import random
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

# Pinned: the numbers in docs/performance.md are for exactly these files.
SDISTS = ("transformers==5.23.0", "lightning==2.6.6")
NOTEBOOKS_FROM = 120  # corpus modules turned into notebooks


@dataclass
class CorpusFile:
    path: str
    lines: int
    size: int


@dataclass
class Corpus:
    """The files one benchmark run measures, with their sizes."""

    root: Path
    python: list[CorpusFile] = field(default_factory=list)
    notebooks: list[CorpusFile] = field(default_factory=list)
    description: str = ""

    @property
    def py_lines(self) -> int:
        return sum(f.lines for f in self.python)

    @property
    def nb_lines(self) -> int:
        return sum(f.lines for f in self.notebooks)

    def sample(self, fraction: float, seed: int = 1) -> list[CorpusFile]:
        """A fixed random sample of the Python files (same mix of sizes)."""
        if fraction >= 1:
            return list(self.python)
        rng = random.Random(seed)
        k = max(1, round(len(self.python) * fraction))
        return sorted(rng.sample(self.python, k), key=lambda f: f.path)

    def save(self) -> None:
        doc = {
            "description": self.description,
            "python": [[f.path, f.lines, f.size] for f in self.python],
            "notebooks": [[f.path, f.lines, f.size] for f in self.notebooks],
        }
        (self.root / "manifest.json").write_text(json.dumps(doc))

    @classmethod
    def load(cls, root: Path) -> "Corpus | None":
        try:
            doc = json.loads((root / "manifest.json").read_text())
        except (OSError, ValueError):
            return None
        c = cls(root, description=doc["description"])
        c.python = [CorpusFile(*x) for x in doc["python"]]
        c.notebooks = [CorpusFile(*x) for x in doc["notebooks"]]
        if not all(Path(f.path).is_file() for f in c.python + c.notebooks):
            return None
        return c


def count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _file(path: Path) -> CorpusFile:
    data = path.read_bytes()
    return CorpusFile(str(path), count_lines(data), len(data))


def _nb_file(path: Path) -> CorpusFile:
    nb = json.loads(path.read_text(encoding="utf-8"))
    lines = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            lines += src.count("\n") + 1
    return CorpusFile(str(path), lines, path.stat().st_size)


# ---------------------------------------------------------------------------
# The real corpus
# ---------------------------------------------------------------------------


def _find_sdist(dest: Path, spec: str) -> Path | None:
    name, _, version = spec.partition("==")
    key = re.sub(r"[-_.]+", "_", name).lower()
    for p in dest.glob(f"*-{version}.tar.gz"):
        if re.sub(r"[-_.]+", "_", p.name[: -len(f"-{version}.tar.gz")]).lower() == key:
            return p
    return None


def download_sdists(dest: Path, log=print, specs: tuple[str, ...] = SDISTS) -> list[Path]:
    """The pinned sdists `specs` (`name==version`), downloaded with pip into
    `dest` unless they are there already."""
    dest.mkdir(parents=True, exist_ok=True)
    if not all(_find_sdist(dest, s) for s in specs):
        log(f"downloading {', '.join(specs)} from PyPI into {dest}")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--no-build-isolation", *specs, "-d", str(dest)],
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        if not all(_find_sdist(dest, s) for s in specs):
            # --no-build-isolation can fail on a missing backend; let pip isolate.
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                 *specs, "-d", str(dest)],
                check=True,
            )
    found = [_find_sdist(dest, s) for s in specs]
    missing = [s for s, p in zip(specs, found) if p is None]
    if missing:
        raise RuntimeError(f"pip did not download {', '.join(missing)} into {dest}")
    return [p for p in found if p is not None]


def _safe_members(tar: tarfile.TarFile, suffixes: tuple[str, ...] = (".py",)):
    """Regular files with one of `suffixes`, never outside the archive's root."""
    for m in tar.getmembers():
        parts = Path(m.name).parts
        if m.isfile() and m.name.endswith(suffixes) and ".." not in parts and not Path(m.name).is_absolute():
            yield m


def build_corpus(cache: Path, log=print) -> Corpus:
    root = cache / "corpus"
    existing = Corpus.load(root)
    if existing is not None:
        return existing
    archives = download_sdists(cache / "sdists", log)
    if root.exists():
        shutil.rmtree(root)
    py_root = root / "py"
    py_root.mkdir(parents=True)
    for archive in archives:
        with tarfile.open(archive) as tar:
            for m in _safe_members(tar):
                target = py_root / m.name
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(m)
                if src is not None:
                    target.write_bytes(src.read())
    corpus = Corpus(root, description=" + ".join(f"`{s}` sdist" for s in SDISTS))
    corpus.python = sorted((_file(p) for p in py_root.rglob("*.py")), key=lambda f: f.path)
    nb_dir = root / "notebooks"
    corpus.notebooks = [_nb_file(p) for p in notebooks_from_modules(corpus.python, nb_dir, NOTEBOOKS_FROM)]
    corpus.save()
    return corpus


# ---------------------------------------------------------------------------
# Notebooks made of real code (the sdists ship none)
# ---------------------------------------------------------------------------

def split_into_cells(text: str) -> list[tuple[str, str]]:
    """Top-level statements -> cells (kind, source): consecutive imports and
    simple statements share a cell, every def/class is its own cell with a
    markdown cell before it carrying its docstring's first line."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return [("code", text)]
    lines = text.splitlines()
    cells: list[tuple[str, str]] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            cells.append(("code", "\n".join(pending).strip("\n")))
            pending.clear()

    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        chunk = lines[start - 1 : node.end_lineno]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            flush()
            doc = ast.get_docstring(node)
            title = doc.strip().splitlines()[0] if doc else f"`{node.name}`"
            cells.append(("markdown", f"## {node.name}\n\n{title}"))
            cells.append(("code", "\n".join(chunk)))
        else:
            pending.extend(chunk)
    flush()
    return [c for c in cells if c[1].strip()]


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, src in cells:
        nb.cells.append(nbformat.v4.new_code_cell(src) if kind == "code" else nbformat.v4.new_markdown_cell(src))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb), encoding="utf-8")


def notebooks_from_modules(files: list[CorpusFile], dest: Path, count: int) -> list[Path]:
    """Every k-th module (by path) of a useful size, split into cells."""
    candidates = [f for f in files if 40 <= f.lines <= 1500]
    if not candidates:
        return []
    step = max(1, len(candidates) // count)
    out = []
    for i, f in enumerate(candidates[::step][:count]):
        cells = split_into_cells(Path(f.path).read_text(encoding="utf-8", errors="replace"))
        p = dest / f"{i:03d}_{Path(f.path).stem}.ipynb"
        write_notebook(p, cells)
        out.append(p)
    return out


# ---------------------------------------------------------------------------
# Generated stress inputs (and the tiny corpus of the smoke test)
# ---------------------------------------------------------------------------

_BLOCK = '''
# --- block {i} ---
from sklearn.preprocessing import StandardScaler as Scaler{i}
data_{i} = pd.read_csv("data_{i}.csv")
X_{i} = data_{i}.drop(columns=["target"])
y_{i} = data_{i}["target"]
scaler_{i} = Scaler{i}()
X_{i}_scaled = scaler_{i}.fit_transform(X_{i})
X_train_{i}, X_test_{i}, y_train_{i}, y_test_{i} = train_test_split(X_{i}_scaled, y_{i}, test_size=0.2)
model_{i} = RandomForestClassifier(n_estimators={n})
model_{i}.fit(X_train_{i}, y_train_{i})
score_{i} = model_{i}.score(X_test_{i}, y_test_{i})


def train_{i}(loader, model=model_{i}, epochs={n}):
    """Train for a few epochs."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(epochs):
        for xb, yb in loader:
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
    response = requests.get("https://example.com/{i}")
    torch.save(model.state_dict(), f"model_{i}_{{epoch}}.pt")
    return np.random.rand({n}) + random.random()


class Model{i}(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear({n}, 2)

    def forward(self, x):
        return self.layer(x).relu()
'''

_HEADER = '''"""A generated ML module for the benchmark's scaling checks."""
import random
import numpy as np
import pandas as pd
import requests
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
'''


def block_lines() -> int:
    return _BLOCK.count("\n")


def generated_module(target_lines: int) -> str:
    parts = [_HEADER]
    n_blocks = max(1, (target_lines - _HEADER.count("\n")) // block_lines())
    for i in range(n_blocks):
        parts.append(_BLOCK.format(i=i, n=10 + i % 90))
    return "".join(parts)


def generated_notebook_cells(n_cells: int) -> list[tuple[str, str]]:
    """n_cells cells: the header, then blocks cut into cells of a few lines,
    with a markdown cell every tenth cell."""
    cells: list[tuple[str, str]] = [("code", _HEADER)]
    i = 0
    while len(cells) < n_cells:
        block = _BLOCK.format(i=i, n=10 + i % 90).strip("\n").split("\n\n\n")
        for piece in block:
            if len(cells) >= n_cells:
                break
            if len(cells) % 10 == 9:
                cells.append(("markdown", f"### step {len(cells)}"))
                if len(cells) >= n_cells:
                    break
            cells.append(("code", piece))
        i += 1
    return cells[:n_cells]


def tiny_corpus(root: Path, n_files: int = 12, n_notebooks: int = 2) -> Corpus:
    """A small generated corpus for the smoke test: no downloads."""
    py = root / "py"
    py.mkdir(parents=True, exist_ok=True)
    for k in range(n_files):
        (py / f"mod_{k:03d}.py").write_text(generated_module(60 + 40 * (k % 5)))
    files = sorted((_file(p) for p in py.glob("*.py")), key=lambda f: f.path)
    corpus = Corpus(root, description=f"{n_files} generated modules (smoke test)")
    corpus.python = files
    corpus.notebooks = [_nb_file(p) for p in notebooks_from_modules(files, root / "notebooks", n_notebooks)]
    return corpus
