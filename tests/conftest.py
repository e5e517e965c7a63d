"""Test-suite wide settings: an isolated Airflow home, enforced markers, the real corpus.

The real Labelbox export files are third-party data and are never committed: the tests that
need them find them through one setting, ``LABELBOX_REAL_FIXTURES`` (default
``<repo>/../shared/fixtures/real``), read here and nowhere else. Where the folder is absent
those tests are skipped, saying how to point at it; under ``CI=true`` an absent corpus fails
the run instead, so CI always runs them. A test needs the corpus when it takes the
``real_fixtures`` fixture or carries the ``real_corpus`` marker (the fixture adds the marker).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
OWN_FIXTURES = REPO / "tests" / "fixtures" / "exports"  # the project's own, hand-written
REAL_FIXTURES_ENV = "LABELBOX_REAL_FIXTURES"
FIXTURES_REAL = Path(
    os.environ.get(REAL_FIXTURES_ENV) or REPO.parent / "shared" / "fixtures" / "real"
).resolve()
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
REAL_CORPUS_MISSING = (
    f"real export corpus not found at {FIXTURES_REAL}: "
    f"set {REAL_FIXTURES_ENV}=/path/to/fixtures/real to run these tests"
)

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

pytest_plugins = ["labelbox_provider.emulator.testing", "tests.s3_server"]


def unavailable(reason: str) -> None:
    """Skip the calling test for ``reason``, or fail it under ``CI=true`` (CI runs everything)."""
    if IN_CI:
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test carries exactly one kind marker; a test without one fails collection.

    Doctests of the package are pure examples: they are marked ``unit`` here. Tests that need
    the real corpus are marked ``real_corpus`` and, when it is absent, skipped with the reason
    (under ``CI=true`` the collection fails instead, naming the setting).
    """
    _mark_real_corpus(items)
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


def _mark_real_corpus(items: list[pytest.Item]) -> None:
    needing = []
    for item in items:
        if "real_fixtures" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.real_corpus)
        if item.get_closest_marker("real_corpus") is not None:
            needing.append(item)
    if not needing or FIXTURES_REAL.is_dir():
        return
    if IN_CI:
        raise pytest.UsageError(
            f"CI=true and {len(needing)} collected test(s) need the {REAL_CORPUS_MISSING}"
        )
    for item in needing:
        item.add_marker(pytest.mark.skip(reason=REAL_CORPUS_MISSING))


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    """The folder of real export files (``LABELBOX_REAL_FIXTURES``); skips the test without it."""
    if not FIXTURES_REAL.is_dir():
        unavailable(REAL_CORPUS_MISSING)
    return FIXTURES_REAL


@pytest.fixture(scope="session")
def own_fixtures() -> Path:
    """The project's own hand-written export files (``tests/fixtures/exports``)."""
    return OWN_FIXTURES


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """``airflow db migrate`` once for the suite's temporary AIRFLOW_HOME (SQLite)."""
    marker = Path(os.environ["AIRFLOW_HOME"]) / ".lbx-db-migrated"
    if marker.exists():
        return
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ)
    marker.touch()
