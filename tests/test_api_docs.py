"""Every ```python block of docs/api.md runs, in order, in one namespace, in
an empty directory (the blocks create the files they lint), so the
documented examples cannot drift from what the API does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import ROOT

DOC = ROOT / "docs" / "api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_the_page_has_examples() -> None:
    found = blocks()
    assert len(found) >= 6
    assert any("lint_paths(" in b for b in found) and any("lint_source(" in b for b in found)


@pytest.mark.default_rules  # the page documents what a user gets: the default rule set
def test_every_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__api_docs__"}
    for i, code in enumerate(blocks(), 1):
        try:
            exec(compile(code, f"docs/api.md block {i}", "exec"), namespace)
        except Exception as exc:  # name the block in the failure
            raise AssertionError(f"docs/api.md, python block {i} failed: {type(exc).__name__}: {exc}\n{code}") from exc
