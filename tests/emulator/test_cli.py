"""The ``labelbox-emulator`` console script, run as a subprocess."""

from __future__ import annotations

import json
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.integration

SCRIPT = Path(sys.executable).parent / "labelbox-emulator"


def _ready_line(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    if not selector.select(timeout):
        proc.kill()
        pytest.fail("labelbox-emulator printed nothing")
    return proc.stdout.readline()


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], dict[str, object]]]:
    faults = json.dumps([{"kind": "http_429", "target": "GetOrganizationPyApi", "count": 1}])
    proc = subprocess.Popen(
        [str(SCRIPT), "serve", "--seed", "5", "--project", "IMAGE:30", "--project", "VIDEO:4",
         "--v1-polls", "0", "--faults", faults],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield proc, json.loads(_ready_line(proc))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_serve_prints_one_json_line_and_serves(
    served: tuple[subprocess.Popen[str], dict[str, object]],
) -> None:
    proc, ready = served
    assert set(ready) == {"url", "api_key", "projects", "control_url", "base_url"}
    url, key = str(ready["url"]), str(ready["api_key"])
    assert url.startswith("http://127.0.0.1:") and url.endswith("/graphql")
    projects = ready["projects"]
    assert isinstance(projects, list)
    assert [p["media_type"] for p in projects] == ["IMAGE", "VIDEO"]
    assert all(set(p) == {"id", "name", "media_type"} for p in projects)
    body = {"query": "query GetOrganizationPyApi{organization{id name}}"}
    auth = {"Authorization": f"Bearer {key}"}
    assert requests.post(url, json=body, headers=auth, timeout=10).status_code == 429
    assert requests.post(url, json=body, headers=auth, timeout=10).status_code == 200
    counts = requests.get(f"{ready['control_url']}/fault-counts", headers=auth, timeout=10)
    assert counts.json() == {"http_429": 1}
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert out == ""  # nothing after the ready line
    assert key not in err


def test_bad_arguments_exit_with_usage() -> None:
    done = subprocess.run(
        [str(SCRIPT), "serve", "--project", "IMAGE"], capture_output=True, text=True, timeout=30,
        check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "MEDIA:LABELS" in done.stderr
    assert done.stdout == ""
