"""ML4xx: data handling (pandas, NumPy)."""

from __future__ import annotations
