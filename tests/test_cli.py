"""The real `mllint` command, run as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import every_rule  # noqa: E402

BAD = (
    "from sklearn.model_selection import train_test_split\n"
    "X_train, X_test = train_test_split(X)\n"
)
CLEAN = "import math\nprint(math.pi)\n"


def run(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mllint", *every_rule(args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
    )


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(BAD)
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


def test_exit_1_with_findings_and_0_when_clean(project: Path) -> None:
    r = run("check", "--format", "concise", cwd=project)
    assert r.returncode == 1, r.stderr
    assert "train.py:2:19: ML102" in r.stdout
    r = run("check", "clean.py", cwd=project)
    assert r.returncode == 0 and "No findings" in r.stdout


def test_syntax_error_reports_ml000_exit_1_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def train(:\n    pass\n")
    (tmp_path / "train.py").write_text(BAD)
    r = run("check", "--format", "concise", ".", cwd=tmp_path)
    assert r.returncode == 1
    assert "broken.py:1:11: ML000 cannot analyse this file: syntax error" in r.stdout
    assert "train.py:2:19: ML102" in r.stdout  # the broken file did not stop the run
    assert "Traceback" not in r.stdout + r.stderr


def test_undecodable_and_binary_files(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(b"x = '\xe9\xff'\n")
    (tmp_path / "blob.py").write_bytes(b"\x00\x01\x02binary")
    r = run("check", "--format", "concise", ".", cwd=tmp_path)
    assert r.returncode == 1
    assert "latin.py:1:1: ML000 cannot analyse this file: cannot decode" in r.stdout
    assert "blob.py:1:1: ML000 cannot analyse this file: file contains null bytes" in r.stdout
    assert "Traceback" not in r.stderr


def test_bad_config_key_exits_2_naming_key_and_file(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.mllint]\nselct = ['ML1']\n")
    r = run("check", cwd=project)
    assert r.returncode == 2
    assert "selct" in r.stderr and "pyproject.toml" in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_path_is_usage_error(project: Path) -> None:
    r = run("check", "nope.py", cwd=project)
    assert r.returncode == 2 and "nope.py" in r.stderr


def test_unknown_flag_is_usage_error(project: Path) -> None:
    assert run("check", "--frobnicate", cwd=project).returncode == 2


def test_json_output(project: Path) -> None:
    r = run("check", "--format", "json", cwd=project)
    data = json.loads(r.stdout)
    [f] = data
    assert f["code"] == "ML102" and f["line"] == 2 and f["column"] == 19
    assert f["severity"] == "medium" and f["name"] == "random-state-unset"
    assert f["fix"]["applicability"] == "unsafe"


def test_select_ignore_min_severity_fail_on(project: Path) -> None:
    assert run("check", "--select", "ML2", cwd=project).returncode == 0
    assert run("check", "--ignore", "ML102", cwd=project).returncode == 0
    assert run("check", "--min-severity", "high", cwd=project).returncode == 0
    r = run("check", "--fail-on", "high", "--format", "concise", cwd=project)
    assert r.returncode == 0 and "ML102" in r.stdout  # shown, but not failing
    assert run("check", "--select", "E501", cwd=project).returncode == 2


def test_config_file_options_apply(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.mllint]\nseed = 1234\nexclude = ["clean.py"]\n')
    r = run("check", "--format", "json", cwd=project)
    [f] = json.loads(r.stdout)
    assert "random_state=1234" in f["message"]
    # exclude applies to explicitly named files too (pre-commit passes files)
    (project / "pyproject.toml").write_text('[tool.mllint]\nexclude = ["train.py"]\n')
    assert run("check", "train.py", cwd=project).returncode == 0


def test_gitignore_is_honoured(project: Path) -> None:
    (project / ".gitignore").write_text("generated/\n")
    (project / "generated").mkdir()
    (project / "generated" / "x.py").write_text(BAD)
    r = run("check", "--format", "concise", cwd=project)
    assert "generated" not in r.stdout and "train.py" in r.stdout


def test_output_file_and_statistics(project: Path) -> None:
    r = run("check", "--format", "concise", "--statistics", "-o", "out.txt", cwd=project)
    assert r.returncode == 1 and r.stdout == ""
    text = (project / "out.txt").read_text()
    assert "ML102" in text and "random-state-unset" in text


SARIF_MIN_SCHEMA = {
    # The parts of the SARIF 2.1.0 schema (OASIS) that our output uses,
    # with their required properties and value constraints.
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "defaultConfiguration": {
                                                    "properties": {
                                                        "level": {"enum": ["none", "note", "warning", "error"]}
                                                    }
                                                },
                                                "helpUri": {"type": "string", "format": "uri"},
                                            },
                                        },
                                    }
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": {
                                    "type": "object",
                                    "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
                                },
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "properties": {"uri": {"type": "string"}},
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "properties": {
                                                            "startLine": {"type": "integer", "minimum": 1},
                                                            "startColumn": {"type": "integer", "minimum": 1},
                                                            "endLine": {"type": "integer", "minimum": 1},
                                                            "endColumn": {"type": "integer", "minimum": 1},
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_sarif_output_structure(project: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    r = run("check", "--format", "sarif", cwd=project)
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SARIF_MIN_SCHEMA)
    run0 = doc["runs"][0]
    rules = run0["tool"]["driver"]["rules"]
    [res] = run0["results"]
    assert rules[res["ruleIndex"]]["id"] == res["ruleId"] == "ML102"
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "train.py"  # repo-relative
    assert loc["region"]["startLine"] == 2 and loc["region"]["startColumn"] == 19
    # rule ids are stable: every catalogue code, sorted
    ids = [r["id"] for r in rules]
    assert ids == sorted(ids) and "ML000" in ids


def test_github_annotations_are_escaped(tmp_path: Path) -> None:
    (tmp_path / "a,b:c.py").write_text(BAD)
    r = run("check", "--format", "github", cwd=tmp_path)
    [line] = r.stdout.splitlines()
    assert line.startswith("::warning file=a%2Cb%3Ac.py,line=2,col=19,")
    assert "title=ML102 (random-state-unset)::" in line


def test_text_output_escapes_markup_and_ansi(tmp_path: Path) -> None:
    evil = (
        "from sklearn.model_selection import train_test_split\n"
        "a = train_test_split(X, stratify='[bold red]x[/] \x1b[31mred\x1b[0m')\n"
    )
    (tmp_path / "t.py").write_text(evil)
    r = run("check", "--color", "always", cwd=tmp_path)
    assert "[bold red]x[/]" in r.stdout  # shown literally, not interpreted
    assert "\\x1b[31mred" in r.stdout  # the escape is made visible...
    assert "\x1b[31mred" not in r.stdout  # ...and never reaches the terminal raw


def test_no_color_when_not_a_tty(project: Path) -> None:
    r = run("check", cwd=project)
    assert "\x1b[" not in r.stdout
    assert "train.py" in r.stdout and "ML102" in r.stdout and "Found 1 finding" in r.stdout


def test_rules_and_explain(project: Path) -> None:
    r = run("rules", "--format", "json", cwd=project)
    data = json.loads(r.stdout)
    assert any(d["code"] == "ML102" and d["severity"] == "medium" for d in data)
    r = run("rules", cwd=project)
    assert r.returncode == 0 and "random-state-unset" in r.stdout
    r = run("explain", "ML102", cwd=project)
    assert r.returncode == 0 and "# ML102 — random-state-unset" in r.stdout
    assert run("explain", "random-state-unset", cwd=project).returncode == 0
    r = run("explain", "ML9999", cwd=project)
    assert r.returncode == 2 and "unknown rule" in r.stderr


def test_parallel_run_matches_serial(tmp_path: Path) -> None:
    for i in range(40):
        (tmp_path / f"m{i:02d}.py").write_text(BAD if i % 2 else CLEAN)
    serial = run("check", "--format", "concise", "--no-cache", "-j", "1", cwd=tmp_path)
    parallel = run("check", "--format", "concise", "--no-cache", "-j", "2", cwd=tmp_path)
    assert serial.stdout == parallel.stdout
    assert serial.stdout.count("ML102") == 20
