"""A thin client of Airflow's REST API v2 (SimpleAuthManager token) for the deployment tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx

TERMINAL = {"success", "failed"}


class StackError(RuntimeError):
    """The deployment under test did not do what the test needed."""


class AirflowClient:
    """``POST /auth/token``, then bearer-token calls on ``/api/v2``."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        r = httpx.post(
            f"{base_url}/auth/token", json={"username": username, "password": password}, timeout=30
        )
        r.raise_for_status()
        token = r.json()["access_token"]
        self.http = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def get(self, path: str, **params: Any) -> Any:
        r = self.http.get(path, params=params or None)
        r.raise_for_status()
        return r.json()

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.http.get(f"/api/v2/dags/{dag_id}")
            if r.status_code == 200:
                return dict(r.json())
            time.sleep(0.5)
        raise StackError(
            f"DAG {dag_id} not parsed in {timeout}s: {self.get('/api/v2/importErrors')}"
        )

    def unpause(self, dag_id: str) -> None:
        self.http.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Start a run now (its logical date is now); returns the run id."""
        body = {"logical_date": datetime.now(UTC).isoformat(), "conf": conf or {}}
        r = self.http.post(f"/api/v2/dags/{dag_id}/dagRuns", json=body)
        if r.status_code >= 400:
            raise StackError(f"trigger of {dag_id} failed {r.status_code}: {r.text}")
        return str(r.json()["dag_run_id"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:
            run = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in TERMINAL:
                return run
            time.sleep(0.5)
        raise StackError(f"run {dag_id}/{run_id} not done in {timeout}s: {run.get('state')}")

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/api/v2/dags/{dag_id}/dagRuns", limit=100)["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every TI of a run, one row per map index."""
        out: list[dict[str, Any]] = []
        while True:
            page = self.get(
                f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100, offset=len(out)
            )
            out.extend(page["task_instances"])
            if not page["task_instances"] or len(out) >= page["total_entries"]:
                return out

    def set_pool(self, name: str, slots: int, description: str) -> None:
        """Create or update a pool."""
        body = {"name": name, "slots": slots, "description": description}
        r = self.http.post("/api/v2/pools", json=body)
        if r.status_code == 409:
            r = self.http.patch(f"/api/v2/pools/{name}", json=body)
        r.raise_for_status()

    def asset_events(self, **params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            page = self.get("/api/v2/assets/events", limit=100, offset=len(out), **params)
            out.extend(page["asset_events"])
            if not page["asset_events"] or len(out) >= page["total_entries"]:
                return out

    def alias_names(self) -> set[str]:
        return {a["name"] for a in self.get("/api/v2/assets/aliases")["asset_aliases"]}
