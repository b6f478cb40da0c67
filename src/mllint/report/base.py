"""What every reporter gets: the findings of a run and its context."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mllint.core.catalog import Catalog
from mllint.core.findings import Finding
from mllint.core.severity import Severity


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


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: str) -> str:
    """Make control characters (ANSI escapes included) visible and inert:
    `\x1b` is printed as the four characters backslash, x, 1, b."""
    return _CONTROL.sub(lambda m: "\\x%02x" % ord(m.group()), text)
