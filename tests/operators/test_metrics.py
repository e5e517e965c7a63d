"""The run's metric values (what the operator sends is received in tests/plugins)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from labelbox_provider.operators import metrics
from labelbox_provider.pipeline.types import BatchResult, RunSummary
from labelbox_provider.state.windows import Window

pytestmark = pytest.mark.unit

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _batch(hour: int, counts: dict[str, int]) -> BatchResult:
    window = Window(T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1))
    return BatchResult(f"b{hour}", window, "incremental", "v2", "e", counts, "m", window.end)


def test_figures_count_rows_without_rejects_and_measure_freshness() -> None:
    summary = RunSummary(
        "p1",
        [_batch(0, {"labels": 3, "objects": 5, "rejects": 2}), _batch(1, {"labels": 1})],
        watermark=T0 + timedelta(hours=2),
    )
    figures = metrics.run_figures(summary, now=T0 + timedelta(hours=5))
    assert figures == {
        metrics.BATCHES: 2,
        metrics.ROWS: 9,
        metrics.REJECTS: 2,
        metrics.FRESHNESS: 3 * 3600.0,
    }


def test_no_freshness_before_the_first_commit() -> None:
    figures = metrics.run_figures(RunSummary("p1"), now=T0)
    assert metrics.FRESHNESS not in figures and figures[metrics.BATCHES] == 0


def test_a_broken_metrics_backend_never_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.observability import stats

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("statsd host unreachable")

    monkeypatch.setattr(stats, "incr", broken)
    summary = RunSummary("p1", [_batch(0, {"labels": 1})], watermark=T0)
    assert metrics.emit_run_metrics(summary, now=T0)[metrics.ROWS] == 1
