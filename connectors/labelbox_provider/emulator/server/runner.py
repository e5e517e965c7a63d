"""`EmulatorServer`: the emulator's HTTP server running in a background thread.

>>> with EmulatorServer(seed=1, labels_per_project=5) as emu:  # doctest: +SKIP
...     client = labelbox.Client(api_key=emu.api_key, endpoint=emu.url)

The server binds a loopback port (0 = any free one) before the thread starts, so ``url`` is
known at once; the context manager returns when the server accepts connections.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from labelbox_provider.emulator.faults import FaultPlan, FaultRule
from labelbox_provider.emulator.server.state import EmulatorSettings, ServerState

if TYPE_CHECKING:
    import uvicorn

    from labelbox_provider.emulator.world.model import World

__all__ = ["EmulatorServer"]

_START_TIMEOUT = 10.0  # seconds to wait for the server thread to accept connections


class EmulatorServer:
    """A Labelbox API emulator on ``http://<host>:<port>`` (see the package docs).

    World options (``seed``, ``labels_per_project``, ``media_types``, ``projects`` and any other
    keyword of ``World``) build the simulated world unless ``world`` is given. The server's
    clock follows the wall clock by default (``clock="wall"``, as a real Airflow beside it
    expects); ``clock="fixed"`` (optionally with ``start``) is the reproducible one tests use.
    Protocol options are the fields of `EmulatorSettings`; ``faults`` is a list of fault rules
    (dicts or `FaultRule`).
    """

    def __init__(
        self,
        *,
        world: World | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Iterable[FaultRule | Mapping[str, Any]] = (),
        seed: int = 0,
        clock: str = "wall",
        settings: EmulatorSettings | None = None,
        v1_polls: int | None = None,
        v2_polls: int | None = None,
        chunk_size: int | None = None,
        url_ttl_seconds: float | None = None,
        v1_cache_seconds: float | None = None,
        auth_mode: str | None = None,
        api_key: str | None = None,
        public_url: str | None = None,
        **world_options: Any,
    ) -> None:
        self._host, self._port = host, port
        self._api_key = api_key  # None: the world's seed-derived key
        self._public_url = public_url.rstrip("/") if public_url else None
        self._bound_base_url = ""
        self._world = world
        self._world_options = {"seed": seed, "clock": clock, **world_options}
        self._settings = settings or EmulatorSettings()
        overrides = {
            "v1_polls": v1_polls,
            "v2_polls": v2_polls,
            "chunk_size": chunk_size,
            "url_ttl_seconds": url_ttl_seconds,
            "v1_cache_seconds": v1_cache_seconds,
            "auth_mode": auth_mode,
        }
        self._settings.update({k: v for k, v in overrides.items() if v is not None})
        self._faults = FaultPlan(seed, faults)
        self._state: ServerState | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        """Build the world, bind the socket, start serving; returns once it accepts requests."""
        import uvicorn

        from labelbox_provider.emulator.server.app import build_app

        if self._world is None:
            from labelbox_provider.emulator.world.model import World

            self._world = World(**self._world_options)
        if self._api_key is not None:
            self._world.api_key = self._api_key
        state = ServerState(self._world, self._settings, self._faults)
        state.signer.ttl_seconds = self._settings.url_ttl_seconds
        sock = _bind(self._host, self._port)
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self._bound_base_url = f"http://{shown}:{port}"
        state.base_url = self._public_url or self._bound_base_url
        config = uvicorn.Config(
            build_app(state),
            log_level="warning",
            access_log=False,  # access lines would carry signed-URL query strings
            lifespan="off",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._state = state
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name="labelbox-emulator",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving and remove spool files."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._state is not None:
            self._state.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- addresses -------------------------------------------------------------------
    @property
    def state(self) -> ServerState:
        """The shared server state (started servers only)."""
        if self._state is None:
            raise RuntimeError("the emulator is not started")
        return self._state

    @property
    def bound_base_url(self) -> str:
        """``http://host:port`` of the socket (differs from `base_url` given a public URL)."""
        return self._bound_base_url

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the server."""
        return self.state.base_url

    @property
    def url(self) -> str:
        """The GraphQL endpoint (what ``labelbox.Client(endpoint=...)`` takes)."""
        return self.base_url + "/graphql"

    @property
    def control_url(self) -> str:
        """Base URL of the control endpoint."""
        return self.base_url + "/_emulator"

    @property
    def api_key(self) -> str:
        """The API key the server accepts."""
        return str(self.world.api_key)

    @property
    def world(self) -> World:
        """The simulated world."""
        return self.state.world

    @property
    def settings(self) -> EmulatorSettings:
        """Protocol knobs (changes apply to the next request)."""
        return self._settings

    @property
    def projects(self) -> list[dict[str, Any]]:
        """``[{"id", "name", "media_type"}, ...]`` of the world's projects."""
        return [
            {"id": p.id, "name": p.name, "media_type": p.media_type}
            for p in self.state.projects.values()
        ]

    # --- world and faults --------------------------------------------------------------
    def advance(
        self, seconds: float = 0.0, events: Mapping[str, int] | None = None
    ) -> list[dict[str, Any]]:
        """Move the simulated clock and apply random events; returns the events."""
        with self.state.world_lock:
            made: list[dict[str, Any]] = self.world.advance(
                seconds=seconds, events=dict(events or {})
            )
        self.state.refresh()
        return made

    def add_event(
        self,
        kind: str,
        at: datetime | None = None,
        project_id: str | None = None,
        target: str | None = None,
        visible_after: float = 0.0,
    ) -> dict[str, Any]:
        """Schedule one specific event in the world."""
        with self.state.world_lock:
            made: dict[str, Any] = self.world.add_event(
                kind,
                at or self.world.now(),
                project_id=project_id,
                target=target,
                visible_after=visible_after,
            )
        self.state.refresh()
        return made

    def ground_truth(self, project_id: str) -> list[dict[str, Any]]:
        """The world's truth for a project (small worlds: the list is in memory)."""
        with self.state.world_lock:
            return list(self.world.ground_truth(project_id))

    def set_faults(self, rules: Sequence[FaultRule | Mapping[str, Any]]) -> None:
        """Replace the fault rules."""
        self._faults.replace(rules)

    def fault_counts(self) -> dict[str, int]:
        """Faults injected so far, per kind."""
        return self._faults.counts()

    def reset_counts(self) -> None:
        """Zero the fault counters."""
        self._faults.reset_counts()

    def request_log(self) -> list[dict[str, Any]]:
        """Every request so far: kind, operation, project, export ids, status, fault."""
        return self.state.request_log()

    def exports_created(self) -> list[str]:
        """Ids of the exports (v1 files, v2 tasks) created so far, in order."""
        return [e["export_id"] for e in self.request_log() if e.get("created")]


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
