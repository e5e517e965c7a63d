"""Fixtures of the trigger tests: the emulator and pipelines of the operator tests."""

from __future__ import annotations

from tests.pipeline.conftest import emu, make_pipeline

__all__ = ["emu", "make_pipeline"]
