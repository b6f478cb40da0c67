"""The serving example: the bad app shows the ML5xx/ML6xx rules firing, the
clean counterpart is silent for them (`make demo` lints examples/)."""

from __future__ import annotations

from helpers import ROOT

from mllint.core.config import Config
from mllint.engine.lint import lint_path

SERVING = ROOT / "examples" / "serving"


def _serving_security_codes(name: str) -> list[str]:
    cfg = Config()
    cfg.root = ROOT
    findings = lint_path(SERVING / name, cfg)
    assert not [f for f in findings if f.code in ("ML000", "ML001")], [f.message for f in findings]
    return sorted(f.code for f in findings if f.code.startswith(("ML5", "ML6")))


def test_bad_serving_app_reports_the_serving_and_security_rules() -> None:
    found = set(_serving_security_codes("app.py"))
    assert found == {"ML501", "ML502", "ML503", "ML504", "ML602", "ML603"}


def test_clean_serving_app_is_silent_for_serving_and_security_rules() -> None:
    assert _serving_security_codes("app_clean.py") == []
