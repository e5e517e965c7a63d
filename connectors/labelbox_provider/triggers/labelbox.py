"""The trigger of deferrable mode: poll one Labelbox export in the triggerer until it is ready.

It only polls (with the hook's async status calls) and yields exactly one event, then returns::

    {"status": "success" | "error" | "timeout", "message": ..., "project_id": ...,
     "export_id": ..., "batch_id": ..., "export": <ExportRef.to_dict()>, "created_at": ...,
     "state": <the deferred task's carried state>}

The operator's ``execute_complete`` maps the status to a result or a typed exception. The event
carries ids and times only: no API key, no signed URL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from labelbox_provider.exceptions import LabelboxError
from labelbox_provider.pipeline.types import ExportRef


class LabelboxExportTrigger(BaseTrigger):
    """Poll an export (v2 task or v1 ``exportLabels``) until done, failed, or ``deadline``.

    :param export: the export reference, as ``ExportRef.to_dict()`` (JSON-serialisable).
    :param labelbox_conn_id: the Airflow connection of the Labelbox API.
    :param poll_interval: seconds between status polls.
    :param deadline: wall-clock epoch seconds after which the trigger gives up with "timeout".
    :param carry: JSON state of the deferred task, echoed back in the event as ``state``.
    """

    def __init__(
        self,
        export: dict[str, Any],
        labelbox_conn_id: str = "labelbox_default",
        poll_interval: float = 10.0,
        deadline: float | None = None,
        carry: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.export = dict(export)
        self.labelbox_conn_id = labelbox_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = deadline
        self.carry = carry

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and keyword arguments that rebuild this trigger in the triggerer."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "export": self.export,
                "labelbox_conn_id": self.labelbox_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "carry": self.carry,
            },
        )

    def _event(self, status: str, message: str, created_at: str | None = None) -> TriggerEvent:
        ref = self.export
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                "status": status,
                "message": message,
                "project_id": ref["project_id"],
                "export_id": ref["export_id"],
                "batch_id": ref["batch_id"],
                "export": ref,
                "created_at": created_at,
                "state": self.carry,
            }
        )

    async def _poll_once(self, hook: Any, ref: ExportRef) -> tuple[str, str, str | None]:
        """One status call: ``(state, message, created_at)``, state running/success/failed."""
        if ref.source_format == "v2":
            task = await hook.aget_export_task(ref.export_id)
            if task.status == "COMPLETE":
                return "success", f"export {ref.export_id} is complete", task.created_at
            if task.status == "FAILED":
                return "failed", str(task.errors or "export task failed"), task.created_at
            return "running", "", None
        start, end = (None, None) if ref.mode == "reconcile" else ref.window.filter_bounds()
        status = await hook.arequest_export_v1(
            ref.project_id, last_activity_start=start, last_activity_end=end
        )
        if status.ready:
            return "success", f"v1 export of {ref.project_id} is ready", status.created_at
        return "running", "", None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the export is done; yield one event and return."""
        from labelbox_provider.hooks.labelbox import LabelboxHook

        ref = ExportRef.from_dict(self.export)
        hook = LabelboxHook(labelbox_conn_id=self.labelbox_conn_id)
        while True:
            try:
                state, message, created = await self._poll_once(hook, ref)
            except LabelboxError as exc:
                yield self._event("error", f"{type(exc).__name__}: {exc}")
                return
            if state == "success":
                yield self._event("success", message, created)
                return
            if state == "failed":
                yield self._event("error", f"export {ref.export_id} failed: {message}")
                return
            if self.deadline is not None and time.time() >= self.deadline:
                yield self._event("timeout", f"export {ref.export_id} not ready by the deadline")
                return
            await asyncio.sleep(self.poll_interval)
