"""Hostile inputs: every one gets a clear ML000 (or a clean pass), the right
exit status, no traceback, and the rest of the run continues."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import notebook_from_cells, every_rule

DEFECT = "from sklearn.model_selection import train_test_split\nparts = train_test_split(X)\n"


def run(*args: str, cwd: Path, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mllint", *every_rule(args)], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def _nb(cells: list) -> str:
    return notebook_from_cells(cells)


def build_corpus(d: Path) -> dict[str, object]:
    """Write the hostile files; return name -> expectation.
    An expectation is a list of (code, line) or the string "ML000:<reason part>"."""
    exp: dict[str, object] = {}

    def put(name: str, data: bytes | str, expect: object) -> None:
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            p.write_text(data, encoding="utf-8", newline="")
        else:
            p.write_bytes(data)
        exp[name] = expect

    put("syntax.py", "def train(:\n    pass\n", "ML000:syntax error")
    put("python2.py", 'print "hello"\nexec "x = 1"\n', "ML000:Python 2 source, not analysed")
    put("undecodable.py", b"x = '\xff\xfe'\n" + DEFECT.encode(), "ML000:cannot decode")
    put("latin1.py", ("# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n" + DEFECT).encode("latin-1"), [("ML102", 4)])
    put("bom.py", b"\xef\xbb\xbf" + DEFECT.encode(), [("ML102", 2)])
    put("crlf.py", DEFECT.replace("\n", "\r\n"), [("ML102", 2)])
    put("mixed.py", "import os\r\n" + DEFECT.replace("\n", "\r", 1) + "\n", [("ML102", 3)])
    put("tabs.py", "from sklearn.model_selection import train_test_split\nif True:\n\tparts = train_test_split(X)\n", [("ML102", 3)])
    put("nulls.py", b"x = 1\x00\n", "ML000:null bytes")
    put("empty.py", "", [])
    put("only_comments.py", "# nothing here\n", [])
    put("binary.py", bytes(range(256)) * 4, "ML000:")
    put("big.py", "".join(f"v{i} = {i} * 2\n" for i in range(50_000)) + DEFECT, [("ML102", 50_002)])
    put("deep_parens.py", "x = " + "(" * 300 + "1" + ")" * 300 + "\n", "ML000:")
    put("deep_binop.py", "x = " + "+".join(["1"] * 200_000) + "\n", "ML000:too deeply nested")
    put("walk_deep.py", "x = " + "+".join(["1"] * 900) + "\n", [])  # deep, still compilable
    put("nb_invalid_json.ipynb", '{"cells": [', "ML000:invalid notebook JSON")
    put("nb_wrong_schema.ipynb", json.dumps({"cells": "nope", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), "ML000:invalid notebook")
    put("nb_not_a_notebook.ipynb", json.dumps([1, 2, 3]), "ML000:")
    nb = json.loads(_nb(["import os", DEFECT]))
    del nb["cells"][0]["source"]
    put("nb_missing_source.ipynb", json.dumps(nb), [("ML102", 2)])  # the cell counts as empty; the rest is linted
    nb = json.loads(_nb(["import os\n", DEFECT]))
    nb["cells"][1]["source"] = DEFECT.splitlines(True)  # list form
    put("nb_source_list.ipynb", json.dumps(nb), [("ML102", 2)])
    nb = json.loads(_nb([{"cell_type": "markdown", "source": "![x](attachment:x.png)"}, DEFECT]))
    nb["cells"][0]["attachments"] = {"x.png": {"image/png": "iVBORw0KGgo="}}
    put("nb_attachments.ipynb", json.dumps(nb), [("ML102", 2)])
    put("nb_many_cells.ipynb", _nb([f"x{i} = {i}" for i in range(3000)] + [DEFECT]), [("ML102", 2)])
    put("nb_no_code.ipynb", _nb([{"cell_type": "markdown", "source": "# Title"}]), [])
    return exp


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, object]]:
    d = tmp_path_factory.mktemp("hostile")
    exp = build_corpus(d)
    os.symlink(d, d / "loop")  # a symlink loop during discovery
    os.symlink(d / "does-not-exist.py", d / "dangling.py")
    os.mkfifo(d / "fifo.py")  # reading it would block forever
    return d, exp


def test_cli_survives_every_hostile_input(corpus) -> None:
    d, exp = corpus
    r = run("check", "--format", "json", ".", cwd=d)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    findings = json.loads(r.stdout)
    by_path: dict[str, list[dict]] = {}
    for f in findings:
        by_path.setdefault(f["path"], []).append(f)
    assert not [f for f in findings if f["code"] == "ML001"], "internal errors"
    for name, expect in exp.items():
        got = by_path.get(name, [])
        if isinstance(expect, str):
            part = expect.split(":", 1)[1]
            ml000 = [f for f in got if f["code"] == "ML000"]
            assert ml000, f"{name}: expected ML000, got {got}"
            assert part in ml000[0]["message"], f"{name}: {ml000[0]['message']}"
        else:
            assert sorted((f["code"], f["line"]) for f in got) == sorted(expect), f"{name}: {got}"
    # the loop, the dangling link and the FIFO were passed over, not followed or read
    assert not any("loop/" in p for p in by_path)
    assert "fifo.py" not in by_path and "dangling.py" not in by_path


def test_bom_and_latin1_columns_are_right(corpus) -> None:
    d, _ = corpus
    r = run("check", "--format", "concise", "bom.py", "latin1.py", cwd=d)
    assert "bom.py:2:9: ML102" in r.stdout
    assert "latin1.py:4:9: ML102" in r.stdout


def test_explicit_fifo_and_dangling_link_are_reported_not_read(corpus) -> None:
    d, _ = corpus
    r = run("check", "--format", "concise", "fifo.py", "dangling.py", cwd=d, timeout=60)
    assert "fifo.py:1:1: ML000 cannot analyse this file: not a regular file" in r.stdout
    assert "dangling.py:1:1: ML000" in r.stdout
    assert r.returncode == 1


def test_unreadable_file_is_ml000_and_run_continues(tmp_path: Path, monkeypatch) -> None:
    from mllint.core.config import Config
    from mllint.engine.runner import lint_files

    (tmp_path / "secret.py").write_text(DEFECT)
    (tmp_path / "ok.py").write_text(DEFECT)
    real = Path.read_bytes

    def guarded(self: Path) -> bytes:
        if self.name == "secret.py":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", guarded)
    results = {Path(r.path).name: r for r in lint_files([tmp_path / "secret.py", tmp_path / "ok.py"], Config(), jobs=1)}
    assert [f.message for f in results["secret.py"].findings] == ["cannot analyse this file: permission denied"]
    assert [f.code for f in results["ok.py"].findings] == ["ML102"]


def test_flake8_plugin_survives_hostile_python(corpus) -> None:
    d, _ = corpus
    (d / ".mllint.yaml").write_text("select: [ALL]\n")  # ML102 is opt-in
    names = ["syntax.py", "python2.py", "latin1.py", "bom.py", "crlf.py", "mixed.py", "tabs.py",
             "empty.py", "big.py"]  # walk_deep.py: pyflakes itself recurses too deep
    r = subprocess.run([sys.executable, "-m", "flake8", "--select", "ML", *names], cwd=d,
                       capture_output=True, text=True, timeout=300)
    assert "Traceback" not in r.stderr, r.stderr
    out = r.stdout
    for name, line in [("latin1.py", 4), ("bom.py", 2), ("crlf.py", 2), ("tabs.py", 3), ("big.py", 50002)]:
        assert f"{name}:{line}:" in out and "ML102" in out, out


@pytest.mark.parametrize(
    "name,text,needle",
    [
        ("pyproject.toml", "[tool.mllint\nseed = 1\n", "invalid TOML"),
        (".mllint.yaml", "seed: [1,\n", "invalid YAML"),
        (".mllint.yaml", "- just\n- a list\n", "must be a table/mapping"),
        ("pyproject.toml", "[tool.mllint]\njobs = 0\n", "'jobs'"),
    ],
)
def test_invalid_config_files_exit_2(tmp_path: Path, name: str, text: str, needle: str) -> None:
    (tmp_path / "a.py").write_text(DEFECT)
    (tmp_path / name).write_text(text)
    r = run("check", cwd=tmp_path)
    assert r.returncode == 2, r.stdout
    assert needle in r.stderr and name in r.stderr
    assert "Traceback" not in r.stderr
