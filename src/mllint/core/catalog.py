"""The rule catalogue: one YAML file per rule in `rules/`, validated by pydantic.

The YAML is the single source of a rule's severity, title, docs, examples and
SARIF metadata. Loading fails loudly (CatalogError naming the file and the
field) on any malformed entry.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mllint.core.severity import Severity

Category = Literal[
    "linter",
    "reproducibility",
    "leakage",
    "training",
    "data",
    "serving",
    "security",
    "fairness",
]
CATEGORIES: tuple[str, ...] = get_args(Category)


class CatalogError(Exception):
    """A rule file is missing, unreadable or invalid."""


# The default rule set is chosen by measured precision (docs/accuracy.md):
# a rule is on by default when its precision on the judged sample of real
# code is at least the floor for its severity. The same numbers decide
# `default` in every rules/MLnnn.yaml; tests/test_default_rules.py holds
# them together.
PRECISION_FLOOR = 0.80
PRECISION_FLOOR_SEVERE = 0.90  # high and critical: a false alarm there costs more


def precision_floor(severity: Severity) -> float:
    """The measured precision a rule needs to be on by default."""
    return PRECISION_FLOOR_SEVERE if severity >= Severity.HIGH else PRECISION_FLOOR


def expected_default(severity: Severity, tp: int, judged: int) -> bool:
    """Whether a rule with this precision record belongs in the default set:
    precision >= the floor of its severity; a rule with no finding on the
    measured corpus (judged == 0) stays on (it made no noise on real code)."""
    if judged == 0:
        return True
    return tp / judged >= precision_floor(severity)


class PrecisionRecord(BaseModel):
    """A rule's measured precision (`python -m bench.accuracy`): `tp` of
    `judged` findings were worth acting on, over `files` real files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tp: int = Field(ge=0)
    judged: int = Field(ge=0)
    files: int = Field(ge=0)
    corpus: str = Field(min_length=3)
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")

    @property
    def precision(self) -> float | None:
        return self.tp / self.judged if self.judged else None

    @model_validator(mode="after")
    def _tp_le_judged(self) -> "PrecisionRecord":
        if self.tp > self.judged:
            raise ValueError("tp cannot exceed judged")
        return self


class RuleSpec(BaseModel):
    """One catalogue entry (`rules/MLnnn.yaml`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^ML\d{3}$")
    name: str = Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
    title: str = Field(min_length=5)
    severity: Severity
    category: Category
    fix: Literal["none", "safe", "unsafe"]
    summary: str = Field(min_length=10)
    rationale: str = Field(min_length=10)
    bad: str
    good: str
    # "python": bad/good are Python source. "notebook": percent-format cells
    # (`# %%` separators; `# %% [3]` gives a saved execution count) turned into
    # a notebook by the example test. "none": the rule cannot be shown as a
    # snippet (ML000/ML001); bad/good then document inputs in prose.
    example_format: Literal["python", "notebook", "none"] = "python"
    references: list[str] = Field(default_factory=list)
    # Extra prose for the generated docs page (options, known limitations).
    notes: str = ""
    options: list[str] = Field(default_factory=list)
    # In the default rule set (run when no `select` says otherwise)? Decided
    # by `precision` and the floors above; opt-in rules run when selected
    # by their code or with `select = ["ALL"]`.
    default: bool = True
    precision: PrecisionRecord | None = None

    @field_validator("bad", "good")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @property
    def doc_url(self) -> str:
        return f"{DOCS_BASE_URL}/{self.code}.md"


DOCS_BASE_URL = "https://github.com/mllint/flake8-mllint/blob/main/docs/rules"


def catalogue_dir() -> Path:
    """Where the YAML files are: the repo's `rules/` for a source checkout or
    editable install, else the copy packaged in the wheel."""
    here = Path(__file__).resolve().parent.parent  # the mllint package
    checkout = here.parent.parent / "rules"
    if checkout.is_dir() and (here.parent.name == "src"):
        return checkout
    packaged = here / "_catalogue"
    if packaged.is_dir():
        return packaged
    if checkout.is_dir():
        return checkout
    raise CatalogError(f"rule catalogue not found (looked in {packaged} and {checkout})")


def _format_validation(path: Path, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        parts.append(f"field '{loc}': {err['msg']}")
    return f"{path}: " + "; ".join(parts)


def _safe_load(text: str) -> object:
    """`yaml.safe_load`, with libyaml's safe loader when it is there (about
    10x faster: the catalogue is read at every start of mllint)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_rule_file(path: Path) -> RuleSpec:
    try:
        data = _safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected a mapping of fields, got {type(data).__name__}")
    try:
        spec = RuleSpec.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(_format_validation(path, exc)) from exc
    if spec.code != path.stem:
        raise CatalogError(f"{path}: field 'code': {spec.code!r} does not match the file name")
    return spec


class Catalog:
    def __init__(self, specs: dict[str, RuleSpec]):
        self._specs = dict(sorted(specs.items()))
        names: dict[str, str] = {}
        for spec in self._specs.values():
            if spec.name in names:
                raise CatalogError(
                    f"rule name {spec.name!r} is used by both {names[spec.name]} and {spec.code}"
                )
            names[spec.name] = spec.code

    def __getitem__(self, code: str) -> RuleSpec:
        return self._specs[code]

    def __contains__(self, code: object) -> bool:
        return code in self._specs

    def __iter__(self):
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    @property
    def codes(self) -> list[str]:
        return list(self._specs)

    def get(self, code: str) -> RuleSpec | None:
        return self._specs.get(code)

    def by_name(self, name: str) -> RuleSpec | None:
        for spec in self._specs.values():
            if spec.name == name:
                return spec
        return None

    def fingerprint(self) -> str:
        """A hash of the whole catalogue (for caches)."""
        import hashlib

        h = hashlib.sha256()
        for spec in self._specs.values():
            h.update(spec.model_dump_json().encode())
        return h.hexdigest()[:16]


_CODE_FILE = re.compile(r"^ML\d{3}\.yaml$")


def load_catalog(directory: Path | None = None) -> Catalog:
    directory = directory or catalogue_dir()
    specs: dict[str, RuleSpec] = {}
    for path in sorted(directory.glob("*.yaml")):
        if not _CODE_FILE.match(path.name):
            raise CatalogError(f"{path}: rule files must be named MLnnn.yaml")
        spec = load_rule_file(path)
        specs[spec.code] = spec
    if not specs:
        raise CatalogError(f"{directory}: no rule files found")
    return Catalog(specs)


@functools.lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    return load_catalog()
