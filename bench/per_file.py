"""Time `mllint`'s per-file lint (all rules, no cache) on every file of a
list, in one process set up as `mllint check`'s is, and write [{path, seconds, cpu, lines, size}] as JSON.

    python bench/per_file.py files.txt out.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(list_file: str, out: str) -> int:
    from mllint.core.config import Config
    from mllint.core.sources import load_source
    from mllint.engine.runner import _prewarm, lint_file, tune_gc

    _prewarm()
    tune_gc()  # the collector settings of the `mllint check` process
    config = Config(select=["ALL"])  # every rule, opt-in ones included
    paths = [p for p in Path(list_file).read_text(encoding="utf-8").splitlines() if p.strip()]
    rows = []
    for path in paths:
        data = Path(path).read_bytes()
        start, cpu_start = time.perf_counter(), time.process_time()
        lint_file(path, config, data=data)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        try:
            lines = len(load_source(path, data).text.splitlines())
        except Exception:
            lines = data.count(b"\n")
        rows.append({"path": path, "seconds": seconds, "cpu": cpu, "lines": lines, "size": len(data)})
    Path(out).write_text(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
