"""The stable Python API (docs/api.md): lint text or files from Python.

    from mllint import lint_source, lint_paths, load_config

    findings = lint_source("import torch\nm = torch.load('m.pt')\n", path="serve.py")
    for result in lint_paths(["src/", "notebooks/"]):
        print(result.path, len(result.findings))

Names exported from `mllint` (lazily, so importing `mllint.core.*` does not
load the engine): `lint_source`, `lint_paths`, `load_config`, `Finding`,
`FileResult`, `Config`, `ConfigError`. Everything else in the package is
internal and may change between releases.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from mllint.core.config import CONFIG_NAMES, Config, ConfigError, discover_config, load_config_file
from mllint.core.discovery import discover
from mllint.core.findings import Finding
from mllint.core.sources import NOTEBOOK_SUFFIXES, Source
from mllint.engine.runner import FileResult, file_internal_error, iter_lint_files, lint_file

__all__ = ["Config", "ConfigError", "FileResult", "Finding", "lint_paths", "lint_source", "load_config"]

PathLike = str | os.PathLike[str]


def load_config(path: PathLike = ".") -> Config:
    """The configuration `mllint check` would use for `path`.

    A config file (`pyproject.toml`, `.mllint.yaml`, any `.toml`/`.yaml`/
    `.yml` file) is read as it is; for a directory or a source file the
    nearest `.mllint.yaml` / `pyproject.toml` with a `[tool.mllint]` table
    is found upwards, as the CLI does, and with none the defaults are used
    (rooted at the working directory). Raises `ConfigError` (the message
    names the file and the key) for an invalid config or a missing path.
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: no such file or directory")
    if p.is_file() and (p.name in CONFIG_NAMES or p.suffix in (".toml", ".yaml", ".yml")):
        return load_config_file(p)
    return discover_config([p])


def lint_source(text: str | bytes, path: PathLike = "<string>", config: Config | None = None) -> list[Finding]:
    """Lint one file's contents: Python source, or a notebook's JSON when
    `path` ends in `.ipynb`. `text` may be `str` or the file's `bytes`
    (decoded as Python does: BOM, coding cookie, UTF-8). Nothing is read
    from or written to disk; `path` is what the findings carry and what
    `per-file-ignores` match.

    Never raises for bad input: a syntax error, an undecodable file or an
    invalid notebook is an ML000 finding, an internal error an ML001 one,
    as in `mllint check`. The findings are sorted as every report sorts
    them (`Finding.sort_key`); notebook findings carry `cell`, `cell_line`
    and `cell_end_line`. A notebook mllint does not analyse (a kernel other
    than Python) gives no findings.

    `config`: a `Config` (e.g. from `load_config`); None means the defaults
    (every rule, no project config is looked up).
    """
    config = config if config is not None else Config()
    shown = os.fspath(path)
    if isinstance(text, (bytes, bytearray, memoryview)):
        return lint_file(shown, config, bytes(text)).findings
    if not isinstance(text, str):
        raise TypeError(f"lint_source() takes str or bytes, not {type(text).__name__}")
    if shown.endswith(NOTEBOOK_SUFFIXES):
        # A notebook is JSON, which is UTF-8 (surrogates kept so the notebook
        # loader, not this function, reports them).
        return lint_file(shown, config, text.encode("utf-8", "surrogatepass")).findings
    from mllint.engine.lint import lint_source as lint_loaded

    try:
        return lint_loaded(Source(path=shown, text=text.removeprefix("\ufeff")), config)
    except Exception as exc:  # as runner.lint_file: never lose the caller's run
        return [file_internal_error(shown, exc, "linting")]


def lint_paths(
    paths: PathLike | Iterable[PathLike],
    config: Config | None = None,
    jobs: int | None = None,
) -> Iterator[FileResult]:
    """Lint files and directories as `mllint check` does and return a
    generator of one `FileResult` per file (path, findings, info).

    Directories are searched for `.py`, `.pyi` and `.ipynb` files honouring
    `.gitignore`, the built-in excludes and the config's `exclude`; files
    named explicitly are linted whatever their suffix. The config and the
    file list are settled when you call this (so a bad config or a missing
    path raises here: `ConfigError`, `FileNotFoundError`); the files are
    linted as you iterate, and only the results not yet handed out are held.

    `config`: None discovers it from the paths, as the CLI does (see
    `load_config`). `jobs`: worker processes; None means `jobs` from the
    config, else all cores. With one job, or fewer than 24 files, files are
    linted in this process one per `next()`, in sorted path order. With
    more, a process pool lints chunks of files and results come in
    *completion* order: sort them if you need an order. Paths that could
    not be walked (e.g. a directory without read permission) come first, as
    results with no findings and the reason in `info`. The result cache of
    `mllint check` is not used.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    given = [os.fspath(p) for p in paths]
    if config is None:
        config = discover_config([Path(p) for p in given])
    found = discover(given, config)
    for p, why in found.problems:
        if p in given and not Path(p).exists() and not Path(p).is_symlink():
            raise FileNotFoundError(f"{p}: {why}")
    return _results(found.problems, found.files, config, jobs)


def _results(
    problems: list[tuple[str, str]], files: list[Path], config: Config, jobs: int | None
) -> Iterator[FileResult]:
    for p, why in problems:
        yield FileResult(p, [], why)
    yield from iter_lint_files(files, config, jobs)
