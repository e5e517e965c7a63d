"""Fixtures of the io tests (the helpers live in ``mirror_kit``, importable by name)."""

from __future__ import annotations

from .mirror_kit import mirror

__all__ = ["mirror"]
