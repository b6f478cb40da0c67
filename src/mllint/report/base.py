"""What every reporter gets: the findings of a run and its context."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mllint.catalog import Catalog
from mllint.findings import Finding
from mllint.severity import Severity


@dataclass
class RunSummary:
    files: int = 0
    infos: list[str] = field(default_factory=list)  # skipped files etc.
    fixed: int = 0
    fixable_unsafe: int = 0


@dataclass
class Report:
    findings: list[Finding]
    catalog: Catalog
    summary: RunSummary = field(default_factory=RunSummary)
    root: Path | None = None  # for repo-relative URIs (SARIF)
    show_source: bool = True
    statistics: bool = False

    def by_severity(self) -> Counter:
        return Counter(f.severity for f in self.findings)

    def by_code(self) -> Counter:
        return Counter(f.code for f in self.findings)

    def name_of(self, code: str) -> str:
        spec = self.catalog.get(code)
        return spec.name if spec else code


SEVERITY_ORDER = list(reversed(list(Severity)))
