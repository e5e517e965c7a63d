"""LabelboxHook: the only code that talks to Labelbox (GraphQL, exports v1/v2, downloads).

Connection ``labelbox``: password = API key; host = a base URL (``https://api.labelbox.com``),
the full GraphQL endpoint (``http://127.0.0.1:8080/graphql``, what the emulator prints) or empty
(the public API); extras = tuning (see ``HookSettings``).  Nothing is fetched in ``__init__``.

The class is whole here; the wire details live beside it: ``export_v1`` / ``export_v2`` (request
texts and answer parsing), ``transport`` (HTTP), ``retry``, ``download`` (spool files with byte
checks), ``frames`` (video), ``settings``, ``redact``, ``dates`` and ``errors``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

from airflow.sdk import BaseHook

from labelbox_provider.exceptions import (
    LabelboxError,
    LabelboxExportFailedError,
    LabelboxExportTimeoutError,
    LabelboxNotFoundError,
)
from labelbox_provider.hooks import export_v2
from labelbox_provider.hooks.dates import DateInput
from labelbox_provider.hooks.download import ChunkedDownload, DownloadResult, V1Download
from labelbox_provider.hooks.download import iter_ndjson as _iter_ndjson
from labelbox_provider.hooks.export_v1 import ExportV1Status, parse_v1_answer, v1_query
from labelbox_provider.hooks.export_v1 import validate_v1_filters as _v1_filters
from labelbox_provider.hooks.export_v2 import Chunk, ExportTaskStatus, StreamHeader
from labelbox_provider.hooks.frames import FrameItem, FramesDownload, iter_frame_urls
from labelbox_provider.hooks.frames import iter_v2_frames as _iter_v2_frames
from labelbox_provider.hooks.polling import poll_delays
from labelbox_provider.hooks.redact import redact
from labelbox_provider.hooks.settings import HookSettings, build_settings
from labelbox_provider.hooks.transport import AsyncTransport, SyncTransport

if TYPE_CHECKING:
    from airflow.sdk import Connection

__all__ = ["DownloadResult", "ExportTaskStatus", "ExportV1Status", "FrameItem", "LabelboxHook"]

S = TypeVar("S")
EXPLICIT_CREDENTIALS = "<explicit credentials>"  # conn id shown by a hook built from credentials


class LabelboxHook(BaseHook):
    """Talk to the Labelbox API through an Airflow connection of type ``labelbox``.

    :param labelbox_conn_id: the Airflow connection id.
    :param tuning: overrides of the connection extras (``timeout``, ``max_retry_seconds``,
        ``poll_interval``, ``frames_workers``...; see ``HookSettings``), e.g. ``endpoint=``.
    """

    conn_name_attr = "labelbox_conn_id"
    default_conn_name = "labelbox_default"
    conn_type = "labelbox"
    hook_name = "Labelbox"

    def __init__(self, labelbox_conn_id: str = "labelbox_default", **tuning: Any) -> None:
        super().__init__()
        self.labelbox_conn_id = labelbox_conn_id
        self._tuning = dict(tuning)
        self._user_id: str | None = None
        self._async_settings: HookSettings | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(labelbox_conn_id={self.labelbox_conn_id!r})"

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Connection form for Airflow < 3.2 (newer versions read it from the provider info)."""
        from labelbox_provider import UI_FIELD_BEHAVIOUR

        return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}

    # -- connection, settings, GraphQL -----------------------------------------------------------

    @classmethod
    def from_credentials(cls, api_key: str, endpoint: str | None = None, **tuning: Any) -> Self:
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

    def _poll(
        self, fetch: Callable[[], S], done: Callable[[S], bool], timeout: float, interval: float
    ) -> S:
        deadline = time.monotonic() + timeout
        for delay in poll_delays(interval):
            state = fetch()
            if done(state):
                return state
            left = deadline - time.monotonic()
            if left <= 0:
                raise LabelboxExportTimeoutError(f"not ready after {timeout:g}s; last: {state!r}")
            time.sleep(min(delay, left))
        raise AssertionError("poll_delays is endless")  # pragma: no cover

    def test_connection(self) -> tuple[bool, str]:
        """Check the endpoint and the key with one short call; never raises."""
        try:
            quick = replace(self.settings.retry_policy, max_retry_seconds=5.0)
            data = self.transport.graphql(
                export_v2.USER_QUERY, {}, what="test connection", policy=quick
            )
        except Exception as exc:
            return False, redact(f"{type(exc).__name__}: {exc}")
        user = data.get("user") or {}
        who = user.get("email") or user.get("id") or "unknown user"
        return True, f"Connected to {self.settings.endpoint_redacted} as {who}"

    def get_project(self, project_id: str) -> dict[str, Any]:
        """Return the project's fields (``GetProjectPyApi``); raise if it does not exist."""
        variables = {"param_0": project_id}
        data = self._gql(export_v2.PROJECT_QUERY, variables, f"get project {project_id}")
        if not data.get("project"):
            raise LabelboxNotFoundError(f"project {project_id!r} not found")
        return dict(data["project"])

    # -- export v1 (exportLabels) ----------------------------------------------------------------

    def request_export_v1(
        self,
        project_id: str,
        *,
        start: DateInput = None,
        end: DateInput = None,
        last_activity_start: DateInput = None,
        last_activity_end: DateInput = None,
    ) -> ExportV1Status:
        """Send one ``exportLabels`` call (the server answers "poll again" or a URL)."""
        query = v1_query(_v1_filters(start, end, last_activity_start, last_activity_end))
        return self._ask_v1(project_id, query)

    def _ask_v1(self, project_id: str, query: str) -> ExportV1Status:
        data = self._gql(query, {"projectId": project_id}, f"v1 export of {project_id}")
        return parse_v1_answer(project_id, data)

    async def arequest_export_v1(
        self,
        project_id: str,
        *,
        start: DateInput = None,
        end: DateInput = None,
        last_activity_start: DateInput = None,
        last_activity_end: DateInput = None,
    ) -> ExportV1Status:
        """Async :meth:`request_export_v1` for the triggerer."""
        query = v1_query(_v1_filters(start, end, last_activity_start, last_activity_end))
        data = await self._agql(query, {"projectId": project_id}, f"v1 export of {project_id}")
        return parse_v1_answer(project_id, data)

    def download_export_v1(
        self,
        project_id: str,
        dest: Path,
        *,
        start: DateInput = None,
        end: DateInput = None,
        last_activity_start: DateInput = None,
        last_activity_end: DateInput = None,
        timeout: float = 1800,
        poll_interval: float = 2,
    ) -> DownloadResult:
        """Poll ``exportLabels`` until ready (or raise after ``timeout``), then stream the file.

        A failed, expired or truncated transfer asks for a fresh URL and resumes.
        """
        query = v1_query(_v1_filters(start, end, last_activity_start, last_activity_end))

        def ask() -> ExportV1Status:
            return self._ask_v1(project_id, query)

        status = self._poll(ask, lambda s: s.ready, timeout, poll_interval)
        download = V1Download(
            self.transport,
            ask,
            status,
            self.settings.retry_policy,
            self.settings.download_chunk_bytes,
        )
        result = download.run(Path(dest))
        self.log.info("v1 export of %s: %d bytes", project_id, result.size)
        return result

    def label_generator(self, project_id: str, **filters: Any) -> Iterator[dict[str, Any]]:
        """Yield the v1 records of a project one by one from a spooled download.

        ``filters`` are those of :meth:`download_export_v1` (dates, ``timeout``...).
        """
        import msgspec

        from labelbox_provider.io.jsonstream import iter_raw_records

        decoder = msgspec.json.Decoder()
        with tempfile.TemporaryDirectory(prefix="lbx-v1-") as tmp:
            result = self.download_export_v1(project_id, Path(tmp) / "export.json", **filters)
            with open(result.path, "rb") as fp:
                for position, raw in iter_raw_records(fp, "auto"):
                    try:
                        yield decoder.decode(raw)
                    except msgspec.DecodeError as exc:
                        raise LabelboxError(f"v1 record {position} is not JSON: {exc}") from None

    # -- export v2 (streamable task) -------------------------------------------------------------

    def create_export_v2(
        self,
        project_id: str,
        *,
        last_activity: tuple[DateInput, DateInput] | None = None,
        label_created: tuple[DateInput, DateInput] | None = None,
        data_row_ids: Sequence[str] | None = None,
        global_keys: Sequence[str] | None = None,
        workflow_status: str | None = None,
        params: Mapping[str, Any] | None = None,
        task_name: str | None = None,
    ) -> str:
        """Start a streamable export task of a project; return its task id.

        Filters are validated before any request.  Date windows are inclusive at both ends.
        """
        search = export_v2.build_search_query(
            last_activity=last_activity,
            label_created=label_created,
            data_row_ids=data_row_ids,
            global_keys=global_keys,
            workflow_status=workflow_status,
        )
        variables = export_v2.create_variables(
            project_id, task_name, search, export_v2.build_params(params)
        )
        what = f"create export of project {project_id}"
        data = self._gql(export_v2.CREATE_QUERY, variables, what)
        task_id = (data.get("exportDataRowsInProject") or {}).get("taskId")
        if not task_id:
            raise LabelboxError(f"export of project {project_id!r} returned no task id")
        self.log.info("Export v2 task %s created for project %s", task_id, project_id)
        return str(task_id)

    def _user_of(self, data: Mapping[str, Any]) -> str:
        self._user_id = str((data.get("user") or {}).get("id") or "")
        if not self._user_id:
            raise LabelboxError("the API did not return the current user's id")
        return self._user_id

    def get_export_task(self, task_id: str) -> ExportTaskStatus:
        """One status call for an export task (re-attach to any task by its id)."""
        user = self._user_id or self._user_of(self._gql(export_v2.USER_QUERY, {}, "get user"))
        variables = {"param_0": task_id, "param_1": user}
        data = self._gql(export_v2.TASK_QUERY, variables, f"task {task_id}")
        return export_v2.parse_task(task_id, data)

    async def aget_export_task(self, task_id: str) -> ExportTaskStatus:
        """Async :meth:`get_export_task` for the triggerer (same queries, same parsing)."""
        user = self._user_id or self._user_of(
            await self._agql(export_v2.USER_QUERY, {}, "get user")
        )
        variables = {"param_0": task_id, "param_1": user}
        data = await self._agql(export_v2.TASK_QUERY, variables, f"task {task_id}")
        return export_v2.parse_task(task_id, data)

    def wait_for_export_task(
        self, task_id: str, *, timeout: float | None = None, poll_interval: float | None = None
    ) -> ExportTaskStatus:
        """Poll until COMPLETE; raise on FAILED or when ``timeout`` seconds pass."""
        status = self._poll(
            lambda: self.get_export_task(task_id),
            lambda s: s.done,
            self.settings.export_timeout if timeout is None else timeout,
            poll_interval or self.settings.poll_interval,
        )
        if status.status == "FAILED":
            raise LabelboxExportFailedError(status.message)
        return status

    def get_stream_header(self, task_id: str, stream_type: str = "RESULT") -> StreamHeader | None:
        """Size in bytes and lines of a task's stream, or ``None`` if it has none."""
        if stream_type not in export_v2.STREAM_TYPES:
            raise LabelboxError(f"stream_type must be one of {export_v2.STREAM_TYPES}")
        variables = {"where": {"id": task_id}, "streamType": stream_type}
        data = self._gql(export_v2.HEADER_QUERY, variables, f"header of {task_id}")
        return export_v2.parse_header(data)

    def get_export_chunk(self, task_id: str, offset: int, stream_type: str = "RESULT") -> Chunk:
        """Ask for the chunk starting at byte ``offset`` (a fresh signed URL each call)."""
        variables = {"where": {"id": task_id}, "streamType": stream_type, "offset": str(offset)}
        data = self._gql(export_v2.CHUNK_QUERY, variables, f"chunk {offset} of {task_id}")
        return export_v2.parse_chunk(data, offset)

    def download_export_v2(
        self, task_id: str, dest: Path, *, stream_type: str = "RESULT"
    ) -> DownloadResult | None:
        """Download a finished task's stream to ``dest`` (NDJSON), every chunk size-checked.

        Resumes from ``<dest>.offset`` left by an interrupted earlier call.  Returns ``None``
        when the task has no such stream (e.g. nothing matched the filters, or no errors).
        """
        header = self.get_stream_header(task_id, stream_type)
        if header is None:
            return None
        download = ChunkedDownload(
            self.transport,
            lambda offset: self.get_export_chunk(task_id, offset, stream_type),
            header,
            self.settings.retry_policy,
            self.settings.download_chunk_bytes,
            stream_type=stream_type,
        )
        result = download.run(Path(dest), task_id)
        self.log.info(
            "Export %s %s: %d bytes, %d lines", task_id, stream_type, result.size, result.lines
        )
        return result

    def iter_export_v2(
        self, task_id: str, *, stream_type: str = "RESULT"
    ) -> Iterator[dict[str, Any]]:
        """Yield the records of a finished task (spooled to a temporary file, then streamed)."""
        with tempfile.TemporaryDirectory(prefix="lbx-v2-") as tmp:
            result = self.download_export_v2(
                task_id, Path(tmp) / "export.ndjson", stream_type=stream_type
            )
            if result is not None:
                yield from _iter_ndjson(result.path)

    def iter_export_errors(self, task_id: str) -> Iterator[dict[str, Any]]:
        """Yield the records of the task's ERRORS stream (nothing if it has none)."""
        return self.iter_export_v2(task_id, stream_type="ERRORS")

    # -- video frames ----------------------------------------------------------------------------

    def download_v1_frames(
        self, export_file: Path, frames_dir: Path, *, max_workers: int | None = None
    ) -> int:
        """Fetch every ``Label.frames`` file named in a spooled v1 export.

        Writes ``<frames_dir>/<label id>.ndjson``; at most ``max_workers`` (default: the
        ``frames_workers`` setting) transfers at a time.  Returns the number of files written.
        """
        workers = max_workers or self.settings.frames_workers
        frames = FramesDownload(
            self.transport, self.settings.retry_policy, self.settings.download_chunk_bytes
        )
        return frames.run(iter_frame_urls(Path(export_file)), Path(frames_dir), workers)

    @staticmethod
    def iter_v2_frames(
        record: Mapping[str, Any], *, include_classifications: bool = False
    ) -> Iterator[FrameItem]:
        """Yield ``(frame_number, feature_id, annotation)`` from a v2 video label or record."""
        return _iter_v2_frames(record, include_classifications=include_classifications)
