"""The GitHub Action (action.yml and its scripts in action/).

action.yml is checked as data: a composite action whose `run:` steps call
scripts that exist, get every input the scripts read through `env:`, and
never paste an expression into a script body. The scripts themselves run
here with bash, as the runner would run them: install.sh (told to use this
virtualenv's mllint instead of installing, except in the one slow test that
installs the checkout into a fresh virtualenv) then run.sh, on a temporary
project.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import BAD_PY, CLEAN_PY, ROOT, copy_checkout, notebook_from_cells

ACTION = ROOT / "action.yml"
BIN = Path(sys.executable).parent
BASH = shutil.which("bash")



def _action() -> dict:
    doc = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _steps() -> list[dict]:
    return _action()["runs"]["steps"]


def _script_of(step: dict) -> Path:
    m = re.fullmatch(r'bash "\$GITHUB_ACTION_PATH/([\w./-]+)"', step["run"].strip())
    assert m, f"step {step.get('name')!r} should only run a script from the action: {step['run']!r}"
    return ROOT / m.group(1)


def _run_steps() -> list[dict]:
    return [s for s in _steps() if "run" in s]


# --- action.yml as data ------------------------------------------------------


def test_action_is_composite_and_runs_existing_scripts() -> None:
    action = _action()
    assert action["name"] and action["description"]
    assert action["runs"]["using"] == "composite"
    run_steps = _run_steps()
    assert [s["id"] for s in run_steps] == ["install", "run"]
    for step in run_steps:
        assert step["shell"] == "bash", step["id"]
        script = _script_of(step)
        assert script.is_file(), f"{script} does not exist"
        assert script.read_text().startswith("#!/usr/bin/env bash\n"), script
    # every script in action/ is used by a step
    assert {_script_of(s) for s in run_steps} == set((ROOT / "action").glob("*.sh"))


def test_no_expression_inside_a_run_body() -> None:
    for step in _run_steps():
        # `${{ inputs.x }}` there would be pasted into the script before bash
        # reads it: shell injection. Inputs go through `env:` instead.
        assert "${{" not in step["run"], f"step {step['id']!r} interpolates an expression: {step['run']!r}"
    raw = ACTION.read_text()
    assert "${{ inputs." in raw  # (the check above looks at the parsed `run:` bodies)


def _env_inputs(script: Path) -> set[str]:
    return set(re.findall(r"\bINPUT_[A-Z_]+\b", script.read_text())) - {"INPUT_TO_SPLIT"}


def test_every_input_a_script_reads_is_declared_and_passed() -> None:
    action = _action()
    declared = action["inputs"]
    used: set[str] = set()
    for step in _run_steps():
        env = step.get("env", {})
        for var in _env_inputs(_script_of(step)):
            name = var[len("INPUT_"):].lower().replace("_", "-")
            assert name in declared, f"{_script_of(step).name} reads {var}, but there is no input {name!r}"
            assert env.get(var) == f"${{{{ inputs.{name} }}}}", f"step {step['id']!r} does not pass {var}"
            used.add(name)
    for step in _steps():
        for value in step.get("with", {}).values():
            used.update(re.findall(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", str(value)))
    assert used == set(declared), f"declared but unused inputs: {set(declared) - used}"
    for name, spec in declared.items():
        assert spec.get("description"), name


def test_defaults_agree_with_the_scripts() -> None:
    inputs = _action()["inputs"]
    assert inputs["format"]["default"] == "github"
    assert inputs["sarif-file"]["default"] == "mllint.sarif"
    assert inputs["paths"]["default"] == "."
    assert inputs["version"]["default"] == ""
    text = (ROOT / "action" / "run.sh").read_text()
    for var, default in re.findall(r"\$\{(INPUT_[A-Z_]+):-([^}]*)\}", text):
        name = var[len("INPUT_"):].lower().replace("_", "-")
        assert inputs[name]["default"] == default, (var, default)


def test_outputs_come_from_the_run_step() -> None:
    action = _action()
    script = (ROOT / "action" / "run.sh").read_text()
    written = set(re.findall(r"^\s*output ([a-z-]+) ", script, re.M))
    assert set(action["outputs"]) == {"exit-code", "sarif-file"}
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}", name
        assert name in written, f"run.sh never writes the {name} output"
    # the run step gets what the install step reports
    install = (ROOT / "action" / "install.sh").read_text()
    run_env = next(s for s in _steps() if s.get("id") == "run")["env"]
    for var, out in (("MLLINT_BIN", "mllint"), ("MLLINT_PYTHON", "python")):
        assert run_env[var] == f"${{{{ steps.install.outputs.{out} }}}}"
        assert re.search(rf"^\s*output {out} ", install, re.M), out


# --- the scripts, run locally -----------------------------------------------


def _base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_", "MLLINT_"))}
    env["NO_COLOR"] = "1"
    env["GITHUB_OUTPUT"] = str(tmp / "github_output")
    return env


def _outputs(env: dict[str, str]) -> dict[str, str]:
    path = Path(env["GITHUB_OUTPUT"])
    if not path.exists():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def _run_action(project: Path, tmp: Path, install_env: dict[str, str] | None = None, **inputs: str):
    """install.sh, then run.sh with its outputs, as the composite action
    chains them. Inputs by keyword: sarif_file="x" is the sarif-file input."""
    assert BASH, "bash is needed to run the action's scripts"
    env = _base_env(tmp)
    install = subprocess.run(
        [BASH, str(ROOT / "action" / "install.sh")],
        cwd=project,
        env={**env, **(install_env or {"MLLINT_ACTION_SKIP_INSTALL": "1", "MLLINT_BIN": str(BIN / "mllint")})},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    installed = _outputs(env)
    Path(env["GITHUB_OUTPUT"]).unlink()
    run_env = {**env, "MLLINT_BIN": installed["mllint"], "MLLINT_PYTHON": installed["python"]}
    run_env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    run = subprocess.run([BASH, str(ROOT / "action" / "run.sh")], cwd=project, env=run_env,
                         capture_output=True, text=True, timeout=300)
    return run, _outputs(env), installed


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "project"
    proj.mkdir()
    (proj / "pyproject.toml").write_text("[tool.mllint]\nselect = [\"ALL\"]  # ML102 is opt-in\n")
    (proj / "train.py").write_text(BAD_PY)
    return proj


def _annotations(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(r"::(error|warning|notice) ", line)]


def test_sarif_mode_writes_the_report_and_fails(project: Path, tmp_path: Path) -> None:
    run, out, _ = _run_action(project, tmp_path, format="sarif", sarif_file="reports/mllint.sarif")
    log = run.stdout + run.stderr
    assert run.returncode == 1, log
    assert out == {"exit-code": "1", "sarif-file": "reports/mllint.sarif"}, log
    doc = json.loads((project / "reports" / "mllint.sarif").read_text())
    assert doc["version"] == "2.1.0"
    [sarif_run] = doc["runs"]
    assert sarif_run["tool"]["driver"]["name"] == "mllint"
    results = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
               for r in sarif_run["results"]}
    assert results == {("ML102", "train.py"), ("ML604", "train.py")}
    assert not _annotations(run.stdout), log  # the findings are in the report


def test_github_mode_prints_annotations_and_fails(project: Path, tmp_path: Path) -> None:
    (project / "explore.ipynb").write_text(notebook_from_cells(["from sklearn.model_selection import train_test_split",
                                                                "X_tr, X_te = train_test_split(X)"]))
    run, out, _ = _run_action(project, tmp_path)  # format defaults to github
    log = run.stdout + run.stderr
    assert run.returncode == 1, log
    assert out == {"exit-code": "1"}, log
    notes = _annotations(run.stdout)
    assert any(n.startswith("::warning file=train.py,line=6,") and "title=ML102" in n for n in notes), log
    assert any(n.startswith("::error file=train.py,line=10,") and "title=ML604" in n for n in notes), log
    assert any(n.startswith("::warning file=explore.ipynb,") and "title=ML102" in n for n in notes), log
    assert not list(project.glob("*.sarif"))


@pytest.mark.parametrize("fmt", ["github", "sarif"])
def test_clean_project_passes(project: Path, tmp_path: Path, fmt: str) -> None:
    (project / "train.py").write_text(CLEAN_PY)
    run, out, _ = _run_action(project, tmp_path, format=fmt)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log
    assert out["exit-code"] == "0"
    assert not _annotations(run.stdout), log
    if fmt == "sarif":
        assert out["sarif-file"] == "mllint.sarif"
        assert json.loads((project / "mllint.sarif").read_text())["runs"][0]["results"] == []


def test_paths_args_and_fail_on(project: Path, tmp_path: Path) -> None:
    sub = project / "with space"
    sub.mkdir()
    (sub / "model.py").write_text(BAD_PY)
    (project / "other.py").write_text(BAD_PY)  # not among the paths
    run, out, _ = _run_action(project, tmp_path, paths='"with space" train.py', args="--ignore ML6 --quiet")
    log = run.stdout + run.stderr
    assert run.returncode == 1, log
    files = {re.search(r"file=([^,]+),", n).group(1) for n in _annotations(run.stdout)}
    assert files == {"with space/model.py", "train.py"}, log
    assert "ML604" not in run.stdout, log
    # ML102 is medium: below fail-on high it is shown but does not fail the job
    run, out, _ = _run_action(project, tmp_path, paths="train.py", args="--ignore ML6", fail_on="high")
    log = run.stdout + run.stderr
    assert run.returncode == 0 and out["exit-code"] == "0", log
    assert any("title=ML102" in n for n in _annotations(run.stdout)), log


@pytest.mark.parametrize(
    "inputs",
    [
        {"format": "xml"},
        {"args": "--no-such-option"},
        {"paths": "missing/"},
        {"fail-on": "bogus"},
        {"args": '--select "ML1'},
    ],
    ids=["format", "option", "path", "fail-on", "unclosed-quote"],
)
def test_usage_errors_exit_2(project: Path, tmp_path: Path, inputs: dict[str, str]) -> None:
    run, out, _ = _run_action(project, tmp_path, **{k.replace("-", "_"): v for k, v in inputs.items()})
    log = run.stdout + run.stderr
    assert run.returncode == 2, log
    assert out.get("exit-code") == "2", log
    assert "::error " in run.stdout, log
    assert "ML102" not in run.stdout, log


def test_inputs_are_data_not_shell_code(project: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    run, out, _ = _run_action(
        project,
        tmp_path,
        paths=f"train.py $(touch {marker}) `touch {marker}`",
        args=f"--quiet $(touch {marker})",
        format="sarif",
        sarif_file=f"x.sarif; touch {marker}",
    )
    assert not marker.exists()
    assert run.returncode == 2, run.stdout + run.stderr  # those words are taken as paths and options
    # and a newline in an input cannot start a workflow command of its own
    run, out, _ = _run_action(project, tmp_path, format="sarif\n::warning::injected")
    assert run.returncode == 2
    assert "::warning::injected" not in run.stdout.splitlines(), run.stdout


def test_install_rejects_a_version_that_is_not_a_release_number(tmp_path: Path) -> None:
    env = {**_base_env(tmp_path), "INPUT_VERSION": "1.0 --index-url http://evil.invalid",
           "MLLINT_VENV": str(tmp_path / "venv")}
    res = subprocess.run([BASH, str(ROOT / "action" / "install.sh")], env=env, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 2 and "::error " in res.stdout, res.stdout + res.stderr
    assert not (tmp_path / "venv").exists()


# What GitHub checks out as the action's path, as far as the install needs it.
ACTION_FILES = ("action.yml", "action", "src", "rules", "pyproject.toml", "README.md")


@pytest.mark.slow
def test_install_step_installs_the_checkout_into_its_own_venv(project: Path, tmp_path: Path) -> None:
    action_path = copy_checkout(tmp_path / "action-path", ACTION_FILES)
    venv = tmp_path / "runner-temp" / "mllint-action-venv"
    install_env = {"MLLINT_ACTION_PATH": str(action_path), "MLLINT_VENV": str(venv),
                   "MLLINT_PYTHON": sys.executable}
    run, out, installed = _run_action(project, tmp_path, install_env=install_env, format="sarif")
    log = run.stdout + run.stderr
    version = re.search(r'^__version__ = "([^"]+)"', (ROOT / "src/mllint/core/version.py").read_text(), re.M).group(1)
    assert installed == {"mllint": str(venv / "bin" / "mllint"), "python": str(venv / "bin" / "python"),
                         "version": version}
    # the linter that ran is the installed copy, not this checkout's editable install
    where = subprocess.run([installed["python"], "-c", "import mllint; print(mllint.__file__)"],
                           capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    assert run.returncode == 1, log
    assert out == {"exit-code": "1", "sarif-file": "mllint.sarif"}, log
    doc = json.loads((project / "mllint.sarif").read_text())
    assert doc["version"] == "2.1.0"
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} == {"ML102", "ML604"}


def test_usage_docs_list_every_input_and_output() -> None:
    docs = (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    section = docs[docs.index("\n## GitHub Actions\n"):]
    inputs_table = section[section.index("### Inputs"):section.index("### Outputs")]
    outputs_table = section[section.index("### Outputs"):section.index("### Exit status")]
    rows = dict(re.findall(r"^\| `([\w-]+)` \| ([^|]*) \|", inputs_table, re.M))
    action = _action()
    assert set(rows) == set(action["inputs"])
    for name, spec in action["inputs"].items():
        documented = rows[name].strip()
        assert documented == (f"`{spec['default']}`" if spec["default"] else "empty"), (name, documented)
    assert set(re.findall(r"^\| `([\w-]+)` \|", outputs_table, re.M)) == set(action["outputs"])
