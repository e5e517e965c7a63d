"""The trigger of deferrable mode: poll one Labelbox export in the triggerer until it is ready.

It only polls (the lifecycle's async driver, :func:`labelbox_provider.pipeline.lifecycle.awatch`,
over the hook's async status calls) and yields exactly one event, then returns::

    {"status": "success" | "failed" | "timeout" | "error", "message": ..., "error_type": ...,
     "project_id": ..., "export_id": ..., "batch_id": ..., "export": <ExportRef.to_dict()>,
     "created_at": ..., "state": <the deferred task's carried state>}

``status`` is the :class:`~labelbox_provider.pipeline.lifecycle.ExportEnding`: ``failed`` is
the server failing the export (the only ending that forgets it), ``error`` an API error that
outlived the hook's retries (``error_type`` names its class). The operator's ``execute_complete``
hands the event to the same ``conclude`` as the plain run. The event carries ids, times and
redacted messages only: no API key, no signed URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from labelbox_provider.pipeline.lifecycle import Conclusion, awatch
from labelbox_provider.pipeline.types import ExportRef


class LabelboxExportTrigger(BaseTrigger):
    """Poll an export (v2 task or v1 ``exportLabels``) until done, failed, or ``deadline``.

    :param export: the export reference, as ``ExportRef.to_dict()`` (JSON-serialisable).
    :param labelbox_conn_id: the Airflow connection of the Labelbox API.
    :param poll_interval: longest wait between status polls (they start at 0.5 s and double).
    :param deadline: wall-clock epoch seconds after which the trigger ends with "timeout".
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

    def _event(self, conclusion: Conclusion) -> TriggerEvent:
        ref = self.export
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                **conclusion.to_event(),
                "project_id": ref["project_id"],
                "export_id": ref["export_id"],
                "batch_id": ref["batch_id"],
                "export": ref,
                "state": self.carry,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the export concludes (the lifecycle's async driver); yield one event."""
        from labelbox_provider.hooks.labelbox import LabelboxHook

        ref = ExportRef.from_dict(self.export)
        hook = LabelboxHook(labelbox_conn_id=self.labelbox_conn_id)
        conclusion = await awatch(
            hook, ref, deadline=self.deadline, poll_interval=self.poll_interval
        )
        yield self._event(conclusion)
