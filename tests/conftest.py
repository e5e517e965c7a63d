"""Test-suite wide settings: an isolated Airflow home and enforced markers."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES_REAL = SHARED / "fixtures" / "real"

# Airflow reads its configuration at import time: set an isolated home before anything imports it.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="lbx-airflow-home-"))
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO / "dags"))

# The example DAG files and the plugin are importable as modules, as Airflow makes them.
for _folder in (REPO / "dags", REPO / "plugins"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

KINDS = ("unit", "integration", "e2e", "conformance", "deployment")

pytest_plugins = ["labelbox_provider.emulator.testing"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test carries exactly one kind marker; a test without one fails collection.

    Doctests of the package are pure examples: they are marked ``unit`` here.
    """
    bad = []
    for item in items:
        if isinstance(item, pytest.DoctestItem):
            item.add_marker(pytest.mark.unit)
        kinds = [k for k in KINDS if item.get_closest_marker(k) is not None]
        if len(kinds) != 1:
            bad.append(f"{item.nodeid}: {kinds or 'no kind marker'}")
    if bad:
        raise pytest.UsageError(
            "each test needs exactly one of the markers "
            + ", ".join(KINDS)
            + ":\n  "
            + "\n  ".join(bad)
        )


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    """The folder of real export files (../shared/fixtures/real)."""
    if not FIXTURES_REAL.is_dir():
        raise RuntimeError(f"real fixtures not found at {FIXTURES_REAL}: clone next to shared/")
    return FIXTURES_REAL


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """``airflow db migrate`` once for the suite's temporary AIRFLOW_HOME (SQLite)."""
    marker = Path(os.environ["AIRFLOW_HOME"]) / ".lbx-db-migrated"
    if marker.exists():
        return
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ)
    marker.touch()
