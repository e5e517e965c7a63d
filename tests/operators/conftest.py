"""Fixtures of the operator tests: the emulator and pipelines of the pipeline tests."""

from __future__ import annotations

from tests.pipeline.conftest import emu, make_pipeline

__all__ = ["emu", "make_pipeline"]
