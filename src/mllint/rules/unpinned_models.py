"""ML106 unpinned-pretrained-model: a pretrained model, dataset or hub
artifact loaded from a moving branch (no `revision=`)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from mllint.analysis.literals import HOLE, const_str, str_template
from mllint.analysis.model_refs import PACKAGED_DATASET_BUILDERS, is_hub_id, moving_revision, torch_hub_ref
from mllint.analysis.semantic import has_star_kwargs, is_none, is_true, keyword
from mllint.analysis.training_facts import dotted
from mllint.rules.base import Rule, register
from mllint.rules.call_helpers import call_display, qualname_memo

# --- ML106 unpinned-pretrained-model -------------------------------------------------

_HUB_DOWNLOADS = frozenset(
    {
        "huggingface_hub.hf_hub_download",
        "huggingface_hub.file_download.hf_hub_download",
        "huggingface_hub.snapshot_download",
        "huggingface_hub._snapshot_download.snapshot_download",
    }
)
_HFAPI_DOWNLOADS = ("HfApi().hf_hub_download", "HfApi().snapshot_download")
# Packages whose loaders this rule knows (besides any `.from_pretrained`).
_HUB_PACKAGES = ("torch.hub.", "huggingface_hub.", "transformers.", "sentence_transformers.", "datasets.")
_PIPELINES = frozenset({"transformers.pipeline", "transformers.pipelines.pipeline"})
_SENTENCE_MODELS = frozenset(
    {
        "sentence_transformers.SentenceTransformer",
        "sentence_transformers.CrossEncoder",
        "sentence_transformers.cross_encoder.CrossEncoder",
        "sentence_transformers.SentenceTransformer.SentenceTransformer",
    }
)
_LOAD_DATASET = frozenset({"datasets.load_dataset", "datasets.load.load_dataset"})
_TORCH_HUB_LOAD = frozenset({"torch.hub.load"})
# Calls whose string argument names a local directory the module writes to.
_SAVE_METHODS = frozenset({"save_pretrained", "save_model", "save_to_disk", "save"})
# ML106's call filter: the last names of every loader above, `.from_pretrained`
# and the save methods (calls with `output_dir=` also record a saved directory).
_HUB_CALL_NAMES = (
    frozenset(
        q.rpartition(".")[2]
        for q in (*_HUB_DOWNLOADS, *_HFAPI_DOWNLOADS, *_PIPELINES, *_SENTENCE_MODELS, *_LOAD_DATASET, *_TORCH_HUB_LOAD)
    )
    | {"from_pretrained"}
    | _SAVE_METHODS
)


def _arg(call: ast.Call, pos: int | None, *names: str) -> ast.AST | None:
    for name in names:
        kw = keyword(call, name)
        if kw is not None:
            return kw.value
    if pos is not None and len(call.args) > pos and not isinstance(call.args[pos], ast.Starred):
        return call.args[pos]
    return None


@dataclass
class _HubSite:
    call: ast.Call
    kind: str  # "model" | "dataset" | "download" | "pipeline-default"
    repo: str | None  # the id when known
    revision: str | None  # the moving revision given, if any


@register
class UnpinnedPretrainedModel(Rule):
    """ML106: Hub / torch.hub loads that follow a moving branch."""

    codes = ("ML106",)
    nodes = (ast.Call,)
    call_names = _HUB_CALL_NAMES
    call_keywords = frozenset({"output_dir"})

    def __init__(self, ctx):
        super().__init__(ctx)
        self.qualname = qualname_memo(ctx)
        self.sites: list[_HubSite] = []
        self.saved: set[str] = set()

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        func = node.func
        attr = func.attr if isinstance(func, ast.Attribute) else None
        if attr in _SAVE_METHODS:
            target = _arg(node, 0, "save_directory", "output_dir", "dataset_path")
            s = const_str(sem, target)
            if s:
                self.saved.add(s.rstrip("/"))
        if node.keywords:
            out_dir = const_str(sem, _arg(node, None, "output_dir"))
            if out_dir:
                self.saved.add(out_dir.rstrip("/"))
        q = self.qualname(node)
        if attr != "from_pretrained" and not (q and q.startswith(_HUB_PACKAGES)):
            return
        if has_star_kwargs(node) or is_true(_arg(node, None, "local_files_only")):
            return
        if q in _TORCH_HUB_LOAD:
            self._torch_hub(node)
            return
        if q in _HUB_DOWNLOADS or (q and q.startswith("huggingface_hub.") and q.endswith(_HFAPI_DOWNLOADS)):
            self._check(node, "download", const_str(sem, _arg(node, 0, "repo_id")), require_id=False)
            return
        if q in _PIPELINES:
            model = _arg(node, 1, "model")
            if model is None:
                if _arg(node, 0, "task") is not None:
                    self._check(node, "pipeline-default", None, require_id=False)
                return
            self._check(node, "model", str_template(sem, model))
            return
        if q in _SENTENCE_MODELS:
            self._check(node, "model", str_template(sem, _arg(node, 0, "model_name_or_path", "model_name")))
            return
        if q in _LOAD_DATASET:
            path = str_template(sem, _arg(node, 0, "path"))
            if path is not None and path.lower() in PACKAGED_DATASET_BUILDERS:
                return
            self._check(node, "dataset", path)
            return
        if attr == "from_pretrained":
            # PeftModel*.from_pretrained(base_model, adapter_id): the id comes second.
            receiver = (dotted(func.value) or "").rsplit(".", 1)[-1]
            if receiver.startswith(("PeftModel", "PeftMixedModel")):
                repo = _arg(node, 1, "model_id")
            else:
                repo = _arg(node, 0, "pretrained_model_name_or_path", "model_name_or_path", "repo_id")
            self._check(node, "model", str_template(self.ctx.semantic, repo))

    def _check(self, call: ast.Call, kind: str, repo: str | None, require_id: bool = True) -> None:
        if require_id and not is_hub_id(repo):
            return
        rev_node = _arg(call, None, "revision", "commit_id")
        revision = None
        if rev_node is not None and not is_none(rev_node):
            revision = str_template(self.ctx.semantic, rev_node)
            if not moving_revision(revision):
                return  # pinned, or unknown
        self.sites.append(_HubSite(call, kind, repo, revision))

    def _torch_hub(self, call: ast.Call) -> None:
        source = const_str(self.ctx.semantic, _arg(call, None, "source"))
        if source == "local":
            return
        repo = const_str(self.ctx.semantic, _arg(call, 0, "repo_or_dir"))
        ref = torch_hub_ref(repo)
        if ref is None:
            return
        _, branch = ref
        if branch is not None and not moving_revision(branch):
            return
        shown = call_display(self.ctx, call)
        owner_repo = repo.split(":", 1)[0] if repo else "owner/repo"
        detail = f"the `{branch}` branch" if branch else "the default branch"
        self.report(
            "ML106",
            call,
            f"`{shown}(\"{repo}\", ...)` loads code and weights from {detail} of {owner_repo}, which moves; "
            f"pin a release tag or commit: `\"{owner_repo}:<tag>\"`.",
        )

    def finish(self) -> None:
        for site in self.sites:
            if site.repo is not None and site.repo.rstrip("/") in self.saved:
                continue  # a directory this module writes: local
            shown = call_display(self.ctx, site.call)
            if site.kind == "pipeline-default":
                msg = (
                    f"`{shown}(...)` without `model=` loads the task's default model, which can change between "
                    "transformers releases; pass `model=\"<hub id>\"` and `revision=\"<commit sha>\"`."
                )
            else:
                what = {"model": "model", "dataset": "dataset", "download": "files"}[site.kind]
                if what == "model" and ("Tokenizer" in shown or "Processor" in shown):
                    what = "tokenizer" if "Tokenizer" in shown else "processor"
                repo = f"`{site.repo}`" if site.repo and HOLE not in site.repo else "the repo"
                if site.revision is not None:
                    msg = (
                        f"`{shown}(...)` loads {repo} at `revision=\"{site.revision}\"`, a branch that moves "
                        f"with every push, so the {what} can change under you; pin a commit sha (or a release tag)."
                    )
                else:
                    msg = (
                        f"`{shown}(...)` loads {repo} from the Hub's main branch as it is at run time, so the "
                        f"{what} can change under you; pin it with `revision=\"<commit sha>\"`."
                    )
            self.report("ML106", site.call, msg)
