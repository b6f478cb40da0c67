"""Running the rules: one module (`lint`: the `Context`, the single walk
that feeds the semantic model and dispatches nodes to rules, `lint_source`),
the statement cache for incremental analysis (`incremental`), many files
over a process pool (`runner`) and the on-disk result cache (`cache`).

May import: `mllint.core`, `mllint.analysis`, `mllint.rules`.
Must not import: `fix`, `report`, `lsp`, `docs`, `cli`.
"""
