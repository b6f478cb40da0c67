"""mllint: a static-analysis linter for machine-learning code.

The package is laid out along the data flow (docs/development.md has the
map): `core` (sources, findings, configuration, catalogue) → `analysis` (the
semantic model and the facts rules share, the leakage data flow) → `rules` →
`engine` (one walk per module, many files, the result cache) → `fix` and
`report` → `lsp`, `docs`, `cli`. A package imports only the packages before
it; `tests/test_architecture.py` checks that, and that no module-level
imports form a cycle.
"""

from mllint.core.version import __version__

__all__ = ["__version__"]
