"""Provenance analysis: where a value's rows come from, and what saw them.

A forward abstract interpretation over one module's statements, in order (a
notebook is one module, cells joined). No fixpoint: loop bodies are visited
twice, both branches of an `if` are visited and joined, and calls of small
helper functions defined in the module are analysed at the call site.

Abstract values (`Val`) carry:

* `origins`: a set of `(dataset, part)` pairs. A dataset is a load site
  (`pd.read_csv`, `load_iris`, `make_classification`, ...). `part` is the
  lineage of splits the rows went through: `()` is the whole dataset, and
  each split appends `(split key, "train" | "test")`. A separate test file
  starts at `(("file", "test"),)`. Rows are *held out* when any step of their
  part is "test".
* `fitted_by`: the fit events (transformer fits, statistics such as `x.mean()`
  used to normalise) whose learned state shaped these values.
* `resampled`: oversampling / duplication events the rows went through.
* `obj`: for estimators, transformers, resamplers, splitters and pipelines, a
  mutable `Obj` shared by every alias (an instance of an estimator-like class
  of the module also carries its attributes, and its methods are run with
  `self`).

`True`/`False`/`None` are `const` values: an `if` decided by them (a
module-level flag, a helper's argument) takes only its path.

The pass records events (fits, splits, applications of fitted objects,
evaluations, cross-validation calls) and `LeakageFacts.decide()` turns them
into raw findings for ML201-ML209; the rules only format messages.

The analysis in modules, along its data flow:

* `tables` - library knowledge (loaders, fitters, splitters, metrics);
* `values` - abstract values and their lattice; `events` - what is recorded;
* `names` - name facts (held-out names, stored names, compared names);
* `interpreter` (`Analysis`: state and statements) with its transfer mixins
  `expressions`, `calls` (helper inlining), `library`, `methods` and
  `recording` (events), and `memo` (calls remembered between analyses);
* `decisions` - events to raw findings for ML201-ML209 (rows compared by
  lineage: two parts of one split never share rows, the whole and a part
  do), with `temporal` (ML206: time order) as its mixin;
* `imports` - the cheap import alias map the pass starts from.
"""

from __future__ import annotations

import ast

from mllint.analysis.dataflow.decisions import LeakageFacts, RawFinding
from mllint.analysis.dataflow.imports import import_map, resolve, uses_ml_packages
from mllint.analysis.dataflow.interpreter import Analysis

__all__ = ["LeakageFacts", "RawFinding", "analyse", "import_map", "resolve", "uses_ml_packages"]


def analyse(
    tree: ast.Module,
    text: str | None = None,
    selected: frozenset | None = None,
    memo: bool = False,
    assumed: dict[str, str] | None = None,
) -> LeakageFacts:
    """Run the provenance analysis over a module (cheap no-op for modules
    that import no ML/data library). `text` is the module's source, used for
    a few module-wide textual facts (which metric names appear). `selected`
    is `selected_names(tree)` if the caller has it (see `SelectedNames`).
    `assumed`: the names the engine's walk resolved by convention
    (`SemanticModel.assumptions`)."""
    imports = import_map(tree, text, assumed)
    if not uses_ml_packages(imports):
        return LeakageFacts(None)
    a = Analysis(tree, imports, text if text is not None else ast.unparse(tree))
    a.selected = selected
    a.memo = memo
    try:
        a.run()
        return LeakageFacts(a)
    except RecursionError:
        # Generated code with expressions nested a thousand deep: no verdict
        # rather than a crash (the rest of the linter still runs).
        return LeakageFacts(None)
