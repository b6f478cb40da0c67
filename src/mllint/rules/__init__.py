"""Rule code: one module per rule or tight family of rules, named for what
it holds, each starting with a docstring naming its codes. Importing this
package registers every rule (`rules.base.register`).

May import: `mllint.core`, `mllint.analysis`.
Must not import: `engine`, `fix`, `report`, `lsp`, `docs`, `cli` (a rule
sees the engine's `Context` only as the object it is handed).
"""

from mllint.rules import (  # noqa: F401
    data,
    fairness,
    leakage,
    notebook,
    reproducibility,
    security,
    serving,
    training,
)
