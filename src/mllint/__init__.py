"""mllint: a static-analysis linter for machine-learning code.

The public Python API (docs/api.md) is what this module exports:

    from mllint import lint_source, lint_paths, load_config, Finding, FileResult, Config, ConfigError

They live in `mllint.api` and are loaded on first use (PEP 562), so that
importing any `mllint.core` module (the flake8 plugin does, for every run)
does not load the engine and the rules.

The package is laid out along the data flow (docs/development.md has the
map): `core` (sources, findings, configuration, catalogue) → `analysis` (the
semantic model and the facts rules share, the leakage data flow) → `rules` →
`engine` (one walk per module, many files, the result cache, the Dask
runner) → `fix` and `report` → `lsp`, `docs`, `cli`. A package imports only
the packages before it; `tests/test_architecture.py` checks that, and that
no module-level imports form a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mllint.core.version import __version__

if TYPE_CHECKING:
    from mllint.api import Config, ConfigError, FileResult, Finding, lint_paths, lint_source, load_config

__all__ = ["Config", "ConfigError", "FileResult", "Finding", "__version__", "lint_paths", "lint_source", "load_config"]

_API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        value = getattr(importlib.import_module("mllint.api"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mllint' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API)
