"""A thin client of Airflow's REST API v2 (SimpleAuthManager token) for the deployment tests."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

TERMINAL = {"success", "failed"}
T = TypeVar("T")


class StackError(RuntimeError):
    """The deployment under test did not do what the test needed."""


def _transient(exc: Exception) -> bool:
    """A busy api-server (a timeout, a refused connection, a 5xx): ask again later."""
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code >= 500


def wait_until(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    status: Callable[[], object] | None = None,
    every: float = 1.0,
) -> T:
    """Poll ``check`` until it returns something truthy; after ``timeout`` seconds raise a
    StackError naming ``what`` was awaited and, from ``status``, how far things got.

    The timeouts are generous (a loaded 2-core CI machine runs other suites meanwhile) but
    bounded; a quick condition returns at once, so they cost nothing on a quiet machine.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = check()
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:
            if not _transient(exc):
                raise
            result, last_error = None, exc
        if result:
            return result
        if time.monotonic() >= deadline:
            detail = ""
            if status is not None:
                try:
                    detail = f": {status()}"
                except Exception as exc:  # the status is for the message only
                    detail = f": (status unavailable: {exc!r})"
            if last_error is not None:
                detail += f" (last API error: {last_error!r})"
            raise StackError(f"{what}: not reached in {timeout:.0f}s{detail}")
        time.sleep(every)


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

    def wait_for_dag(self, dag_id: str, timeout: float = 300) -> dict[str, Any]:
        def parsed() -> dict[str, Any] | None:
            r = self.http.get(f"/api/v2/dags/{dag_id}")
            return dict(r.json()) if r.status_code == 200 else None

        return wait_until(
            parsed,
            timeout=timeout,
            what=f"DAG {dag_id} parsed",
            status=lambda: self.get("/api/v2/importErrors"),
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

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 900) -> dict[str, Any]:
        """The run once it is success or failed (StackError with its task states if not)."""

        def done() -> dict[str, Any] | None:
            run = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            return dict(run) if run["state"] in TERMINAL else None

        def progress() -> str:
            run = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            states = Counter(
                (t["task_id"], t["state"], t["try_number"])
                for t in self.task_instances(dag_id, run_id)
            )
            return f"run {run['state']}; (task, state, try): count {dict(states)}"

        return wait_until(
            done, timeout=timeout, what=f"run {dag_id}/{run_id} finished", status=progress
        )

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
