"""ML5xx: serving and reliability."""

from __future__ import annotations
