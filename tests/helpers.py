"""Shared test helpers: lint snippets and notebooks, read fixture annotations."""

from __future__ import annotations

import ast
import json
import random
import re
from pathlib import Path

import nbformat

from mllint.core.config import Config
from mllint.core.findings import Finding
from mllint.core.sources import Source, load_source
from mllint.engine.lint import lint_source

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

EXPECT_RE = re.compile(r"#\s*expect:\s*(?P<codes>ML\d{3}(?:\s*,\s*ML\d{3})*)")


def lint(text: str, path: str = "snippet.py", **config) -> list[Finding]:
    """Lint Python text with a Config built from keyword options."""
    cfg = Config(**config)
    return lint_source(Source(path=path, text=text), cfg)


def codes(text: str, **config) -> list[str]:
    return [f.code for f in lint(text, **config)]


def notebook_from_cells(cells: list, language: str = "python", **meta) -> str:
    """Build notebook JSON. A cell is source text (code), or a dict with
    keys source/cell_type/execution_count/outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": language}
    nb.metadata["language_info"] = {"name": language}
    nb.metadata.update(meta)
    for i, cell in enumerate(cells, start=1):
        if isinstance(cell, str):
            cell = {"source": cell}
        kind = cell.get("cell_type", "code")
        if kind == "code":
            c = nbformat.v4.new_code_cell(cell["source"])
            c.execution_count = cell.get("execution_count")
            c.outputs = cell.get("outputs", [])
        elif kind == "markdown":
            c = nbformat.v4.new_markdown_cell(cell["source"])
        else:
            c = nbformat.v4.new_raw_cell(cell["source"])
        nb.cells.append(c)
    return nbformat.writes(nb)


PERCENT_RE = re.compile(r"^# %%(?:\s*\[(?P<count>\d*)\])?(?P<md>\s*\[markdown\])?\s*$")


def notebook_from_percent(text: str) -> str:
    """`# %%` separated cells -> notebook JSON. `# %% [3]` sets a saved
    execution count, `# %% []` marks a cell as never executed,
    `# %% [markdown]` a markdown cell."""
    cells: list[dict] = []
    current: dict | None = None
    for line in text.splitlines():
        m = PERCENT_RE.match(line)
        if m:
            current = {"source": [], "execution_count": None}
            if m.group("md"):
                current["cell_type"] = "markdown"
            elif m.group("count"):
                current["execution_count"] = int(m.group("count"))
            cells.append(current)
            continue
        if current is None:
            current = {"source": [], "execution_count": None}
            cells.append(current)
        current["source"].append(line)
    for c in cells:
        c["source"] = "\n".join(c["source"]).strip("\n")
    return notebook_from_cells(cells)


def lint_notebook_text(nb_json: str, path: str = "nb.ipynb", **config) -> list[Finding]:
    cfg = Config(**config)
    source = load_source(path, nb_json.encode("utf-8"))
    return lint_source(source, cfg)


def expected_annotations(path: Path) -> set[tuple[int | None, int, str]]:
    """(cell, line, code) for each `# expect: MLnnn` comment in a fixture."""
    out: set[tuple[int | None, int, str]] = set()
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        for ci, cell in enumerate(nb["cells"], start=1):
            src = cell.get("source", "")
            if isinstance(src, list):
                src = "".join(src)
            for li, line in enumerate(src.splitlines(), start=1):
                m = EXPECT_RE.search(line)
                if m:
                    for code in re.findall(r"ML\d{3}", m.group("codes")):
                        out.add((ci, li, code))
    else:
        for li, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            m = EXPECT_RE.search(line)
            if m:
                for code in re.findall(r"ML\d{3}", m.group("codes")):
                    out.add((None, li, code))
    return out


def found_annotations(findings: list[Finding], codes: set[str]) -> set[tuple[int | None, int, str]]:
    return {(f.cell, f.display_line, f.code) for f in findings if f.code in codes}


# --- random edits, as typed in an editor (incremental analysis tests) ----------


def body_lines(tree: ast.Module) -> list[int]:
    """Lines inside function and class bodies (where typing does not change
    the module's skeleton)."""
    out: list[int] = []
    for st in tree.body:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and st.body[0].lineno > st.lineno:
            out.extend(range(st.body[0].lineno, (st.end_lineno or st.lineno) + 1))
    return out


def mutate_line(line: str, rng: random.Random, donors: list[str]) -> str | None:
    indent = len(line) - len(line.lstrip())
    kind = rng.choice("apdn")
    if kind == "a":  # type a character into a name
        spots = [i for i, c in enumerate(line) if c.isalnum() or c == "_"]
        if not spots:
            return None
        i = rng.choice(spots) + 1
        return line[:i] + "x" + line[i:]
    if kind == "p":  # the statement deleted
        return " " * indent + "pass"
    if kind == "n":  # a line inserted after it: every later line moves
        return line + "\n"
    same = [d for d in donors if d.strip() and len(d) - len(d.lstrip()) == indent]
    return rng.choice(same) if same else None  # a line copied from another body


def random_edit(text: str, rng: "random.Random") -> str | None:
    """`text` with one line of a function or class body edited at random
    (see `mutate_line`), or None when the attempt gives no new valid Python."""
    lines = text.split("\n")
    try:
        cand = body_lines(ast.parse(text))
    except SyntaxError:
        return None
    if not cand:
        return None
    ln = rng.choice(cand)
    new = mutate_line(lines[ln - 1], rng, [lines[i - 1] for i in cand])
    if new is None or new == lines[ln - 1]:
        return None
    edited = "\n".join([*lines[: ln - 1], new, *lines[ln:]])
    try:
        ast.parse(edited)
    except SyntaxError:
        return None
    return edited


def every_rule(args: tuple[str, ...] | list[str]) -> list[str]:
    """Arguments of an `mllint` command run as a subprocess, with every
    rule turned on (`--extend-select ALL` after `check`/`fix`) unless the
    test chooses the rules itself with `--select`: tests of the command's
    mechanics need findings from opt-in rules too (the in-process tests get
    the same from the `_every_rule_on` fixture in conftest.py)."""
    args = list(args)
    if args and args[0] in ("check", "fix") and "--select" not in args:
        return [args[0], "--extend-select", "ALL", *args[1:]]
    return args


def qualname_probes(text: str) -> list[str | None]:
    """The qualified name of the value of each `__probe__ = <expr>` line, as
    the semantic model sees it at that point of the engine's walk."""
    from mllint.core.catalog import default_catalog
    from mllint.engine.lint import Context, run_rules
    from mllint.rules.base import Rule

    tree = ast.parse(text)
    seen: list[str | None] = []

    class Probe(Rule):
        codes = ("ML102",)
        nodes = (ast.Assign,)

        def visit(self, node):
            if isinstance(node.targets[0], ast.Name) and node.targets[0].id == "__probe__":
                seen.append(self.ctx.semantic.qualname(node.value))

    ctx = Context(Source("p.py", text), tree, Config(), default_catalog())
    run_rules(ctx, [Probe])
    return seen


def copy_checkout(dest: Path, names: tuple[str, ...]) -> Path:
    """Copy these top-level files and folders of this checkout into `dest`
    (without bytecode or build metadata): what a hook repository or an
    action's path needs of the project."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in names:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    return dest


# A small project file the hook and action tests share: ML604 (`yaml.load`,
# default-on, a safe fix) and ML102 (opt-in, an unsafe fix); CLEAN_PY has neither.
BAD_PY = """\
import yaml
from sklearn.model_selection import train_test_split


def split(X, y):
    return train_test_split(X, y, test_size=0.2)


def load(fh):
    return yaml.load(fh)
"""
CLEAN_PY = BAD_PY.replace("test_size=0.2)", "test_size=0.2, random_state=0)").replace("yaml.load(", "yaml.safe_load(")
