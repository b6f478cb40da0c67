"""The floor: read and `ast.parse` every file named in a list, one process.
Notebooks are read with nbformat and their code cells joined (as mllint
does, without masking IPython syntax: a cell that does not parse is skipped).

    python bench/floor.py files.txt
"""

from __future__ import annotations

import ast
import sys
import warnings
from importlib.util import decode_source


def parse_notebook(path: str) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            try:
                ast.parse(cell.source)
            except SyntaxError:
                pass


def main(list_file: str) -> int:
    warnings.simplefilter("ignore")
    with open(list_file, encoding="utf-8") as fh:
        paths = [line.rstrip("\n") for line in fh if line.strip()]
    for path in paths:
        if path.endswith(".ipynb"):
            parse_notebook(path)
            continue
        with open(path, "rb") as fh:
            data = fh.read()
        try:
            ast.parse(decode_source(data), filename=path)
        except (SyntaxError, ValueError, UnicodeDecodeError):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
