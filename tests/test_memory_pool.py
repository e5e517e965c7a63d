"""Importing the provider before pyarrow puts Arrow's default memory pool on jemalloc (the
pool the Parquet sink uses: the default mimalloc pool kept 29-54 MB resident, see
docs/performance.md), and leaves a pool the user chose, or an already loaded pyarrow, alone.

Each case runs in a fresh interpreter: Arrow reads the setting once, when pyarrow loads.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit
REPORT = "import pyarrow as pa; print(pa.default_memory_pool().backend_name)"


def _backend(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run(
        [sys.executable, "-c", f"{code}; {REPORT}"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return out.stdout.strip().splitlines()[-1]


def _jemalloc_built() -> bool:
    return _backend("pass", ARROW_DEFAULT_MEMORY_POOL="jemalloc") == "jemalloc"


def test_provider_first_selects_jemalloc() -> None:
    assert _jemalloc_built(), "the pinned pyarrow wheels (Linux) are built with jemalloc"
    assert _backend("pass") != "jemalloc"  # pyarrow's own default here
    assert _backend("import labelbox_provider") == "jemalloc"


def test_user_choice_and_loaded_pyarrow_are_kept() -> None:
    assert _backend("import labelbox_provider", ARROW_DEFAULT_MEMORY_POOL="system") == "system"
    first = _backend("pass")
    assert _backend("import pyarrow; import labelbox_provider") == first
