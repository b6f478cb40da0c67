"""`--add-noqa` and the warnings about noqa comments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import lint, every_rule

from mllint.core.catalog import default_catalog
from mllint.core.sources import Source, load_source
from mllint.fix.noqa import add_noqa_data, check_noqa_comments, noqa_fixes

KNOWN = frozenset(default_catalog().codes)

SRC = """\
import torch
import yaml

model = torch.load("model.pt")
cfg = yaml.load(open("c.yaml"))  # legacy config
other = torch.load("x.pt")  # noqa: E501
text = '''
torch.load("in a string")
'''
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mllint", *every_rule(args), "--no-progress"], check=False, cwd=cwd, capture_output=True, text=True, env=env
    )


def _add(text: str, path: str = "t.py") -> tuple[str, int, list[str]]:
    source = Source(path=path, text=text)
    findings = lint(text, path=path)
    new, n, problems = add_noqa_data(source, text.encode(), findings)
    return new.decode(), n, problems


def test_add_noqa_appends_and_merges() -> None:
    new, n, problems = _add(SRC)
    assert not problems
    lines = new.splitlines()
    assert lines[3] == 'model = torch.load("model.pt")  # noqa: ML602'
    assert lines[4] == 'cfg = yaml.load(open("c.yaml"))  # legacy config  # noqa: ML604'
    assert lines[5] == 'other = torch.load("x.pt")  # noqa: E501, ML602'
    assert n == 3
    assert [f.code for f in lint(new)] == []  # everything reported is now suppressed
    again, n2, _ = _add(new)
    assert again == new and n2 == 0  # idempotent


def test_several_codes_on_one_line_are_merged() -> None:
    text = "import torch, yaml\na = (torch.load('m.pt'), yaml.load(open('c')))\n"
    new, n, _ = _add(text)
    assert new.splitlines()[1].endswith("  # noqa: ML602, ML604")
    assert n == 1 and lint(new) == []


def test_line_ending_inside_a_multiline_string_is_skipped() -> None:
    text = 'import torch\nm = torch.load("""model\n.pt""")\n'
    source = Source(path="t.py", text=text)
    fixes, problems = noqa_fixes(source, lint(text))
    assert fixes == [] and problems and "multi-line string" in problems[0]


def test_backslash_continuation_is_skipped() -> None:
    text = 'import torch\nm = torch.load("m.pt") + \\\n    1\n'
    fixes, problems = noqa_fixes(Source(path="t.py", text=text), lint(text))
    assert fixes == [] and "backslash" in problems[0]


def test_add_noqa_in_a_notebook_cell() -> None:
    from helpers import notebook_from_cells

    nb = notebook_from_cells(["%matplotlib inline\nimport torch", "m = torch.load('m.pt')"])
    source = load_source("nb.ipynb", nb.encode())
    from mllint.core.config import Config
    from mllint.engine.lint import lint_source

    new, n, problems = add_noqa_data(source, nb.encode(), lint_source(source, Config()))
    assert n == 1 and not problems
    cells = json.loads(new)["cells"]
    src = cells[1]["source"]
    assert ("".join(src) if isinstance(src, list) else src) == "m = torch.load('m.pt')  # noqa: ML602"
    assert cells[0] == json.loads(nb)["cells"][0]


def test_cli_add_noqa(tmp_path: Path) -> None:
    p = tmp_path / "t.py"
    p.write_text(SRC)
    r = run("check", "--add-noqa", "t.py", cwd=tmp_path)
    assert "added noqa comments to 3 lines" in r.stderr
    assert r.returncode == 0, r.stdout
    r = run("check", "t.py", cwd=tmp_path)
    assert r.returncode == 0 and "No findings" in r.stdout


def test_warns_on_blanket_ml_and_unknown_codes() -> None:
    text = "x = 1  # noqa: ML\ny = 2  # noqa: ML999, E501\nz = 3  # noqa: ML1\nw = 4  # noqa: ML602\n# mllint: noqa: ML998\n"
    warnings = check_noqa_comments(Source(path="t.py", text=text), KNOWN)
    assert len(warnings) == 4, warnings
    assert warnings[0].startswith("t.py:1:") and "blanket" in warnings[0]
    assert warnings[1].startswith("t.py:2:") and "ML999" in warnings[1]
    assert warnings[2].startswith("t.py:3:") and "ML1" in warnings[2] and "prefix" in warnings[2]
    assert warnings[3].startswith("t.py:5:") and "ML998" in warnings[3]


def test_noqa_inside_a_string_is_not_a_comment() -> None:
    assert check_noqa_comments(Source(path="t.py", text="s = '# noqa: ML'\n"), KNOWN) == []


def test_cli_warns_on_noqa_comments(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("x = 1  # noqa: ML\ny = 2  # noqa: ML999\n")
    r = run("check", "t.py", cwd=tmp_path)
    assert "mllint: warning: t.py:1:" in r.stderr and "blanket" in r.stderr
    assert "mllint: warning: t.py:2:" in r.stderr and "ML999" in r.stderr
