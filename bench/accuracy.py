"""`python -m bench.accuracy` (`make accuracy`): the measured precision of
every rule on real code that nobody on this project wrote.

Corpora (neither is in the repository):

* `dev-corpus` — `../shared/dev-corpus` beside the checkout (textbook,
  course and MLOps notebooks and scripts; `--dev-corpus PATH` or
  MLLINT_DEV_CORPUS to point elsewhere);
* `pypi` — the example and tutorial folders of the pinned sdists in
  REGISTRY, downloaded from PyPI with pip into the bench cache
  (~/.cache/mllint-bench/accuracy; MLLINT_BENCH_CACHE or --cache-dir).

mllint runs over both with every rule selected (`--select ALL`) and every
severity, and the findings are matched with the judged findings in
`bench/judgments.csv` on (corpus, path, cell, line, code):

* precision of a rule = TP / judged, over the judged findings it still
  reports (verdicts: TP worth acting on; FP the claimed problem is not
  there; NOISE true but not worth a senior ML engineer's time);
* "judged but gone": judged findings no longer reported (a precision fix,
  or a recall change that moved them);
* "to judge": unjudged findings of the rules with fewer than 10 judged
  findings still reported, picked round-robin across files. `--show`
  prints the code around each one; `--unjudged` lists every unjudged one.

    python -m bench.accuracy                      # the table and the lists
    python -m bench.accuracy --show               # ... and the code to judge
    python -m bench.accuracy --update-docs        # rewrite the section of docs/accuracy.md
    python -m bench.accuracy --update-catalogue   # write precision records + default flags into rules/*.yaml
    python -m bench.accuracy --check              # exit 1 if anything is to judge or out of date
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

JUDGMENTS = REPO / "bench" / "judgments.csv"
DOC = REPO / "docs" / "accuracy.md"
RULES_DIR = REPO / "rules"

# Pinned sdists whose example/tutorial folders hold ML code written by others:
# (spec, folders of the sdist that are linted).
REGISTRY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mapie==1.6.0", ("examples", "notebooks")),
    ("imbalanced-learn==0.14.2", ("examples",)),
    ("pytorch-ignite==0.5.5", ("examples",)),
    ("aif360==0.6.1", ("examples",)),
)
CORPUS_NAMES = ("dev-corpus", "pypi")
VERDICTS = ("TP", "FP", "NOISE")
FIELDS = ("corpus", "path", "cell", "line", "code", "verdict", "reason")
MIN_JUDGED = 10
# Tool status, not findings about the code: always on, not measured.
NOT_MEASURED = ("ML000", "ML001")

BEGIN = "<!-- BEGIN GENERATED: precision per rule (python -m bench.accuracy --update-docs) -->"
END = "<!-- END GENERATED: precision per rule -->"

Key = tuple[str, str, str, int, str]  # corpus, path, cell ("" for .py), line, code


# ---------------------------------------------------------------------------
# Corpora
# ---------------------------------------------------------------------------

@dataclass
class Corpus:
    name: str
    root: Path
    paths: list[Path]
    description: str
    files: int = 0


def bench_cache(explicit: Path | None = None) -> Path:
    from bench.__main__ import default_cache

    return (explicit or default_cache()).expanduser().resolve() / "accuracy"


def find_dev_corpus(explicit: Path | None = None) -> Path | None:
    """--dev-corpus, else MLLINT_DEV_CORPUS, else `shared/dev-corpus` beside
    the checkout (or beside its parent, for a worktree one level down)."""
    if explicit is not None:
        return explicit if explicit.is_dir() else None
    env = os.environ.get("MLLINT_DEV_CORPUS")
    if env:
        p = Path(env).expanduser()
        return p if p.is_dir() else None
    for base in (REPO.parent, REPO.parent.parent):
        p = base / "shared" / "dev-corpus"
        if p.is_dir():
            return p
    return None


def registry_corpus(cache: Path, log=print) -> Path:
    """Download REGISTRY's sdists (once) and unpack their .py/.ipynb files
    under the listed folders into cache/pypi/<sdist dir>/..."""
    from bench.corpus import _safe_members, download_sdists

    root = cache / "pypi"
    stamp = root / ".complete"
    want = json.dumps(REGISTRY)
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == want:
        return root
    archives = download_sdists(cache / "sdists", log, specs=tuple(s for s, _ in REGISTRY))
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for archive, (_spec, folders) in zip(archives, REGISTRY):
        with tarfile.open(archive) as tar:
            for m in _safe_members(tar, (".py", ".ipynb")):
                parts = Path(m.name).parts
                if len(parts) < 3 or parts[1] not in folders:
                    continue
                target = root / m.name
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(m)
                if src is not None:
                    target.write_bytes(src.read())
    stamp.write_text(want, encoding="utf-8")
    return root


def corpora(args: argparse.Namespace, log=print) -> tuple[list[Corpus], list[str]]:
    out: list[Corpus] = []
    missing: list[str] = []
    dev = find_dev_corpus(args.dev_corpus)
    if dev is None:
        missing.append("dev-corpus")
        log("mllint accuracy: ../shared/dev-corpus not found (--dev-corpus PATH or MLLINT_DEV_CORPUS); "
            "its judged findings are left out")
    else:
        out.append(Corpus("dev-corpus", dev, [dev], "`../shared/dev-corpus` (handson-ml2, "
                          "deep-learning-v2-pytorch, python-machine-learning-book-3rd-edition, Made-With-ML)"))
    if args.no_registry:
        missing.append("pypi")
    else:
        root = registry_corpus(bench_cache(args.cache_dir), log)
        paths = sorted(p for p in root.iterdir() if p.is_dir())
        desc = ", ".join(f"`{s}` ({'/, '.join(f)}/)" for s, f in REGISTRY)
        out.append(Corpus("pypi", root, paths, f"examples of the PyPI sdists {desc}"))
    for c in out:
        c.files = count_files(c.paths)
    return out, missing


def count_files(paths: list[Path]) -> int:
    from mllint.core.config import Config
    from mllint.core.discovery import discover

    return len(discover([str(p) for p in paths], Config()).files)


# ---------------------------------------------------------------------------
# Running mllint
# ---------------------------------------------------------------------------

@dataclass
class Found:
    key: Key
    severity: str
    message: str
    abspath: str


def run_mllint(corpus: Corpus, work: Path, select_all: bool = True, jobs: int | None = None) -> list[Found]:
    """mllint over a corpus, JSON, no cache, a config file of its own (so no
    project config around the corpus applies)."""
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "mllint-accuracy.toml"
    cfg.write_text("# the accuracy command's config: every setting at its default\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "mllint", "check", "--format", "json", "--no-cache", "--no-progress",
           "--exit-zero", "--min-severity", "info", "--config", str(cfg)]
    if select_all:
        cmd += ["--select", "ALL"]
    if jobs:
        cmd += ["-j", str(jobs)]
    cmd += [str(p) for p in corpus.paths]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=corpus.root, env=env)
    if proc.returncode not in (0, 3):  # 3: a rule crashed somewhere (ML001, reported as a finding)
        raise RuntimeError(f"mllint failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return [to_found(corpus, f) for f in json.loads(proc.stdout)]


def to_found(corpus: Corpus, f: dict) -> Found:
    path = Path(f["path"])
    if not path.is_absolute():
        path = corpus.root / path
    try:
        rel = path.resolve().relative_to(corpus.root.resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    cell = "" if f.get("cell") is None else str(f["cell"])
    return Found((corpus.name, rel, cell, int(f["line"]), f["code"]), f["severity"], f["message"], str(path))


# ---------------------------------------------------------------------------
# Judgments
# ---------------------------------------------------------------------------

@dataclass
class Judgment:
    key: Key
    verdict: str
    reason: str


class JudgmentError(ValueError):
    pass


def read_judgments(path: Path) -> dict[Key, Judgment]:
    out: dict[Key, Judgment] = {}
    if not path.is_file():
        return out
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise JudgmentError(f"{path}: the header must be {','.join(FIELDS)}")
        for n, row in enumerate(reader, start=2):
            try:
                key: Key = (row["corpus"], row["path"], row["cell"] or "", int(row["line"]), row["code"])
            except (TypeError, ValueError):
                raise JudgmentError(f"{path}:{n}: line must be a number") from None
            verdict = (row["verdict"] or "").strip().upper()
            if verdict not in VERDICTS:
                raise JudgmentError(f"{path}:{n}: verdict must be one of {', '.join(VERDICTS)}")
            if not re.fullmatch(r"ML\d{3}", key[4]):
                raise JudgmentError(f"{path}:{n}: {key[4]!r} is not a rule code")
            if not (row["reason"] or "").strip():
                raise JudgmentError(f"{path}:{n}: the reason is empty")
            if key in out:
                raise JudgmentError(f"{path}:{n}: judged twice: {key}")
            out[key] = Judgment(key, verdict, row["reason"].strip())
    return out


def write_judgments(path: Path, judgments: dict[Key, Judgment]) -> None:
    rows = sorted(judgments.values(), key=lambda j: (j.key[4], j.key[0], j.key[1], _cell_sort(j.key[2]), j.key[3]))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(FIELDS)
        for j in rows:
            w.writerow([*j.key[:3], j.key[3], j.key[4], j.verdict, j.reason])


def _cell_sort(cell: str) -> int:
    return int(cell) if cell.isdigit() else -1


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------

@dataclass
class RuleRow:
    code: str
    severity: str
    findings: int = 0
    tp: int = 0
    fp: int = 0
    noise: int = 0
    default: bool = True
    sample: int = MIN_JUDGED  # the judged sample this rule should have

    @property
    def judged(self) -> int:
        return self.tp + self.fp + self.noise

    @property
    def precision(self) -> float | None:
        return self.tp / self.judged if self.judged else None

    @property
    def wanted(self) -> int:
        """How many judged findings this rule needs: 10 (or `--sample`), or all it has."""
        return min(self.sample, self.findings)


@dataclass
class Measurement:
    rows: dict[str, RuleRow]
    findings: dict[Key, Found]
    judged_present: dict[Key, Judgment]
    gone: list[Judgment]
    unjudged: list[Found]
    to_judge: list[Found]
    corpora: list[Corpus] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def measure(found: list[Found], judgments: dict[Key, Judgment], catalog, available: set[str],
            sample: dict[str, int] | None = None) -> Measurement:
    """Match findings with judgments (pure: the unit tests call it).
    `sample`: a larger judged sample wanted for some rules (code -> size)."""
    findings: dict[Key, Found] = {}
    for f in found:
        findings.setdefault(f.key, f)  # two findings of one code on one line count once
    rows = {
        s.code: RuleRow(s.code, s.severity.value, default=s.default,
                        sample=max(MIN_JUDGED, (sample or {}).get(s.code, 0)))
        for s in catalog if s.code not in NOT_MEASURED
    }
    present: dict[Key, Judgment] = {}
    unjudged: list[Found] = []
    for key, f in findings.items():
        row = rows.get(key[4])
        if row is None:
            continue
        row.findings += 1
        j = judgments.get(key)
        if j is None:
            unjudged.append(f)
            continue
        present[key] = j
        if j.verdict == "TP":
            row.tp += 1
        elif j.verdict == "FP":
            row.fp += 1
        else:
            row.noise += 1
    gone = [j for k, j in judgments.items() if k not in findings and k[0] in available]
    gone.sort(key=lambda j: j.key)
    unjudged.sort(key=lambda f: f.key)
    return Measurement(rows, findings, present, gone, unjudged, pick_to_judge(rows, unjudged))


def _spread(key: Key) -> str:
    return hashlib.sha256("/".join(map(str, key[:2])).encode()).hexdigest()


def pick_to_judge(rows: dict[str, RuleRow], unjudged: list[Found]) -> list[Found]:
    """For each rule short of its judged sample, unjudged findings taken one
    file at a time (files in a fixed pseudo-random order), so a sample is
    not ten findings from one notebook."""
    by_rule: dict[str, dict[tuple[str, str], list[Found]]] = defaultdict(lambda: defaultdict(list))
    for f in unjudged:
        by_rule[f.key[4]][f.key[:2]].append(f)
    out: list[Found] = []
    for code, row in rows.items():
        need = row.wanted - row.judged
        if need <= 0 or code not in by_rule:
            continue
        files = sorted(by_rule[code].items(), key=lambda kv: _spread(kv[1][0].key))
        queues = [list(v) for _, v in files]
        picked: list[Found] = []
        while len(picked) < need and any(queues):
            for q in queues:
                if q and len(picked) < need:
                    picked.append(q.pop(0))
        out.extend(sorted(picked, key=lambda f: f.key))
    return out


def floor_for(severity: str) -> float:
    from mllint.core.catalog import precision_floor
    from mllint.core.severity import Severity

    return precision_floor(Severity(severity))


def status(row: RuleRow) -> str:
    if row.judged < row.wanted:
        return f"to judge: {row.wanted - row.judged}"
    if row.findings == 0:
        return "no finding"
    meets = row.precision is not None and row.precision >= floor_for(row.severity)
    if row.default and not meets:
        return "BELOW FLOOR, default on"
    if not row.default and meets:
        return "meets floor, opt-in"
    return "ok"


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

def fmt_precision(row: RuleRow) -> str:
    return "—" if row.precision is None else f"{row.precision:.2f}"


def text_report(m: Measurement, show: int, show_code: bool, list_unjudged: bool) -> str:
    lines = []
    total_files = sum(c.files for c in m.corpora)
    lines.append(f"mllint precision per rule: {len(m.findings)} findings (distinct corpus/path/cell/line/code) "
                 f"on {total_files} files; {len(m.judged_present)} judged")
    for c in m.corpora:
        lines.append(f"  {c.name}: {c.files} files, {c.root}")
    for name in m.missing:
        lines.append(f"  {name}: NOT AVAILABLE (its judged findings are not counted)")
    lines.append("")
    head = f"{'rule':6} {'severity':8} {'found':>5} {'judged':>6} {'TP':>3} {'FP':>3} {'NOISE':>5} " \
           f"{'precision':>9} {'floor':>5} {'default':7} status"
    lines.append(head)
    for row in m.rows.values():
        lines.append(
            f"{row.code:6} {row.severity:8} {row.findings:5} {row.judged:6} {row.tp:3} {row.fp:3} {row.noise:5} "
            f"{fmt_precision(row):>9} {floor_for(row.severity):5.2f} {'on' if row.default else 'off':7} {status(row)}"
        )
    tp = sum(r.tp for r in m.rows.values())
    judged = sum(r.judged for r in m.rows.values())
    if judged:
        lines.append(f"{'all':6} {'':8} {len(m.findings):5} {judged:6} {tp:3} "
                     f"{sum(r.fp for r in m.rows.values()):3} {sum(r.noise for r in m.rows.values()):5} "
                     f"{tp / judged:9.2f}")
    lines.append("")
    lines.append(f"judged but gone: {len(m.gone)}")
    for j in m.gone[:show]:
        lines.append(f"  {_loc(j.key)}  {j.key[4]}  was {j.verdict}: {j.reason}")
    if len(m.gone) > show:
        lines.append(f"  ... and {len(m.gone) - show} more")
    per_rule = Counter(f.key[4] for f in m.unjudged)
    lines.append(f"new, unjudged: {len(m.unjudged)}"
                 + (f" ({', '.join(f'{c} {n}' for c, n in sorted(per_rule.items()))})" if per_rule else ""))
    if list_unjudged:
        for f in m.unjudged:
            lines.append(f"  {_loc(f.key)}  {f.key[4]}  {f.severity}")
    lines.append(f"to judge (rules short of their judged sample, {MIN_JUDGED} by default, spread across files): "
                 f"{len(m.to_judge)}")
    for f in m.to_judge[: (len(m.to_judge) if show_code else show)]:
        lines.append(f"  {','.join(map(str, f.key))}")
        if show_code:
            lines.append("      " + " ".join(f.message.split()))
            lines.extend("      " + s for s in context(f))
    if not show_code and len(m.to_judge) > show:
        lines.append(f"  ... and {len(m.to_judge) - show} more (--show prints them all with their code)")
    return "\n".join(lines) + "\n"


def _loc(key: Key) -> str:
    corpus, path, cell, line, _ = key
    return f"{corpus}:{path}" + (f":cell {cell}" if cell else "") + f":{line}"


def context(f: Found, before: int = 6, after: int = 3) -> list[str]:
    """The lines around a finding: the file's, or its cell's."""
    corpus, path, cell, line, _ = f.key
    try:
        if cell:
            from mllint.core.sources import load_source

            span = load_source(f.abspath).cell_span(int(cell))
            text = span.source if span is not None else ""
        else:
            text = Path(f.abspath).read_text(encoding="utf-8", errors="replace")
    except Exception as exc:  # noqa: BLE001 - a display aid only
        return [f"(cannot show: {exc})"]
    src = text.replace("\r\n", "\n").split("\n")
    lo, hi = max(1, line - before), min(len(src), line + after)
    return [f"{'>' if n == line else ' '}{n:4} {src[n - 1]}" for n in range(lo, hi + 1)]


def default_run_stats(found: list[Found], files: int, default_codes: set[str] | None) -> dict:
    """Findings per file and the share of low/info for one run (every
    finding, also ML000), optionally restricted to the default set."""
    chosen = [f for f in found if default_codes is None or f.key[4] in default_codes]
    sev = Counter(f.severity for f in chosen)
    n = len(chosen)
    return {
        "files": files,
        "findings": n,
        "per_file": n / files if files else 0.0,
        "low_info": (sev["low"] + sev["info"]) / n if n else 0.0,
        "severity": dict(sev),
        "codes": dict(sorted(Counter(f.key[4] for f in chosen).items())),
    }


def markdown(m: Measurement, before: dict | None, after: dict | None, date: str) -> str:
    out = [BEGIN, ""]
    files = sum(c.files for c in m.corpora)
    judged = sum(r.judged for r in m.rows.values())
    tp = sum(r.tp for r in m.rows.values())
    out.append(f"Measured {date} with `make accuracy` (`python -m bench.accuracy`) over {files} files of real "
               "code written by others, every rule selected (`--select ALL`) and every severity:")
    out.append("")
    for c in m.corpora:
        out.append(f"* `{c.name}`: {c.description}: {c.files} files.")
    out.append("")
    out.append(f"{len(m.findings)} distinct findings; {judged} judged ({tp} TP: {tp / judged:.2f} of the judged "
               "sample, which over-represents the rare rules)." if judged else "No judged finding.")
    out.append("Judged findings are in `bench/judgments.csv` (path, cell, line, code, verdict, one-line reason). "
               "Precision = TP / judged. The floor for the default set is 0.80 (0.90 for high and critical); "
               "a rule with no finding on these files keeps its default and is marked \"not measured\".")
    out.append("")
    out.append("| rule | severity | findings | judged | TP | FP | NOISE | precision | default |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for r in m.rows.values():
        out.append(f"| [{r.code}](rules/{r.code}.md) | {r.severity} | {r.findings} | {r.judged} | {r.tp} | {r.fp} | "
                   f"{r.noise} | {fmt_precision(r) if r.findings else 'not measured'} | "
                   f"{'on' if r.default else 'off'} |")
    out.append("")
    if before and after:
        out.append("Default run on `../shared/dev-corpus` "
                   f"({before['files']} files; every finding shown, ML000 included):")
        out.append("")
        out.append("| run | findings | per file | low + info share | fails the run (exit 1) on |")
        out.append("|---|---|---|---|---|")
        out.append(f"| before: every rule, `fail-on = info` | {before['findings']} | {before['per_file']:.2f} | "
                   f"{before['low_info']:.0%} | any finding |")
        out.append(f"| after: the default set, `fail-on = low` | {after['findings']} | {after['per_file']:.2f} | "
                   f"{after['low_info']:.0%} | low and above |")
        out.append("")
        out.append("The default run's findings by rule: "
                   + ", ".join(f"{c} {n}" for c, n in after.get("codes", {}).items()) + ".")
        out.append("")
    out.append(END)
    return "\n".join(out) + "\n"


def update_document(doc: Path, block: str) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Accuracy\n"
    if BEGIN in text and END in text and text.index(BEGIN) < text.index(END):
        head, tail = text[: text.index(BEGIN)], text[text.index(END) + len(END):]
        new = head + block.rstrip("\n") + tail
    else:
        new = text.rstrip("\n") + "\n\n## Precision per rule on real code\n\n" + block
    doc.write_text(new, encoding="utf-8")


# ---------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------

def corpus_label(m: Measurement) -> str:
    return "dev-corpus + PyPI examples (" + ", ".join(s for s, _ in REGISTRY) + ")"


def update_catalogue(m: Measurement, date: str, rules_dir: Path = RULES_DIR) -> list[str]:
    """Write each rule's precision record and default flag into its YAML
    file (the last keys of the file); a record whose numbers did not change
    keeps its date. Returns the codes changed."""
    from mllint.core.catalog import expected_default, load_rule_file

    files = sum(c.files for c in m.corpora)
    changed = []
    for row in m.rows.values():
        path = rules_dir / f"{row.code}.yaml"
        spec = load_rule_file(path)
        old = spec.precision
        same = old is not None and (old.tp, old.judged, old.files) == (row.tp, row.judged, files)
        rec = {"tp": row.tp, "judged": row.judged, "files": files,
               "corpus": corpus_label(m), "date": old.date if same and old else date}
        default = expected_default(spec.severity, row.tp, row.judged)
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\n(default|precision):.*?(?=\n[a-z_]+:|\Z)", "", text, flags=re.S).rstrip("\n")
        text += (f"\ndefault: {'true' if default else 'false'}\nprecision:\n"
                 f"  tp: {rec['tp']}\n  judged: {rec['judged']}\n  files: {rec['files']}\n"
                 f"  corpus: {rec['corpus']}\n  date: \"{rec['date']}\"\n")
        if text != path.read_text(encoding="utf-8"):
            path.write_text(text, encoding="utf-8")
            changed.append(row.code)
    return changed


def catalogue_problems(m: Measurement) -> list[str]:
    """Where the catalogue's records differ from this measurement."""
    from mllint.core.catalog import default_catalog

    files = sum(c.files for c in m.corpora)
    out = []
    for row in m.rows.values():
        rec = default_catalog()[row.code].precision
        if rec is None or (rec.tp, rec.judged, rec.files) != (row.tp, row.judged, files):
            have = "none" if rec is None else f"{rec.tp}/{rec.judged} in {rec.files} files"
            out.append(f"{row.code}: catalogue {have}, measured {row.tp}/{row.judged} in {files} files")
    return out


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.accuracy", description=__doc__.splitlines()[0])
    p.add_argument("--dev-corpus", type=Path, default=None, help="the dev corpus (default ../shared/dev-corpus)")
    p.add_argument("--cache-dir", type=Path, default=None, help="bench cache (default ~/.cache/mllint-bench)")
    p.add_argument("--no-registry", action="store_true", help="skip the PyPI corpus (no download)")
    p.add_argument("--judgments", type=Path, default=JUDGMENTS)
    p.add_argument("--jobs", "-j", type=int, default=None)
    p.add_argument("--show", action="store_true", help="print the code around every finding to judge")
    p.add_argument("--unjudged", action="store_true", help="list every unjudged finding")
    p.add_argument("--limit", type=int, default=25, help="entries shown per list (default 25)")
    p.add_argument("--sample", action="append", default=[], metavar="CODE=N",
                   help="want N judged findings of this rule (e.g. ML101=20, to firm up a rule near its floor)")
    p.add_argument("--update-docs", action="store_true", help="rewrite the generated section of docs/accuracy.md")
    p.add_argument("--update-catalogue", action="store_true",
                   help="write precision records and default flags into rules/*.yaml")
    p.add_argument("--check", action="store_true",
                   help="exit 1 if a finding is to judge, a judged finding is gone or the catalogue is out of date")
    args = p.parse_args(argv)

    from mllint.core.catalog import default_catalog

    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    started = time.perf_counter()
    try:
        judgments = read_judgments(args.judgments)
    except JudgmentError as exc:
        print(f"mllint accuracy: {exc}", file=sys.stderr)
        return 2
    cs, missing = corpora(args, log)
    work = bench_cache(args.cache_dir) / "work"
    found: list[Found] = []
    for c in cs:
        found += run_mllint(c, work, select_all=True, jobs=args.jobs)
    try:
        wanted = {k.upper(): int(v) for k, _, v in (x.partition("=") for x in args.sample)}
    except ValueError:
        print("mllint accuracy: --sample takes CODE=N", file=sys.stderr)
        return 2
    m = measure(found, judgments, default_catalog(), {c.name for c in cs}, wanted)
    m.corpora, m.missing = cs, missing
    date = datetime.date.today().isoformat()
    if args.update_catalogue:
        if missing:
            log("mllint accuracy: not updating the catalogue without every corpus")
            return 2
        changed = update_catalogue(m, date)
        log(f"catalogue: {len(changed)} rule files updated" + (f" ({', '.join(changed)})" if changed else ""))
        if m.gone:
            # The records now count only findings still reported; drop the
            # judgments of the others (git keeps them), so the file and the
            # records agree (tests/test_default_rules.py checks it).
            for j in m.gone:
                judgments.pop(j.key, None)
            write_judgments(args.judgments, judgments)
            log(f"{args.judgments}: dropped {len(m.gone)} judged findings that are gone")
        default_catalog.cache_clear()
        for row in m.rows.values():
            row.default = default_catalog()[row.code].default
    sys.stdout.write(text_report(m, args.limit, args.show, args.unjudged))
    # The default run on the dev corpus, as a new user gets it (after the
    # catalogue update, so it uses the default set just written).
    before = after = None
    dev = next((c for c in cs if c.name == "dev-corpus"), None)
    if dev is not None:
        before = default_run_stats([f for f in found if f.key[0] == dev.name], dev.files, None)
        after = default_run_stats(run_mllint(dev, work, select_all=False, jobs=args.jobs), dev.files, None)
        print(f"\ndefault run on dev-corpus ({before['files']} files): before (every rule) "
              f"{before['findings']} findings, {before['per_file']:.2f}/file, {before['low_info']:.0%} low+info; "
              f"after (default set) {after['findings']} findings, {after['per_file']:.2f}/file, "
              f"{after['low_info']:.0%} low+info")
    if args.update_docs:
        update_document(DOC, markdown(m, before, after, date))
        log(f"wrote {DOC}")
    problems = [] if missing else catalogue_problems(m)
    for line in problems:
        print(f"catalogue out of date: {line}")
    print(f"\n({time.perf_counter() - started:.1f} s)")
    if args.check and (m.to_judge or m.gone or problems or missing):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
