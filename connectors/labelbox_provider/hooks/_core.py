"""The hook's core: connection, settings, transport, GraphQL calls and polling.

``LabelboxHook`` (in ``labelbox.py``) builds on this with the export methods.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseHook

from labelbox_provider.exceptions import LabelboxExportTimeoutError, LabelboxNotFoundError
from labelbox_provider.hooks import _v2
from labelbox_provider.hooks._redact import redact
from labelbox_provider.hooks._settings import HookSettings, build_settings
from labelbox_provider.hooks._transport import AsyncTransport, SyncTransport

if TYPE_CHECKING:
    from airflow.sdk import Connection

S = TypeVar("S")
H = TypeVar("H", bound="HookCore")
EXPLICIT_CREDENTIALS = "<explicit credentials>"  # conn id shown by a hook built from credentials


class HookCore(BaseHook):
    """Connection handling and the GraphQL plumbing shared by every hook method."""

    def __init__(self, labelbox_conn_id: str = "labelbox_default", **tuning: Any) -> None:
        super().__init__()
        self.labelbox_conn_id = labelbox_conn_id
        self._tuning = dict(tuning)
        self._user_id: str | None = None
        self._async_settings: HookSettings | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(labelbox_conn_id={self.labelbox_conn_id!r})"

    @classmethod
    def from_credentials(
        cls: type[H], api_key: str, endpoint: str | None = None, **tuning: Any
    ) -> H:
        """A hook for an explicit key and endpoint, with no Airflow connection (the CLI's case).

        ``endpoint`` takes the same forms as the connection's host (empty: the public API). The
        settings are validated here, before any request; the key is registered for redaction.
        """
        settings = build_settings(host=endpoint, api_key=api_key, extras={}, overrides=tuning)
        hook = cls(labelbox_conn_id=EXPLICIT_CREDENTIALS, **tuning)
        hook.__dict__["settings"] = settings  # fills the cached property: no connection lookup
        hook._async_settings = settings
        return hook

    def _settings_from(self, conn: Connection) -> HookSettings:
        return build_settings(
            host=conn.host,
            api_key=conn.password,
            extras=conn.extra_dejson,
            overrides=self._tuning,
            port=conn.port,
            schema=conn.schema,
        )

    @cached_property
    def settings(self) -> HookSettings:
        """Validated settings, read from the connection on first use."""
        return self._settings_from(self.get_connection(self.labelbox_conn_id))

    @cached_property
    def transport(self) -> SyncTransport:
        """The sync transport (created on first use)."""
        return SyncTransport(self.settings)

    def get_conn(self) -> SyncTransport:
        """Return the sync transport (Airflow's conventional accessor)."""
        return self.transport

    def _gql(self, query: str, variables: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
        return self.transport.graphql(query, variables, what=what)

    async def _agql(self, query: str, variables: Mapping[str, Any] | None, what: str) -> Any:
        if self._async_settings is None:
            conn = await self.aget_connection(self.labelbox_conn_id)
            self._async_settings = self._settings_from(conn)
        return await AsyncTransport(self._async_settings).graphql(query, variables, what=what)

    def test_connection(self) -> tuple[bool, str]:
        """Check the endpoint and the key with one short call; never raises."""
        try:
            quick = replace(self.settings.retry_policy, max_retry_seconds=5.0)
            data = self.transport.graphql(_v2.USER_QUERY, {}, what="test connection", policy=quick)
        except Exception as exc:
            return False, redact(f"{type(exc).__name__}: {exc}")
        user = data.get("user") or {}
        who = user.get("email") or user.get("id") or "unknown user"
        return True, f"Connected to {self.settings.endpoint_redacted} as {who}"

    def get_project(self, project_id: str) -> dict[str, Any]:
        """Return the project's fields (``GetProjectPyApi``); raise if it does not exist."""
        data = self._gql(_v2.PROJECT_QUERY, {"param_0": project_id}, f"get project {project_id}")
        if not data.get("project"):
            raise LabelboxNotFoundError(f"project {project_id!r} not found")
        return dict(data["project"])

    def _poll(
        self, fetch: Callable[[], S], done: Callable[[S], bool], timeout: float, interval: float
    ) -> S:
        deadline = time.monotonic() + timeout
        while True:
            state = fetch()
            if done(state):
                return state
            left = deadline - time.monotonic()
            if left <= 0:
                raise LabelboxExportTimeoutError(f"not ready after {timeout:g}s; last: {state!r}")
            time.sleep(min(interval, left))
