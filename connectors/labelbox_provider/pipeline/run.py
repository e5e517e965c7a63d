"""The mirror pipeline without Airflow: plan, export, wait, download, flatten, commit.

One :class:`MirrorPipeline` mirrors one project into one destination. The Airflow operator and
the CLI both drive it; so does a test. The steps are public so a deferrable operator can stop
between them (``start_export`` -> trigger polls -> ``finish``)::

    pipe = MirrorPipeline(hook, "/data/mirror", "cl1234", export_format="v2")
    summary = pipe.catch_up(now=run_date)      # incremental: from the watermark to now - lag
    summary = pipe.backfill(start, end, now)   # explicit history windows, fills gaps
    pipe.reconcile(now)                        # tombstones for labels deleted at the source

Every window is a transaction: its export id is persisted before waiting (a retry re-attaches
instead of exporting twice), its batch id is deterministic (a re-run replaces, never duplicates)
and its manifest is the commit point (see :mod:`labelbox_provider.io.batch`).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from labelbox_provider.exceptions import LabelboxNotFoundError, WindowError
from labelbox_provider.hooks.settings import HookSettings
from labelbox_provider.pipeline import commit, lifecycle
from labelbox_provider.pipeline.config import PipelineConfig, resolve_setting
from labelbox_provider.pipeline.export import (
    ExportHook,
    count_records,
    create_export,
    download_export,
    download_frames,
    over_budget,
)
from labelbox_provider.pipeline.lifecycle import Conclusion
from labelbox_provider.pipeline.reconcile import reconcile_export
from labelbox_provider.pipeline.types import (
    BatchResult,
    ExportRef,
    ExportState,
    RunSummary,
    WindowOutcome,
)
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import (
    Window,
    batch_id_for,
    chop,
    horizon,
    plan_backfill,
    plan_incremental,
    split_window,
)
from labelbox_provider.utc import to_utc

log = logging.getLogger(__name__)


def wall_now() -> datetime:
    """The wall clock, used for one thing only: capping windows at ``now - settle_lag``."""
    return datetime.now(UTC)


class MirrorPipeline:
    """Keeps the Parquet mirror of one Labelbox project up to date (see the module docstring)."""

    def __init__(
        self,
        hook: ExportHook,
        root: str,
        project_id: str,
        *,
        clock: Callable[[], datetime] = wall_now,
        sleep: Callable[[float], None] = time.sleep,
        workdir: str | None = None,
        **options: Any,
    ) -> None:
        self.config = PipelineConfig(project_id=project_id, root=root, **options)
        self.hook = hook
        self.ledger = Ledger(root, project_id, self.config.storage_options)
        self._clock = clock
        self._sleep = sleep
        self._workdir = workdir

    def __repr__(self) -> str:
        c = self.config
        return f"MirrorPipeline(project_id={c.project_id!r}, root={c.root!r}, {c.export_format})"

    # -- planning --------------------------------------------------------------------------

    def horizon_now(self, now: datetime) -> datetime:
        """``min(now, wall clock)``: a run never plans past the present, even if dated later."""
        return min(to_utc(now), to_utc(self._clock(), "clock"))

    def plan(self, now: datetime) -> list[Window]:
        """Incremental windows: from ``watermark - lookback`` to ``now - settle_lag``.

        A window a killed run had started exporting (its pending export, starting within the
        lookback of the planned start) is planned as it was, so the rerun re-attaches to that
        export instead of exporting a slightly shifted window anew.
        """
        c = self.config
        until = self.horizon_now(now)
        windows = plan_incremental(
            watermark=self.ledger.watermark(),
            initial_start=c.initial_start,
            now=until,
            settle_lag=c.settle_lag,
            lookback=c.lookback,
            max_span=c.max_window_span,
        )
        resumed = self._resumable(windows)
        if resumed is None:
            return windows
        return [resumed, *chop(resumed.end, horizon(until, c.settle_lag), c.max_window_span)]

    def _resumable(self, windows: list[Window]) -> Window | None:
        """The window of a pending incremental export the plan should resume, if any."""
        if not windows:
            return None
        start, end, fmt = windows[0].start, windows[-1].end, self.config.export_format
        candidates = [
            p.window
            for p in self.ledger.pending_exports()
            if p.mode == "incremental" and p.source_format == fmt
            and start <= p.window.start <= start + self.config.lookback and p.window.end <= end
        ]  # fmt: skip
        return min(candidates, key=lambda w: w.start, default=None)

    def plan_backfill(self, start: datetime, end: datetime, now: datetime) -> list[Window]:
        """Windows of an explicit interval ``[start, end)``, clipped to the settle horizon."""
        return plan_backfill(
            start=to_utc(start, "start"),
            end=to_utc(end, "end"),
            max_span=self.config.max_window_span,
            now=self.horizon_now(now),
            settle_lag=self.config.settle_lag,
        )

    def gaps(self, now: datetime) -> list[Window]:
        """Uncovered parts of ``[initial_start, now - settle_lag)`` (fill them with backfill)."""
        until = horizon(self.horizon_now(now), self.config.settle_lag)
        if until <= self.config.initial_start:
            return []
        return self.ledger.gaps(self.config.initial_start, until)

    # -- one export ------------------------------------------------------------------------

    def start_export(self, window: Window, mode: str = "incremental") -> ExportRef:
        """Start the export of ``window``, or re-attach to one a previous try started.

        The export id is persisted in the ledger before this returns, so a retried task that
        crashed while waiting finds it and does not start a second export.
        """
        fmt, pid = self.config.export_format, self.config.project_id
        batch_id = batch_id_for(pid, window, fmt, mode)
        ref = ExportRef(
            batch_id=batch_id,
            window=window,
            source_format=fmt,
            mode=mode,
            export_id="",
            project_id=pid,
        )
        pending = self.ledger.pending_export(window, fmt, mode)
        if pending is not None and self._reusable(replace(ref, export_id=pending.export_id)):
            log.info("re-attaching to export %s of window %s", pending.export_id, window)
            return replace(ref, export_id=pending.export_id, reattached=True)
        export_id = create_export(
            self.hook,
            pid,
            window,
            mode=mode,
            fmt=fmt,
            batch_id=batch_id,
            params=self.config.export_params,
        )
        self.ledger.record_export_started(window, fmt, export_id, mode)
        log.info("started %s export %s of window %s (%s)", fmt, export_id, window, mode)
        return replace(ref, export_id=export_id)

    def _reusable(self, ref: ExportRef) -> bool:
        """A persisted export can be re-attached to unless it failed or vanished."""
        if ref.source_format == "v1":
            return True  # the same v1 request is idempotent (served from the server's cache)
        try:
            return self.poll(ref).status != "failed"
        except LabelboxNotFoundError:
            return False

    def poll(self, ref: ExportRef) -> ExportState:
        """One status poll of a started export."""
        return lifecycle.poll(self.hook, ref)

    def watch(self, ref: ExportRef) -> Conclusion:
        """Poll until the export concludes (success, failed, timeout or error); never raises."""
        return lifecycle.watch(
            self.hook,
            ref,
            timeout=self.config.export_timeout,
            poll_interval=self.poll_interval,
            sleep=self._sleep,
        )

    def conclude(self, ref: ExportRef, conclusion: Conclusion) -> WindowOutcome:
        """Commit, split or raise, by the ending (the same in plain and deferrable mode)."""
        return lifecycle.conclude(self, ref, conclusion)

    def forget(self, ref: ExportRef) -> None:
        """Drop the pending export of ``ref`` (the server failed it: a retry starts anew)."""
        self.ledger.clear_pending_export(ref.batch_id)

    @property
    def poll_interval(self) -> float:
        """Longest wait between status polls (argument, else the connection's setting)."""
        return float(self._setting("poll_interval"))

    @property
    def frames_workers(self) -> int:
        """Concurrent v1 video frames downloads (argument, else the connection's setting)."""
        return int(self._setting("frames_workers"))

    def _setting(self, name: str) -> Any:
        settings = getattr(self.hook, "settings", None) or HookSettings()  # a hook-like fake
        return resolve_setting(name, getattr(self.config, name), settings)

    def finish(self, ref: ExportRef, state: ExportState | None = None) -> WindowOutcome:
        """Download, budget-check, flatten and commit a finished export.

        When the export exceeds the line or byte budget and its window can be split, nothing is
        committed and the halves come back in ``requeue`` (each is exported separately).
        """
        state = state if state is not None and state.created_at else self.poll(ref)
        extracted_at = state.created_at or self._clock()
        with tempfile.TemporaryDirectory(prefix="lbx-mirror-", dir=self._workdir) as tmp:
            work = Path(tmp)
            c = self.config
            export_file = download_export(
                self.hook, ref, work, timeout=c.export_timeout, poll_interval=self.poll_interval
            )
            size, records = export_file.stat().st_size, count_records(export_file)
            reason = over_budget(records, size, c.max_lines, c.max_bytes)
            if reason and ref.mode != "reconcile":
                halves = self.split(ref, reason)
                if halves:
                    return WindowOutcome(requeue=tuple(halves), reason=reason)
            frames = None
            if ref.source_format == "v1":
                frames = download_frames(self.hook, export_file, work, self.frames_workers)
            return WindowOutcome(committed=(self._commit(ref, export_file, frames, extracted_at),))

    def split(self, ref: ExportRef, reason: str) -> list[Window]:
        """Halves of ``ref``'s window (forgetting its export), or [] when it is too short."""
        try:
            halves = split_window(ref.window, 2, min_span=self.config.min_split_span)
        except WindowError:
            log.warning("window %s %s but is too short to split: committing it", ref.window, reason)
            return []
        self.ledger.clear_pending_export(ref.batch_id)
        log.info("window %s %s: split into %s and %s", ref.window, reason, *halves)
        return halves

    def _commit(
        self, ref: ExportRef, export_file: Path, frames: Path | None, extracted_at: datetime
    ) -> BatchResult:
        staging = export_file.parent / "staging"
        counts = commit.flatten_into(
            export_file,
            staging,
            ref,
            extracted_at=extracted_at,
            frames_dir=frames,
            processes=self.config.flatten_processes,
        )
        return self.commit_staged(ref, staging, counts, extracted_at)

    def commit_staged(
        self, ref: ExportRef, staging: Path, counts: dict[str, int], extracted_at: datetime
    ) -> BatchResult:
        """Commit ``staging/<table>/*.parquet`` as the batch of ``ref`` (atomic, see io.batch)."""
        c = self.config
        return commit.commit_staged(
            self.ledger,
            ref,
            staging,
            counts,
            extracted_at,
            initial_start=c.initial_start,
            delta_tables=c.delta_tables,
            storage_options=c.storage_options,
        )

    # -- whole runs ------------------------------------------------------------------------

    def run_window(self, window: Window, mode: str = "incremental") -> WindowOutcome:
        """Export and commit one window synchronously (split halves are returned, not run)."""
        ref = self.start_export(window, mode)
        return self.conclude(ref, self.watch(ref))

    def run_windows(self, windows: Iterable[Window], mode: str = "incremental") -> RunSummary:
        """Run windows in order; split halves run in place of their window."""
        summary = RunSummary(self.config.project_id)
        queue = deque(windows)
        while queue:
            outcome = self.run_window(queue.popleft(), mode)
            summary.batches.extend(outcome.committed)
            if outcome.requeue:
                summary.splits += 1
                queue.extendleft(reversed(outcome.requeue))
        summary.watermark = self.ledger.watermark()
        return summary

    def catch_up(self, now: datetime) -> RunSummary:
        """The incremental run: every window from the watermark to the settle horizon."""
        return self.run_windows(self.plan(now), "incremental")

    def backfill(self, start: datetime, end: datetime, now: datetime) -> RunSummary:
        """Export ``[start, end)`` as backfill batches; the watermark never moves backwards."""
        return self.run_windows(self.plan_backfill(start, end, now), "backfill")

    def reconcile(self, now: datetime) -> BatchResult:
        """Export every id and write tombstones for labels the source no longer has.

        The export covers ``[initial_start, now - settle_lag)`` with no activity filter; see
        :mod:`labelbox_provider.pipeline.reconcile` for what happens to it.
        """
        c = self.config
        end = horizon(self.horizon_now(now), c.settle_lag)
        ref = self.start_export(Window(c.initial_start, end), "reconcile")
        conclusion = self.watch(ref)
        lifecycle.settle(self, ref, conclusion)
        detected_at = conclusion.created_at or self.horizon_now(now)
        return reconcile_export(
            self.hook,
            ref,
            detected_at,
            config=c,
            commit=self.commit_staged,
            poll_interval=self.poll_interval,
        )
