"""Project configuration: `[tool.mllint]` in pyproject.toml or `.mllint.yaml`.

Discovered upward from the linted paths; in one directory `.mllint.yaml` wins
over `pyproject.toml`, and a `pyproject.toml` without a `[tool.mllint]` table
is passed over. Unknown keys and wrong types raise ConfigError naming the key
and the file (the CLI exits 2).
"""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from mllint.core.catalog import default_catalog
from mllint.core.severity import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class ConfigError(Exception):
    """Invalid configuration; the message names the file and the key."""


DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
    "node_modules",
    "build",
    "dist",
    "site-packages",
    ".mllint_cache",
)

DEFAULT_PROTECTED_ATTRIBUTES = (
    "sex",
    "gender",
    "race",
    "ethnicity",
    "religion",
    "age",
    "nationality",
    "marital_status",
    "disability",
    "pregnancy",
    "sexual_orientation",
    "native_country",
    "national_origin",
)


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class Config(BaseModel):
    """All settings. Keys are written kebab-case in files (`min-severity`)."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=_kebab, populate_by_name=True, frozen=False
    )

    # Which rules run. Entries are code prefixes ("ML1", "ML201", "ML") or
    # "ALL". No `select`: the default rule set. A prefix selects the default
    # rules under it; an opt-in rule (`default: false` in the catalogue) runs
    # only when named by its full code or with "ALL" (like ruff's preview
    # rules). `ignore` wins over a shorter or equal selection, as before.
    select: list[str] | None = None
    extend_select: list[str] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)
    extend_exclude: list[str] = Field(default_factory=list)
    respect_gitignore: bool = True
    # Severities and thresholds.
    severity: dict[str, Severity] = Field(default_factory=dict)
    min_severity: Severity = Severity.INFO
    # Info findings are advice: shown, but they fail the run only when asked.
    fail_on: Severity = Severity.LOW
    # Rule options.
    seed: int = 42
    seed_helpers: list[str] = Field(default_factory=list)
    timeout: float = 30.0
    monitoring_hooks: list[str] = Field(default_factory=list)
    protected_attributes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PROTECTED_ATTRIBUTES)
    )
    fairness_metrics: list[str] = Field(default_factory=list)
    # Running.
    cache_dir: str | None = None
    baseline: str | None = None
    jobs: int | None = Field(default=None, ge=1)

    # Not a setting: where the config came from (for relative patterns).
    root: Path | None = Field(default=None, exclude=True)
    source: Path | None = Field(default=None, exclude=True)
    # Not a setting either: the directory relative file paths are relative
    # to, for a process whose own working directory may differ (a Dask
    # worker); None: this process's working directory. See `for_cwd`.
    _cwd: Path | None = PrivateAttr(default=None)

    def for_cwd(self, cwd: str | Path) -> "Config":
        """A copy that reads relative paths (`per-file-ignores`, `exclude`)
        as relative to `cwd` rather than to the working directory of the
        process it is used in."""
        copy = self.model_copy()
        copy._cwd = Path(cwd)
        return copy

    @field_validator("select", "extend_select", "ignore")
    @classmethod
    def _codes(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        out = []
        for item in value:
            item = item.strip().upper()
            if not is_code_or_prefix(item):
                raise ValueError(f"{item!r} is not a rule code or prefix like 'ML1' or 'ML201', or ALL")
            out.append(item)
        return out

    @field_validator("severity")
    @classmethod
    def _severity_codes(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        for code in value:
            if not (code.startswith("ML") and code[2:].isdigit() and len(code) == 5):
                raise ValueError(f"{code!r} is not a rule code like 'ML101'")
        return value

    # -- rule selection -----------------------------------------------------
    def is_enabled(self, code: str, path: str | None = None) -> bool:
        # Memoised per code for each selection (select, extend-select,
        # ignore and the catalogue's default set), so assigning or mutating
        # the lists (the CLI does) is seen. Kept outside the model: a
        # pydantic private attribute costs ~10 us per read.
        key = (
            None if self.select is None else tuple(self.select),
            tuple(self.extend_select),
            tuple(self.ignore),
            is_default_rule,
            default_catalog(),
        )
        memo = _SELECTION_MEMO.get(key)
        if memo is None:
            if len(_SELECTION_MEMO) >= 64:
                _SELECTION_MEMO.clear()
            memo = _SELECTION_MEMO[key] = {}
        on = memo.get(code)
        if on is None:
            on = memo[code] = self._selected(code)
        if not on:
            return False
        if path is not None and self.per_file_ignores:
            for codes in self.ignores_for(path):
                if code.startswith(codes):
                    return False
        return True

    def _selected(self, code: str) -> bool:
        selected = self.select if self.select is not None else ["ML"]
        selected = [*selected, *self.extend_select]
        sel = -1 if "ALL" not in selected else 0
        named = False
        for prefix in selected:
            if prefix != "ALL" and code.startswith(prefix):
                sel = max(sel, len(prefix))
                named = named or prefix == code
        if sel < 0:
            return False
        if not named and "ALL" not in selected and not is_default_rule(code):
            return False  # an opt-in rule: only "ALL" or its own code turns it on
        return _longest_prefix(code, self.ignore) < sel

    def ignores_for(self, path: str) -> list[str]:
        rel = self.relative(path)
        out: list[str] = []
        for pattern, codes in self.per_file_ignores.items():
            if path_matches(rel, pattern):
                out.extend(c.upper() for c in codes)
        return out

    def relative(self, path: str | Path) -> str:
        p = Path(path)
        if self._cwd is not None and not p.is_absolute():
            p = self._cwd / p
        if self.root is not None:
            try:
                return p.resolve().relative_to(self.root.resolve()).as_posix()
            except ValueError:
                pass
        return p.as_posix()

    def is_excluded(self, path: str | Path) -> bool:
        rel = self.relative(path)
        for pattern in (*DEFAULT_EXCLUDE, *self.exclude, *self.extend_exclude):
            if path_matches(rel, pattern):
                return True
        return False

    def severity_of(self, code: str, default: Severity) -> Severity:
        return self.severity.get(code, default)


# Config.is_enabled's memo: selection -> code -> selected (a few entries per process).
_SELECTION_MEMO: dict[tuple, dict[str, bool]] = {}


def is_code_or_prefix(item: str) -> bool:
    """"ALL", "ML" or "ML" followed by up to three digits."""
    return item == "ALL" or (item.startswith("ML") and len(item) <= 5 and (item == "ML" or item[2:].isdigit()))


def is_default_rule(code: str) -> bool:
    """In the default rule set? (the catalogue's `default`; a code the
    catalogue does not know counts as default, so nothing new is hidden)."""
    spec = default_catalog().get(code)
    return spec is None or spec.default


def _longest_prefix(code: str, prefixes: list[str]) -> int:
    best = -1
    for prefix in prefixes:
        if code.startswith(prefix) and len(prefix) > best:
            best = len(prefix)
    return best


_GLOB_CHARS = frozenset("*?[")


def path_matches(rel: str, pattern: str) -> bool:
    """Glob match of a repo-relative posix path. A pattern without '/' also
    matches any single path component (like flake8's exclude); a pattern that
    names a directory matches everything below it."""
    pattern = pattern.strip()
    if not pattern:
        return False
    pattern = pattern.rstrip("/")
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if "/" not in pattern and not _GLOB_CHARS.intersection(pattern) and pattern != ".":
        # A plain name (all the default excludes): the same answer as the
        # globs below, without ~10 fnmatch calls per file.
        return pattern in rel.split("/")
    if fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(rel, pattern + "/*"):
        return True
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in PurePosixPath(rel).parts)
    return False


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

def _validate(data: Any, source: Path, where: str) -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {where} must be a table/mapping, got {type(data).__name__}")
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        msgs = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "<root>"
            if err["type"] == "extra_forbidden":
                msgs.append(f"unknown key '{key}' in {where}")
            else:
                msgs.append(f"key '{key}' in {where}: {err['msg']}")
        raise ConfigError(f"{source}: " + "; ".join(msgs)) from None
    cfg.root = source.parent.resolve()
    cfg.source = source
    return cfg


def load_config_file(path: Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    if path.suffix in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: invalid YAML: {exc}") from None
        if data is None:
            data = {}
        return _validate(data, path, "the mllint config")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        data = doc.get("tool", {}).get("mllint", {})
        return _validate(data, path, "[tool.mllint]")
    return _validate(doc, path, "the mllint config")


def _has_mllint_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return "[tool.mllint" in text or "tool.mllint" in text


CONFIG_NAMES = (".mllint.yaml", ".mllint.yml", "pyproject.toml")


def find_config_file(start: Path) -> Path | None:
    start = Path(start).resolve()
    directory = start if start.is_dir() else start.parent
    for d in (directory, *directory.parents):
        for name in CONFIG_NAMES:
            candidate = d / name
            if candidate.is_file():
                if name == "pyproject.toml" and not _has_mllint_table(candidate):
                    continue
                return candidate
    return None


def discover_config(paths: list[Path] | None = None, explicit: Path | None = None) -> Config:
    if explicit is not None:
        return load_config_file(explicit)
    starts = [Path(p) for p in (paths or [Path.cwd()])]
    for start in starts:
        start = start.absolute()
        while not start.exists() and start != start.parent:
            start = start.parent
        found = find_config_file(start)
        if found is not None:
            return load_config_file(found)
    cfg = Config()
    cfg.root = Path.cwd().resolve()
    return cfg
