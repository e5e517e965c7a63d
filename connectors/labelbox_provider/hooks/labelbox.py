"""LabelboxHook: the only code that talks to Labelbox (GraphQL, exports v1/v2, downloads).

Connection ``labelbox``: password = API key; host = a base URL (``https://api.labelbox.com``),
the full GraphQL endpoint (``http://127.0.0.1:8080/graphql``, what the emulator prints) or empty
(the public API); extras = tuning (see ``HookSettings``).  Nothing is fetched in ``__init__``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from labelbox_provider.exceptions import LabelboxError, LabelboxExportFailedError
from labelbox_provider.hooks import _v2
from labelbox_provider.hooks._dates import DateInput
from labelbox_provider.hooks._download import ChunkedDownload, DownloadResult
from labelbox_provider.hooks._download import iter_ndjson as _iter_ndjson
from labelbox_provider.hooks._frames import FrameItem
from labelbox_provider.hooks._hook_v1 import ExportV1Methods
from labelbox_provider.hooks._v1 import ExportV1Status
from labelbox_provider.hooks._v2 import Chunk, ExportTaskStatus, StreamHeader

__all__ = ["DownloadResult", "ExportTaskStatus", "ExportV1Status", "FrameItem", "LabelboxHook"]


class LabelboxHook(ExportV1Methods):
    """Talk to the Labelbox API through an Airflow connection of type ``labelbox``.

    :param labelbox_conn_id: the Airflow connection id.
    :param tuning: overrides of the connection extras (``timeout``, ``max_retry_seconds``,
        ``poll_interval``, ``frames_workers``...; see ``HookSettings``), e.g. ``endpoint=``.
    """

    conn_name_attr = "labelbox_conn_id"
    default_conn_name = "labelbox_default"
    conn_type = "labelbox"
    hook_name = "Labelbox"

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Connection form: password is the API key, host the API endpoint, extras tune."""
        return {
            "hidden_fields": ["schema", "port", "login"],
            "relabeling": {"host": "API endpoint", "password": "API key"},
            "placeholders": {
                "host": "https://api.labelbox.com (or the emulator's http://127.0.0.1:PORT/graphql)",
                "password": "Labelbox API key",
                "extra": '{"timeout": 60, "max_retry_seconds": 300, "poll_interval": 2}',
            },
        }

    # -- export v2 -------------------------------------------------------------------------------

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
        search = _v2.build_search_query(
            last_activity=last_activity,
            label_created=label_created,
            data_row_ids=data_row_ids,
            global_keys=global_keys,
            workflow_status=workflow_status,
        )
        variables = _v2.create_variables(project_id, task_name, search, _v2.build_params(params))
        data = self._gql(_v2.CREATE_QUERY, variables, f"create export of project {project_id}")
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
        user = self._user_id or self._user_of(self._gql(_v2.USER_QUERY, {}, "get user"))
        variables = {"param_0": task_id, "param_1": user}
        return _v2.parse_task(task_id, self._gql(_v2.TASK_QUERY, variables, f"task {task_id}"))

    async def aget_export_task(self, task_id: str) -> ExportTaskStatus:
        """Async :meth:`get_export_task` for the triggerer (same queries, same parsing)."""
        user = self._user_id or self._user_of(await self._agql(_v2.USER_QUERY, {}, "get user"))
        variables = {"param_0": task_id, "param_1": user}
        data = await self._agql(_v2.TASK_QUERY, variables, f"task {task_id}")
        return _v2.parse_task(task_id, data)

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
        if stream_type not in _v2.STREAM_TYPES:
            raise LabelboxError(f"stream_type must be one of {_v2.STREAM_TYPES}")
        variables = {"where": {"id": task_id}, "streamType": stream_type}
        return _v2.parse_header(self._gql(_v2.HEADER_QUERY, variables, f"header of {task_id}"))

    def get_export_chunk(self, task_id: str, offset: int, stream_type: str = "RESULT") -> Chunk:
        """Ask for the chunk starting at byte ``offset`` (a fresh signed URL each call)."""
        variables = {"where": {"id": task_id}, "streamType": stream_type, "offset": str(offset)}
        data = self._gql(_v2.CHUNK_QUERY, variables, f"chunk {offset} of {task_id}")
        return _v2.parse_chunk(data, offset)

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
