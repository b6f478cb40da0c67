"""Every finding on a fixed input set, for checking that a change meant to
be behaviour-neutral (a speed-up, a refactor) is: snapshot before, snapshot
after, diff. The inputs: the benchmark corpus if it was downloaded
(`make bench`), the test fixtures, `examples/`, and two generated files
dense in ML code (the 2,000-line training script of bench_lsp.py and a
10,000-line generated module), with every rule (`--select ALL`, opt-in
rules included) and every severity.

    .venv/bin/python bench/findings.py snapshot /tmp/before.json
    # ... change the code ...
    .venv/bin/python bench/findings.py snapshot /tmp/after.json
    .venv/bin/python bench/findings.py diff /tmp/before.json /tmp/after.json   # exit 1 if they differ
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.__main__ import default_cache  # noqa: E402
from bench.bench_lsp import training_script  # noqa: E402
from bench.corpus import generated_module  # noqa: E402


def inputs(workdir: Path) -> list[str]:
    corpus = default_cache() / "corpus"
    paths = [str(p) for p in (corpus / "py", corpus / "notebooks") if p.is_dir()]
    (workdir / "train_script.py").write_text(training_script(2000), encoding="utf-8")
    (workdir / "generated_module.py").write_text(generated_module(10_000), encoding="utf-8")
    return paths + [str(REPO / "tests" / "fixtures"), str(REPO / "examples"), str(workdir)]


def snapshot(out: Path, jobs: int) -> int:
    with tempfile.TemporaryDirectory(prefix="mllint-findings-") as tmp:
        work = Path(tmp)
        cmd = [
            sys.executable, "-m", "mllint", "check", "--format", "json", "--no-cache", "--no-progress",
            "--exit-zero", "--min-severity", "info", "--select", "ALL", "-j", str(jobs), *inputs(work),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        rows = set()
        for f in json.loads(proc.stdout):
            path = f["path"].replace(tmp, "<generated>")
            rows.add((path, f.get("cell"), f["line"], f["column"], f.get("end_line"), f.get("end_column"),
                      f["code"], f["message"], f["severity"], json.dumps(f.get("fix"), sort_keys=True)))
    out.write_text(json.dumps(sorted(rows), indent=0), encoding="utf-8")
    print(f"{len(rows)} findings -> {out}")
    return 0


def diff(before: Path, after: Path, show: int = 40) -> int:
    a = {tuple(r) for r in json.loads(before.read_text(encoding="utf-8"))}
    b = {tuple(r) for r in json.loads(after.read_text(encoding="utf-8"))}
    for r in sorted(a - b)[:show]:
        print("lost ", r)
    for r in sorted(b - a)[:show]:
        print("new  ", r)
    print(f"lost {len(a - b)}, new {len(b - a)}, same {len(a & b)}")
    return 0 if a == b else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snapshot")
    s.add_argument("out", type=Path)
    s.add_argument("--jobs", type=int, default=2)
    d = sub.add_parser("diff")
    d.add_argument("before", type=Path)
    d.add_argument("after", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "snapshot":
        return snapshot(args.out, args.jobs)
    return diff(args.before, args.after)


if __name__ == "__main__":
    raise SystemExit(main())
