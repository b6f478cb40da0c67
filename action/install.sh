#!/usr/bin/env bash
# The install step of the mllint GitHub Action (action.yml): installs
# flake8-mllint into a virtualenv of its own, so the user's Python
# environment is left alone.
#
# Inputs come from the environment (action.yml sets them with `env:`; they are
# never pasted into this script's text):
#   INPUT_VERSION        empty: install the action's own checkout (the linter
#                        matches the action's tag); otherwise a release to
#                        install from the package index (flake8-mllint==VERSION)
#   MLLINT_ACTION_PATH   the action's checkout (default: this script's parent)
#   MLLINT_VENV          where to create the virtualenv (required)
#   MLLINT_PYTHON        the Python that creates it (default: python3, python)
#   MLLINT_ACTION_SKIP_INSTALL=1
#                        install nothing; use MLLINT_BIN (default: `mllint` on
#                        PATH) as it is. For the test suite and for runners
#                        that already have mllint.
# Outputs (to $GITHUB_OUTPUT when set, and printed): mllint (the executable),
# python (the virtualenv's interpreter; empty when skipped), version.
set -euo pipefail

# shellcheck source=action/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

output() {
    printf '%s=%s\n' "$1" "$2"
    gh_output "$1" "$2"
}

fail() {
    error_annotation "$1"
    exit 2
}

if [ "${MLLINT_ACTION_SKIP_INSTALL:-}" = 1 ]; then
    mllint="${MLLINT_BIN:-}"
    if [ -z "$mllint" ]; then
        mllint="$(command -v mllint)" || fail "MLLINT_ACTION_SKIP_INSTALL=1 but there is no mllint on PATH and MLLINT_BIN is not set"
    fi
    [ -x "$mllint" ] || fail "MLLINT_BIN is not an executable: $mllint"
    output mllint "$mllint"
    output python ""
    output version "$("$mllint" --version | awk '{print $NF}')"
    exit 0
fi

action_path="${MLLINT_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
venv="${MLLINT_VENV:?MLLINT_VENV must name the directory for the virtualenv}"
version="${INPUT_VERSION:-}"

python="${MLLINT_PYTHON:-}"
if [ -z "$python" ]; then
    python="$(command -v python3 || command -v python)" || fail "no python3 or python on PATH (set the action's python-version input)"
fi

if [ -z "$version" ]; then
    # The checkout's own version, from the file the package build reads it from.
    init="$action_path/src/mllint/core/version.py"
    [ -f "$init" ] || fail "$action_path is not an mllint checkout (no src/mllint/core/version.py); set the version input"
    expected="$(sed -n 's/^__version__ = "\([^"]*\)".*/\1/p' "$init")"
    [ -n "$expected" ] || fail "no __version__ in $init"
    spec="$action_path"
    echo "Installing flake8-mllint $expected from $action_path"
else
    # A version number only: nothing a shell or pip would read as more.
    [[ "$version" =~ ^[0-9A-Za-z][0-9A-Za-z.+!_-]*$ ]] || fail "version must be a release number such as 1.2.3, got: $version"
    spec="flake8-mllint==$version"
    echo "Installing flake8-mllint $version from the package index"
fi

"$python" -m venv --clear "$venv"
if [ -x "$venv/bin/python" ]; then
    bin="$venv/bin"
else
    bin="$venv/Scripts"  # Windows
fi
"$bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$spec"

mllint="$bin/mllint"
installed="$("$mllint" --version | awk '{print $NF}')"
# From the checkout, the action and the linter must be the same version. (From
# the index, pip's == has checked it, and 1.2 may well print as 1.2.0.)
if [ -z "$version" ] && [ "$installed" != "$expected" ]; then
    fail "the checkout says flake8-mllint $expected but mllint $installed was installed"
fi
echo "Installed mllint $installed in $venv"
output mllint "$mllint"
output python "$bin/python"
output version "$installed"
