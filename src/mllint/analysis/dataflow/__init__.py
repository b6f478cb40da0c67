"""Data-flow analyses shared by rules. See `provenance` (the leakage analysis
behind ML2xx) and `imports` (a cheap alias map for the pass)."""

from mllint.analysis.dataflow.imports import import_map, resolve, uses_ml_packages
from mllint.analysis.dataflow.provenance import LeakageFacts, RawFinding, analyse

__all__ = ["LeakageFacts", "RawFinding", "analyse", "import_map", "resolve", "uses_ml_packages"]
