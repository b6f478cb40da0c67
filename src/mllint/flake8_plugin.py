"""flake8 plugin (entry point `ML`): `flake8 --select ML`.

A tree plugin: flake8 hands over the `ast` it already parsed, so detection
costs no second parse. Rule options and severity overrides come from the
nearest `[tool.mllint]` / `.mllint.yaml`; which codes are reported is
flake8's business (`--select`, `--extend-select`, `--ignore`, `# noqa`).
The plugin runs the default rule set, plus the opt-in rules that mllint's
own config turns on (`select = ["ALL"]`, or a rule's full code in
`select`/`extend-select`): flake8's `--select ML` cannot tell a prefix from
a wish for every rule. `--mllint-min-severity` hides findings below a
severity.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from mllint.core.config import Config, ConfigError, discover_config
from mllint.core.severity import Severity
from mllint.core.version import __version__


@lru_cache(maxsize=64)
def _config_for_dir(directory: str) -> Config:
    try:
        cfg = discover_config([Path(directory)])
    except ConfigError:
        # flake8 has no channel for config errors; run with defaults rather
        # than crash every file. `mllint check` reports the error (exit 2).
        cfg = Config()
    # flake8 decides which codes are shown; the mllint config decides only
    # which opt-in rules run besides the default set.
    chosen = [*(cfg.select or []), *cfg.extend_select]
    cfg.select = ["ALL"] if "ALL" in chosen else ["ML"]
    cfg.extend_select = [c for c in chosen if len(c) == 5]
    cfg.ignore = []
    cfg.per_file_ignores = {}
    cfg.min_severity = Severity.INFO
    return cfg


class MLLintChecker:
    name = "flake8-mllint"
    version = __version__
    min_severity: Severity = Severity.INFO

    def __init__(self, tree: ast.AST, lines: list[str], filename: str):
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        option_manager.add_option(
            "--mllint-min-severity",
            default="info",
            parse_from_config=True,
            choices=[s.value for s in Severity],
            help="mllint: hide ML findings below this severity (default: info)",
        )

    @classmethod
    def parse_options(cls, options: Any) -> None:
        cls.min_severity = Severity(getattr(options, "mllint_min_severity", "info") or "info")

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        from mllint.core.sources import Source
        from mllint.engine.lint import lint_source

        if not isinstance(self.tree, ast.Module):
            return
        directory = str(Path(self.filename).resolve().parent) if self.filename not in ("stdin", "-") else "."
        config = _config_for_dir(directory)
        source = Source(path=self.filename, text="".join(self.lines))
        findings = lint_source(source, config, tree=self.tree, apply_noqa=False)
        for f in findings:
            if f.code == "ML000" or f.severity < self.min_severity:
                continue
            yield f.line, f.col, f"{f.code} {' '.join(f.message.split())}", type(self)
