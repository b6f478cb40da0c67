"""The `mllint` command line: argument parsing and the commands (`main`),
what `check` does per file beyond linting and after the run (`actions`:
fixes, `--add-noqa`, baselines) and the exit statuses (`status`).

May import: every mllint package.
Must not import it: any other package (it is the top of the stack).
"""
