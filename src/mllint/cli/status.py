"""Exit statuses of `mllint check` / `mllint fix` and the usage error that
maps to status 2; shared by the command line and its per-file actions."""

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


class UsageError(Exception):
    """A mistake on the command line or in what it names (exit status 2)."""
