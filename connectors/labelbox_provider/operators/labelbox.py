"""Airflow operator of the incremental mirror: orchestration only, the work is in the pipeline.

``execute`` validates, plans the windows (from the ledger and watermark; a backfill run or an
explicit window uses its interval), then for each window runs the pipeline, or in deferrable
mode starts the export and defers to :class:`LabelboxExportTrigger`; ``execute_complete``
downloads, flattens and commits, then defers again for the next window. Every committed batch
emits an event on the project's Asset (see :mod:`labelbox_provider.assets`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator, Context, conf

from labelbox_provider.assets import event_extra, mirror_alias, mirror_asset
from labelbox_provider.operators import arguments as _args
from labelbox_provider.operators.metrics import emit_run_metrics
from labelbox_provider.pipeline.config import (
    DEFAULT_LOOKBACK,
    DEFAULT_MAX_SPAN,
    DEFAULT_SETTLE_LAG,
)
from labelbox_provider.pipeline.lifecycle import Conclusion
from labelbox_provider.pipeline.run import MirrorPipeline
from labelbox_provider.pipeline.types import BatchResult, ExportRef, RunSummary
from labelbox_provider.state.windows import Window
from labelbox_provider.triggers.labelbox import LabelboxExportTrigger


class LabelboxIncrementalExportOperator(BaseOperator):
    """Mirror one Labelbox project's labels into Parquet, incrementally (see docs/operator.md).

    :param project_id: Labelbox project id (templated; map it to mirror many projects).
    :param destination: local folder or fsspec URL of the mirror root (templated).
    :param export_format: ``"v2"`` (export tasks, default) or ``"v1"`` (legacy exportLabels).
    :param mode: ``"auto"`` (backfill runs export their data interval, other runs catch up from
        the watermark), ``"incremental"``, ``"backfill"`` or ``"reconcile"`` (tombstones).
    :param window_start: explicit window start for a backfill (templated; default: the run's
        data interval start). ``window_end`` likewise.
    :param settle_lag: windows end at most at ``min(run date, now) - settle_lag``.
    :param lookback: incremental runs start at ``watermark - lookback``.
    :param max_window_span: longest window one export covers.
    :param initial_start: where coverage and the watermark begin.
    :param max_lines: split a window whose export has more records than this.
    :param max_bytes: split a window whose export has more bytes than this.
    :param export_timeout: seconds an export may take before its window is split.
    :param poll_interval: longest wait between export status polls (polls start at 0.5 s and
        double). Default: the connection's ``poll_interval`` extra; given here, it wins.
    :param frames_workers: concurrent v1 video frames downloads. Default: the connection's
        ``frames_workers`` extra; given here, it wins.
    :param flatten_processes: processes flattening one export file: ``None`` (default,
        automatic: two for a file of 256 MB or more when the task may use two cores and 1.5
        of them are idle), ``1`` or ``2`` (see ``flatten_file``; two take ~75 MB more memory).
    :param deferrable: poll in the triggerer (default: ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = ("project_id", "destination", "window_start", "window_end")
    ui_color = "#7b61ff"

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:
        """``BaseOperator.partial`` with the mirror alias in the outlets at parse time.

        A mapped task's outlets are serialized from its partial arguments, and the
        dag-processor registers the aliases it finds there before any task runs. Without
        this, N mapped tasks finishing together race to create the alias and all but one fail.
        """
        if not kwargs.get("outlets"):
            kwargs["outlets"] = [mirror_alias()]
        return super().partial(**kwargs)

    def __init__(
        self,
        *,
        project_id: str,
        destination: str,
        export_format: str = "v2",
        mode: str = "auto",
        window_start: str | datetime | None = None,
        window_end: str | datetime | None = None,
        labelbox_conn_id: str = "labelbox_default",
        settle_lag: timedelta | float = DEFAULT_SETTLE_LAG,
        lookback: timedelta | float = DEFAULT_LOOKBACK,
        max_window_span: timedelta | float = DEFAULT_MAX_SPAN,
        initial_start: datetime | str | None = None,
        max_lines: int | None = None,
        max_bytes: int | None = None,
        export_timeout: float = 7200.0,
        poll_interval: float | None = None,
        frames_workers: int | None = None,
        storage_options: dict[str, Any] | None = None,
        delta_tables: bool = False,
        flatten_processes: int | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        if not kwargs.get("outlets"):  # declared at parse time (mapped: see ``partial``)
            kwargs["outlets"] = [mirror_alias()]
        super().__init__(**kwargs)
        self.project_id = project_id
        self.destination = destination
        self.mode = mode
        self.window_start, self.window_end = window_start, window_end
        self.labelbox_conn_id = labelbox_conn_id
        self.deferrable = deferrable
        self.options = _args.pipeline_options(
            export_format=export_format,
            settle_lag=settle_lag,
            lookback=lookback,
            max_window_span=max_window_span,
            initial_start=initial_start,
            max_lines=max_lines,
            max_bytes=max_bytes,
            export_timeout=export_timeout,
            poll_interval=poll_interval,
            frames_workers=frames_workers,
            storage_options=storage_options,
            delta_tables=delta_tables,
            flatten_processes=flatten_processes,
        )
        _args.validate(project_id, destination, mode, self.options)

    @cached_property
    def pipeline(self) -> MirrorPipeline:
        """The pipeline of this task (built on first use, after templates are rendered)."""
        from labelbox_provider.hooks.labelbox import LabelboxHook

        hook = LabelboxHook(labelbox_conn_id=self.labelbox_conn_id)
        return MirrorPipeline(hook, self.destination, self.project_id, **self.options)

    def _run_mode(self, context: Context) -> str:
        """``auto``: backfill runs with a real data interval export it; others catch up."""
        if self.mode != "auto":
            return self.mode
        if self.window_start is not None or self.window_end is not None:
            return "backfill"
        run_type = getattr(context.get("dag_run"), "run_type", None)
        start, end = context.get("data_interval_start"), context.get("data_interval_end")
        wide = start is not None and end is not None and start < end
        is_backfill = getattr(run_type, "value", run_type) == "backfill"
        return "backfill" if is_backfill and wide else "incremental"

    def _plan(self, context: Context, mode: str) -> list[Window]:
        now = _run_date(context)
        if mode == "incremental":
            return self.pipeline.plan(now)
        start = self.window_start or context.get("data_interval_start")
        end = self.window_end or context.get("data_interval_end")
        if (
            start is None
            or end is None
            or _args.as_instant(start, "window_start") >= (_args.as_instant(end, "window_end"))
        ):
            raise ValueError(
                f"backfill needs a window: the run's data interval is [{start}, {end}); schedule "
                "with CronDataIntervalTimetable or pass window_start/window_end (for "
                "labelbox_backfill: its window_start/window_end params)"
            )
        s, e = _args.as_instant(start, "window_start"), _args.as_instant(end, "window_end")
        return self.pipeline.plan_backfill(s, e, now=self.pipeline.horizon_now(e + _FAR))

    def execute(self, context: Context) -> dict[str, Any]:
        """Plan, then export and commit every window (or defer for the first one)."""
        _args.validate(self.project_id, self.destination, self.mode, self.options)
        mode = self._run_mode(context)
        if mode == "reconcile":
            batch = self.pipeline.reconcile(_run_date(context))
            return self._done(context, RunSummary(self.project_id, [batch]))
        windows = self._plan(context, mode)
        self.log.info("%s: %d window(s) to export (%s)", self.project_id, len(windows), mode)
        if not self.deferrable:
            return self._done(context, self.pipeline.run_windows(windows, mode))
        return self._next(context, [w.to_dict() for w in windows], mode, [], 0)

    def _next(
        self, context: Context, queue: list[dict[str, str]], mode: str, done: list[Any], splits: int
    ) -> dict[str, Any]:
        if not queue:
            summary = RunSummary(self.project_id, [BatchResult.from_dict(b) for b in done], splits)
            return self._done(context, summary)
        ref = self.pipeline.start_export(Window.from_dict(queue[0]), mode)
        deadline = time.time() + float(self.options["export_timeout"])
        state = {"queue": queue[1:], "mode": mode, "done": done, "splits": splits}
        trigger = LabelboxExportTrigger(
            ref.to_dict(), self.labelbox_conn_id, self.pipeline.poll_interval, deadline, state
        )
        # The state rides in the trigger's event: dag.test() drops the defer kwargs on resume.
        self.defer(trigger=trigger, method_name="execute_complete")
        raise AssertionError("defer() returned")  # pragma: no cover

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger: commit the finished export, then defer for the next."""
        state = event["state"]
        queue, mode, done, splits = state["queue"], state["mode"], state["done"], state["splits"]
        ref = ExportRef.from_dict(event["export"])
        outcome = self.pipeline.conclude(ref, Conclusion.from_event(event))
        outcome_batches = [b.to_dict() for b in outcome.committed]
        requeue = [w.to_dict() for w in outcome.requeue]
        splits += 1 if requeue else 0
        return self._next(context, requeue + queue, mode, done + outcome_batches, splits)

    def _done(self, context: Context, summary: RunSummary) -> dict[str, Any]:
        """Emit one Asset event per committed batch; return the small XCom summary."""
        summary.watermark = self.pipeline.ledger.watermark()
        emit_run_metrics(summary)
        events = context["outlet_events"][mirror_alias()]
        for batch in summary.batches:
            events.add(mirror_asset(self.project_id), extra=event_extra(self.project_id, batch))
        self.log.info("project %s: committed %s", self.project_id, summary.to_dict())
        return summary.to_dict()

    def on_kill(self) -> None:
        """Nothing to cancel server-side: the export id is in the ledger and a retry re-attaches."""
        self.log.info("killed; a retry re-attaches to any export this try started")

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage input (the project) and outputs (the tables), when OpenLineage is here."""
        from labelbox_provider.operators.lineage import lineage_of

        return lineage_of(self.project_id, self.destination)


_FAR = timedelta(days=36500)  # a backfill's settle cap is the wall clock, not its run date


def _run_date(context: Context) -> datetime:
    """The run's date: data interval end, else logical date, else when the run was due."""
    for key in ("data_interval_end", "logical_date"):
        value = context.get(key)
        if value is not None:
            return _args.as_instant(value, key)
    return _args.as_instant(context["dag_run"].run_after, "run_after")
