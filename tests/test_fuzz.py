"""Property-based fuzzing of the whole pipeline (bounded, deterministic).

* arbitrary valid Python (hypothesmith) never raises and never makes a rule
  crash (ML001);
* ML-flavoured programs stitched from the catalogue's own examples, in any
  order and cut at any line, yield findings or ML000, never ML001;
* mutated notebooks never raise;
* `--fix` (unsafe fixes included) always produces code that parses, and a
  second fix run changes nothing.
"""

from __future__ import annotations

import ast
import json

import hypothesmith
import pytest
from helpers import notebook_from_cells
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mllint.core.catalog import default_catalog
from mllint.core.config import Config
from mllint.core.sources import Source, SourceError, load_source
from mllint.engine.lint import lint_source

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
CONFIG = Config()


def _examples() -> list[str]:
    out = []
    for spec in default_catalog():
        if spec.example_format == "python":
            out += [spec.bad, spec.good]
    return out


EXAMPLES = _examples()


def _ok(text: str) -> bool:
    try:
        ast.parse(text)
        return True
    except SyntaxError:
        return False


def _statements() -> list[str]:
    stmts: set[str] = set()
    for ex in EXAMPLES:
        if not _ok(ex):
            continue
        for node in ast.parse(ex).body:
            seg = ast.get_source_segment(ex, node)
            if seg:
                stmts.add(seg)
    return sorted(stmts)


STATEMENTS = _statements()


def _lint(text: str) -> list:
    return lint_source(Source(path="fuzz.py", text=text), CONFIG)


def _no_internal_errors(findings) -> None:
    bad = [f for f in findings if f.code == "ML001"]
    assert not bad, bad[0].message + "\n" + bad[0].detail


@FUZZ
@given(hypothesmith.from_grammar())
def test_arbitrary_python_never_crashes_a_rule(source: str) -> None:
    _no_internal_errors(_lint(source))


programs = st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=25).map("\n".join)


@FUZZ
@given(programs, st.integers(min_value=0, max_value=400))
def test_ml_programs_any_order_any_cut(program: str, cut: int) -> None:
    _no_internal_errors(_lint(program))
    lines = program.splitlines(True)
    truncated = "".join(lines[: cut % (len(lines) + 1)])
    findings = _lint(truncated)
    _no_internal_errors(findings)


@FUZZ
@given(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=12), st.data())
def test_mutated_notebooks_never_raise(cells: list[str], data) -> None:
    nb = json.loads(notebook_from_cells(cells))
    mutation = data.draw(st.sampled_from(["drop_key", "retype", "truncate", "list_source", "none"]))
    if mutation == "drop_key" and nb["cells"]:
        cell = data.draw(st.sampled_from(nb["cells"]))
        key = data.draw(st.sampled_from(sorted(cell)))
        del cell[key]
    elif mutation == "retype" and nb["cells"]:
        cell = data.draw(st.sampled_from(nb["cells"]))
        key = data.draw(st.sampled_from(sorted(cell)))
        cell[key] = data.draw(st.sampled_from([None, 3, [], {}, "x", [1, "a"]]))
    elif mutation == "list_source":
        for cell in nb["cells"]:
            cell["source"] = str(cell.get("source", "")).splitlines(True)
    raw = json.dumps(nb).encode()
    if mutation == "truncate":
        raw = raw[: data.draw(st.integers(min_value=0, max_value=len(raw)))]
    try:
        source = load_source("fuzz.ipynb", raw)
    except SourceError:
        return  # reported as ML000 by the CLI
    _no_internal_errors(lint_source(source, CONFIG))


@FUZZ
@given(programs)
def test_fix_output_parses_and_is_stable(program: str) -> None:
    fixes = pytest.importorskip("mllint.fix.apply")
    first = fixes.fix_text(program, CONFIG, unsafe=True)
    text = first.data.decode("utf-8")
    ast.parse(text)  # never corrupts
    second = fixes.fix_text(text, CONFIG, unsafe=True)
    assert second.data == first.data, "a second --fix run changed the file again"
