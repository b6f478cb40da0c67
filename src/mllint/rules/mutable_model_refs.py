"""ML107 mutable-model-reference: a model loaded through a moving registry
reference (`models:/name/latest`, an artifact alias `:latest`)."""

from __future__ import annotations

import ast

from mllint.analysis.literals import HOLE, str_template
from mllint.analysis.model_refs import artifact_alias_latest, mlflow_moving_ref
from mllint.rules.base import Rule, register
from mllint.rules.call_helpers import call_display, qualname_memo, terminal_name

# --- ML107 mutable-model-reference -------------------------------------------------

_ARTIFACT_METHODS = frozenset({"use_artifact", "artifact", "use_model", "download_artifact"})


@register
class MutableModelReference(Rule):
    """ML107: a model loaded through a reference that moves (an MLflow stage
    or `latest`, a W&B `:latest` alias, `get_latest_versions`)."""

    codes = ("ML107",)
    scope = "statement"
    nodes = (ast.Call,)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.qualname = qualname_memo(ctx)
        self._registry = False  # does the module import mlflow or wandb (so far)?
        self._imports_seen = -1

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        registry = self._imports_registry()
        values = [a for a in node.args if _may_be_str(a, registry)]
        values += [k for k in node.keywords if _may_be_str(k.value, registry)]
        name = terminal_name(node)
        if not values and name != "get_latest_versions":
            return
        sem = self.ctx.semantic
        q = self.qualname(node)
        if name == "get_latest_versions" and ((q is not None and q.startswith("mlflow.")) or registry):
            self.report(
                "ML107",
                node,
                f"`{call_display(self.ctx, node)}(...)` picks whichever version currently holds a stage (or is "
                "newest), so what gets loaded changes whenever someone promotes a model; load a fixed "
                "version (`models:/<name>/<version>`) and record it.",
            )
            return
        mlflow_call = q is not None and q.startswith("mlflow.")
        for item in values:
            value, kw_name = (item.value, item.arg) if isinstance(item, ast.keyword) else (item, None)
            text = str_template(sem, value)
            if text is None:
                continue
            moving = mlflow_moving_ref(text)
            if moving is not None and (mlflow_call or _mentions_model(name, kw_name)):
                self._report_mlflow(node, value, text, moving)
                continue
            if artifact_alias_latest(text) and (
                (q is not None and q.startswith("wandb.")) or name in _ARTIFACT_METHODS
            ):
                self.report(
                    "ML107",
                    value,
                    f"`{call_display(self.ctx, node)}(\"{_shown(text)}\")` resolves the `latest` alias at run "
                    "time, so a new upload silently changes the model; reference a version (`:v3`) instead.",
                )

    def _imports_registry(self) -> bool:
        """Cheap and incremental: re-checked only when new imports were seen."""
        imported = self.ctx.semantic.imported
        if not self._registry and len(imported) != self._imports_seen:
            self._imports_seen = len(imported)
            self._registry = any(q.split(".", 1)[0] in ("mlflow", "wandb") for q in imported)
        return self._registry

    def _report_mlflow(self, call: ast.Call, value: ast.AST, uri: str, moving: str) -> None:
        ref = uri.rstrip("/").rsplit("/", 1)[-1]
        if moving == "latest":
            why = "resolves to the newest registered version at load time, so every new registration changes it"
        else:
            why = (
                f"resolves to whichever version holds the `{ref}` stage at load time, so a promotion changes "
                "what runs (stages are also deprecated in MLflow)"
            )
        self.report(
            "ML107",
            value,
            f"`{call_display(self.ctx, call)}(\"{_shown(uri)}\")` {why}; load a fixed version "
            "(`models:/<name>/<version>`) and record which one.",
        )


def _may_be_str(node: ast.AST, follow_names: bool) -> bool:
    """Cheap pre-filter: could this argument hold a registry reference?
    Names are only followed in modules that import a registry client."""
    t = type(node)
    if t is ast.Constant:
        v = node.value  # type: ignore[attr-defined]
        return isinstance(v, str) and (v.startswith("models:/") or v.endswith(":latest"))
    if t is ast.Name:
        return follow_names
    return t is ast.JoinedStr or (t is ast.BinOp and isinstance(node.op, ast.Add))  # type: ignore[attr-defined]


def _mentions_model(func_name: str | None, kw_name: str | None) -> bool:
    words = ("model", "uri", "artifact", "load")
    return any(w in (func_name or "").lower() for w in words) or any(w in (kw_name or "").lower() for w in words)


def _shown(text: str) -> str:
    return text.replace(HOLE, "{...}")
