"""Find the files to lint: `.py`, `.pyi` and `.ipynb` under the given paths,
honouring `.gitignore` files, the default excludes and the config's `exclude`.

Explicitly named files are linted whatever their suffix is not (pre-commit
passes files one by one) but the config's excludes still apply to them, so a
pre-commit run and a directory run agree.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from mllint.core.config import Config
from mllint.core.sources import NOTEBOOK_SUFFIXES, PYTHON_SUFFIXES

SUFFIXES = PYTHON_SUFFIXES + NOTEBOOK_SUFFIXES


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    # (path, reason) for paths that could not be walked or do not exist.
    problems: list[tuple[str, str]] = field(default_factory=list)


# ---------------------------------------------------------------------------
# .gitignore
# ---------------------------------------------------------------------------

def _glob_to_regex(pattern: str) -> str:
    i, n, out = 0, len(pattern), []
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern[i : i + 2] == "**":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                    out.append("(?:.*/)?")
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@dataclass
class _Rule:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


class GitIgnore:
    """Patterns of one .gitignore file, matched against paths relative to its directory."""

    def __init__(self, base: Path, text: str):
        self.base = base
        self.rules: list[_Rule] = []
        for raw in text.splitlines():
            line = raw.rstrip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.strip("/") if dir_only else line
            anchored = "/" in line.rstrip("/")
            line = line.lstrip("/")
            body = _glob_to_regex(line)
            regex = f"^{body}$" if anchored else f"^(?:.*/)?{body}$"
            try:
                self.rules.append(_Rule(re.compile(regex), negate, dir_only))
            except re.error:
                continue

    def ignored(self, rel: str, is_dir: bool) -> bool | None:
        result = None
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(rel):
                result = not rule.negate
        return result


def _load_gitignore(directory: Path) -> GitIgnore | None:
    p = directory / ".gitignore"
    try:
        if p.is_file():
            return GitIgnore(directory, p.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    return None


def _parent_gitignores(directory: Path) -> list[GitIgnore]:
    """.gitignore files from the git root down to (excluding) `directory`."""
    out: list[GitIgnore] = []
    d = Path(os.path.abspath(directory))
    chain = []
    for parent in d.parents:
        chain.append(parent)
        if (parent / ".git").exists():
            break
    else:
        return out
    for parent in reversed(chain):
        gi = _load_gitignore(parent)
        if gi is not None:
            out.append(gi)
    return out


def _is_ignored(path: Path, is_dir: bool, ignores: list[GitIgnore]) -> bool:
    verdict = False
    for gi in ignores:
        try:
            rel = path.relative_to(gi.base).as_posix()
        except ValueError:
            continue
        r = gi.ignored(rel, is_dir)
        if r is not None:
            verdict = r
    return verdict


# ---------------------------------------------------------------------------
# walking
# ---------------------------------------------------------------------------

def discover(paths: list[str | Path], config: Config) -> Discovery:
    result = Discovery()
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            result.problems.append((str(raw), "no such file or directory"))
            continue
        if path.is_dir():
            _walk(path, config, result, seen)
        else:
            if config.is_excluded(path):
                continue
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                result.files.append(path)
    return result


def _walk(root: Path, config: Config, result: Discovery, seen: set[Path]) -> None:
    use_git = config.respect_gitignore
    base_ignores = _parent_gitignores(root) if use_git else []
    visited_dirs: set[tuple[int, int]] = set()

    def onerror(exc: OSError) -> None:
        result.problems.append((str(getattr(exc, "filename", root)), exc.strerror or str(exc)))

    # Stack of (directory, active ignore list)
    stack: list[tuple[Path, list[GitIgnore]]] = [(Path(os.path.abspath(root)), base_ignores)]
    cwd = Path.cwd()
    while stack:
        directory, ignores = stack.pop()
        try:
            st = directory.stat()
        except OSError as exc:
            onerror(exc)
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited_dirs:  # symlink loop
            continue
        visited_dirs.add(key)
        if use_git:
            gi = _load_gitignore(directory)
            if gi is not None:
                ignores = [*ignores, gi]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            onerror(exc)
            continue
        subdirs: list[Path] = []
        for entry in entries:
            p = Path(entry.path)
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if config.is_excluded(p):
                continue
            if use_git and _is_ignored(p, is_dir, ignores):
                continue
            if is_dir:
                subdirs.append(p)
            elif entry.name.endswith(SUFFIXES):
                try:
                    if not entry.is_file():  # FIFOs, sockets, dangling links
                        continue
                except OSError:
                    continue
                try:
                    key_f = p.resolve()
                except OSError:
                    key_f = p.absolute()
                if key_f not in seen:
                    seen.add(key_f)
                    result.files.append(_display(p, cwd))
        for sub in reversed(subdirs):
            stack.append((sub, ignores))
    result.files.sort()


def _display(p: Path, cwd: Path) -> Path:
    try:
        return p.relative_to(cwd)
    except ValueError:
        return p
