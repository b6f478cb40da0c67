"""The default rule set: chosen by measured precision, selected by config,
shown by `mllint rules`; info findings do not fail the run by default; the
matching logic of `python -m bench.accuracy` (no network, no corpus)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from mllint.core.catalog import (
    PrecisionRecord,
    default_catalog,
    expected_default,
    load_rule_file,
    precision_floor,
)
from mllint.core.config import Config
from mllint.core.findings import Finding
from mllint.core.severity import Severity

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import accuracy  # noqa: E402

ALWAYS_ON = ("ML000", "ML001")
MEASURED = [s for s in default_catalog() if s.code not in ALWAYS_ON]


def _judgment_counts() -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    with (ROOT / "bench" / "judgments.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["code"], Counter())[row["verdict"]] += 1
    return out


# ---------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------

def test_floors() -> None:
    assert precision_floor(Severity.INFO) == precision_floor(Severity.MEDIUM) == 0.80
    assert precision_floor(Severity.HIGH) == precision_floor(Severity.CRITICAL) == 0.90
    assert expected_default(Severity.MEDIUM, 8, 10) and not expected_default(Severity.MEDIUM, 7, 10)
    assert expected_default(Severity.HIGH, 9, 10) and not expected_default(Severity.HIGH, 8, 10)
    assert expected_default(Severity.CRITICAL, 0, 0)  # no finding on real code: stays on


@pytest.mark.parametrize("spec", MEASURED, ids=lambda s: s.code)
def test_default_flag_follows_the_precision_record(spec) -> None:
    """Flipping `default` in a rule's YAML without a precision record that
    justifies it fails here."""
    rec = spec.precision
    assert rec is not None, f"{spec.code}: no precision record (python -m bench.accuracy --update-catalogue)"
    assert spec.default == expected_default(spec.severity, rec.tp, rec.judged), (
        f"{spec.code}: default={spec.default} but {rec.tp}/{rec.judged} against the floor "
        f"{precision_floor(spec.severity):.2f} of a {spec.severity.value} rule"
    )


@pytest.mark.parametrize("spec", MEASURED, ids=lambda s: s.code)
def test_precision_record_matches_the_judged_findings(spec) -> None:
    """The record is the count of the rule's judged findings in
    bench/judgments.csv: a record edited by hand, or judgments changed
    without re-measuring, fails here."""
    counts = _judgment_counts().get(spec.code, Counter())
    assert (spec.precision.tp, spec.precision.judged) == (counts["TP"], sum(counts.values()))


def test_always_on_rules_are_default() -> None:
    cat = default_catalog()
    assert all(cat[c].default for c in ALWAYS_ON)


def test_the_catalogue_has_both_kinds() -> None:
    defaults = {s.code for s in MEASURED if s.default}
    assert defaults and len(defaults) < len(MEASURED)


def test_precision_record_validation() -> None:
    with pytest.raises(ValueError):
        PrecisionRecord(tp=3, judged=2, files=1, corpus="abc", date="2026-01-01")
    with pytest.raises(ValueError):
        PrecisionRecord(tp=1, judged=2, files=1, corpus="abc", date="Jan 1")


# ---------------------------------------------------------------------------
# Selection
# ---------------------------------------------------------------------------

def _opt_in_and_default(prefix: str = "ML") -> tuple[str, str]:
    specs = [s for s in MEASURED if s.code.startswith(prefix)]
    return next(s.code for s in specs if not s.default), next(s.code for s in specs if s.default)


@pytest.mark.default_rules
def test_no_select_runs_the_default_set_only() -> None:
    off, on = _opt_in_and_default()
    cfg = Config()
    assert cfg.is_enabled(on) and not cfg.is_enabled(off)
    assert cfg.is_enabled("ML000") and cfg.is_enabled("ML001")


@pytest.mark.default_rules
def test_all_selects_every_rule_and_ignore_still_wins() -> None:
    off, on = _opt_in_and_default()
    cfg = Config(select=["ALL"])
    assert all(cfg.is_enabled(s.code) for s in default_catalog())
    cfg = Config(select=["all"], ignore=[off])
    assert not cfg.is_enabled(off) and cfg.is_enabled(on)
    cfg = Config(select=["ALL"], ignore=["ML"])
    assert not cfg.is_enabled(on)
    cfg = Config(extend_select=["ALL"])  # on top of the default set: everything
    assert cfg.is_enabled(off)


@pytest.mark.default_rules
def test_a_full_code_turns_an_opt_in_rule_on_a_prefix_does_not() -> None:
    off, _ = _opt_in_and_default()
    assert Config(extend_select=[off]).is_enabled(off)
    assert Config(select=[off]).is_enabled(off)
    assert not Config(select=["ML"]).is_enabled(off)
    assert not Config(select=[off[:3]]).is_enabled(off)  # ML4 does not enable opt-in ML4xx rules
    assert not Config(select=[off[:4]]).is_enabled(off)
    # a prefix still selects the default rules under it
    family = off[:3]
    on_in_family = [s.code for s in MEASURED if s.code.startswith(family) and s.default]
    if on_in_family:
        assert Config(select=[family]).is_enabled(on_in_family[0])
    # ignore wins over an explicit selection of the same length
    assert not Config(extend_select=[off], ignore=[off]).is_enabled(off)


@pytest.mark.default_rules
def test_selection_memo_sees_changes() -> None:
    off, _ = _opt_in_and_default()
    cfg = Config()
    assert not cfg.is_enabled(off)
    cfg.extend_select.append(off)  # mutated in place
    assert cfg.is_enabled(off)
    cfg.select = ["ML0"]  # reassigned (the CLI does)
    assert cfg.is_enabled(off)  # still named explicitly by extend-select
    cfg.extend_select = []
    assert not cfg.is_enabled(off)


@pytest.mark.default_rules
def test_config_file_all_and_cli_all(tmp_path: Path) -> None:
    from mllint.cli.main import build_parser, resolve_config
    from mllint.core.config import load_config_file

    off, _ = _opt_in_and_default()
    p = tmp_path / "pyproject.toml"
    p.write_text('[tool.mllint]\nselect = ["ALL"]\n')
    assert load_config_file(p).is_enabled(off)
    args = build_parser().parse_args(["check", "--select", "ALL", str(tmp_path)])
    p.write_text("[tool.mllint]\nseed = 1\n")
    assert resolve_config(args).is_enabled(off)


@pytest.mark.default_rules
def test_lint_runs_only_default_rules(tmp_path: Path) -> None:
    from mllint.core.sources import Source
    from mllint.engine.lint import lint_source

    # ML105 (legacy global RNG) is opt-in: its measured precision is 0.
    assert not default_catalog()["ML105"].default
    src = "import numpy as np\nnp.random.seed(0)\nx = np.random.rand(3)\n"
    assert not [f for f in lint_source(Source("a.py", src), Config()) if f.code == "ML105"]
    assert [f for f in lint_source(Source("a.py", src), Config(select=["ALL"])) if f.code == "ML105"]


# ---------------------------------------------------------------------------
# `mllint rules`
# ---------------------------------------------------------------------------

def test_rules_json_has_default_and_precision() -> None:
    from mllint.cli.main import main

    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["rules", "--format", "json"]) == 0
    data = {r["code"]: r for r in json.loads(buf.getvalue())}
    cat = default_catalog()
    for code, row in data.items():
        assert row["default"] is cat[code].default
        if code not in ALWAYS_ON:
            assert set(row["precision"]) == {"tp", "judged", "files", "corpus", "date"}


def test_rules_table_has_default_column() -> None:
    r = subprocess.run([sys.executable, "-m", "mllint", "rules"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    header = r.stdout.splitlines()[0].split()
    assert "default" in header and "precision" in header
    assert "opt-in" in r.stdout


# ---------------------------------------------------------------------------
# Exit status: info is advice
# ---------------------------------------------------------------------------

def _finding(sev: Severity) -> Finding:
    return Finding(code="ML105", message="m", path="a.py", line=1, col=0, end_line=1, end_col=1, severity=sev)


def test_fail_on_defaults_to_low() -> None:
    from mllint.cli.main import exit_status

    assert Config().fail_on == Severity.LOW
    assert exit_status([_finding(Severity.INFO)], Config()) == 0
    assert exit_status([_finding(Severity.LOW)], Config()) == 1
    assert exit_status([_finding(Severity.INFO)], Config(fail_on=Severity.INFO)) == 1


def test_info_only_file_exits_0_and_is_shown(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import numpy as np\nnp.random.seed(0)\n")
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "mllint", "check", "--no-cache", "--format", "concise", "--select", "ML105", *a, "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    r = run()
    assert r.returncode == 0 and "ML105" in r.stdout, r.stdout + r.stderr
    r = run("--fail-on", "info")
    assert r.returncode == 1


# ---------------------------------------------------------------------------
# bench.accuracy: matching judged findings (no network, no corpus)
# ---------------------------------------------------------------------------

def _found(path: str, line: int, code: str, cell: str = "", corpus: str = "c") -> accuracy.Found:
    return accuracy.Found((corpus, path, cell, line, code), "medium", "msg", path)


def _judgments(tmp_path: Path, rows: list[list]) -> dict:
    p = tmp_path / "j.csv"
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(accuracy.FIELDS)
        w.writerows(rows)
    return accuracy.read_judgments(p)


def test_measure_precision_gone_and_unjudged(tmp_path: Path) -> None:
    judged = _judgments(tmp_path, [
        ["c", "a.py", "", 1, "ML101", "TP", "seeded nowhere"],
        ["c", "a.py", "", 2, "ML101", "FP", "seeded above"],
        ["c", "nb.ipynb", "3", 1, "ML101", "NOISE", "display only"],
        ["c", "b.py", "", 9, "ML101", "TP", "was reported before the fix"],
        ["other", "x.py", "", 1, "ML101", "TP", "corpus not available in this run"],
    ])
    found = [
        _found("a.py", 1, "ML101"),
        _found("a.py", 1, "ML101"),  # same line twice: counted once
        _found("a.py", 2, "ML101"),
        _found("nb.ipynb", 1, "ML101", cell="3"),
        _found("nb.ipynb", 1, "ML101", cell="4"),  # another cell: not judged
        _found("c.py", 5, "ML102"),
    ]
    m = accuracy.measure(found, judged, default_catalog(), {"c"})
    row = m.rows["ML101"]
    assert (row.findings, row.tp, row.fp, row.noise) == (4, 1, 1, 1)
    assert row.precision == pytest.approx(1 / 3)
    assert [j.key for j in m.gone] == [("c", "b.py", "", 9, "ML101")]  # not the unavailable corpus
    assert sorted(f.key for f in m.unjudged) == [("c", "c.py", "", 5, "ML102"), ("c", "nb.ipynb", "4", 1, "ML101")]
    assert {f.key for f in m.to_judge} == {f.key for f in m.unjudged}  # both rules are short of 10
    assert m.rows["ML102"].findings == 1 and m.rows["ML102"].precision is None
    text = accuracy.text_report(m, show=10, show_code=False, list_unjudged=True)
    assert "judged but gone: 1" in text and "new, unjudged: 2" in text and "b.py:9" in text


def test_to_judge_spreads_across_files() -> None:
    found = [_found(f"f{i}.py", line, "ML405") for i in range(4) for line in range(1, 9)]  # 32 findings
    m = accuracy.measure(found, {}, default_catalog(), {"c"})
    picked = Counter(f.key[1] for f in m.to_judge)
    assert sum(picked.values()) == 10 and max(picked.values()) - min(picked.values()) <= 1
    m = accuracy.measure(found, {}, default_catalog(), {"c"}, sample={"ML405": 20})
    assert len(m.to_judge) == 20


@pytest.mark.parametrize("row,error", [
    (["c", "a.py", "", "x", "ML101", "TP", "r"], "line must be a number"),
    (["c", "a.py", "", 1, "ML101", "MAYBE", "r"], "verdict"),
    (["c", "a.py", "", 1, "E501", "TP", "r"], "not a rule code"),
    (["c", "a.py", "", 1, "ML101", "TP", " "], "reason is empty"),
])
def test_bad_judgments_are_rejected(tmp_path: Path, row, error) -> None:
    with pytest.raises(accuracy.JudgmentError, match=error):
        _judgments(tmp_path, [row])


def test_duplicate_judgment_is_rejected(tmp_path: Path) -> None:
    row = ["c", "a.py", "", 1, "ML101", "TP", "r"]
    with pytest.raises(accuracy.JudgmentError, match="judged twice"):
        _judgments(tmp_path, [row, row])


def test_judgments_round_trip(tmp_path: Path) -> None:
    judged = _judgments(tmp_path, [["c", "p, with comma.py", "", 3, "ML101", "TP", 'says "hi", twice']])
    out = tmp_path / "out.csv"
    accuracy.write_judgments(out, judged)
    assert accuracy.read_judgments(out) == judged


def test_update_catalogue_writes_record_and_default(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for code in ("ML101", "ML405"):
        shutil.copy(ROOT / "rules" / f"{code}.yaml", rules / f"{code}.yaml")
    judged = _judgments(tmp_path, [["c", "a.py", "", n, "ML405", "TP", "r"] for n in range(1, 10)]
                        + [["c", "a.py", "", 10, "ML405", "NOISE", "r"]])
    found = [_found("a.py", n, "ML405") for n in range(1, 11)]
    m = accuracy.measure(found, judged, default_catalog(), {"c"})
    m.rows = {k: v for k, v in m.rows.items() if k in ("ML101", "ML405")}
    m.corpora = [accuracy.Corpus("c", tmp_path, [tmp_path], "test", files=7)]
    assert accuracy.update_catalogue(m, "2030-01-02", rules) == ["ML101", "ML405"]
    low = load_rule_file(rules / "ML405.yaml")  # low severity: floor 0.80
    assert low.default is True and (low.precision.tp, low.precision.judged, low.precision.files) == (9, 10, 7)
    assert low.precision.date == "2030-01-02"
    unmeasured = load_rule_file(rules / "ML101.yaml")
    assert unmeasured.default is True and unmeasured.precision.judged == 0
    # unchanged numbers keep the old date; the file is rewritten in place, not appended to
    assert accuracy.update_catalogue(m, "2031-01-01", rules) == []
    assert (rules / "ML405.yaml").read_text().count("precision:") == 1
    m.rows["ML405"].tp = 7
    m.rows["ML405"].noise = 3
    accuracy.update_catalogue(m, "2031-01-01", rules)
    low = load_rule_file(rules / "ML405.yaml")
    assert low.default is False and low.precision.date == "2031-01-01"
