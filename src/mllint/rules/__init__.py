"""Rule code: one module per rule or tight family of rules, named for what
it holds, each starting with a docstring naming its codes. Importing this
package registers every rule (`rules.base.register`).

May import: `mllint.core`, `mllint.analysis`.
Must not import: `engine`, `fix`, `report`, `lsp`, `docs`, `cli` (a rule
sees the engine's `Context` only as the object it is handed).
"""

# The order is the order rules are registered and run in (it was the
# category modules' alphabetical order before they were split; kept).
from mllint.rules import (  # noqa: F401
    data,  # ML4xx data handling
    fairness,  # ML701
    leakage,  # ML2xx leakage
    notebook,  # notebook hygiene
    random_state,  # ML102
    unseeded_randomness,  # ML101, ML104
    nondeterminism,  # ML103
    legacy_rng,  # ML105
    unpinned_models,  # ML106
    mutable_model_refs,  # ML107
    security,  # ML6xx
    serving,  # ML5xx
    training_loop,  # ML301, ML302, ML303, ML306, ML308
    forward_call,  # ML304
    loss_activation,  # ML305
    unmasked_log,  # ML307
    growing_tensor,  # ML309
    device,  # ML310
    unscaled_features,  # ML311
    implicit_hyperparameters,  # ML312
    salted_hash,  # ML110
)
