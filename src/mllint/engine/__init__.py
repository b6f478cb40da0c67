"""Running the rules: one module (`lint`: the `Context`, the single walk
that feeds the semantic model and dispatches nodes to rules, `lint_source`),
the statement cache for incremental analysis (`incremental`), many files
over a process pool (`runner`), the on-disk result cache (`cache`) and
many files on a Dask cluster (`distributed`; Dask is an optional
dependency, imported only inside its functions).

May import: `mllint.core`, `mllint.analysis`, `mllint.rules`.
Must not import: `fix`, `report`, `lsp`, `docs`, `cli`.
"""
