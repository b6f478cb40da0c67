"""Scores the leakage rules on the frozen hold-out in tests/fixtures/leakage_holdout2/.

    python bench/leakage_holdout.py [--dir DIR] [--json out.json] [--files]

The hold-out is 75 realistic programs (scripts and notebooks) written from
patterns seen in real code, frozen before the analysis was changed for
issue 16 and never tuned to afterwards. Each file opens with a header
naming its type:

    # holdout: <type> - ...                      (a leaky program)
    # holdout: clean (<type> look-alike) - ...   (a clean one)

(in a notebook, the first cell), and every leaky line carries
`# expect: ML2nn`. A file is leaky iff it has an expect label.

Printed figures:

* pipeline level: a file is *flagged* if the leakage rules report any
  leak finding on it (ML201-ML206, ML209; ML207/ML208 are evaluation
  hygiene, not leaks, and are shown separately). Precision = flagged leaky
  files / flagged files, recall = flagged leaky files / leaky files;
* per type: recall over the leaky files of that type, and how many of its
  clean look-alikes are flagged;
* line level per rule: (cell, line, code) triples against the labels.

`--files` lists each file's verdict: do not use it while developing the
analysis (that would tune the analysis to the hold-out).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mllint.core.config import Config  # noqa: E402
from mllint.engine.lint import lint_path  # noqa: E402
from mllint.rules.leakage import DataLeakage  # noqa: E402

HOLDOUT = ROOT / "tests" / "fixtures" / "leakage_holdout2"
CODES = ("ML201", "ML202", "ML203", "ML204", "ML205", "ML206", "ML207", "ML208", "ML209")
LEAK_CODES = frozenset({"ML201", "ML202", "ML203", "ML204", "ML205", "ML206", "ML209"})
TYPES = ("preprocessing", "overlap", "oversampling", "multi-test", "temporal", "refit")
EXPECT_RE = re.compile(r"#\s*expect:\s*(?P<codes>ML\d{3}(?:\s*,\s*ML\d{3})*)")
HEADER_RE = re.compile(r"(?i)holdout:\s*(?:clean\s*\((?P<clean>[\w-]+) look-alike\)|(?P<leak>[\w-]+))")


def cells_of(path: Path) -> list[str]:
    """The file's text, or each cell's source for a notebook (all cells: the
    cell numbers are those of mllint's findings)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return [text]
    out = []
    for cell in json.loads(text)["cells"]:
        src = cell.get("source", "")
        out.append("".join(src) if isinstance(src, list) else src)
    return out


def labels(path: Path) -> set[tuple]:
    out: set[tuple] = set()
    nb = path.suffix == ".ipynb"
    for ci, src in enumerate(cells_of(path), start=1):
        for li, line in enumerate(src.splitlines(), start=1):
            m = EXPECT_RE.search(line)
            if m:
                for code in re.findall(r"ML\d{3}", m.group("codes")):
                    out.add((ci if nb else None, li, code))
    return out


def header(path: Path) -> tuple[str, bool]:
    """(type, is_clean) from the header line."""
    first = cells_of(path)[0].lstrip().splitlines()[0]
    m = HEADER_RE.search(first)
    if not m:
        raise SystemExit(f"{path.name}: no '# holdout: <type>' header")
    kind = (m.group("clean") or m.group("leak")).lower()
    if kind not in TYPES:
        raise SystemExit(f"{path.name}: unknown type {kind!r}")
    return kind, m.group("clean") is not None


def ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def score(directory: Path = HOLDOUT) -> dict:
    cfg = Config()
    files = sorted(p for p in directory.iterdir() if p.suffix in (".py", ".ipynb"))
    per_file = []
    rules = {c: {"tp": 0, "fp": 0, "fn": 0} for c in CODES}
    for path in files:
        kind, clean = header(path)
        expected = labels(path)
        if clean == bool(expected):
            raise SystemExit(f"{path.name}: a clean header with labels, or a leaky one without")
        findings = lint_path(path, cfg, rule_classes=[DataLeakage])
        internal = [f for f in findings if f.code in ("ML000", "ML001")]
        if internal:
            raise SystemExit(f"{path.name}: {internal[0].message}")
        got = {(f.cell, f.display_line, f.code) for f in findings if f.code in CODES}
        for code in CODES:
            e = {x for x in expected if x[2] == code}
            g = {x for x in got if x[2] == code}
            rules[code]["tp"] += len(e & g)
            rules[code]["fp"] += len(g - e)
            rules[code]["fn"] += len(e - g)
        per_file.append(
            {
                "file": path.name,
                "type": kind,
                "leaky": not clean,
                "flagged": any(c in LEAK_CODES for _, _, c in got),
                "flagged_any_ml2": bool(got),
                "codes": sorted({c for _, _, c in got}),
            }
        )
    return {"files": per_file, "rules": rules}


def pipeline(per_file: list[dict], key: str = "flagged") -> dict:
    tp = sum(1 for f in per_file if f["leaky"] and f[key])
    fp = sum(1 for f in per_file if not f["leaky"] and f[key])
    fn = sum(1 for f in per_file if f["leaky"] and not f[key])
    return {"tp": tp, "fp": fp, "fn": fn, "precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn)}


def report(res: dict, show_files: bool = False) -> None:
    files = res["files"]
    n_leaky = sum(f["leaky"] for f in files)
    print(f"hold-out: {len(files)} programs, {n_leaky} leaky, {len(files) - n_leaky} clean look-alikes")
    for key, what in (("flagged", "leak findings (ML201-206, ML209)"), ("flagged_any_ml2", "any ML2xx finding")):
        p = pipeline(files, key)
        print(f"pipeline level, {what}: precision {p['precision']:.2f} recall {p['recall']:.2f} (TP {p['tp']} FP {p['fp']} FN {p['fn']})")
    print("\n| type | leaky | flagged | recall | clean look-alikes | flagged (FP) |")
    print("|---|---|---|---|---|---|")
    for t in TYPES:
        lk = [f for f in files if f["type"] == t and f["leaky"]]
        cl = [f for f in files if f["type"] == t and not f["leaky"]]
        hit = sum(f["flagged"] for f in lk)
        print(f"| {t} | {len(lk)} | {hit} | {ratio(hit, len(lk)):.2f} | {len(cl)} | {sum(f['flagged'] for f in cl)} |")
    print("\n| rule | labelled | TP | FP | FN | precision | recall |")
    print("|---|---|---|---|---|---|---|")
    for code, c in res["rules"].items():
        print(f"| {code} | {c['tp'] + c['fn']} | {c['tp']} | {c['fp']} | {c['fn']} | {ratio(c['tp'], c['tp'] + c['fp']):.2f} | {ratio(c['tp'], c['tp'] + c['fn']):.2f} |")
    if show_files:
        print()
        for f in files:
            verdict = "ok" if f["leaky"] == f["flagged"] else ("MISSED" if f["leaky"] else "FALSE ALARM")
            print(f"{verdict:12} {f['file']:48} {','.join(f['codes'])}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=HOLDOUT)
    ap.add_argument("--json", help="write the per-file verdicts and per-rule counts here")
    ap.add_argument("--files", action="store_true", help="list each file's verdict (not while developing)")
    args = ap.parse_args(argv)
    res = score(args.dir)
    report(res, args.files)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
