"""`path_matches` answers plain-name patterns (all the default excludes)
without fnmatch; the answer must be the one the glob rules give."""

from __future__ import annotations

import fnmatch
from pathlib import PurePosixPath

import pytest

from mllint.core.config import DEFAULT_EXCLUDE, path_matches


def glob_rules(rel: str, pattern: str) -> bool:
    pattern = pattern.strip().rstrip("/")
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(rel, pattern + "/*"):
        return True
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in PurePosixPath(rel).parts)
    return False


RELS = [
    "a/b.py", "build/x.py", "src/build", "venv", ".venv/lib/x.py", "/abs/.git/x", "a/.tox",
    "x/node_modules/y", "buildx/a.py", "a.venv/b", "./build/a.py", "a//build/b.py", "Build/a.py",
    ".mllint_cache/v1/ab/x.json", "pkg/__pycache__/m.pyc", "tests/fixtures/a.ipynb",
]
PATTERNS = [*DEFAULT_EXCLUDE, "tests", "foo.py", "a", "fixtures/", "./build", " venv "]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_plain_names_match_like_the_globs(pattern: str) -> None:
    for rel in RELS:
        assert path_matches(rel, pattern) == glob_rules(rel, pattern), (rel, pattern)
