"""Fixes: every catalogue entry with `fix: safe|unsafe` is fixed on its own
`bad` example; the engine of `mllint.fix.apply` (overlaps, validation, passes,
encodings, newlines, notebooks, atomic writes) and the CLI flags."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import libcst
import pytest
from helpers import lint, notebook_from_cells, notebook_from_percent, every_rule

from mllint.core.catalog import default_catalog
from mllint.core.config import Config
from mllint.core.findings import Edit, Fix
from mllint.core.fsutil import WriteError, atomic_write
from mllint.core.sources import Source, load_source
from mllint.fix.apply import (
    _conflict,
    apply_pass,
    fix_data,
    fix_text,
    split_lines_keepends,
    unified_diff,
)

CATALOG = default_catalog()
FIXABLE = [s for s in CATALOG if s.fix != "none" and s.example_format != "none"]


def _example(spec, text: str) -> tuple[str, bytes]:
    if spec.example_format == "notebook":
        return "example.ipynb", notebook_from_percent(text).encode("utf-8")
    return "example.py", text.encode("utf-8")


def _decorate(text: str) -> str:
    """Add comments and blank lines around the example and a trailing comment
    on every line that ends a statement, to check that they survive the fix."""
    import io
    import tokenize

    ends = {
        tok.start[0]
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type == tokenize.NEWLINE and not tok.line.rstrip().endswith("\\") and "#" not in tok.line
    }
    out = ["# leading comment", ""]
    for i, line in enumerate(text.rstrip("\n").split("\n"), start=1):
        out.append(line + "  # keep me" if i in ends and line.strip() else line)
    out += ["", "# trailing comment", ""]
    return "\n".join(out)


def _codes(path: str, data: bytes) -> list[str]:
    from mllint.engine.lint import lint_source

    return [f.code for f in lint_source(load_source(path, data), Config())]


@pytest.mark.parametrize("spec", FIXABLE, ids=lambda s: s.code)
def test_fix_removes_finding_on_bad_example(spec) -> None:
    name, data = _example(spec, spec.bad)
    assert spec.code in _codes(name, data)
    unsafe = spec.fix == "unsafe"
    out = fix_data(name, data, Config(), unsafe=unsafe)
    assert out.fixed >= 1, f"{spec.code}: no fix applied; problems: {out.problems}"
    assert not out.problems, out.problems
    assert spec.code not in _codes(name, out.data), f"{spec.code} still reported after the fix"
    assert "ML000" not in _codes(name, out.data)
    if name.endswith(".py"):
        text = out.data.decode("utf-8")
        ast.parse(text)
        assert libcst.parse_module(text).code == text
    # a second run changes nothing
    again = fix_data(name, out.data, Config(), unsafe=unsafe)
    assert again.fixed == 0 and again.data == out.data


@pytest.mark.parametrize("spec", [s for s in FIXABLE if s.example_format == "python"], ids=lambda s: s.code)
def test_fix_keeps_comments_and_blank_lines(spec) -> None:
    text = _decorate(spec.bad)
    assert spec.code in [f.code for f in lint(text)]
    out = fix_text(text, unsafe=spec.fix == "unsafe")
    assert out.fixed >= 1, out.problems
    assert spec.code not in [f.code for f in out.findings]
    new = out.data.decode("utf-8")
    assert new.count("# keep me") == text.count("# keep me")
    assert new.startswith("# leading comment\n\n") and new.endswith("\n\n# trailing comment\n")
    old_lines, new_lines = text.split("\n"), new.split("\n")
    # the catalogue's fixes edit within lines: the line structure is kept
    assert len(new_lines) == len(old_lines)
    for a, b in zip(old_lines, new_lines):
        if a.strip() == "" or a.lstrip().startswith("#"):
            assert a == b
        if a.endswith("  # keep me"):
            assert b.endswith("  # keep me")


@pytest.mark.parametrize("spec", [s for s in FIXABLE if s.fix == "unsafe"], ids=lambda s: s.code)
def test_unsafe_fix_needs_unsafe_flag(spec) -> None:
    name, data = _example(spec, spec.bad)
    out = fix_data(name, data, Config(), unsafe=False)
    before = [f for f in fix_data(name, data, Config(), unsafe=False, max_passes=0).findings if f.code == spec.code]
    assert all(f.fix is None or f.fix.applicability == "unsafe" for f in before)
    assert spec.code in [f.code for f in out.findings]


def test_catalogue_fix_field_matches_fixes_the_rules_offer() -> None:
    """A rule whose findings carry a fix must say so in the catalogue (and
    with the same applicability)."""
    for spec in FIXABLE:
        name, data = _example(spec, spec.bad)
        out = fix_data(name, data, Config(), max_passes=0)
        fixes = [f.fix for f in out.findings if f.code == spec.code and f.fix is not None]
        assert fixes, f"{spec.code}: catalogue says fix: {spec.fix} but its bad example carries no fix"
        assert {f.applicability for f in fixes} == {spec.fix}, spec.code
    for spec in CATALOG:
        if spec.fix != "none" or spec.example_format == "none":
            continue
        name, data = _example(spec, spec.bad)
        out = fix_data(name, data, Config(), max_passes=0)
        assert not [f for f in out.findings if f.code == spec.code and f.fix is not None], (
            f"{spec.code} offers a fix but the catalogue says fix: none"
        )


# ---------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------

ML102_SRC = (
    "from sklearn.model_selection import train_test_split\n"
    "a, b = train_test_split(X, test_size=0.2)  # split\n"
)


def test_seed_comes_from_config() -> None:
    out = fix_data("s.py", ML102_SRC.encode(), Config(seed=7), unsafe=True)
    assert b"random_state=7)" in out.data


def test_conflict_rules() -> None:
    assert _conflict((0, 5, "a"), (3, 8, "b"))
    assert not _conflict((0, 5, "a"), (5, 8, "b"))  # adjacent
    assert _conflict((4, 4, "x"), (4, 4, "y"))  # two insertions at one point
    assert _conflict((2, 6, "a"), (4, 4, "y"))  # insertion inside a replacement
    assert not _conflict((2, 6, "a"), (6, 6, "y"))


def _src(text: str) -> Source:
    return Source(path="t.py", text=text)


def test_overlapping_fixes_are_applied_one_per_pass() -> None:
    text = "x = f(a)\n"
    f1 = Fix("one", (Edit(1, 4, 1, 8, "g(a)"),))
    f2 = Fix("two", (Edit(1, 6, 1, 7, "b"),))
    res = apply_pass(_src(text), text.encode(), [f1, f2])
    assert res.applied == [0]
    assert res.data == b"x = g(a)\n"


def test_fix_that_breaks_the_file_is_rejected_others_kept() -> None:
    text = "x = f(a)\ny = h(b)\n"
    bad = Fix("bad", (Edit(1, 4, 1, 5, "(("),))
    good = Fix("good", (Edit(2, 4, 2, 5, "k"),))
    res = apply_pass(_src(text), text.encode(), [bad, good])
    assert res.applied == [1]
    assert [i for i, _ in res.rejected] == [0]
    assert res.data == b"x = f(a)\ny = k(b)\n"


def test_edit_out_of_range_is_rejected() -> None:
    text = "x = 1\n"
    res = apply_pass(_src(text), text.encode(), [Fix("t", (Edit(1, 2, 1, 99, "y"),))])
    assert not res.applied and res.rejected and res.data == text.encode()


def test_identical_fixes_apply_once() -> None:
    text = "x = f(a)\n"
    f = Fix("one", (Edit(1, 4, 1, 5, "g"),))
    res = apply_pass(_src(text), text.encode(), [f, f])
    assert sorted(res.applied) == [0, 1]
    assert res.data == b"x = g(a)\n"


def test_crlf_bom_and_encoding_preserved() -> None:
    text = ML102_SRC.replace("\n", "\r\n")
    data = b"\xef\xbb\xbf" + text.encode("utf-8")
    out = fix_data("c.py", data, Config(), unsafe=True)
    assert out.fixed == 1
    assert out.data.startswith(b"\xef\xbb\xbf")
    body = out.data[3:]
    assert body.count(b"\r\n") == 2 and body.replace(b"\r\n", b"").count(b"\n") == 0
    assert b"random_state=42)  # split\r\n" in body


def test_latin1_cookie_preserved() -> None:
    text = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + ML102_SRC
    out = fix_data("l.py", text.encode("latin-1"), Config(), unsafe=True)
    assert out.fixed == 1
    assert "caf\xe9".encode("latin-1") in out.data
    assert out.data.decode("latin-1").endswith("random_state=42)  # split\n")


def test_non_ascii_columns() -> None:
    text = "from sklearn.model_selection import train_test_split\nü = train_test_split(X, test_size=0.2)  # ü\n"
    out = fix_text(text, unsafe=True)
    assert out.data.decode() == text.replace("0.2)", "0.2, random_state=42)")


def test_noqa_suppressed_finding_is_not_fixed() -> None:
    text = ML102_SRC.replace("# split", "# noqa: ML102")
    out = fix_text(text, unsafe=True)
    assert out.fixed == 0 and out.data == text.encode()


def test_file_that_does_not_parse_is_left_alone() -> None:
    text = ML102_SRC + "def broken(:\n"
    out = fix_text(text, unsafe=True)
    assert out.fixed == 0 and out.data == text.encode()


def test_split_lines_only_on_python_newlines() -> None:
    assert split_lines_keepends("a\x0cb\nc\u2028d\r\ne\rf") == ["a\x0cb\n", "c\u2028d\r\n", "e\r", "f"]


def test_form_feed_file_fixed_at_the_right_place() -> None:
    text = "import os\n\x0c\nfrom sklearn.model_selection import train_test_split\na, b = train_test_split(X)\n"
    out = fix_text(text, unsafe=True)
    assert out.data.decode() == text.replace("(X)", "(X, random_state=42)")


def test_diff_is_unified_and_changes_nothing() -> None:
    out = fix_text(ML102_SRC, unsafe=True)
    d = unified_diff(out)
    assert d.startswith("--- snippet.py\n+++ snippet.py\n")
    assert "-a, b = train_test_split(X, test_size=0.2)  # split\n" in d
    assert "+a, b = train_test_split(X, test_size=0.2, random_state=42)  # split\n" in d


# ---------------------------------------------------------------------------
# Notebooks
# ---------------------------------------------------------------------------

def _nb_with_outputs() -> str:
    """Notebook JSON written as Jupyter does, with outputs and metadata."""
    def code(src: str, n: int, outputs: list, metadata: dict | None = None) -> dict:
        return {"cell_type": "code", "execution_count": n, "id": f"c{n}", "metadata": metadata or {},
                "outputs": outputs, "source": src.splitlines(True)}

    nb = {
        "cells": [
            {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": ["# Title"]},
            code("%matplotlib inline\nimport numpy as np", 1,
                 [{"name": "stdout", "output_type": "stream", "text": ["hi\n"]}]),
            code("from sklearn.model_selection import train_test_split\n"
                 "# the split\n\na, b = train_test_split(X, test_size=0.2)  # keep", 2,
                 [{"data": {"image/png": "iVBORw0KGgo=\n", "text/plain": ["(array([1]), array([2]))"]},
                   "execution_count": 2, "metadata": {}, "output_type": "execute_result"}],
                 {"collapsed": False, "tags": ["split"]}),
        ],
        "metadata": {
            "custom": {"a": [1, 2], "z": "\u00e9t\u00e9"},
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_notebook_fix_only_changes_the_edited_cell_source() -> None:
    original = _nb_with_outputs()
    out = fix_data("nb.ipynb", original.encode(), Config(), unsafe=True)
    assert out.fixed == 1, out.problems
    before, after = json.loads(original), json.loads(out.data)
    assert before["metadata"] == after["metadata"]
    assert before["nbformat"] == after["nbformat"] and before["nbformat_minor"] == after["nbformat_minor"]
    for i, (a, b) in enumerate(zip(before["cells"], after["cells"])):
        for key in set(a) | set(b):
            if i == 2 and key == "source":
                continue
            assert json.dumps(a.get(key), sort_keys=True) == json.dumps(b.get(key), sort_keys=True), (i, key)
    src = after["cells"][2]["source"]
    src = "".join(src) if isinstance(src, list) else src
    assert src == ("from sklearn.model_selection import train_test_split\n"
                   "# the split\n\na, b = train_test_split(X, test_size=0.2, random_state=42)  # keep")
    # byte-identical outside the edited source: only the changed line differs
    diff = [(x, y) for x, y in zip(original.splitlines(), out.data.decode().splitlines()) if x != y]
    assert len(diff) == 1 and "random_state=42" in diff[0][1]
    assert len(original.splitlines()) == len(out.data.decode().splitlines())
    again = fix_data("nb.ipynb", out.data, Config(), unsafe=True)
    assert again.fixed == 0 and again.data == out.data


def test_notebook_fix_on_a_line_magic_keeps_the_magic() -> None:
    nb = notebook_from_cells([
        "from sklearn.model_selection import train_test_split",
        "%time a, b = train_test_split(X)",
    ])
    out = fix_data("nb.ipynb", nb.encode(), Config(), unsafe=True)
    assert out.fixed == 1, out.problems
    src = json.loads(out.data)["cells"][1]["source"]
    assert ("".join(src) if isinstance(src, list) else src) == "%time a, b = train_test_split(X, random_state=42)"


def test_notebook_edit_touching_masked_text_is_refused() -> None:
    nb = notebook_from_cells(["%time x = f(1)\n!ls"])
    source = load_source("nb.ipynb", nb.encode())
    touching_magic = Fix("t", (Edit(1, 0, 1, 8, "y"),))  # overlaps `%time `
    shell_line = Fix("t", (Edit(2, 1, 2, 3, "pwd"),))  # `!ls` is masked as a comment
    res = apply_pass(source, nb.encode(), [touching_magic, shell_line])
    assert res.applied == [] and len(res.rejected) == 2 and res.data == nb.encode()


def test_notebook_diff_names_the_cell() -> None:
    out = fix_data("nb.ipynb", _nb_with_outputs().encode(), Config(), unsafe=True)
    d = unified_diff(out)
    assert "--- nb.ipynb:cell 3" in d and "+a, b = train_test_split(X, test_size=0.2, random_state=42)  # keep" in d


# ---------------------------------------------------------------------------
# Atomic writes
# ---------------------------------------------------------------------------

def test_atomic_write_keeps_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    p = tmp_path / "x.py"
    p.write_bytes(b"old\n")
    p.chmod(0o640)
    atomic_write(p, b"new\n", root=tmp_path, expected=b"old\n")
    assert p.read_bytes() == b"new\n"
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    assert [q.name for q in tmp_path.iterdir()] == ["x.py"]


def test_atomic_write_refuses_if_file_changed(tmp_path: Path) -> None:
    p = tmp_path / "x.py"
    p.write_bytes(b"changed\n")
    with pytest.raises(WriteError):
        atomic_write(p, b"new\n", root=tmp_path, expected=b"old\n")
    assert p.read_bytes() == b"changed\n"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write read-only files")
def test_atomic_write_refuses_read_only_file(tmp_path: Path) -> None:
    p = tmp_path / "x.py"
    p.write_bytes(b"old\n")
    p.chmod(0o444)
    with pytest.raises(WriteError):
        atomic_write(p, b"new\n", root=tmp_path)
    assert p.read_bytes() == b"old\n"


def test_atomic_write_never_follows_symlink_out_of_tree(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_bytes(b"old\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    link = tree / "link.py"
    link.symlink_to(outside)
    with pytest.raises(WriteError):
        atomic_write(link, b"new\n", root=tree)
    assert outside.read_bytes() == b"old\n" and link.is_symlink()
    inside = tree / "real.py"
    inside.write_bytes(b"old\n")
    link2 = tree / "link2.py"
    link2.symlink_to(inside)
    atomic_write(link2, b"new\n", root=tree)
    assert inside.read_bytes() == b"new\n" and link2.is_symlink()


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------

def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mllint", *every_rule(args), "--no-progress"], check=False, cwd=cwd, capture_output=True, text=True, env=env
    )


SAFE_AND_UNSAFE = ML102_SRC + "import yaml\ncfg = yaml.load(open('c.yaml'))\n"


def test_cli_fix_safe_then_unsafe(tmp_path: Path) -> None:
    p = tmp_path / "t.py"
    p.write_text(SAFE_AND_UNSAFE)
    r = run("check", "--fix", "t.py", cwd=tmp_path)
    text = p.read_text()
    assert "random_state" not in text  # ML102 is unsafe: not applied without --unsafe-fixes
    assert "yaml.safe_load(open('c.yaml'))" in text  # ML604 is safe
    assert "Fixed 1 finding. 1 more fixable with `--unsafe-fixes`." in r.stdout, r.stdout
    assert r.returncode == 1  # the ML102 finding remains
    r = run("fix", "--unsafe-fixes", "t.py", cwd=tmp_path)
    assert "random_state=42" in p.read_text()
    assert "Fixed" in r.stdout
    before = p.read_bytes()
    r2 = run("fix", "--unsafe-fixes", "t.py", cwd=tmp_path)
    assert p.read_bytes() == before
    assert "Fixed" not in r2.stdout


def test_cli_diff_changes_nothing(tmp_path: Path) -> None:
    p = tmp_path / "t.py"
    p.write_text(ML102_SRC)
    r = run("check", "--diff", "--unsafe-fixes", "t.py", cwd=tmp_path)
    assert r.returncode == 1
    assert "+a, b = train_test_split(X, test_size=0.2, random_state=42)  # split" in r.stdout
    assert p.read_text() == ML102_SRC
    r = run("check", "--diff", "t.py", cwd=tmp_path)  # unsafe only: nothing to apply
    assert r.returncode == 0 and r.stdout == ""
    assert "1 more with --unsafe-fixes" in r.stderr


def test_cli_fix_writes_notebook(tmp_path: Path) -> None:
    p = tmp_path / "nb.ipynb"
    original = _nb_with_outputs()
    p.write_text(original)
    r = run("fix", "--unsafe-fixes", "nb.ipynb", cwd=tmp_path)
    assert r.returncode in (0, 1), r.stderr
    new = p.read_text()
    assert "random_state=42" in new
    assert json.loads(new)["cells"][2]["outputs"] == json.loads(original)["cells"][2]["outputs"]


def test_cli_add_noqa_rejects_fix(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("x = 1\n")
    r = run("check", "--fix", "--add-noqa", "t.py", cwd=tmp_path)
    assert r.returncode == 2 and "--add-noqa" in r.stderr


# ---------------------------------------------------------------------------
# Docs
# ---------------------------------------------------------------------------

def test_fixes_doc_is_fresh_and_lists_every_fixable_rule() -> None:
    from mllint.docs.fix_pages import default_path, fixes_page

    page = fixes_page()
    for spec in CATALOG:
        listed = f"| [{spec.code}](rules/{spec.code}.md) |" in page
        assert listed == (spec.fix != "none"), spec.code
    assert default_path().read_text(encoding="utf-8") == page, (
        "docs/fixes.md is stale: run `python -m mllint.docs.fix_pages`"
    )


def test_pre_commit_fix_hook() -> None:
    import yaml

    hooks = yaml.safe_load((Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text())
    hook = {h["id"]: h for h in hooks}["mllint-fix"]
    assert hook["entry"] == "mllint fix" and "jupyter" in hook["types_or"]


def test_fix_loop_is_bounded(monkeypatch) -> None:
    """A fix that never makes its finding go away stops after MAX_PASSES."""
    import mllint.engine.lint
    from mllint.core.findings import Finding
    from mllint.core.severity import Severity
    from mllint.fix.apply import MAX_PASSES

    def always(source, config, catalog=None, **kw):
        fix = Fix("grow", (Edit(1, 0, 1, 0, "#"),))
        return [Finding("ML999", "m", source.path, 1, 0, 1, 0, Severity.LOW, fix=fix)]

    monkeypatch.setattr(mllint.engine.lint, "lint_source", always)
    out = fix_data("t.py", b"# x\n", Config())
    assert out.passes == MAX_PASSES and out.fixed == MAX_PASSES
    assert out.data == b"#" * MAX_PASSES + b"# x\n"
    assert any("did not settle" in p for p in out.problems)


def test_cli_refuses_to_write_through_symlink_out_of_tree(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(ML102_SRC.replace("train_test_split(X, test_size=0.2)", "yaml.load(open('c'))").replace(
        "from sklearn.model_selection import train_test_split", "import yaml"))
    before = outside.read_bytes()
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "pyproject.toml").write_text("[tool.mllint]\n")
    (tree / "link.py").symlink_to(outside)
    r = run("fix", "link.py", cwd=tree)
    assert outside.read_bytes() == before
    assert "outside the linted tree" in r.stderr
    assert (tree / "link.py").is_symlink()


@pytest.mark.parametrize("style", [{"indent": 2}, {"indent": 4, "ensure_ascii": True}, {"indent": 1, "sort_keys": True}])
def test_notebook_written_back_in_its_own_style(style) -> None:
    nb = json.loads(_nb_with_outputs())
    nb = {"nbformat_minor": nb["nbformat_minor"], **{k: v for k, v in nb.items() if k != "nbformat_minor"}}  # unsorted keys
    original = json.dumps(nb, **style)  # no trailing newline
    out = fix_data("nb.ipynb", original.encode(), Config(), unsafe=True)
    assert out.fixed == 1
    new = out.data.decode()
    changed = [(a, b) for a, b in zip(original.splitlines(), new.splitlines()) if a != b]
    assert len(changed) == 1 and len(original.splitlines()) == len(new.splitlines())
    assert not new.endswith("\n")


def test_notebook_in_unreproducible_layout_keeps_values() -> None:
    nb = json.loads(_nb_with_outputs())
    original = json.dumps(nb, separators=(" ,", " : "))  # a layout json.dumps options cannot express
    out = fix_data("nb.ipynb", original.encode(), Config(), unsafe=True)
    assert out.fixed == 1
    after = json.loads(out.data)
    assert after["metadata"] == nb["metadata"]
    assert [c.get("outputs") for c in after["cells"]] == [c.get("outputs") for c in nb["cells"]]


def test_every_fixable_rule_has_a_runnable_example() -> None:
    """So the parametrised fix tests above cover every fixable rule."""
    assert [s.code for s in CATALOG if s.fix != "none" and s.example_format == "none"] == []
