"""The demo's core on a small world: its summary must match the emulator's ground truth."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from labelbox_provider.cli.demo import MARKER, prepare_output
from labelbox_provider.cli.demo_run import DemoConfig, run_demo
from labelbox_provider.cli.demo_summary import delta_facts, render_summary, summarize
from labelbox_provider.io.current import TABLES

pytestmark = pytest.mark.e2e


def _warehouse_labels(path: Path) -> dict[str, set[str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute('SELECT project_id, label_id FROM main."labels"').fetchall()
    finally:
        con.close()
    found: dict[str, set[str]] = {}
    for project_id, label_id in rows:
        found.setdefault(project_id, set()).add(label_id)
    return found


def test_demo_core_matches_ground_truth(airflow_db: None, tmp_path: Path) -> None:
    events = {"label_created": 3, "label_updated": 2, "label_deleted": 1, "review_applied": 2}
    config = DemoConfig(
        out=tmp_path, days=2, history_days=5, labels_per_project=6,
        media_types=("IMAGE", "VIDEO"), events_per_day=events,
    )  # fmt: skip
    messages: list[str] = []
    run, emu = run_demo(config, messages.append)
    assert len(run.run_dates) == 3  # the initial history, then one run per day
    assert any(e["kind"] == "label_deleted" for e in run.events)
    truth = {p["id"]: {r["label_id"] for r in emu.ground_truth(p["id"])} for p in run.projects}

    assert _warehouse_labels(config.warehouse) == truth  # deletions included

    summary = summarize(config.mirror, config.warehouse, run.projects, run.run_dates)
    total = sum(len(ids) for ids in truth.values())
    raw, current, warehouse = summary.tables["labels"]
    assert current == warehouse == total
    assert raw >= total
    for line in summary.projects:
        assert line.labels == len(truth[line.project_id])
        assert line.gaps == 0
        assert line.watermark == run.run_dates[-1] - timedelta(minutes=10)  # the DAG's settle lag
    assert [label.split()[1] for label, _ in summary.per_day] == ["1", "2"]
    # every day's new labels were exported on that day (updates and reviews add more rows)
    assert all(rows >= 3 for _, rows in summary.per_day)
    assert summary.initial_labels > 0
    assert summary.initial_labels + sum(n for _, n in summary.per_day) == raw  # each run counted

    text = render_summary(summary)
    assert "== Rows per table ==" in text
    # the first column is as wide as the longest table name (message_evaluations)
    assert f"{'labels':<{max(map(len, TABLES))}}  {raw}" in text
    assert "#" in text.split("exported per day")[1]
    assert any("loaded" in m for m in messages)

    # the first project's Delta tables, updated after each day's run, equal its current view
    delta_facts(config.mirror, run.projects[0]["id"], summary)
    assert summary.delta_counts and all(d == v for _, d, v in summary.delta_counts)
    assert dict((t, d) for t, d, _ in summary.delta_counts)["labels"] > 0
    ops = [op for _, op, _ in summary.delta_history]  # newest first: one version per batch
    assert ops[0] == "batch" and set(ops) <= {"batch", "create"}
    assert "== Delta Lake current tables of project" in render_summary(summary)


def test_prepare_output_refuses_foreign_folders(tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("precious")
    with pytest.raises(SystemExit, match="was not made by the demo"):
        prepare_output(foreign)
    assert (foreign / "keep.txt").exists()

    ours = prepare_output(tmp_path / "demo")
    (ours / "old.parquet").write_text("x")
    again = prepare_output(tmp_path / "demo")
    assert (again / MARKER).exists()
    assert not (again / "old.parquet").exists()
