"""Per-file lint functions for tests/test_dask.py that kill the Dask worker
process running them. Test-only: they reach the workers through the
`lint=` argument of `mllint.engine.distributed.lint_files_dask`, never
through anything the product reads (the workers import this module by
name: the test's sys.path is theirs)."""

from __future__ import annotations

import os

from mllint.engine.runner import lint_file


def lint_or_die(path, config, data=None):
    """`runner.lint_file`, except that a file named `die_always*` kills its
    worker every time and `die_once*` the first time (a `.died` marker file
    next to it remembers)."""
    name = os.path.basename(path)
    if name.startswith("die_always"):
        os._exit(13)
    if name.startswith("die_once"):
        try:
            fd = os.open(path + ".died", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.close(fd)
            os._exit(13)
    return lint_file(path, config, data)


def slow_lint(path, config, data=None):
    """`runner.lint_file`, one second slower per file."""
    import time

    time.sleep(1.0)
    return lint_file(path, config, data)


def nap_lint(path, config, data=None):
    """`runner.lint_file`, a fifth of a second slower per file."""
    import time

    time.sleep(0.2)
    return lint_file(path, config, data)
