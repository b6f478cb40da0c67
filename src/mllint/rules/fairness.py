"""ML7xx: responsible AI."""

from __future__ import annotations
