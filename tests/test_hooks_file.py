""".pre-commit-hooks.yaml, checked without pre-commit's slow hook install.

Each hook's `entry` is run directly from this virtualenv's bin directory on
the files pre-commit would hand it (chosen with `identify`, pre-commit's own
file typing), so a broken hook fails here in about a second. The end-to-end
run through `pre-commit try-repo` is in test_pre_commit.py (slow).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest
import yaml
from identify.identify import ALL_TAGS, tags_from_path

from helpers import BAD_PY, CLEAN_PY, ROOT, notebook_from_cells

HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent
REQUIRED = ("id", "name", "entry", "language")


BAD_NB_CELLS = [
    {"cell_type": "markdown", "source": "# Experiment"},
    {"source": "import yaml\nfrom sklearn.model_selection import train_test_split", "execution_count": 1},
    {"source": 'cfg = yaml.load(open("cfg.yaml"))\nX_tr, X_te = train_test_split(X)', "execution_count": 2},
]
CLEAN_NB_CELLS = [
    BAD_NB_CELLS[0],
    BAD_NB_CELLS[1],
    {
        "source": 'cfg = yaml.safe_load(open("cfg.yaml"))\nX_tr, X_te = train_test_split(X, random_state=0)',
        "execution_count": 2,
    },
]


def _hooks() -> list[dict]:
    hooks = yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))
    assert isinstance(hooks, list) and hooks, "the manifest must be a non-empty list of hooks"
    assert all(isinstance(h, dict) for h in hooks)
    return hooks


def _console_scripts() -> set[str]:
    return {ep.name for ep in distribution("flake8-mllint").entry_points if ep.group == "console_scripts"}


def _is_fixer(argv: list[str]) -> bool:
    return argv[:2] == ["mllint", "fix"] or "--fix" in argv


def test_hook_ids_are_unique() -> None:
    ids = [h.get("id") for h in _hooks()]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicated, f"hook ids defined more than once in {HOOKS_FILE.name}: {duplicated}"


def test_hooks_have_the_fields_pre_commit_requires() -> None:
    for hook in _hooks():
        missing = [k for k in REQUIRED if not isinstance(hook.get(k), str) or not hook[k].strip()]
        assert not missing, f"hook {hook.get('id')!r} lacks {missing}"
        assert hook["language"] == "python", hook["id"]  # pre-commit pip-installs this repository
        for key in ("types", "types_or"):
            unknown = set(hook.get(key, [])) - ALL_TAGS
            assert not unknown, f"hook {hook['id']!r}: {key} has tags identify does not know: {unknown}"


def test_manifest_passes_pre_commit_validation(tmp_path: Path) -> None:
    pre_commit = BIN / "pre-commit"
    assert pre_commit.exists(), "pre-commit is not installed (it is a dev dependency: make dev)"
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path))  # it creates its store even to validate
    res = subprocess.run([str(pre_commit), "validate-manifest", str(HOOKS_FILE)],
                         capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stdout + res.stderr


def test_hook_entries_are_installed_commands() -> None:
    scripts = _console_scripts()
    assert "mllint" in scripts
    dist_eps = distribution("flake8-mllint").entry_points
    for hook in _hooks():
        argv = shlex.split(hook["entry"])
        assert argv[0] in scripts | {"flake8"}, f"hook {hook['id']!r} runs {argv[0]!r}, not one of {sorted(scripts)} or flake8"
        assert (BIN / argv[0]).is_file(), f"{argv[0]} is not installed in {BIN}"
        if argv[0] == "flake8":
            # the codes flake8 is asked to select are the prefix the plugin registers
            plugin_prefixes = {ep.name for ep in dist_eps if ep.group == "flake8.extension"}
            selected = argv[argv.index("--select") + 1].split(",")
            assert set(selected) <= plugin_prefixes, (selected, plugin_prefixes)


def _files_for(hook: dict, candidates: list[Path]) -> list[Path]:
    """The files pre-commit would pass to the hook, by its types/types_or."""
    chosen = []
    for path in candidates:
        tags = tags_from_path(str(path))
        if hook.get("types_or") and not tags & set(hook["types_or"]):
            continue
        if not set(hook.get("types", [])) <= tags:
            continue
        chosen.append(path)
    return chosen


def _run_hook(hook: dict, work: Path, clean: bool) -> tuple[subprocess.CompletedProcess, dict[Path, str], list[Path]]:
    # keep configuration discovery inside `work`; every rule (ML102 is opt-in)
    (work / "pyproject.toml").write_text("[tool.mllint]\nselect = [\"ALL\"]\n")
    py = work / "train.py"
    nb = work / "explore.ipynb"
    py.write_text(CLEAN_PY if clean else BAD_PY)
    nb.write_text(notebook_from_cells(CLEAN_NB_CELLS if clean else BAD_NB_CELLS))
    files = _files_for(hook, [py, nb])
    assert py in files, f"hook {hook['id']!r} would not be given Python files"
    assert (nb in files) == ("jupyter" in hook.get("types_or", []) + hook.get("types", [])), hook["id"]
    before = {f: f.read_text() for f in files}
    argv = shlex.split(hook["entry"])
    cmd = [str(BIN / argv[0]), *argv[1:], *hook.get("args", []), *(f.name for f in files)]
    env = dict(os.environ, NO_COLOR="1")
    res = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=120)
    return res, before, files


HOOK_IDS = [h["id"] for h in yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("hook_id", sorted(set(HOOK_IDS)))
def test_hook_fails_on_bad_files(hook_id: str, tmp_path: Path) -> None:
    [hook] = [h for h in _hooks() if h["id"] == hook_id]
    res, before, files = _run_hook(hook, tmp_path, clean=False)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    for f in files:
        assert f.name in out, f"no findings reported for {f.name}:\n{out}"
    # ML102 has only an unsafe fix, so a fixing hook still reports it
    assert out.count("ML102") >= len(files), out
    changed = {f for f in files if f.read_text() != before[f]}
    if _is_fixer(shlex.split(hook["entry"])):
        assert changed == set(files), f"the fix hook changed {changed}, expected {files}"
        for f in files:
            assert "yaml.safe_load(" in f.read_text() and "yaml.load(" not in f.read_text(), f
        assert "ML604" not in out, out  # fixed, so no longer reported
    else:
        assert not changed, f"a checking hook changed {changed}"
        assert out.count("ML604") >= len(files), out


@pytest.mark.parametrize("hook_id", sorted(set(HOOK_IDS)))
def test_hook_passes_on_clean_files(hook_id: str, tmp_path: Path) -> None:
    [hook] = [h for h in _hooks() if h["id"] == hook_id]
    res, before, files = _run_hook(hook, tmp_path, clean=True)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "ML1" not in out and "ML6" not in out, out
    assert all(f.read_text() == before[f] for f in files)
