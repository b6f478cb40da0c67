"""ML3xx: training correctness."""

from __future__ import annotations
