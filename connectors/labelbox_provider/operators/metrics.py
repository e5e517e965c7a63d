"""The mirror's metrics, emitted through Airflow's metrics after every run's commit.

Sent with the Task SDK's stats facade (``airflow.sdk.observability.stats``), so they go where
``[metrics]`` says: StatsD, DogStatsD or OpenTelemetry; with metrics off it does nothing. Each
metric carries the tag ``project_id``; plain StatsD drops tags, so each is also sent under a
per-project name (``<name>.<project_id>``). docs/ui.md lists them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from labelbox_provider.pipeline.types import RunSummary

FRESHNESS = "labelbox.mirror.freshness_seconds"  # gauge: now minus the project's watermark
BATCHES = "labelbox.mirror.batches"  # counter: batches committed by the run
ROWS = "labelbox.mirror.rows"  # counter: rows committed, every table except rejects
REJECTS = "labelbox.mirror.rejects"  # counter: records that could not be flattened

log = logging.getLogger(__name__)


def run_figures(summary: RunSummary, now: datetime) -> dict[str, float]:
    """The values of one run: freshness (absent before the first commit) and the counts."""
    counts = [b.counts for b in summary.batches]
    figures: dict[str, float] = {
        BATCHES: len(summary.batches),
        ROWS: sum(n for c in counts for table, n in c.items() if table != "rejects"),
        REJECTS: sum(c.get("rejects", 0) for c in counts),
    }
    if summary.watermark is not None:
        figures[FRESHNESS] = max(0.0, (now - summary.watermark).total_seconds())
    return figures


def emit_run_metrics(summary: RunSummary, now: datetime | None = None) -> dict[str, float]:
    """Send the gauge and the counters of one run; a metrics failure never fails the run.

    Freshness is measured against the wall clock (``now`` defaults to it): it is what an
    operator watching a dashboard means by "how old is the mirror".
    """
    figures = run_figures(summary, now or datetime.now(UTC))
    try:
        from airflow.sdk.observability import stats

        tags = {"project_id": summary.project_id}
        for name, value in figures.items():
            for stat in (name, f"{name}.{summary.project_id}"):
                if name == FRESHNESS:
                    stats.gauge(stat, value, tags=tags)
                else:
                    stats.incr(stat, count=int(value), tags=tags)
    except Exception:  # metrics are a side channel: log, never raise after a commit
        log.warning("could not emit the mirror metrics of %s", summary.project_id, exc_info=True)
    return figures
