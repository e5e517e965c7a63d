"""Operator construction: bad arguments fail at once with a message that says what to fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from labelbox_provider.assets import MIRROR_ALIAS, asset_uri, event_extra, mirror_asset
from labelbox_provider.operators.labelbox import LabelboxIncrementalExportOperator
from labelbox_provider.pipeline.types import BatchResult, ExportRef, RunSummary
from labelbox_provider.state.windows import Window

pytestmark = pytest.mark.unit

W = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))


def _op(**kwargs):
    args = {"task_id": "mirror", "project_id": "cl1234", "destination": "/tmp/m", **kwargs}
    return LabelboxIncrementalExportOperator(**args)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"export_format": "v3"}, "export_format='v3'", id="format"),
        pytest.param({"settle_lag": -5}, "settle_lag", id="negative-lag"),
        pytest.param({"lookback": "1h"}, "timedelta or a number of seconds", id="lookback-type"),
        pytest.param({"max_window_span": 0}, "max_window_span", id="zero-span"),
        pytest.param({"initial_start": datetime(2024, 1, 1)}, "timezone-aware", id="naive"),
        pytest.param({"initial_start": "yesterday"}, "ISO 8601", id="bad-instant"),
        pytest.param({"project_id": "a/b"}, "not a Labelbox project id", id="project"),
        pytest.param({"destination": "nosuch://bucket/x"}, "unknown to fsspec", id="dest"),
        pytest.param({"mode": "full"}, "mode='full'", id="mode"),
        pytest.param({"max_lines": 0}, "max_lines", id="budget"),
        pytest.param({"poll_interval": -1}, "poll_interval", id="poll"),
        pytest.param({"flatten_processes": 3}, "flatten_processes=3: use 1", id="processes"),
        pytest.param({"flatten_processes": "2"}, "flatten_processes='2'", id="processes-str"),
        pytest.param({"flatten_processes": True}, "flatten_processes=True", id="processes-bool"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _op(**kwargs)


def test_templated_values_are_checked_at_run_time_not_construction():
    op = _op(project_id="{{ params.project }}", destination="{{ var.value.root }}")
    assert op.template_fields == ("project_id", "destination", "window_start", "window_end")
    assert op.options["settle_lag"] == timedelta(minutes=10)  # defaults applied


def test_durations_accept_seconds_and_instants_accept_iso_strings():
    op = _op(settle_lag=60, lookback=timedelta(hours=2), initial_start="2025-06-01T00:00:00Z")
    assert op.options["settle_lag"] == timedelta(seconds=60)
    assert op.options["initial_start"] == datetime(2025, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize("processes", [None, 1, 2])
def test_flatten_processes_reach_the_pipeline_config(processes):
    from labelbox_provider.pipeline.config import PipelineConfig

    op = _op(flatten_processes=processes)
    assert op.options["flatten_processes"] == processes
    config = PipelineConfig(project_id="cl1234", root="/tmp/m", **op.options)
    assert config.flatten_processes == processes


def test_default_outlet_is_the_mirror_alias():
    assert [o.name for o in _op().outlets] == [MIRROR_ALIAS]


def test_mirror_asset_uri_is_accepted_by_airflow_without_a_normalizer():
    asset = mirror_asset("cl1234")
    assert (asset.name, asset.uri) == ("labelbox_mirror_cl1234", asset_uri("cl1234"))
    assert asset.uri == "x-labelbox-mirror://cl1234"


def test_event_extra_names_the_batch_and_nothing_secret():
    batch = BatchResult(
        "b1", W, "incremental", "v2", "task1", {"labels": 3}, "/m/_ledger/b1.json", W.end
    )
    extra = event_extra("cl1234", batch)
    assert extra["batch_id"] == "b1" and extra["counts"] == {"labels": 3}
    assert extra["window"] == {"start": "2026-01-01T00:00:00.000000Z", "end": W.to_dict()["end"]}
    assert extra["manifest"] == "/m/_ledger/b1.json"
    assert "key" not in str(extra).lower()


def test_summary_totals_counts_and_round_trips_batches():
    batches = [
        BatchResult(f"b{i}", W, "incremental", "v2", None, {"labels": i}, "m", W.end)
        for i in (1, 2)
    ]
    summary = RunSummary("cl1234", batches, splits=1, watermark=W.end).to_dict()
    assert summary["counts"] == {"labels": 3} and summary["batches"] == ["b1", "b2"]
    assert summary["watermark"] == "2026-01-02T00:00:00.000000Z"
    assert BatchResult.from_dict(batches[0].to_dict()) == batches[0]


def test_export_ref_round_trips_and_rejects_unknown_modes():
    ref = ExportRef(
        project_id="cl1234",
        window=W,
        mode="backfill",
        source_format="v1",
        export_id="v1-abc",
        batch_id="batch",
    )
    assert ExportRef.from_dict(ref.to_dict()) == ref
    with pytest.raises(ValueError, match="bad export reference"):
        ExportRef.from_dict({**ref.to_dict(), "mode": "weird"})


class _Run:
    def __init__(self, run_type: object) -> None:
        self.run_type = run_type


@pytest.mark.parametrize(
    ("run_type", "interval_days", "window", "expected"),
    [
        pytest.param("scheduled", 1, None, "incremental", id="scheduled"),
        pytest.param("backfill", 1, None, "backfill", id="backfill-interval"),
        pytest.param("backfill", 0, None, "incremental", id="backfill-zero-width"),
        pytest.param("manual", 0, "2026-01-01T00:00:00Z", "backfill", id="explicit-window"),
    ],
)
def test_auto_mode_backfills_only_real_intervals(run_type, interval_days, window, expected):
    from airflow.sdk.api.datamodels._generated import DagRunType

    end = W.end
    context = {
        "dag_run": _Run(DagRunType(run_type)),
        "data_interval_start": end - timedelta(days=interval_days),
        "data_interval_end": end,
    }
    assert _op(window_start=window)._run_mode(context) == expected
