"""The one export lifecycle: poll, conclude, then commit, forget, split or fail.

Both modes drive the same machine. The plain run calls :func:`watch` (sync); the trigger calls
:func:`awatch` (the same machine, ``await`` instead of ``sleep``) and sends the
:class:`Conclusion` as its event; the operator's ``execute_complete`` rebuilds it with
:meth:`Conclusion.from_event`. Either way :func:`conclude` decides what an ending means::

    SUCCESS  download, flatten, commit (or split when over budget)
    FAILED   the server failed the export: forget the pending export, raise (a retry starts anew)
    TIMEOUT  not ready by the deadline: split the window, or raise LabelboxExportTimeoutError
             (pending export kept: the retry re-attaches)
    ERROR    an API error outlived the hook's retry budget: raise that same error class
             (pending export kept: the retry re-attaches)

Status answers are mapped to :class:`ExportState` here and nowhere else; the delays between
polls come from :func:`labelbox_provider.hooks.polling.poll_delays` (start fast, back off).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from labelbox_provider import exceptions
from labelbox_provider.exceptions import (
    LabelboxError,
    LabelboxExportFailedError,
    LabelboxExportTimeoutError,
    LabelboxProviderError,
)
from labelbox_provider.hooks.polling import poll_delays
from labelbox_provider.hooks.redact import redact
from labelbox_provider.pipeline.types import ExportRef, ExportState, WindowOutcome
from labelbox_provider.state.windows import Window, isoformat, parse_iso


class ExportEnding(StrEnum):
    """How waiting for an export ended (the trigger event's ``status``)."""

    SUCCESS = "success"  # the export is ready to download
    FAILED = "failed"  # the server reports the export failed: the only ending that forgets it
    TIMEOUT = "timeout"  # still running at the deadline
    ERROR = "error"  # an API error outlived the retry budget (transient or not)


@dataclass(frozen=True)
class Conclusion:
    """One ending, with the words and times that go with it (no key, no signed URL)."""

    ending: ExportEnding
    message: str = ""
    created_at: datetime | None = None  # server-side creation time, when known
    error_type: str = ""  # class name of the error of an ERROR ending
    cause: BaseException | None = field(default=None, compare=False, repr=False)

    def to_event(self) -> dict[str, Any]:
        """The JSON fields this conclusion adds to a trigger event."""
        created = isoformat(self.created_at) if self.created_at else None
        return {
            "status": self.ending.value,
            "message": self.message,
            "error_type": self.error_type,
            "created_at": created,
        }

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Conclusion:
        """Inverse of :meth:`to_event` (an unknown status is an error ending, not a success)."""
        try:
            ending = ExportEnding(str(event.get("status")))
        except ValueError:
            ending = ExportEnding.ERROR
        created = event.get("created_at")
        return cls(
            ending=ending,
            message=str(event.get("message") or ""),
            created_at=parse_iso(created) if created else None,
            error_type=str(event.get("error_type") or ""),
        )

    def error(self) -> LabelboxProviderError:
        """The exception this ending raises (FAILED, TIMEOUT and ERROR endings)."""
        if self.ending is ExportEnding.FAILED:
            return LabelboxExportFailedError(self.message)
        if self.ending is ExportEnding.TIMEOUT:
            return LabelboxExportTimeoutError(self.message)
        kind = getattr(exceptions, self.error_type, None)
        if isinstance(kind, type) and issubclass(kind, LabelboxProviderError):
            return kind(self.message)
        return LabelboxError(self.message)


def _created(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return parse_iso(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def state_of(ref: ExportRef, answer: Any) -> ExportState:
    """Map one status answer (v2 ``ExportTaskStatus`` or v1 ``ExportV1Status``) to a state."""
    created = _created(getattr(answer, "created_at", None))
    if ref.source_format == "v2":
        if answer.status == "COMPLETE":
            return ExportState("success", created_at=created)
        if answer.status == "FAILED":
            message = str(getattr(answer, "errors", None) or "export task failed")
            return ExportState("failed", message=message, created_at=created)
        return ExportState("running", created_at=created)
    if answer.ready:
        return ExportState("success", created_at=created)
    if not answer.should_poll:  # done, but no file: how v1 reports a failed export
        return ExportState("failed", message="export finished without a download URL")
    return ExportState("running", created_at=created)


def v1_bounds(ref: ExportRef) -> tuple[datetime | None, datetime | None]:
    """The v1 ``last_activity`` filter of an export (open for a reconcile: everything)."""
    if ref.mode == "reconcile":
        return None, None
    return ref.window.filter_bounds()


def poll(hook: Any, ref: ExportRef) -> ExportState:
    """One status call (v1 re-sends the identical, idempotent request)."""
    if ref.source_format == "v2":
        return state_of(ref, hook.get_export_task(ref.export_id))
    start, end = v1_bounds(ref)
    answer = hook.request_export_v1(
        ref.project_id, last_activity_start=start, last_activity_end=end
    )
    return state_of(ref, answer)


async def apoll(hook: Any, ref: ExportRef) -> ExportState:
    """:func:`poll` for the triggerer: the hook's async status calls, the same mapping."""
    if ref.source_format == "v2":
        return state_of(ref, await hook.aget_export_task(ref.export_id))
    start, end = v1_bounds(ref)
    answer = await hook.arequest_export_v1(
        ref.project_id, last_activity_start=start, last_activity_end=end
    )
    return state_of(ref, answer)


class Watch:
    """The polling state machine of one export: feed it states, it says when it is over.

    :param deadline: instant (on ``clock``) after which a running export times out.
    """

    def __init__(
        self,
        ref: ExportRef,
        *,
        deadline: float | None,
        poll_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ref, self.deadline, self.clock = ref, deadline, clock
        self._delays: Iterator[float] = poll_delays(poll_interval)
        self.polls = 0

    def observe(self, state: ExportState) -> Conclusion | None:
        """The conclusion this poll reached, or ``None`` to poll again after :meth:`delay`."""
        self.polls += 1
        ref = self.ref
        if state.status == "success":
            return Conclusion(
                ExportEnding.SUCCESS, f"export {ref.export_id} is ready", state.created_at
            )
        if state.status == "failed":
            text = redact(f"export {ref.export_id} of window {ref.window} failed: {state.message}")
            return Conclusion(ExportEnding.FAILED, text)
        if self.deadline is not None and self.clock() >= self.deadline:
            text = f"export {ref.export_id} of window {ref.window} not ready by the deadline"
            return Conclusion(ExportEnding.TIMEOUT, text)
        return None

    def broke(self, exc: LabelboxError) -> Conclusion:
        """The conclusion of a status call that raised (after the hook's own retries)."""
        text = redact(f"{type(exc).__name__}: {exc}")
        return Conclusion(ExportEnding.ERROR, text, error_type=type(exc).__name__, cause=exc)

    def delay(self) -> float:
        """Seconds to wait before the next poll (backing off, never past the deadline)."""
        delay = next(self._delays)
        if self.deadline is not None:
            delay = max(0.0, min(delay, self.deadline - self.clock()))
        return delay


def watch(
    hook: Any,
    ref: ExportRef,
    *,
    timeout: float,
    poll_interval: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Conclusion:
    """Poll ``ref`` until it concludes (the plain run's driver)."""
    machine = Watch(ref, deadline=time.monotonic() + timeout, poll_interval=poll_interval)
    while True:
        try:
            ending = machine.observe(poll(hook, ref))
        except LabelboxError as exc:
            return machine.broke(exc)
        if ending is not None:
            return ending
        sleep(machine.delay())


async def awatch(
    hook: Any,
    ref: ExportRef,
    *,
    deadline: float | None,
    poll_interval: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Conclusion:
    """Poll ``ref`` until it concludes (the trigger's driver; ``deadline`` is epoch seconds)."""
    machine = Watch(ref, deadline=deadline, poll_interval=poll_interval, clock=time.time)
    while True:
        try:
            ending = machine.observe(await apoll(hook, ref))
        except LabelboxError as exc:
            return machine.broke(exc)
        if ending is not None:
            return ending
        await sleep(machine.delay())


class Concluder(Protocol):
    """What :func:`conclude` needs of the pipeline: commit, split, forget."""

    def finish(self, ref: ExportRef, state: ExportState | None = None) -> WindowOutcome: ...
    def split(self, ref: ExportRef, reason: str) -> list[Window]: ...
    def forget(self, ref: ExportRef) -> None: ...


def settle(pipeline: Concluder, ref: ExportRef, conclusion: Conclusion) -> None:
    """Return on success; otherwise raise the ending's error (forgetting a failed export)."""
    if conclusion.ending is ExportEnding.SUCCESS:
        return
    if conclusion.ending is ExportEnding.FAILED:
        pipeline.forget(ref)
    raise conclusion.error() from conclusion.cause


def conclude(pipeline: Concluder, ref: ExportRef, conclusion: Conclusion) -> WindowOutcome:
    """What an ending means (see the module docstring); the same in both modes."""
    if conclusion.ending is ExportEnding.SUCCESS:
        state = ExportState("success", created_at=conclusion.created_at)
        return pipeline.finish(ref, state)
    if conclusion.ending is ExportEnding.TIMEOUT:
        halves = pipeline.split(ref, "timed out")
        if halves:
            return WindowOutcome(requeue=tuple(halves), reason="timed out")
    settle(pipeline, ref, conclusion)
    raise AssertionError("settle() returned on a non-success ending")  # pragma: no cover
