"""Jupyter notebooks as sources: read with nbformat, mask IPython syntax
without shifting lines, join code cells into one module.

See docs/notebooks.md for the numbering and masking rules.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from mllint.sources import CellSpan, Source, SourceError, _read_bytes

# Cell magics whose body is Python and is linted.
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "python", "python3", "py", "local"}

_LINE_MAGIC = re.compile(r"^(\s*)([%!]).*$")
_ASSIGN_MAGIC = re.compile(r"^(\s*)([A-Za-z_][\w.,\s\[\]()]*?)\s*=\s*[%!].*$")
_HELP = re.compile(r"^(\s*)([\w.\[\]()'\"]+)\s*\?\??\s*$|^(\s*)\?\??[\w.]+\s*$")


def mask_cell(src: str) -> tuple[str, bool]:
    """Return (python_text, skipped). Lines are never added or removed."""
    lines = src.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(None, 1)[0] if lines[0].lstrip()[2:].strip() else ""
        if magic not in PYTHON_CELL_MAGICS:
            return "\n".join("" for _ in lines), True
        lines[0] = ""
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith(("%", "!")):
            out.append(f"{indent}pass  # {stripped}" if indent else f"# {stripped}")
            continue
        m = _ASSIGN_MAGIC.match(line)
        if m and not stripped.startswith("#"):
            out.append(f"{m.group(1)}{m.group(2).strip()} = None  # {line.split('=', 1)[1].strip()}")
            continue
        if _HELP.match(line) and stripped and not stripped.startswith("#"):
            out.append(f"{indent}pass  # {stripped}" if indent else f"# {stripped}")
            continue
        out.append(line)
    return "\n".join(out), False


def _kernel_language(nb) -> str:
    meta = nb.get("metadata", {}) or {}
    lang = (meta.get("language_info") or {}).get("name") or (meta.get("kernelspec") or {}).get("language")
    return str(lang or "python").lower()


def load_notebook(path: str | Path, data: bytes | None = None) -> Source:
    import nbformat

    if data is None:
        data = _read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"notebook is not valid UTF-8: {exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"invalid notebook JSON: {exc.msg}", line=exc.lineno, col=exc.colno - 1) from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise SourceError("invalid notebook: not a Jupyter notebook (no 'cells')")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises many types on bad input
        raise SourceError(f"invalid notebook: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    src = Source(path=str(path), text="", kind="notebook", notebook=nb)
    lang = _kernel_language(nb)
    if lang not in ("python", "python3", "ipython", "ipython3"):
        src.skip_reason = f"notebook kernel language is {lang!r}, not Python"
        return src
    pieces: list[str] = []
    line = 1
    for index, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        body, skipped = mask_cell(source)
        body = body.rstrip("\n")
        n = body.count("\n") + 1
        pieces.append(body + "\n")
        src.cells.append(
            CellSpan(
                index=index,
                start=line,
                n_lines=n,
                source=source,
                masked=skipped,
                execution_count=cell.get("execution_count"),
                raw=cell,
            )
        )
        line += n
    src.text = "".join(pieces)
    return src
