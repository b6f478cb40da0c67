"""Facts about one parsed module that rules read: computed once, shared.

Holds: the semantic model (imports, bindings, qualified names: `semantic`),
what star imports bind and names used without an import are by convention
(`known_names`), light type inference (`inference`; `scalar_kinds`: number or text), literal values (`literals`), names known
before the walk (`module_names`), local side effects (`local_effects`),
randomness and determinism tables (`randomness`), training-loop facts
(`training_facts`), model references (`model_refs`), the serving model
(`serving_model`), entry points (`entrypoint`), notebook code that runs
once (`runs_once`), and the leakage data-flow
analysis (`analysis.dataflow`).

May import: `mllint.core`.
Must not import: `rules`, `engine`, `fix`, `report`, `lsp`, `docs`, `cli`
(an analysis module may name the engine's `Context` for type checking only).
"""
