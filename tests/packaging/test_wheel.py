"""The package as users get it: a wheel holding only the provider, with its metadata right."""

from __future__ import annotations

import email
import tomllib
import zipfile
from pathlib import Path

import labelbox_provider
import pytest

from tests.conftest import REPO

from .conftest import DIST_NAME

pytestmark = pytest.mark.integration

PACKAGE = REPO / "connectors" / "labelbox_provider"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = {"s3": "s3fs", "gcs": "gcsfs", "postgres": "apache-airflow-providers-postgres"}


def _dist_info(wheel: Path, name: str) -> str:
    with zipfile.ZipFile(wheel) as zf:
        (path,) = [n for n in zf.namelist() if n.endswith(f".dist-info/{name}")]
        return zf.read(path).decode()


def test_wheel_holds_the_package_and_nothing_else(built_wheel: Path) -> None:
    with zipfile.ZipFile(built_wheel) as zf:
        names = zf.namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {
        "labelbox_provider",
        f"airflow_provider_labelbox_export-{labelbox_provider.__version__}.dist-info",
    }
    assert "labelbox_provider/py.typed" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    modules = {
        p.relative_to(PACKAGE.parent).as_posix()
        for p in PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    missing = modules - set(names)
    assert not missing, f"modules left out of the wheel (package discovery): {sorted(missing)}"


def test_wheel_metadata(built_wheel: Path) -> None:
    meta = email.message_from_string(_dist_info(built_wheel, "METADATA"))
    assert meta["Name"] == DIST_NAME
    assert meta["Version"] == PYPROJECT["project"]["version"] == labelbox_provider.__version__
    assert set(meta.get_all("Provides-Extra")) >= set(EXTRAS) | {"dev"}
    requires = meta.get_all("Requires-Dist")
    for extra, package in EXTRAS.items():
        assert any(r.startswith(package) and f'extra == "{extra}"' in r for r in requires), extra
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert urls["Documentation"].startswith("https://")  # Airflow's docs link for the provider


def test_wheel_entry_points(built_wheel: Path) -> None:
    text = _dist_info(built_wheel, "entry_points.txt")
    assert "labelbox-export = labelbox_provider.cli.main:main" in text
    assert "labelbox-emulator = labelbox_provider.emulator.cli:main" in text
    assert "[apache_airflow_provider]\nprovider_info = labelbox_provider:get_provider_info" in text
