"""Shared state of one emulator server: world, settings, exports, faults, request log."""

from __future__ import annotations

import itertools
import tempfile
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from labelbox_provider.emulator.faults import FaultPlan
from labelbox_provider.emulator.server.exports import (
    ExportJob,
    Fate,
    Spool,
    filter_key,
    render_v1,
    render_v2,
    start_spool,
)
from labelbox_provider.emulator.server.signing import UrlSigner
from labelbox_provider.emulator.world.ids import hashed_id

if TYPE_CHECKING:
    from datetime import datetime

    from labelbox_provider.emulator.world.api import ExportFilter, ProjectInfo, V2Params
    from labelbox_provider.emulator.world.model import World

__all__ = ["EmulatorSettings", "ServerState"]


@dataclass
class EmulatorSettings:
    """Protocol knobs of the server; all changeable at run time via the control endpoint."""

    v1_polls: int = 1  # exportLabels answers shouldPoll=true this many times first
    v2_polls: int = 1  # task status reads answered IN_PROGRESS this many times first
    chunk_size: int = 4 * 1024 * 1024  # bytes per exportFileFromOffset chunk
    url_ttl_seconds: float = 3600.0  # real seconds a signed download URL stays valid
    v1_cache_seconds: float = 1800.0  # real seconds an identical v1 export is reused
    auth_mode: Literal["graphql", "http401"] = "graphql"  # how a bad API key is answered
    ready_wait_seconds: float = 2.0  # how long a "done" poll waits for the spool to finish
    request_log_size: int = 100_000  # request log entries kept (oldest dropped)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply known keys of `changes` (unknown keys raise ValueError)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        for key, value in changes.items():
            setattr(self, key, type(getattr(self, key))(value))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        return asdict(self)


class ServerState:
    """Everything the request handlers share; thread-safe where handlers meet."""

    def __init__(
        self,
        world: World,
        settings: EmulatorSettings,
        faults: FaultPlan,
        spool_dir: Path | None = None,
    ) -> None:
        self.world = world
        self.settings = settings
        self.faults = faults
        self.world_lock = threading.RLock()
        self.signer = UrlSigner(settings.url_ttl_seconds)
        self.base_url = ""  # set once the socket is bound
        self._tmp = (
            None
            if spool_dir
            else tempfile.TemporaryDirectory(prefix="lbx-emu-", ignore_cleanup_errors=True)
        )
        self.spool_dir = spool_dir or Path(self._tmp.name if self._tmp else ".")
        self._lock = threading.Lock()
        self._jobs: dict[str, ExportJob] = {}
        self._v1_cache: dict[str, ExportJob] = {}
        self._counter = itertools.count(1)
        self._log: deque[dict[str, Any]] = deque(maxlen=settings.request_log_size)
        self._seq = itertools.count(1)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the project list from the world (after it changed)."""
        with self.world_lock:
            self.projects: dict[str, ProjectInfo] = {p.id: p for p in self.world.projects()}

    @property
    def clock(self) -> datetime:
        """The world's clock (read live: a wall clock moves between requests)."""
        return self.world.now()

    def close(self) -> None:
        """Remove spool files."""
        if self._tmp is not None:
            self._tmp.cleanup()

    # --- request log -------------------------------------------------------------------
    def log(self, **entry: Any) -> dict[str, Any]:
        """Append one request-log entry (never holds secrets) and return it."""
        entry = {"seq": next(self._seq), "time": time.time(), **entry}
        with self._lock:
            self._log.append(entry)
        return entry

    def request_log(self) -> list[dict[str, Any]]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return [dict(entry) for entry in self._log]

    # --- exports ---------------------------------------------------------------------
    def _new_id(self, kind: str) -> str:
        return hashed_id("export", kind, next(self._counter), time.time_ns())

    def _fate(self, tag: str) -> Fate:
        rule = self.faults.decide(["export", tag], kinds=["stuck", "export_failed"])
        if rule is None:
            return "ok"
        return "stuck" if rule.kind == "stuck" else "failed"

    def export_count(self) -> int:
        """Number of exports (v1 files and v2 tasks) created so far."""
        with self._lock:
            return len(self._jobs)

    def job(self, job_id: str) -> ExportJob | None:
        """The export job with this id, if any."""
        with self._lock:
            return self._jobs.get(job_id)

    def v1_export(self, project_id: str, flt: ExportFilter) -> tuple[ExportJob, bool]:
        """The cached v1 export for these filters, or a new one; and whether it is new."""
        key = f"{project_id}|{filter_key(flt)}"
        with self._lock:
            cached = self._v1_cache.get(key)
            if cached is not None and (
                cached.status() == "in_progress"  # still being polled: the same export
                or time.monotonic() - cached.created_mono < self.settings.v1_cache_seconds
            ):
                return cached, False
            job = ExportJob(
                id=self._new_id("v1"),
                kind="v1",
                project_id=project_id,
                key=key,
                created_at=self.clock,
                fate=self._fate("export:v1"),
                result=Spool(self.spool_dir / f"v1-{next(self._counter)}.json"),
                polls_needed=self.settings.v1_polls,
            )
            self._jobs[job.id] = job
            self._v1_cache[key] = job
        records = self._iter_locked(lambda: self.world.iter_v1(project_id, flt))
        start_spool(
            job.result,
            render_v1(records, self.base_url, self.faults),
            ndjson=False,
            lock=self.world_lock,
        )
        return job, True

    def v2_task(
        self, project_id: str, flt: ExportFilter, params: V2Params, name: str | None
    ) -> ExportJob:
        """Create an export v2 task (always a new one)."""
        with self._lock:
            n = next(self._counter)
            job = ExportJob(
                id=self._new_id("v2"),
                kind="v2",
                project_id=project_id,
                key=f"{project_id}|{filter_key(flt)}",
                created_at=self.clock,
                fate=self._fate("export:v2"),
                result=Spool(self.spool_dir / f"v2-{n}-result.ndjson"),
                errors=Spool(self.spool_dir / f"v2-{n}-errors.ndjson"),
                name=name,
                polls_needed=self.settings.v2_polls,
            )
            self._jobs[job.id] = job
        rows = self._iter_locked(lambda: self.world.iter_v2(project_id, flt, params))
        start_spool(
            job.result,
            render_v2(rows, self.base_url, self.faults),
            ndjson=True,
            lock=self.world_lock,
        )
        errs = self._iter_locked(lambda: self.world.v2_errors(project_id, flt))
        assert job.errors is not None
        start_spool(job.errors, render_v2(errs, self.base_url), ndjson=True, lock=self.world_lock)
        return job

    @staticmethod
    def _iter_locked(make: Any) -> Any:
        """Defer creating the world iterator until the spool thread (holding the lock) runs."""
        yield from make()
