"""The catalogue: schema, binding to implementations, and its examples as tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import lint, lint_notebook_text, notebook_from_percent

from mllint.core.catalog import CatalogError, default_catalog, load_catalog, load_rule_file
from mllint.rules.base import implemented_codes

CATALOG = default_catalog()
EXAMPLE_SPECS = [s for s in CATALOG if s.example_format != "none"]


def _codes_for(spec, text: str) -> list[str]:
    if spec.example_format == "notebook":
        return [f.code for f in lint_notebook_text(notebook_from_percent(text))]
    return [f.code for f in lint(text)]


@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=lambda s: s.code)
def test_bad_example_triggers_its_rule(spec) -> None:
    found = _codes_for(spec, spec.bad)
    assert spec.code in found, f"{spec.code} bad example reported {found}"
    assert "ML000" not in found and "ML001" not in found


@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=lambda s: s.code)
def test_good_example_is_silent_for_its_rule(spec) -> None:
    found = _codes_for(spec, spec.good)
    assert spec.code not in found, f"{spec.code} good example reported {found}"
    assert "ML000" not in found and "ML001" not in found


def test_every_catalogue_entry_is_implemented_and_vice_versa() -> None:
    implemented = implemented_codes()
    assert set(CATALOG.codes) - implemented == set(), "catalogue entries with no rule"
    assert implemented - set(CATALOG.codes) == set(), "rules with no catalogue entry"


def test_fix_applicability_matches_rules_that_offer_fixes() -> None:
    for spec in CATALOG:
        assert spec.fix in ("none", "safe", "unsafe")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    p = d / name
    p.write_text(text)
    return p


VALID = Path(__file__).resolve().parent.parent / "rules" / "ML102.yaml"


def test_malformed_yaml_names_file(tmp_path: Path) -> None:
    p = _write(tmp_path, "ML999.yaml", "code: ML999\nname: [unclosed\n")
    with pytest.raises(CatalogError) as exc:
        load_rule_file(p)
    assert "ML999.yaml" in str(exc.value) and "invalid YAML" in str(exc.value)


def test_bad_field_names_file_and_field(tmp_path: Path) -> None:
    text = VALID.read_text().replace("severity: medium", "severity: severe")
    p = _write(tmp_path, "ML102.yaml", text)
    with pytest.raises(CatalogError) as exc:
        load_catalog(p.parent)
    assert "ML102.yaml" in str(exc.value) and "'severity'" in str(exc.value)


def test_unknown_field_rejected(tmp_path: Path) -> None:
    p = _write(tmp_path, "ML102.yaml", VALID.read_text() + "colour: red\n")
    with pytest.raises(CatalogError) as exc:
        load_catalog(p.parent)
    assert "'colour'" in str(exc.value)


def test_code_must_match_file_name(tmp_path: Path) -> None:
    p = _write(tmp_path, "ML103.yaml", VALID.read_text())
    with pytest.raises(CatalogError) as exc:
        load_catalog(p.parent)
    assert "does not match the file name" in str(exc.value)


def test_missing_field_named(tmp_path: Path) -> None:
    text = "\n".join(l for l in VALID.read_text().splitlines() if not l.startswith("title:"))
    p = _write(tmp_path, "ML102.yaml", text)
    with pytest.raises(CatalogError) as exc:
        load_catalog(p.parent)
    assert "'title'" in str(exc.value) and "Field required" in str(exc.value)
