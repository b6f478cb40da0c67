"""The language server (`mllint server`): the pygls server (`server`), the
analysis of open documents (`analysis`), the incremental parser (`parse`),
the worker processes for module-wide rules (`worker`), conversion to LSP
types (`convert`) and the `noqa` quick-fix planner (`noqa`).

May import: `mllint.core`, `mllint.analysis`, `mllint.rules`,
`mllint.engine`, `mllint.fix`.
Must not import: `report`, `docs`, `cli`.
"""
