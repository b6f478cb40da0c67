"""Baselines: record today's findings, then hide exactly those.

    mllint check --write-baseline .mllint-baseline.json   # record
    mllint check --baseline .mllint-baseline.json         # hide what was recorded
    [tool.mllint] baseline = ".mllint-baseline.json"      # the same, from config

A finding is matched by (path, code, fingerprint), never by line number. The
fingerprint hashes the code and the whitespace-normalised text of the line the
finding starts on, so inserting or deleting lines elsewhere in the file does
not resurface it, while changing the offending line itself does. Paths are
stored relative to the baseline file's directory, so the check may run from
any working directory. Several identical findings in one file are counted:
the baseline hides as many as it recorded, and one more is reported.
Internal errors (ML001) are never baselined. Rewriting the baseline records
only what is still found, so fixed findings drop out.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mllint.core.findings import Finding

VERSION = 1
NEVER_BASELINED = frozenset({"ML001"})


class BaselineError(Exception):
    """The baseline file is missing or malformed (reason in the message)."""


def fingerprint(finding: Finding) -> str:
    text = " ".join(finding.source_line.split())
    digest = hashlib.sha256(f"{finding.code}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:16]


def baseline_path_key(path: str, base_dir: Path) -> str:
    """`path` relative to the baseline's directory, posix style."""
    p = Path(path)
    try:
        absolute = p.resolve() if p.exists() else p.absolute()
        rel = os.path.relpath(absolute, base_dir.resolve())
    except ValueError:  # another drive on Windows
        return p.as_posix()
    return Path(rel).as_posix()


def _key(finding: Finding, base_dir: Path) -> tuple[str, str, str]:
    return (baseline_path_key(finding.path, base_dir), finding.code, fingerprint(finding))


@dataclass
class Baseline:
    base_dir: Path
    counts: Counter = field(default_factory=Counter)  # (path, code, fingerprint) -> n

    @classmethod
    def load(cls, path: str | Path) -> Baseline:
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BaselineError(f"{path}: cannot read baseline: {exc}") from None
        except json.JSONDecodeError as exc:
            raise BaselineError(f"{path}: invalid baseline JSON: {exc.msg} (line {exc.lineno})") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("findings"), list):
            raise BaselineError(f"{path}: not an mllint baseline (no 'findings' list)")
        if raw.get("version") != VERSION:
            raise BaselineError(f"{path}: unsupported baseline version {raw.get('version')!r} (expected {VERSION})")
        b = cls(base_dir=path.resolve().parent)
        for i, entry in enumerate(raw["findings"]):
            try:
                key = (str(entry["path"]), str(entry["code"]), str(entry["fingerprint"]))
                n = int(entry.get("count", 1))
            except (KeyError, TypeError, ValueError):
                raise BaselineError(f"{path}: entry {i} needs path, code and fingerprint") from None
            b.counts[key] += max(n, 0)
        return b

    def filter(self, findings: list[Finding]) -> list[Finding]:
        """Drop the findings the baseline records (up to the recorded count)."""
        if not self.counts:
            return list(findings)
        left = Counter(self.counts)
        out = []
        for f in sorted(findings, key=Finding.sort_key):
            if f.code in NEVER_BASELINED:
                out.append(f)
                continue
            k = _key(f, self.base_dir)
            if left[k] > 0:
                left[k] -= 1
            else:
                out.append(f)
        return out

    def __len__(self) -> int:
        return sum(self.counts.values())


def render_baseline(findings: list[Finding], baseline_file: str | Path) -> str:
    base_dir = Path(baseline_file).resolve().parent
    groups: dict[tuple[str, str, str], dict] = {}
    for f in sorted(findings, key=Finding.sort_key):
        if f.code in NEVER_BASELINED:
            continue
        key = _key(f, base_dir)
        entry = groups.get(key)
        if entry is None:
            groups[key] = {
                "path": key[0],
                "code": key[1],
                "fingerprint": key[2],
                "count": 1,
                # For humans reading the file; not used for matching.
                "line": f.display_line,
                "message": f.message,
            }
        else:
            entry["count"] += 1
    entries = sorted(groups.values(), key=lambda e: (e["path"], e["line"], e["code"], e["fingerprint"]))
    doc = {"version": VERSION, "tool": "mllint", "findings": entries}
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_baseline(findings: list[Finding], path: str | Path) -> int:
    """Write the baseline atomically; return how many findings it records."""
    from mllint.core.fsutil import atomic_write

    text = render_baseline(findings, path)
    atomic_write(path, text.encode("utf-8"))
    return sum(e["count"] for e in json.loads(text)["findings"])
