"""ML2xx: data leakage and evaluation validity (built on mllint.dataflow)."""

from __future__ import annotations
