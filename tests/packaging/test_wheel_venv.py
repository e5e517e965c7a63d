"""The wheel installed (not editable) beside Airflow in a fresh venv works as a provider.

``make wheel-venv`` builds ``.venv-wheel`` (``make test`` does it first): Airflow, then the
wheel with the ``s3`` and ``postgres`` extras. Skipped when it is absent; an error under CI.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from labelbox_provider import __version__

from tests.conftest import REPO

from .conftest import DIST_NAME

pytestmark = pytest.mark.integration

# Run inside the wheel venv: where the package comes from, what the dist installed, the extras.
CHECK = r"""
import importlib.metadata as md, json, pathlib
import labelbox_provider
files = [str(f) for f in md.files("airflow-provider-labelbox-export")]
import fsspec, s3fs
fsspec.filesystem("s3", anon=True)
from labelbox_provider.io.warehouse import warehouse_for
hook = warehouse_for("postgres://labelbox_warehouse/labelbox").hook
print(json.dumps({
    "file": labelbox_provider.__file__,
    "typed": (pathlib.Path(labelbox_provider.__file__).parent / "py.typed").is_file(),
    "files": files,
    "hook": type(hook).__name__,
    "modules": sorted(
        str(p.relative_to(pathlib.Path(labelbox_provider.__file__).parent.parent))
        for p in pathlib.Path(labelbox_provider.__file__).parent.rglob("*.py")
    ),
}))
"""


def _run(venv: Path, *args: str, tmp: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}  # a user's shell
    env |= {"AIRFLOW_HOME": str(tmp / "airflow-home"), "PYTHONPATH": ""}
    done = subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,  # never the repository: the installed copy must be the one imported
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_installed_wheel_is_the_package_without_tests(wheel_venv: Path, tmp_path: Path) -> None:
    found = json.loads(_run(wheel_venv, "python", "-c", CHECK, tmp=tmp_path).splitlines()[-1])
    assert Path(found["file"]).is_relative_to(wheel_venv.resolve()), "not the installed copy"
    assert found["typed"]
    assert found["hook"] == "PostgresHook"  # the postgres extra brought the provider
    tops = {f.split("/", 1)[0] for f in found["files"] if not f.startswith("..")}
    assert tops == {
        "labelbox_provider",
        f"airflow_provider_labelbox_export-{__version__}.dist-info",
    }
    package = REPO / "connectors"
    source = sorted(
        str(p.relative_to(package))
        for p in (package / "labelbox_provider").rglob("*.py")
        if "__pycache__" not in p.parts
    )
    assert found["modules"] == source, "stale .venv-wheel: run `make wheel-venv`"


def test_airflow_lists_the_provider_and_its_connection(wheel_venv: Path, tmp_path: Path) -> None:
    listed = json.loads(
        _run(wheel_venv, "airflow", "providers", "list", "-o", "json", tmp=tmp_path)
    )
    (ours,) = [p for p in listed if p["package_name"] == DIST_NAME]
    assert ours["version"] == __version__
    got = _run(
        wheel_venv, "airflow", "providers", "get", DIST_NAME, "--full", "-o", "json", tmp=tmp_path
    )
    (info,) = json.loads(got)
    assert info["documentation-url"].startswith("https://")
    hooks = json.loads(
        _run(wheel_venv, "airflow", "providers", "hooks", "-o", "json", tmp=tmp_path)
    )
    (hook,) = [h for h in hooks if h["connection_type"] == "labelbox"]
    assert hook["package_name"] == DIST_NAME and hook["hook_name"] == "Labelbox"


@pytest.mark.parametrize("script", ["labelbox-export", "labelbox-emulator"])
def test_console_scripts_run(wheel_venv: Path, tmp_path: Path, script: str) -> None:
    assert "usage:" in _run(wheel_venv, script, "--help", tmp=tmp_path)


def test_extras_resolve(wheel_venv: Path, tmp_path: Path) -> None:
    """Every extra's requirements resolve against the index (a dry run installs nothing)."""
    (wheel,) = (wheel_venv / "dist").glob("*.whl")
    report = tmp_path / "report.json"
    _run(
        wheel_venv, "pip", "install", "--dry-run", "-q", "--report", str(report),
        f"{wheel}[s3,gcs,postgres]", tmp=tmp_path,
    )  # fmt: skip
    would_install = {
        i["metadata"]["name"].lower() for i in json.loads(report.read_text())["install"]
    }
    assert "gcsfs" in would_install  # s3 and postgres are installed already
