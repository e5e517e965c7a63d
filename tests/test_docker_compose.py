"""docker-compose.yml is valid Compose, on Airflow's reference layout, with the emulator preset.

``docker-compose config`` parses, interpolates and validates the file without a container
engine (``scripts/ensure-docker-compose.sh`` installs Debian's docker-compose when missing).
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """The file as ``docker-compose config`` resolves it with ``.env.example``."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose is not installed: run scripts/ensure-docker-compose.sh "
            "(Debian package docker-compose; `config` needs no container engine)"
        )
    proc = subprocess.run(
        [
            binary,
            "--env-file",
            str(REPO / ".env.example"),
            "-f",
            str(REPO / "docker-compose.yml"),
            "config",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"docker-compose config failed:\n{proc.stderr}"
    data: dict[str, Any] = yaml.safe_load(proc.stdout)
    return data


def _argv(value: str | list[str] | None) -> list[str]:
    """A command as a list (docker-compose v1 prints the short string form)."""
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else list(value)


def _mount(volume: str | dict[str, Any]) -> tuple[str, str]:
    """``(target, source)`` of a volume in short (``src:dst[:mode]``) or long form."""
    if isinstance(volume, str):
        source, target = volume.split(":")[:2]
        return target, source
    return str(volume["target"]), str(volume.get("source", ""))


def test_reference_layout_and_emulator_service(config: dict[str, Any]) -> None:
    services = config["services"]
    assert {"postgres", "airflow-init", "labelbox-emulator", *AIRFLOW_SERVICES} <= set(services)
    commands = {name: _argv(services[name].get("command")) for name in AIRFLOW_SERVICES}
    assert commands == {
        "airflow-apiserver": ["api-server"],
        "airflow-scheduler": ["scheduler"],
        "airflow-dag-processor": ["dag-processor"],
        "airflow-triggerer": ["triggerer"],
    }
    for name in AIRFLOW_SERVICES:
        needs = services[name]["depends_on"]
        assert needs["airflow-init"]["condition"] == "service_completed_successfully"
        assert needs["postgres"]["condition"] == "service_healthy"
    emulator = services["labelbox-emulator"]
    argv = [*_argv(emulator["entrypoint"]), *_argv(emulator["command"])]
    # listens on all interfaces, signs URLs with the service address, accepts the preset key
    assert argv[:2] == ["labelbox-emulator", "serve"]
    options = dict(zip(argv[2::2], argv[3::2], strict=False))
    assert options["--host"] == "0.0.0.0"
    assert options["--port"] == "8080"
    assert options["--public-url"] == "http://labelbox-emulator:8080"
    preset = json.loads(
        services["airflow-scheduler"]["environment"]["AIRFLOW_CONN_LABELBOX_DEFAULT"]
    )
    assert options["--api-key"] == preset["password"]
    assert emulator["image"] == services["airflow-scheduler"]["image"]  # same image


def test_provider_is_built_from_the_repo(config: dict[str, Any]) -> None:
    for name in (*AIRFLOW_SERVICES, "airflow-init", "labelbox-emulator"):
        build = config["services"][name]["build"]
        assert Path(build["context"]).resolve() == REPO
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "COPY --chown=airflow:0 connectors /opt/labelbox-provider/connectors" in dockerfile
    assert "pip install --no-cache-dir" in dockerfile and "/opt/labelbox-provider" in dockerfile
    mounts = dict(_mount(v) for v in config["services"]["airflow-scheduler"]["volumes"])
    assert Path(mounts["/opt/airflow/dags"]).resolve() == REPO / "dags"
    assert Path(mounts["/opt/airflow/plugins"]).resolve() == REPO / "plugins"


def test_connections_are_preset(config: dict[str, Any]) -> None:
    env_file = dict(
        line.split("=", 1)
        for line in (REPO / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name in AIRFLOW_SERVICES:
        env = config["services"][name]["environment"]
        labelbox = json.loads(env["AIRFLOW_CONN_LABELBOX_DEFAULT"])
        assert labelbox["conn_type"] == "labelbox"
        assert labelbox["host"] == "http://labelbox-emulator:8080/graphql"
        assert labelbox["password"] == env_file["LABELBOX_API_KEY"]
        warehouse = json.loads(env["AIRFLOW_CONN_LABELBOX_WAREHOUSE"])
        assert warehouse["conn_type"] == "postgres"
        assert warehouse["host"] in config["services"]
        assert env["LABELBOX_PROJECT_IDS"] == env_file["LABELBOX_PROJECT_IDS"]


def test_env_example_matches_the_seeded_emulator() -> None:
    """The key and project ids in .env.example are those the emulator's seed builds."""
    from labelbox_provider.emulator.world import World

    env = dict(
        line.split("=", 1)
        for line in (REPO / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    media = tuple(env["LABELBOX_EMULATOR_MEDIA_TYPES"].split(","))
    world = World(seed=int(env["LABELBOX_EMULATOR_SEED"]), media_types=media)
    assert world.api_key == env["LABELBOX_API_KEY"]
    assert [p.id for p in world.projects()] == env["LABELBOX_PROJECT_IDS"].split(",")


def test_settings_are_those_the_deployment_tests_prove(config: dict[str, Any]) -> None:
    """Pool, retry delay, deferrable mode and the emulator's wall clock, as in tests/deploy."""
    from tests.deploy.scenario import POOL

    services = config["services"]
    env = services["airflow-scheduler"]["environment"]
    assert env["LABELBOX_POOL"] == POOL
    assert env["AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE"] == "true"
    assert float(env["LABELBOX_RETRY_DELAY_SECONDS"]) > 0
    assert env["LABELBOX_FLATTEN_PROCESSES"] == "auto"  # the settings module's default
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].endswith("/execution/")
    emulator = _argv(services["labelbox-emulator"]["command"])
    assert emulator[emulator.index("--clock") + 1] == "wall"
    init = " ".join(_argv(services["airflow-init"]["command"]))
    assert f"airflow pools set {POOL} " in init
