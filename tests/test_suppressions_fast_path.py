"""parse_suppressions with the lines that have findings: the tokenizer is
skipped when no `noqa` can apply, and the result is otherwise the same."""

from __future__ import annotations

import pytest

from mllint.core.suppressions import ALL, parse_suppressions

TEXT = 'import os  # noqa: F401\nx = "# noqa inside a string"\ny = 1  # NOQA: ML101\nz = 2\n'


def test_without_lines_everything_is_parsed() -> None:
    sup = parse_suppressions(TEXT)
    assert sup.lines == {1: frozenset({"F401"}), 3: frozenset({"ML101"})}


@pytest.mark.parametrize("lines", [{3}, {1, 3}, {3, 4}])
def test_a_noqa_on_a_finding_line_is_parsed(lines) -> None:
    assert parse_suppressions(TEXT, lines).suppressed("ML101", 3)


@pytest.mark.parametrize("lines", [{4}, {5, 6}, set()])
def test_no_noqa_on_any_finding_line_skips_the_tokenizer(lines, monkeypatch) -> None:
    import mllint.core.suppressions as s

    # the string on line 2 is not a suppression either way
    assert not parse_suppressions(TEXT).suppressed("ML101", 2)
    monkeypatch.setattr(s, "_comments", lambda text: pytest.fail("tokenized"))
    sup = parse_suppressions(TEXT, lines)
    assert not sup.lines and sup.file_codes is None


def test_file_level_noqa_is_always_found() -> None:
    text = "import numpy as np\n    # mllint: noqa: ML105\nnp.random.rand()\n"
    assert parse_suppressions(text, {3}).suppressed("ML105", 3)
    assert parse_suppressions("x = 1\n# mllint: noqa\n", {1}).file_codes is ALL


def test_old_mac_line_endings_take_the_full_path() -> None:
    text = "a = 1\rb = 2  # noqa\r"
    assert parse_suppressions(text, {2}).suppressed("ML101", 2)


def test_noqa_text_inside_a_string_on_a_finding_line_is_tokenized_and_ignored() -> None:
    assert not parse_suppressions(TEXT, {2}).suppressed("ML101", 2)
