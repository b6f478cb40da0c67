"""Generate docs/fixes.md from the catalogue: every rule whose `fix:` is safe
or unsafe, with the fix's title and its effect on the rule's `bad` example
(computed by running the fixer, so the page cannot drift from the code).

    python -m mllint.docs.fix_pages            # write docs/fixes.md
    python -m mllint.docs.fix_pages --check    # exit 1 if it is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mllint.core.catalog import Catalog, RuleSpec, default_catalog

INTRO = """\
# Fixes

mllint can fix some of what it finds. A fix is attached to a finding by the
rule that reports it; `mllint check --fix` (or `mllint fix`) applies it to the
file in place.

| command | what it does |
|---|---|
| `mllint check --fix` / `mllint fix` | apply **safe** fixes, then report what is left |
| `mllint fix --unsafe-fixes` | also apply **unsafe** fixes |
| `mllint check --diff [--unsafe-fixes]` | print the fixes as a unified diff; change nothing (exit 1 if there is a diff) |

**Applicability.** A *safe* fix keeps the program's meaning, or changes it
only in the way the rule asks for and nothing else can reasonably be meant
(`yaml.load` to `yaml.safe_load`, `model.forward(x)` to `model(x)`). An
*unsafe* fix changes behaviour you should review: adding `random_state=42`
changes which rows land in which split, adding `weights_only=True` makes
loading a pickled full model fail, adding a timeout makes a slow call raise.
Unsafe fixes are applied only with `--unsafe-fixes`; without it the report
says how many more would be fixed with it.

**How fixes are applied.** Each pass applies every fix that does not overlap
another fix chosen in the same pass, checks that the result still parses
(with `ast`, and with libcst, which must reproduce the text exactly, so
comments and formatting are kept), rejects any fix that would break the file,
then lints the file again and repeats until nothing fixable is left (at most
10 passes). A second `--fix` run changes nothing. Findings suppressed with
`# noqa` or hidden by a [baseline](adopting.md) are not fixed.

**Files.** Writes are atomic (a temporary file in the same directory, renamed
over the original) and keep the file mode, encoding (PEP 263 cookie, UTF-8
BOM) and newline style (LF, CRLF). If the file changes on disk while mllint
works on it, it is not written. A symlink is written through only when its
target is inside the linted tree.

**Notebooks.** Fixes are applied inside the cell. Only the edited cells'
`source` changes: outputs, execution counts and all metadata stay exactly as
they were, and the JSON is written back in the file's own layout. An edit on a
line holding IPython syntax (`%magic`, `!cmd`) is never made.

**pre-commit.** The `mllint-fix` hook runs `mllint fix` (see
`.pre-commit-hooks.yaml`); add `args: [--unsafe-fixes]` to apply unsafe fixes
too.

## Rules with a fix

This list is generated from the `fix:` field of the catalogue (`rules/*.yaml`)
by `python -m mllint.docs.fix_pages`; the examples are each rule's `bad` example run
through the fixer.
"""


def _example_fix(spec: RuleSpec) -> tuple[list[str], str]:
    """(fix titles, unified diff) of the rule's bad example."""
    from mllint.core.config import Config
    from mllint.fix.apply import fix_data, unified_diff

    if spec.example_format == "notebook":
        name, data = "example.ipynb", _notebook(spec.bad)
    else:
        name, data = "example.py", spec.bad.encode("utf-8")
    first = fix_data(name, data, Config(select=["ALL"]), max_passes=0)
    titles = sorted({f.fix.title for f in first.findings if f.code == spec.code and f.fix is not None})
    out = fix_data(name, data, Config(select=["ALL"]), unsafe=True)
    return titles, unified_diff(out)


def _notebook(text: str) -> bytes:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            cells.append([])
            continue
        if not cells:
            cells.append([])
        cells[-1].append(line)
    for c in cells:
        nb.cells.append(nbformat.v4.new_code_cell("\n".join(c).strip("\n")))
    return nbformat.writes(nb).encode("utf-8")


def fixes_page(catalog: Catalog | None = None) -> str:
    catalog = catalog or default_catalog()
    specs = [s for s in catalog if s.fix != "none"]
    out = [INTRO]
    out += ["| code | name | applicability | fix (as titled on the rule's example) |", "|---|---|---|---|"]
    details: list[str] = []
    for spec in specs:
        titles, diff = ([], "") if spec.example_format == "none" else _example_fix(spec)
        title = "; ".join(titles) if titles else "(see the rule page)"
        out.append(f"| [{spec.code}](rules/{spec.code}.md) | {spec.name} | {spec.fix} | {title} |")
        if diff:
            details += [f"### {spec.code} — {spec.name} ({spec.fix})", "", "```diff", diff.rstrip("\n"), "```", ""]
    out.append("")
    if details:
        out += ["## Examples", ""] + details
    out.append("<!-- generated by `python -m mllint.docs.fix_pages` from rules/; do not edit -->")
    return "\n".join(out) + "\n"


def default_path() -> Path:
    return Path(__file__).resolve().parents[3] / "docs" / "fixes.md"


def is_stale(path: Path | None = None) -> bool:
    path = path or default_path()
    try:
        return path.read_text(encoding="utf-8") != fixes_page()
    except OSError:
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mllint.docs.fix_pages")
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/fixes.md is stale")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    path = args.out or default_path()
    if args.check:
        if is_stale(path):
            print(f"{path} is stale: run `python -m mllint.docs.fix_pages`", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(fixes_page(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
