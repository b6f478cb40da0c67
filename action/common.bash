# Shell functions shared by the action's steps (action/install.sh and
# action/run.sh source this file; it runs nothing by itself).

# Write a step output for later steps, when the runner gives a file for them.
gh_output() {
    if [ -n "${GITHUB_OUTPUT:-}" ]; then
        printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
    fi
}

# A workflow-command message: %, CR and LF escaped as GitHub requires, so an
# input cannot start a command line of its own.
escape() {
    local s="${1//%/%25}"
    s="${s//$'\r'/%0D}"
    printf '%s' "${s//$'\n'/%0A}"
}

# An error annotation in the job log.
error_annotation() {
    printf '::error title=mllint action::%s\n' "$(escape "$1")"
}
