"""References to models (and datasets) that live elsewhere: Hugging Face Hub
ids and revisions, torch.hub repositories, model-registry URIs.

Pure string classifiers; callers resolve expressions to strings first
(`mllint.analysis.literals`). A string holding an unknown part (`literals.HOLE`) is
never classified as moving or as a hub id: unknown stays unknown.
"""

from __future__ import annotations

import re

from mllint.analysis.literals import HOLE

# --- Hugging Face Hub ---------------------------------------------------------

_HUB_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_FILE_SUFFIXES = (
    ".bin", ".pt", ".pth", ".ckpt", ".safetensors", ".h5", ".keras", ".onnx", ".json", ".pkl",
    ".joblib", ".gguf", ".msgpack", ".tar", ".gz", ".zip", ".model", ".txt", ".csv", ".parquet",
)  # fmt: skip
# First path components that name a local directory far more often than a Hub
# namespace (`from_pretrained("checkpoints/best")`).
LOCAL_DIR_NAMES = frozenset(
    {
        "checkpoint", "checkpoints", "ckpt", "ckpts", "output", "outputs", "out", "result",
        "results", "run", "runs", "artifact", "artifacts", "saved_model", "saved_models", "model",
        "models", "weights", "data", "tmp", "temp", "cache", "exp", "exps", "experiment",
        "experiments", "logs", "lightning_logs", "mlruns", "build", "dist", "export", "exports",
        "trained_model", "finetuned", "fine_tuned", "best_model", "final_model", "local",
    }
)  # fmt: skip


def is_hub_id(s: str | None) -> bool:
    """Does `s` look like a Hub repo id ("gpt2", "org/name") rather than a
    local path or a file? Conservative: a path-like or unknown string is not."""
    if not s or HOLE in s or len(s) > 200:
        return False
    if s.startswith(("/", ".", "~", "\\")) or "\\" in s or ":" in s or "//" in s:
        return False
    parts = s.split("/")
    if len(parts) > 2 or not all(_HUB_PART.match(p) for p in parts):
        return False
    if s.lower().endswith(_FILE_SUFFIXES):
        return False
    return parts[0].lower() not in LOCAL_DIR_NAMES


_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
MOVING_BRANCHES = frozenset({"main", "master", "head", "latest", "dev", "develop"})


def moving_revision(rev: str | None) -> bool:
    """A revision that is known to move: a default branch or a PR head.
    Commit shas and anything else (tags, unknown names) count as pinned."""
    if rev is None or HOLE in rev:
        return False
    r = rev.strip()
    if _SHA.match(r):
        return False
    return r.lower() in MOVING_BRANCHES or r.startswith(("refs/pr/", "refs/heads/"))


# `datasets.load_dataset` builders that read local files, not a Hub repo.
PACKAGED_DATASET_BUILDERS = frozenset(
    {
        "csv", "json", "parquet", "text", "arrow", "pandas", "sql", "imagefolder", "audiofolder",
        "videofolder", "webdataset", "generator", "spark", "xml", "pdffolder", "cache",
    }
)  # fmt: skip


# --- torch.hub ------------------------------------------------------------------

_TORCH_HUB_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9_.\-]+(?::(?P<ref>.+))?$")


def torch_hub_ref(repo: str | None) -> tuple[bool, str | None] | None:
    """For a torch.hub `"owner/repo[:ref]"` string: (is_github_repo, ref).
    None when the string is not a GitHub repo reference (a local dir, unknown)."""
    if not repo or HOLE in repo:
        return None
    m = _TORCH_HUB_REPO.match(repo)
    if m is None:
        return None
    return True, m.group("ref")


# --- model registries ---------------------------------------------------------------

MLFLOW_STAGES = frozenset({"production", "staging", "archived", "none"})
_MLFLOW_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<ref>[^/]+)/?$")


def mlflow_moving_ref(uri: str | None) -> str | None:
    """"stage" or "latest" when a `models:/name/<ref>` URI names a stage or
    the latest version; None for a version number, an alias, or unknown."""
    if not uri or not uri.startswith("models:/"):
        return None
    m = _MLFLOW_URI.match(uri)
    if m is None:
        return None
    ref = m.group("ref")
    if HOLE in ref:
        return None
    if ref.lower() == "latest":
        return "latest"
    if ref.lower() in MLFLOW_STAGES:
        return "stage"
    return None


def artifact_alias_latest(ref: str | None) -> bool:
    """A W&B-style artifact reference `entity/project/name:latest`."""
    return bool(ref) and HOLE not in ref.rsplit(":", 1)[-1] and ref.endswith(":latest")  # type: ignore[union-attr]
