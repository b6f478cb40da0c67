"""Generated documentation: one page per rule from the catalogue
(`rule_pages`, also behind `mllint explain`) and the before/after examples
of every fix (`fix_pages`). Run as `python -m mllint.docs.rule_pages` and
`python -m mllint.docs.fix_pages` (`make docs`).

May import: `mllint.core`, `mllint.analysis`, `mllint.rules`,
`mllint.engine`, `mllint.fix`.
Must not import: `lsp`, `cli`.
"""
