"""ML6xx: security and supply chain."""

from __future__ import annotations
