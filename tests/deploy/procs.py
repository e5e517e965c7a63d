"""Process plumbing of the deployment harness: ports, databases, components, clean stops.

Every component runs in its own session (process group), so a stop reaches its children. Task
runners call ``setsid()`` themselves and survive a SIGKILL of their supervisor, so the test
process also becomes a child subreaper: orphans are re-parented to it and can be killed too.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg2
from psycopg2 import sql

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"  # loopback only
PG_URL_BASE = "postgres@127.0.0.1:5432"
_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process the reaper of orphaned descendants (Linux); False elsewhere."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin(statement: sql.Composable) -> None:
    conn = psycopg2.connect(PG_ADMIN_DSN)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def create_database(name: str) -> None:
    """``CREATE DATABASE name`` on the local PostgreSQL server."""
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    """``DROP DATABASE IF EXISTS name WITH (FORCE)``."""
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class Component:
    """One long-running process of the deployment (api-server, scheduler, worker, ...)."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str]
    cwd: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = field(default=0.0)

    def start(self) -> None:
        self.started_at = time.time()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # own process group: killpg() reaches the children
                cwd=self.cwd,
            )

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def descendants(self) -> list[psutil.Process]:
        if not self.alive() or self.pid is None:
            return []
        try:
            return list(psutil.Process(self.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            return []

    def signal_group(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)  # pgid == pid (start_new_session)


def stop_components(components: list[Component], grace: float = 20.0) -> None:
    """SIGTERM every group, wait up to ``grace``, SIGKILL what is left, kill stray descendants."""
    since = min((c.started_at for c in components), default=time.time())
    stragglers = [p for c in components for p in c.descendants()]
    for comp in reversed(components):  # workers and scheduler first, api-server last
        if comp.alive():
            comp.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for comp in components:
        if comp.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                comp.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    for comp in components:
        comp.signal_group(signal.SIGKILL)  # even if the leader exited: its group may live on
        if comp.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                comp.proc.wait(timeout=5)
    kill_all(stragglers + orphans(since, {c.pid for c in components}))


def kill_all(procs: list[psutil.Process]) -> None:
    """SIGKILL and reap each process that still runs."""
    for proc in procs:
        try:
            if proc.is_running():
                proc.kill()
                proc.wait(timeout=5)
        except psutil.Error:
            pass


def orphans(since: float, exclude: set[int | None]) -> list[psutil.Process]:
    """Airflow processes re-parented to us (as subreaper) that started after ``since``."""
    out: list[psutil.Process] = []
    for child in psutil.Process().children(recursive=False):
        try:
            if (
                child.pid not in exclude
                and child.create_time() >= since - 1
                and "airflow" in " ".join(child.cmdline())
            ):
                out.append(child)
        except psutil.Error:
            continue
    return out
