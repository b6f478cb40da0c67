"""Rule modules, one per category. Importing this package registers them."""

from mllint.rules import (  # noqa: F401
    data,
    fairness,
    leakage,
    notebook,
    reproducibility,
    security,
    serving,
    training,
)
