"""Every fixture under tests/fixtures/rules/MLnnn/ is linted; the findings of
MLnnn (and of any other code a fixture annotates) must be exactly the lines
marked `# expect: MLnnn`. Files named good_* must carry no annotation, so they
assert silence. See tests/fixtures/rules/README.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import FIXTURES, expected_annotations, found_annotations

from mllint.core.config import Config
from mllint.engine.lint import lint_path

RULE_FIXTURES = FIXTURES / "rules"


def _fixture_files() -> list[Path]:
    return sorted(
        p
        for p in RULE_FIXTURES.glob("ML*/*")
        if p.suffix in (".py", ".ipynb") and not p.name.startswith("_")
    )


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(path: Path) -> None:
    code = path.parent.name
    expected = expected_annotations(path)
    if path.name.startswith("good"):
        assert not any(c == code for _, _, c in expected), "good fixtures must not expect findings"
    else:
        assert any(c == code for _, _, c in expected), f"bad fixture must mark at least one `# expect: {code}` line"
    checked = {code} | {c for _, _, c in expected}
    cfg = Config()
    cfg.root = path.parent
    findings = lint_path(path, cfg)
    assert not [f for f in findings if f.code in ("ML000", "ML001")], [f.message for f in findings]
    got = found_annotations(findings, checked)
    missing = expected - got
    unexpected = got - expected
    assert not missing and not unexpected, (
        f"missing (expected, not reported): {sorted(missing, key=str)}\n"
        f"unexpected (reported, not expected): {sorted(unexpected, key=str)}\n"
        + "\n".join(f"  {f.location()} {f.code} {f.message}" for f in findings if f.code in checked)
    )


def test_every_implemented_rule_has_bad_and_good_fixtures() -> None:
    from mllint.core.catalog import default_catalog

    missing = []
    for spec in default_catalog():
        if spec.code in ("ML000", "ML001"):
            continue
        d = RULE_FIXTURES / spec.code
        names = [p.name for p in d.glob("*")] if d.is_dir() else []
        if not any(n.startswith("bad") for n in names) or not any(n.startswith("good") for n in names):
            missing.append(spec.code)
    assert not missing, f"rules without bad_* and good_* fixtures: {missing}"
