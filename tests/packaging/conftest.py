"""The built wheel, and the fresh venv it is installed in (``make wheel-venv``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, unavailable

WHEEL_VENV = REPO / ".venv-wheel"
DIST_NAME = "airflow-provider-labelbox-export"


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the files a build reads (pyproject, README, connectors/).

    Building from a copy leaves the worktree clean and proves nothing else is needed.
    """
    src = tmp_path_factory.mktemp("wheel-src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(REPO / "connectors", src / "connectors", ignore=ignore)
    out = tmp_path_factory.mktemp("wheel-out")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = out.glob("*.whl")
    assert zipfile.is_zipfile(wheel)
    return wheel


@pytest.fixture(scope="session")
def wheel_venv() -> Path:
    """``.venv-wheel``: Airflow and the wheel with extras (built by ``make wheel-venv``)."""
    if not (WHEEL_VENV / ".installed").is_file():
        unavailable(f"{WHEEL_VENV} is not built: run `make wheel-venv` (make test builds it)")
    return WHEEL_VENV
