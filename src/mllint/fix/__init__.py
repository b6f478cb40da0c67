"""Changing files: applying rules' fixes losslessly and safely (`apply`:
libcst-checked edits, notebooks cell by cell, atomic writes), adding and
checking `noqa` comments (`noqa`), and baselines of accepted findings
(`baseline`). The helpers rules use to *build* fixes live with the rules
(`rules.fixbuilders`), below the engine.

May import: `mllint.core`, `mllint.analysis`, `mllint.rules`, `mllint.engine`.
Must not import: `report`, `lsp`, `docs`, `cli`.
"""
