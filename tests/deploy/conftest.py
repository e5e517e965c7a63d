"""Fixtures of the deployment tests: the wheel's venv, the services, one emulator per module.

The tests need ``.venv-wheel`` (``make wheel-venv``: Airflow 3.3.2, the provider from its wheel,
the Celery provider) and the machine's PostgreSQL and Redis on loopback. Without them the tests
skip on a laptop; under ``CI=true`` they fail instead, so CI never passes by skipping.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.emulator_proc import EmulatorProcess

REPO = Path(__file__).resolve().parents[2]
WHEEL_VENV = REPO / ".venv-wheel"
# 20 projects, a mix of media types, a three-day history ending now (wall clock)
MEDIA = ("IMAGE", "TEXT", "VIDEO", "IMAGE", "CONVERSATIONAL")
N_PROJECTS, LABELS = 20, 6


def _missing() -> str | None:
    if not (WHEEL_VENV / ".installed").exists():
        return f"{WHEEL_VENV} is missing: run `make wheel-venv`"
    for name, port in (("PostgreSQL", 5432), ("Redis", 6379)):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            return f"{name} is not running on 127.0.0.1:{port}"
    return None


@pytest.fixture(scope="session")
def wheel_venv() -> Path:
    """The venv with the provider installed from its wheel (skip, or fail under CI)."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"deployment tests cannot run: {reason}")
        pytest.skip(reason)
    return WHEEL_VENV


@pytest.fixture(scope="package")
def deploy_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deploy")


@pytest.fixture(scope="package")
def emulator(wheel_venv: Path, deploy_tmp: Path) -> Iterator[EmulatorProcess]:
    """``labelbox-emulator serve`` with its default wall clock, shared by both executors."""
    projects = [f"--project={MEDIA[i % len(MEDIA)]}:{LABELS}" for i in range(N_PROJECTS)]
    args = ("--seed", "12", "--history-days", "3", "--v2-polls", "1", *projects)
    with EmulatorProcess(wheel_venv, deploy_tmp / "emulator.log", *args) as emu:
        yield emu
