"""Notebook-only rules (ML108, ML109)."""

from __future__ import annotations
