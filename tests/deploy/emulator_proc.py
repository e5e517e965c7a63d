"""The Labelbox emulator as a user runs it beside Airflow: ``labelbox-emulator serve`` (wall clock).

It is the console script of the installed wheel, a process of its own on a loopback port; the
test drives it through its control endpoint (``/_emulator/...``).
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests.deploy.procs import kill_all


class EmulatorProcess:
    """``labelbox-emulator serve`` in a subprocess; ``control`` is an authenticated client."""

    def __init__(self, venv: Path, log_path: Path, *args: str) -> None:
        self.argv = [str(venv / "bin" / "labelbox-emulator"), "serve", "--port", "0", *args]
        self.log_path = log_path
        self.proc: subprocess.Popen[str] | None = None
        self.ready: dict[str, Any] = {}

    def __enter__(self) -> EmulatorProcess:
        with self.log_path.open("a") as log:
            self.proc = subprocess.Popen(
                self.argv, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the one ready line (JSON), then it serves
        if not line:
            self.__exit__()
            raise RuntimeError(f"emulator did not start: {self.log_path.read_text()[-2000:]}")
        self.ready = json.loads(line)
        headers = {"Authorization": f"Bearer {self.api_key}"}
        self.control = httpx.Client(base_url=self.ready["control_url"], headers=headers, timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            import psutil

            kill_all([psutil.Process(self.proc.pid)])

    @property
    def url(self) -> str:
        return str(self.ready["url"])

    @property
    def api_key(self) -> str:
        return str(self.ready["api_key"])

    @property
    def projects(self) -> list[dict[str, str]]:
        return list(self.ready["projects"])

    def connection(self) -> str:
        """``AIRFLOW_CONN_LABELBOX_DEFAULT``: the connection as JSON."""
        return json.dumps({"conn_type": "labelbox", "host": self.url, "password": self.api_key})

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self.control.request(method, path, **kwargs)
        r.raise_for_status()
        return r.json()

    def activity(self, counts: dict[str, int]) -> list[dict[str, Any]]:
        """Labels created, edited and deleted at the emulator's "now" (its wall clock)."""
        return list(
            self.call("POST", "/clock/advance", json={"seconds": 0, "events": counts})["events"]
        )

    def truth(self, project_id: str) -> list[dict[str, Any]]:
        r = self.control.get(f"/ground-truth/{project_id}")
        r.raise_for_status()
        return [json.loads(line) for line in r.text.splitlines() if line.strip()]

    def last_seq(self) -> int:
        """Sequence number of the newest request so far."""
        return max((int(e["seq"]) for e in self.call("GET", "/requests")), default=0)

    def exports_per_window(self, since: int = 0) -> Counter[tuple[str, str]]:
        """Exports created (after request ``since``) per (project, task name); the task name
        carries the batch id, which is a function of the window."""
        log = self.call("GET", "/requests", params={"since": since})
        return Counter((e["project_id"], e.get("task_name") or "") for e in log if e.get("created"))

    def set_polls(self, v2_polls: int) -> None:
        self.call("PATCH", "/settings", json={"v2_polls": v2_polls})
