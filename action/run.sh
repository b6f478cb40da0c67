#!/usr/bin/env bash
# The lint step of the mllint GitHub Action (action.yml): runs
# `mllint check` and exits with its status.
#
# Inputs come from the environment (action.yml sets them with `env:`; they are
# never pasted into this script's text):
#   INPUT_PATHS        files and directories to lint (default: .)
#   INPUT_FORMAT       github (workflow annotations, the default) or sarif
#   INPUT_SARIF_FILE   where sarif mode writes the report (default: mllint.sarif)
#   INPUT_ARGS         more arguments for `mllint check`
#   INPUT_FAIL_ON      --fail-on level (default: the configuration's)
#   MLLINT_BIN         the mllint executable (default: `mllint` on PATH)
#   MLLINT_PYTHON      the Python that splits INPUT_PATHS and INPUT_ARGS
#                      (default: python3, python)
# INPUT_PATHS and INPUT_ARGS are split like a shell command line by Python's
# shlex (quotes group words; nothing is expanded or run). Outputs (to
# $GITHUB_OUTPUT when set): exit-code, and sarif-file once a SARIF report
# has been written.
#
# Exit status is mllint's: 0 no findings at or above fail-on, 1 findings,
# 2 usage or configuration error, 3 incomplete run. In sarif mode the report
# is written before the step fails, so a following upload-sarif step (with
# `if: always()`) has a file to upload.
set -euo pipefail

# shellcheck source=action/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

output() {
    gh_output "$1" "$2"
}

fail() {
    error_annotation "$1"
    output exit-code 2
    exit 2
}

mllint="${MLLINT_BIN:-}"
if [ -z "$mllint" ]; then
    mllint="$(command -v mllint)" || fail "mllint is not installed (MLLINT_BIN is not set and there is no mllint on PATH)"
fi
[ -x "$mllint" ] || fail "not an executable: $mllint"

python="${MLLINT_PYTHON:-}"
if [ -z "$python" ]; then
    python="$(command -v python3 || command -v python)" || fail "no python3 or python on PATH"
fi

# split INPUT-NAME VALUE: the words of VALUE into the array `words`.
split() {
    local tmp word
    tmp="$(mktemp)"
    if ! INPUT_TO_SPLIT="$2" "$python" -c '
import os, shlex, sys
words = shlex.split(os.environ["INPUT_TO_SPLIT"])
sys.stdout.write("".join(w + "\0" for w in words))
' >"$tmp" 2>/dev/null; then
        rm -f -- "$tmp"
        fail "cannot split the $1 input into words (an unclosed quote?): $2"
    fi
    words=()
    while IFS= read -r -d '' word; do words+=("$word"); done <"$tmp"
    rm -f -- "$tmp"
}

split paths "${INPUT_PATHS:-.}"
paths=(${words[@]+"${words[@]}"})
[ "${#paths[@]}" -gt 0 ] || paths=(.)
split args "${INPUT_ARGS:-}"
extra=(${words[@]+"${words[@]}"})

format="${INPUT_FORMAT:-github}"
cmd=("$mllint" check --format "$format" --no-progress)
case "$format" in
    github) ;;
    sarif)
        sarif="${INPUT_SARIF_FILE:-mllint.sarif}"
        case "$sarif" in *$'\n'* | *$'\r'*) fail "sarif-file must be a single line" ;; esac
        mkdir -p -- "$(dirname -- "$sarif")"
        rm -f -- "$sarif" # a report left by an earlier run must not pass for this run's
        cmd+=(--output-file "$sarif")
        ;;
    *) fail "format must be github or sarif, got: $format" ;;
esac
if [ -n "${INPUT_FAIL_ON:-}" ]; then
    cmd+=(--fail-on "$INPUT_FAIL_ON")
fi
cmd+=(${extra[@]+"${extra[@]}"} -- "${paths[@]}")

printf 'mllint'
printf ' %q' "${cmd[@]:1}"
printf '\n'
set +e
"${cmd[@]}"
status=$?
set -e

output exit-code "$status"
if [ "${format}" = sarif ]; then
    if [ -f "$sarif" ]; then
        output sarif-file "$sarif"
        printf 'SARIF report written to %q\n' "$sarif"
    else
        printf '::warning title=mllint action::%s\n' "$(escape "mllint wrote no SARIF report (exit status $status)")"
    fi
fi
case "$status" in
    0) ;;
    1) echo "mllint: findings at or above the fail-on level (exit status 1)" ;;
    2) echo "::error title=mllint action::mllint stopped on a usage or configuration error (exit status 2), see the log" ;;
    3) echo "::error title=mllint action::the mllint run was incomplete, a rule failed on some file (exit status 3, reported as ML001)" ;;
    *) echo "::error title=mllint action::mllint failed (exit status $status)" ;;
esac
exit "$status"
