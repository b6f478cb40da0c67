"""CPU time by rule class, in one process, on a list of files: each rule's
constructor, `visit` and `finish` are timed (what a rule computes lazily,
e.g. a module fact, is charged to the rule that asked first). Writes
{"total": s, "files": n, "rules": [[name, seconds], ...]} as JSON.

    python bench/rule_costs.py files.txt out.json
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path


def main(list_file: str, out: str) -> int:
    from mllint.core.config import Config
    from mllint.engine.runner import _prewarm, lint_file
    from mllint.rules.base import registered_rules

    _prewarm()
    cost: Counter[str] = Counter()
    clock = time.process_time
    for rc in registered_rules():
        name = f"{rc.__name__} ({', '.join(rc.codes)})"
        for meth in ("__init__", "visit", "finish"):
            orig = rc.__dict__.get(meth)
            if orig is None:
                continue

            def timed(*a, _orig=orig, _name=name, **k):
                t = clock()
                try:
                    return _orig(*a, **k)
                finally:
                    cost[_name] += clock() - t

            setattr(rc, meth, timed)
    paths = [p for p in Path(list_file).read_text(encoding="utf-8").splitlines() if p.strip()]
    config = Config(select=["ALL"])  # every rule, opt-in ones included
    start = clock()
    for p in paths:
        lint_file(p, config)
    total = clock() - start
    Path(out).write_text(json.dumps({"total": total, "files": len(paths), "rules": cost.most_common()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
