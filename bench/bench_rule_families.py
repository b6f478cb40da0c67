"""Cost of each rule family relative to the foundation rule set (ML0xx + ML1xx).

    .venv/bin/python bench/bench_rule_families.py [DIR] [--sample N] [--reps R]

DIR defaults to the extracted benchmark corpus (see bench/corpus.py; any
directory of Python files works). Files are read and decoded once; each
configuration is timed in this process (CPU time, best of R runs), so the
ratios are comparable. Issue 5's bar: adding ML3xx + ML4xx must cost no more
than 20% over the foundation.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mllint.core.catalog import default_catalog
from mllint.core.config import Config
from mllint.core.sources import SourceError, load_source
from mllint.engine.lint import RuleSet, lint_source

FAMILIES = {
    "foundation (ML0,ML1)": ["ML0", "ML1"],
    "+ ML2 (leakage)": ["ML0", "ML1", "ML2"],
    "+ ML3,ML4 (training, data)": ["ML0", "ML1", "ML3", "ML4"],
    "+ ML5,ML6,ML7 (serving, security, fairness)": ["ML0", "ML1", "ML5", "ML6", "ML7"],
    "all rules": ["ML"],
}


def default_dir() -> Path:
    return Path.home() / ".cache" / "mllint-bench" / "corpus"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?", type=Path, default=default_dir())
    ap.add_argument("--sample", type=int, default=5, help="take every Nth file (default 5)")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    files = sorted(p for p in args.dir.rglob("*.py"))[:: args.sample]
    sources = []
    for f in files:
        try:
            sources.append(load_source(f))
        except SourceError:
            pass
    lines = sum(s.text.count("\n") for s in sources)
    default_catalog()
    print(f"{len(sources)} files, {lines} lines from {args.dir}")
    base = None
    for label, select in FAMILIES.items():
        cfg = Config(select=select)
        classes = RuleSet.for_config(cfg).classes
        best = float("inf")
        for _ in range(args.reps):
            t = time.process_time()
            for s in sources:
                lint_source(type(s)(path=s.path, text=s.text), cfg, rule_classes=classes)
            best = min(best, time.process_time() - t)
        base = base or best
        print(f"{label:48s} {best:7.2f} s  {lines / best:9.0f} lines/s  x{best / base:.3f}")


if __name__ == "__main__":
    main()
