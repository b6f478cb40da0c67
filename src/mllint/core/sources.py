"""Turn a file into a `Source`: the Python text to analyse plus a line map.

* `.py` / `.pyi`: decoded as Python does (BOM, PEP 263 coding cookie, UTF-8).
* `.ipynb`: read with nbformat (v3 upgraded to v4); code cells kept in document
  order, IPython syntax masked without shifting lines, cells joined into one
  module so the analysis sees the notebook as one program. `locate()` maps a
  module line back to `(cell number, line in cell)`; cells are numbered over
  *all* cells of the notebook from 1 (markdown cells count), as ruff does.

Anything unreadable raises SourceError, which the engine reports as ML000.
"""

from __future__ import annotations

import io
import os
import stat
import tokenize
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

NOTEBOOK_SUFFIXES = (".ipynb",)
PYTHON_SUFFIXES = (".py", ".pyi")


class SourceError(Exception):
    """The file cannot be turned into Python text (reason in the message)."""

    def __init__(self, reason: str, line: int = 1, col: int = 0, cell: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.col = col
        self.cell = cell


@dataclass
class CellSpan:
    """A code cell's place in the joined module."""

    index: int  # 1-based over all cells of the notebook
    start: int  # first module line (1-based) of this cell
    n_lines: int
    source: str  # the cell's original source
    masked: bool = False  # skipped entirely (non-Python cell magic)
    execution_count: int | None = None
    raw: dict = field(default_factory=dict, repr=False)
    # IPython constructs found in the cell (mllint.core.notebooks.Magic), with
    # their positions in the cell; the cell magic's name and arguments.
    magics: list = field(default_factory=list, repr=False)
    cell_magic: str | None = None
    cell_magic_args: str = ""
    # The common leading indentation IPython strips before running the cell
    # (set by the parser when the cell's first line is indented); the
    # analysed nodes keep the columns of the text as written.
    dedent: str = ""

    def line_text(self, line_in_cell: int) -> str:
        """The original (unmasked) text of a line of this cell, 1-based."""
        lines = self.source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if 1 <= line_in_cell <= len(lines):
            return lines[line_in_cell - 1]
        return ""


@dataclass
class Source:
    path: str
    text: str
    kind: str = "python"  # "python" | "notebook"
    encoding: str = "utf-8"
    cells: list[CellSpan] = field(default_factory=list)
    # Set when the file is deliberately not analysed (e.g. an R notebook).
    skip_reason: str | None = None
    notebook: object | None = field(default=None, repr=False)
    _lines: list[str] | None = field(default=None, repr=False)
    _starts: list[int] | None = field(default=None, repr=False)
    _by_index: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            # Only \n, \r\n and \r end a line for Python (str.splitlines
            # also splits at form feeds and U+2028, which would shift every
            # later line against the ast's line numbers).
            self._lines = self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            if self._lines and self._lines[-1] == "" and self.text.endswith(("\n", "\r")):
                self._lines.pop()
        return self._lines

    def line_text(self, line: int) -> str:
        lines = self.lines
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return ""

    def locate(self, line: int) -> tuple[int, int] | None:
        """Module line -> (cell number, line within that cell), notebooks only."""
        if not self.cells:
            return None
        if self._starts is None:
            self._starts = [c.start for c in self.cells]
        i = bisect_right(self._starts, line) - 1
        if i < 0:
            i = 0
        cell = self.cells[i]
        return cell.index, line - cell.start + 1

    def cell_span(self, cell_index: int) -> CellSpan | None:
        # By index, not a scan: it is asked once per finding (3,000 cells x
        # 6,000 findings was a quadratic). Rebuilt if the cell list changes.
        by = self._by_index
        if by is None or by[0] is not self.cells or by[1] != len(self.cells):
            by = self._by_index = (self.cells, len(self.cells), {c.index: c for c in reversed(self.cells)})
        return by[2].get(cell_index)


# ---------------------------------------------------------------------------
# Python files
# ---------------------------------------------------------------------------

def decode_python(data: bytes, path: str = "<bytes>") -> tuple[str, str]:
    """Decode bytes as the interpreter would; return (text, encoding)."""
    if b"\x00" in data:
        raise SourceError("file contains null bytes (binary file?)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        reason = str(getattr(exc, "msg", exc))
        if "unknown encoding" in reason or "encoding problem" in reason:
            raise SourceError(f"invalid encoding declaration: {reason}") from None
        # No usable cookie and the first lines are not UTF-8: say where.
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = data[: getattr(exc, "start", 0)].count(b"\n") + 1
        raise SourceError(f"cannot decode as {encoding}: {exc}", line=line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding


def load_python(path: str | Path, data: bytes | None = None) -> Source:
    if data is None:
        data = read_source_bytes(path)
    text, encoding = decode_python(data, str(path))
    return Source(path=str(path), text=text, kind="python", encoding=encoding)


MAX_FILE_BYTES = 64 * 1024 * 1024


def read_source_bytes(path: str | Path) -> bytes:
    """Read a regular file. FIFOs and devices are refused (reading one could
    block forever), and so are files too large to be source code."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise SourceError("not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise SourceError(f"file is too large to analyse ({st.st_size // (1024 * 1024)} MiB)")
        return Path(path).read_bytes()
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None


def load_source(path: str | Path, data: bytes | None = None) -> Source:
    """Load any supported file."""
    if str(path).endswith(NOTEBOOK_SUFFIXES):
        from mllint.core.notebooks import load_notebook

        return load_notebook(path, data)
    return load_python(path, data)


def is_supported(path: str | Path) -> bool:
    return str(path).endswith(PYTHON_SUFFIXES + NOTEBOOK_SUFFIXES)


# Old private name, kept for modules that import it.
_read_bytes = read_source_bytes
