"""A mirror made by the emulator through the operator, and a real api-server with the plugin.

``page_mirror`` runs ``build_mirror.py`` in a fresh process with StatsD pointed at a UDP socket
of this process (so the operator's metrics can be checked); ``api_server`` starts
``airflow api-server`` on a free port with the plugin loaded, SimpleAuthManager users, and a
test-only auth manager (``deny_auth_manager.py``) that refuses DAG and asset read to one user.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from labelbox_provider.emulator.testing import running_emulator
from labelbox_provider.state.windows import isoformat

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
AIRFLOW = Path(sys.executable).with_name("airflow")
# user -> SimpleAuthManager role; "nobody" has no role, "denied" is refused by the test manager
USERS = {"admin": "ADMIN", "viewer": "VIEWER", "nobody": "", "denied": "VIEWER"}
FAULTS = [{"kind": "malformed_record", "target": "record:v2", "probability": 0.1}]
DAY = 86_400.0  # seconds
EVENTS = {"label_created": 4, "label_updated": 4, "review_applied": 2, "workflow_moved": 2}


@dataclass
class PageMirror:
    """Where the mirror is and what the operator sent to StatsD while making it."""

    root: str
    project: str
    packets: list[str] = field(default_factory=list)


def _python_path() -> str:
    parts = [
        str(REPO / "connectors"),
        str(REPO / "dags"),
        str(HERE),
        os.environ.get("PYTHONPATH", ""),
    ]
    return os.pathsep.join(p for p in parts if p)


def _receive(sock: socket.socket) -> list[str]:
    sock.settimeout(0.5)
    got = []
    while True:
        try:
            got.append(sock.recv(65535).decode())
        except TimeoutError:
            return got


@pytest.fixture(scope="session")
def page_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where the page's mirror is (made by ``page_mirror``)."""
    return str(tmp_path_factory.mktemp("page") / "mirror")


@pytest.fixture(scope="session")
def page_mirror(airflow_db: None, page_root: str, server_process: Any) -> Iterator[PageMirror]:
    """History to a split, a gap of one day, two backfill days; rejects; one pending export.

    Built while the api-server starts (``server_process``): it reads the mirror per request.
    """
    root = page_root
    with running_emulator(media_types=["IMAGE"], labels_per_project=40, faults=FAULTS) as emu:
        project = emu.projects[0]["id"]
        split = emu.world.now()
        for _ in range(4):  # four days of activity after the split
            emu.advance(DAY, events=EVENTS)
        start = split - timedelta(days=60)
        conn = {"conn_type": "labelbox", "host": emu.url, "password": emu.api_key}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            env = {
                **os.environ,
                "PYTHONPATH": _python_path(),
                "AIRFLOW_CONN_LABELBOX_DEFAULT": json.dumps(conn),
                "AIRFLOW__METRICS__STATSD_ON": "True",
                "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
                "AIRFLOW__METRICS__STATSD_PORT": str(sock.getsockname()[1]),
                "AIRFLOW__METRICS__STATSD_INFLUXDB_ENABLED": "True",  # keeps the tags
            }
            script = str(HERE / "build_mirror.py")
            cmd = [sys.executable, script, root, project, isoformat(start), isoformat(split)]
            done = subprocess.run(
                cmd, check=False, env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, done.stderr[-4000:]
            yield PageMirror(root, project, _receive(sock))


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, token: str | None = None) -> tuple[int, Any, dict[str, str]]:
    """GET without following redirects: status, JSON (or text) body, headers."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=30) as r:
            body, status, got = r.read().decode(), r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        body, status, got = e.read().decode(), e.code, dict(e.headers)
    try:
        return status, json.loads(body), got
    except ValueError:
        return status, body, got


def token(base: str, user: str) -> str:
    """A JWT for ``user`` from SimpleAuthManager's token endpoint (password = user name)."""
    req = urllib.request.Request(
        f"{base}/auth/token",
        data=json.dumps({"username": user, "password": user}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return str(json.load(r)["access_token"])


def _server_env(home: Path, port: int, root: str) -> dict[str, str]:
    (home / "passwords.json").write_text(json.dumps({u: u for u in USERS}))
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "PYTHONPATH": _python_path(),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__AUTH_MANAGER": "deny_auth_manager.DenyListAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "LABELBOX_TEST_DENY_USERS": "denied",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": "page-test-jwt-secret",
        "AIRFLOW__API__SECRET_KEY": "page-test-secret-key",
        "LABELBOX_MIRROR_ROOT": root,
        "LABELBOX_MIRROR_STORAGE_OPTIONS": json.dumps({"auto_mkdir": False}),
        "LABELBOX_MIRROR_STALE_AFTER_HOURS": "24",
    }


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if http_get(f"{base}/api/v2/monitor/health")[0] == 200:
                return
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    raise RuntimeError(f"api-server did not start:\n{log.read_text()[-4000:]}")


@dataclass
class ServerProcess:
    """A started (maybe not yet ready) api-server."""

    base: str
    proc: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="session")
def server_process(page_root: str) -> Iterator[ServerProcess]:
    """``airflow api-server`` with the plugin, started; stopped (its group only) at the end."""
    home = Path(tempfile.mkdtemp(prefix="lbx-page-airflow-"))
    port = free_port()
    env = _server_env(home, port, page_root)
    subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, check=True, capture_output=True)
    log = home / "api-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(AIRFLOW), "api-server", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield ServerProcess(f"http://127.0.0.1:{port}", proc, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def api_server(server_process: ServerProcess, page_mirror: PageMirror) -> str:
    """Base URL of the api-server, once it answers and the mirror is made."""
    _wait_healthy(server_process.base, server_process.proc, server_process.log)
    return server_process.base
