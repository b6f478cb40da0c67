"""Jupyter notebooks as sources: read with nbformat, mask IPython syntax
without shifting lines, join code cells into one module.

See docs/notebooks.md for the numbering and masking rules. In short:

* Cells are numbered over *all* cells of the notebook from 1 (markdown and
  raw cells count), as ruff does. Every code cell occupies at least one line
  of the joined module; `Source.locate` maps a module line back.
* Masking never adds or removes a line and never moves Python code to another
  column: a line magic / shell escape / help line becomes a comment (or
  `pass  # ...` where a statement is needed), `x = !cmd` keeps its target
  (`x = get_ipython()  # ...`), `%time stmt` / `%timeit stmt` keep `stmt`
  in place behind a same-width `0;` prefix.
* Only lines that *start a logical line* are candidates, so `%` or `!=` on a
  continuation line of a bracketed expression, and text inside a multi-line
  string, are left alone.
* Cell magics: the body of `%%time`, `%%timeit`, `%%capture`, `%%prun` is
  linted; any other cell magic (`%%bash`, `%%sql`, `%%html`, `%%writefile`,
  `%%python`, ...) makes the whole cell blank (`CellSpan.masked`).

Every magic found is recorded on its cell (`CellSpan.magics`) with its
position in the cell, so notebook rules (ML108) read the original command.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from mllint.core.sources import CellSpan, Source, SourceError, _read_bytes

# Cell magics whose body is Python run in the kernel: linted.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
# Cell magics whose body is shell commands (read by ML108, not linted).
SHELL_CELL_MAGICS = frozenset({"bash", "sh", "script", "system", "sx"})
# Line magics whose argument is a Python statement kept in place.
PYTHON_LINE_MAGICS = frozenset({"time", "timeit"})
# %timeit options that take a separate value (`-n 10`).
_TIMEIT_VALUE_OPTS = frozenset({"-n", "-r", "-p"})

PYTHON_LANGUAGES = frozenset({"python", "python3", "python2", "ipython", "ipython3", "pyspark", "py"})

_ASSIGN = re.compile(
    r"^(?P<indent>[ \t]*)(?P<target>[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*)[ \t]*=[ \t]*(?P<sigil>!!?|%)"
)
_MAGIC_NAME = re.compile(r"%{1,2}([A-Za-z_][\w.-]*)")
_COMPOUND = re.compile(r"(async\s+)?(for|while|if|with|def|class|try|match)\b")


@dataclass(frozen=True)
class Magic:
    """One IPython construct found in a code cell (positions in the cell)."""

    line: int  # 1-based line within the cell
    col: int  # 0-based column of the escape character
    end_line: int
    end_col: int
    kind: str  # "line" (%x), "shell" (!x), "assign" (x = !y / x = %y), "help", "cell" (%%x)
    name: str  # magic name ("pip", "time"); "" for shell escapes and help
    text: str  # the command after the escape, continuation lines joined


@dataclass
class MaskedCell:
    text: str  # Python text, same number of lines as the cell
    skipped: bool  # the whole cell is not Python (non-Python cell magic)
    magics: list[Magic]
    cell_magic: str | None = None  # name of the cell magic, if any
    cell_magic_args: str = ""


def _split_lines(src: str) -> list[str]:
    return src.replace("\r\n", "\n").replace("\r", "\n").split("\n")


class _Scanner:
    """Tracks just enough Python lexing, line by line, to know whether a
    physical line starts a new logical line (not inside brackets, a
    multi-line string, or after a backslash continuation), and where its
    comment starts."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_str: str | None = None
        self.cont = False

    @property
    def at_logical_start(self) -> bool:
        return self.depth == 0 and self.in_str is None and not self.cont

    def feed(self, line: str) -> int:
        """Consume a line of Python; return the index where its comment
        starts (len(line) if none)."""
        self.cont = False
        i, n = 0, len(line)
        comment = n
        string_continues = False
        while i < n:
            if self.in_str is not None:
                m = _STRING_END[self.in_str].search(line, i)
                if m is None:
                    break
                i = m.end()
                if m.group() == "\\":
                    string_continues = True  # backslash-newline inside a string
                elif m.group()[0] != "\\":
                    self.in_str = None
                continue
            m = _CODE_SPECIAL.search(line, i)
            if m is None:
                break
            tok = m.group()
            i = m.end()
            if tok == "#":
                comment = m.start()
                break
            if tok[0] in "'\"":
                self.in_str = tok
            elif tok in "([{":
                self.depth += 1
            elif tok in ")]}":
                self.depth = max(0, self.depth - 1)
            else:  # a backslash ending the line
                self.cont = True
        if self.in_str is not None and len(self.in_str) == 1 and not string_continues:
            self.in_str = None  # a one-quote string ends with its line
        return comment


# Characters that change the scanner's state outside strings (a backslash
# only counts at the end of a line), and what ends each kind of string.
_CODE_SPECIAL = re.compile("|".join(["\'\'\'", '"""', r"[\'\"#()\[\]{}]", r"\\$"]))
_STRING_END = {q: re.compile(r"\\.|\\$|" + re.escape(q)) for q in ("'", '"', "'''", '"""')}


def _as_comments(lines: list[str]) -> str:
    return "\n".join("#" + line if line.strip() else "" for line in lines)


def _compiles(stmt: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(stmt, "<cell>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _python_after_time_magic(stripped: str) -> int | None:
    """For `%time stmt` / `%timeit [-n 10 ...] stmt`: the offset of `stmt`
    within `stripped`, if stmt is one simple statement that parses alone."""
    m = _MAGIC_NAME.match(stripped)
    if not m or stripped.startswith("%%") or m.group(1) not in PYTHON_LINE_MAGICS:
        return None
    i = m.end()
    n = len(stripped)
    if i < n and stripped[i] not in " \t":
        return None
    expect_value = False
    while True:
        while i < n and stripped[i] in " \t":
            i += 1
        if i >= n:
            return None
        if expect_value:
            expect_value = False
        elif m.group(1) == "timeit" and stripped[i] == "-":
            pass
        else:
            break
        j = i
        while j < n and stripped[j] not in " \t":
            j += 1
        if stripped[i:j] in _TIMEIT_VALUE_OPTS:
            expect_value = True
        i = j
    stmt = stripped[i:]
    if i < 2 or _COMPOUND.match(stmt) or not _compiles(stmt):
        return None
    return i


def _cell_magic(lines: list[str]) -> tuple[int, str, str] | None:
    """(line index, name, args) of a cell magic: the first non-blank line
    starting with `%%` (IPython drops leading blank lines)."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        s = line.lstrip()
        if not s.startswith("%%"):
            return None
        m = _MAGIC_NAME.match(s)
        name = m.group(1) if m else ""
        args = s[m.end():].strip() if m else s[2:].strip()
        return i, name, args
    return None


def mask_cell(src: str) -> MaskedCell:
    """Turn one code cell's source into Python text with the same lines."""
    lines = _split_lines(src)
    magics: list[Magic] = []
    first = 0
    cm = _cell_magic(lines)
    cell_magic = cell_args = None
    if cm is not None:
        idx, cell_magic, cell_args = cm
        col = len(lines[idx]) - len(lines[idx].lstrip())
        magics.append(Magic(idx + 1, col, idx + 1, len(lines[idx]), "cell", cell_magic, lines[idx].strip()[2:]))
        if cell_magic not in PYTHON_CELL_MAGICS:
            # Not analysed; every line becomes a comment, so a `# noqa` in it
            # still counts (ML108 reports commands in %%bash cells).
            return MaskedCell(_as_comments(lines), True, magics, cell_magic, cell_args)
        lines[idx] = "#" + lines[idx][1:] if lines[idx] else ""
        first = idx + 1

    out = list(lines)
    scanner = _Scanner()
    # Indentation and block-opening state of the last real statement line,
    # to decide between `pass` and a bare comment for an indented magic.
    prev_indent = 0
    prev_opens_block = False
    i = first
    n = len(lines)
    while i < n:
        line = lines[i]
        stripped = line.lstrip(" \t")
        indent_str = line[: len(line) - len(stripped)]
        if not scanner.at_logical_start:
            comment = scanner.feed(line)
            if scanner.at_logical_start:  # this line ends the logical line
                prev_opens_block = line[:comment].rstrip().endswith(":")
            i += 1
            continue
        if not stripped or stripped.startswith("#"):
            i += 1
            continue

        kind = name = None
        keep_from: int | None = None
        assign = None
        if stripped[0] in "%!":
            if stripped[0] == "!":
                kind, name = "shell", ""
            else:
                m = _MAGIC_NAME.match(stripped)
                kind, name = "line", (m.group(1) if m else "")
                keep_from = _python_after_time_magic(stripped)
        elif stripped[0] in ",;/" or stripped.startswith("?"):
            kind, name = ("help", "") if stripped.startswith("?") else ("line", "")
        else:
            assign = _ASSIGN.match(line)
            if assign:
                kind = "assign"
                m = _MAGIC_NAME.match(line[assign.start("sigil"):])
                name = m.group(1) if m and assign.group("sigil") == "%" else ""
            else:
                # A help line: `obj?`, `obj.attr??`, `np.*load*?` (code ends in `?`).
                probe = _Scanner()
                comment = probe.feed(line)
                code = line[:comment].rstrip()
                if code.endswith("?") and probe.at_logical_start and not probe.in_str:
                    kind, name = "help", ""

        if kind is None:
            comment = scanner.feed(line)
            prev_indent = len(indent_str.expandtabs())
            prev_opens_block = scanner.at_logical_start and line[:comment].rstrip().endswith(":")
            i += 1
            continue

        # Gather backslash continuation lines of an escaped command.
        j = i
        while lines[j].endswith("\\") and j + 1 < n:
            j += 1
        col = assign.start("sigil") if assign else len(indent_str)
        if assign:
            text = line[assign.start("sigil"):].lstrip("!%")
        elif kind == "help":
            text = stripped.strip()
        else:
            text = stripped[1:] if kind == "shell" else stripped.lstrip("%")
            if stripped.startswith("!!"):
                text = stripped[2:]
        if j > i:
            text = " ".join([text.rstrip("\\").rstrip()] + [lines[k].rstrip("\\").strip() for k in range(i + 1, j + 1)])
        magics.append(Magic(i + 1, col, j + 1, len(lines[j]), kind, name or "", text.strip()))

        indent_w = len(indent_str.expandtabs())
        needs_stmt = bool(indent_str) and (
            (prev_opens_block and indent_w > prev_indent) or (not prev_opens_block and indent_w == prev_indent)
        )
        if keep_from is not None and j == i:
            out[i] = indent_str + "0;" + " " * (keep_from - 2) + stripped[keep_from:]
            needs_stmt = True
        elif assign:
            out[i] = f"{line[: assign.end('target')]} = get_ipython()  # {line[assign.start('sigil'):]}"
            needs_stmt = True
        elif needs_stmt:
            out[i] = f"{indent_str}pass  # {stripped}"
        else:
            out[i] = f"{indent_str}#{stripped[1:]}" if stripped[0] != "#" else line
        for k in range(i + 1, j + 1):
            cont = lines[k]
            out[k] = "#" + cont[1:] if cont else ""
        if needs_stmt:
            prev_indent = indent_w
            prev_opens_block = False
        i = j + 1
    return MaskedCell("\n".join(out), False, magics, cell_magic, cell_args or "")


# ---------------------------------------------------------------------------
# Reading the notebook
# ---------------------------------------------------------------------------

def _kernel_language(nb: dict) -> str:
    """'python' for a Python kernel (or when unknown), else the language as
    the notebook names it ('R', 'julia')."""
    meta = nb.get("metadata") or {}
    if not isinstance(meta, dict):
        return "python"
    info = meta.get("language_info") if isinstance(meta.get("language_info"), dict) else {}
    spec = meta.get("kernelspec") if isinstance(meta.get("kernelspec"), dict) else {}
    for value in (info.get("name"), spec.get("language")):
        if isinstance(value, str) and value.strip():
            lang = value.strip().lower()
            if lang in PYTHON_LANGUAGES:
                return "python"
            # Kernels that name themselves oddly but run Python (sparkmagic...).
            lexer = str(info.get("pygments_lexer") or "").lower()
            mime = str(info.get("mimetype") or "").lower()
            ext = str(info.get("file_extension") or "").lower()
            if lexer.startswith(("ipython", "python")) or mime == "text/x-python" or ext == ".py":
                return "python"
            return value.strip()
    return "python"


def notebook_python_major(source: Source) -> int | None:
    """2 or 3 when the notebook's metadata says which Python it was saved
    with (`kernelspec` `python2`, `language_info.version` "2.7.18", an
    `ipython2` lexer), else None."""
    nb = source.notebook
    meta = nb.get("metadata") if isinstance(nb, dict) else None
    if not isinstance(meta, dict):
        return None
    info = meta.get("language_info") if isinstance(meta.get("language_info"), dict) else {}
    spec = meta.get("kernelspec") if isinstance(meta.get("kernelspec"), dict) else {}
    version = str(info.get("version") or "")
    if version[:2] in ("2.", "3."):
        return int(version[0])
    mode = info.get("codemirror_mode")
    if isinstance(mode, dict) and mode.get("version") in (2, 3):
        return int(mode["version"])
    lexer = str(info.get("pygments_lexer") or "").lower()
    if lexer in ("ipython2", "ipython3"):
        return int(lexer[-1])
    name = f"{spec.get('name') or ''} {spec.get('display_name') or ''}".lower().replace(" ", "")
    if "python2" in name:
        return 2
    if "python3" in name:
        return 3
    return None


def _cell_language(cell: dict) -> str | None:
    """A per-cell language override (VS Code stores `metadata.vscode.languageId`)."""
    meta = cell.get("metadata")
    if isinstance(meta, dict):
        vscode = meta.get("vscode")
        if isinstance(vscode, dict) and isinstance(vscode.get("languageId"), str):
            return vscode["languageId"].lower()
    return None


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


def _read_nb(text: str):
    """nbformat.reads, upgraded to v4, without logging or warnings.
    Schema violations are not fatal here (see `_cells`)."""
    import nbformat

    captured: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return nbformat.reads(text, as_version=4, capture_validation_error=captured)
        except TypeError:  # nbformat < 5.6: no capture_validation_error
            return nbformat.reads(text, as_version=4)


def _source_text(cell: dict, number: int) -> str:
    source = cell.get("source", "")
    if source is None:
        return ""
    if isinstance(source, list):
        if not all(isinstance(s, str) for s in source):
            raise SourceError(f"invalid notebook: cell {number}: 'source' must be a string or a list of strings")
        return "".join(source)
    if not isinstance(source, str):
        raise SourceError(f"invalid notebook: cell {number}: 'source' must be a string or a list of strings")
    return source


def _execution_count(cell: dict) -> int | None:
    value = cell.get("execution_count")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def load_notebook(path: str | Path, data: bytes | None = None) -> Source:
    if data is None:
        data = _read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"notebook is not valid UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"invalid notebook JSON: {exc.msg}", line=exc.lineno, col=exc.colno - 1) from None
    except RecursionError:
        raise SourceError("invalid notebook JSON: nested too deeply") from None
    if not isinstance(raw, dict) or ("cells" not in raw and "worksheets" not in raw):
        raise SourceError("invalid notebook: not a Jupyter notebook (no 'cells')")
    major = raw.get("nbformat")
    if major is not None and (not isinstance(major, int) or isinstance(major, bool) or major > 4 or major < 3):
        raise SourceError(f"invalid notebook: unsupported nbformat version {major!r} (mllint reads versions 3 and 4)")
    if "cells" in raw and not isinstance(raw["cells"], list):
        raise SourceError("invalid notebook: 'cells' must be a list")
    if "worksheets" in raw and not isinstance(raw["worksheets"], list):
        raise SourceError("invalid notebook: 'worksheets' must be a list")
    if "cells" in raw:
        # nbformat 4: read the cells ourselves, so that schema violations that
        # do not touch the code (a cell without `metadata` or `outputs`, a
        # bogus `execution_count`) do not stop the analysis (nbformat's
        # reader rejects some of them outright), and no time goes into full
        # schema validation. The nbformat object is kept for writing fixes back.
        import nbformat

        cells = raw["cells"]
        nb = nbformat.from_dict(raw)
    else:
        # nbformat 3 (worksheets): nbformat upgrades it to version 4.
        if major is None:
            raw["nbformat"], raw["nbformat_minor"] = 3, raw.get("nbformat_minor", 0)
            text = json.dumps(raw)
        try:
            nb = _read_nb(text)
        except Exception as exc:  # nbformat raises many types on bad input
            raise SourceError(f"invalid notebook: {_first_line(exc) or type(exc).__name__}") from None
        cells = nb.get("cells")
        if not isinstance(cells, list):
            raise SourceError("invalid notebook: 'cells' must be a list")

    src = Source(path=str(path), text="", kind="notebook", notebook=nb)
    lang = _kernel_language(raw if "cells" in raw else nb)
    if lang != "python":
        src.skip_reason = f"notebook kernel language is {lang!r}, not Python"
        return src
    pieces: list[str] = []
    line = 1
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise SourceError(f"invalid notebook: cell {index} is not an object")
        kind = cell.get("cell_type")
        if not isinstance(kind, str):
            raise SourceError(f"invalid notebook: cell {index} has no 'cell_type'")
        if kind != "code":
            continue
        source = _source_text(cell, index)
        cell_lang = _cell_language(cell)
        if cell_lang is not None and cell_lang not in PYTHON_LANGUAGES:
            masked = MaskedCell(_as_comments(_split_lines(source)), True, [])
        else:
            masked = mask_cell(source)
        # Every line of the cell keeps its place (a trailing newline adds none),
        # so positions inside a skipped cell still map back (ML108 in %%bash).
        masked_lines = masked.text.split("\n")
        if len(masked_lines) > 1 and source.endswith(("\n", "\r")):
            masked_lines.pop()
        body = "\n".join(masked_lines)
        n = len(masked_lines)
        pieces.append(body + "\n")
        span = CellSpan(
            index=index,
            start=line,
            n_lines=n,
            source=source,
            masked=masked.skipped,
            execution_count=_execution_count(cell),
            raw=cell,
        )
        span.magics = masked.magics
        span.cell_magic = masked.cell_magic
        span.cell_magic_args = masked.cell_magic_args
        src.cells.append(span)
        line += n
    src.text = "".join(pieces)
    return src


# ---------------------------------------------------------------------------
# Positions in the .ipynb file itself (for SARIF and GitHub annotations)
# ---------------------------------------------------------------------------

class _PosStr(str):
    """A decoded JSON string that remembers where its content starts."""

    start: int = 0


class NotebookFileMap:
    """Maps `(cell, line in cell, column)` to `(line, column)` in the .ipynb
    JSON text, i.e. to the place inside the JSON string that holds that
    character of the cell's source. Lines 1-based, columns 0-based characters.

    Built only for nbformat 4 files (`cells` at the top level)."""

    def __init__(self, text: str, cells: list):
        self.text = text
        self.cells = cells
        self._line_starts: list[int] | None = None

    @classmethod
    def from_text(cls, text: str) -> "NotebookFileMap | None":
        import json.decoder
        import json.scanner

        def parse_string(s: str, end: int, strict: bool = True):
            value, new_end = json.decoder.scanstring(s, end, strict)
            out = _PosStr(value)
            out.start = end
            return out, new_end

        decoder = json.JSONDecoder()
        decoder.parse_string = parse_string  # type: ignore[attr-defined]
        decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
        try:
            raw = decoder.decode(text)
        except (ValueError, RecursionError):
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
            return None
        return cls(text, raw["cells"])

    def _file_pos(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            starts = [0]
            for i, ch in enumerate(self.text):
                if ch == "\n":
                    starts.append(i + 1)
            self._line_starts = starts
        from bisect import bisect_right

        i = bisect_right(self._line_starts, offset) - 1
        return i + 1, offset - self._line_starts[i]

    def _raw_offset(self, piece: _PosStr, index: int) -> int | None:
        """File offset of decoded character `index` of a JSON string."""
        text = self.text
        p = piece.start
        k = 0
        while k < index:
            if p >= len(text):
                return None
            if text[p] == "\\":
                if text[p + 1 : p + 2] == "u":
                    code = int(text[p + 2 : p + 6], 16) if len(text) >= p + 6 else 0
                    p += 6
                    if 0xD800 <= code < 0xDC00 and text[p : p + 2] == "\\u":
                        p += 6  # a surrogate pair decodes to one character
                else:
                    p += 2
            else:
                p += 1
            k += 1
        return p

    def position(self, cell: int, line: int, col: int) -> tuple[int, int] | None:
        if not 1 <= cell <= len(self.cells):
            return None
        source = self.cells[cell - 1].get("source") if isinstance(self.cells[cell - 1], dict) else None
        pieces = source if isinstance(source, list) else [source]
        if not pieces or not all(isinstance(p, _PosStr) for p in pieces):
            return None
        # Decoded offset of (line, col) in the joined cell source.
        joined = "".join(pieces)
        offset = 0
        for _ in range(line - 1):
            nl = joined.find("\n", offset)
            if nl < 0:
                return None
            offset = nl + 1
        line_end = joined.find("\n", offset)
        if col > (len(joined) if line_end < 0 else line_end) - offset:
            return None
        offset += col
        for piece in pieces:
            if offset < len(piece) or (offset == len(piece) and piece is pieces[-1]):
                raw = self._raw_offset(piece, offset)
                return None if raw is None else self._file_pos(raw)
            offset -= len(piece)
        return None


def finding_file_region(finding, maps: dict) -> tuple[int, int, int, int] | None:
    """(line, col, end_line, end_col) of a notebook finding in the .ipynb
    file's own text (lines 1-based, columns 0-based), or None when the file
    cannot be read again or the position cannot be placed exactly. `maps`
    caches one NotebookFileMap per path for the caller."""
    if finding.cell is None:
        return None
    path = finding.path
    if path not in maps:
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            maps[path] = None
        else:
            maps[path] = NotebookFileMap.from_text(text)
    fmap = maps[path]
    if fmap is None:
        return None
    start = fmap.position(finding.cell, finding.display_line, finding.col)
    if start is None:
        return None
    end = fmap.position(finding.cell, finding.display_end_line, finding.end_col)
    if end is None or end < start:
        end = start
    return start[0], start[1], end[0], end[1]
