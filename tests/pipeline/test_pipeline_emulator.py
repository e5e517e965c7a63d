"""The mirror pipeline against the emulator over real HTTP: re-attach, splits, gaps, reconcile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from labelbox_provider.exceptions import LabelboxExportTimeoutError
from labelbox_provider.io.current import current_tables
from labelbox_provider.state.windows import Window, merge

from tests.e2e.mirror_truth import differences, mirror_state, truth_state

pytestmark = pytest.mark.integration


def _exports_created(emu) -> list[str]:
    return emu.exports_created()


@pytest.mark.parametrize("fmt", ["v2", "v1"])
def test_catch_up_mirrors_the_project_exactly(emu, make_pipeline, fmt):
    pipe = make_pipeline(1, export_format=fmt)  # the video project: frames for v1
    summary = pipe.catch_up(emu.world.now())
    assert summary.batches and summary.watermark == emu.world.now() - timedelta(minutes=10)
    project = emu.projects[1]
    mirror = mirror_state(pipe.config.root, project["id"], project["media_type"])
    assert differences(mirror, truth_state(emu.ground_truth(project["id"]))) == []
    assert len(mirror["labels"]) == len(emu.ground_truth(project["id"])) > 0


@pytest.mark.parametrize("fmt", ["v2", "v1"])
def test_retry_reattaches_to_the_persisted_export(emu, make_pipeline, fmt):
    emu.settings.update({"v1_cache_seconds": 1800.0})  # the real server reuses a v1 export 30 min
    window = Window(emu.world.now() - timedelta(days=20), emu.world.now() - timedelta(hours=1))
    first = make_pipeline(export_format=fmt).start_export(window)
    created = _exports_created(emu)
    retry = make_pipeline(export_format=fmt)  # a new task try: fresh objects, same ledger
    again = retry.start_export(window)
    assert again.reattached and again.export_id == first.export_id
    outcome = retry.finish(again, retry.wait(again))
    assert [b.export_id for b in outcome.committed] == [first.export_id]
    assert _exports_created(emu) == created  # the retry created no second export
    assert retry.ledger.pending_exports() == []  # the commit cleared the pending record


def test_export_over_line_budget_is_split_and_committed_in_halves(emu, make_pipeline):
    pipe = make_pipeline(max_lines=3, max_window_span=timedelta(days=60))
    summary = pipe.catch_up(emu.world.now())
    assert summary.splits >= 1 and len(summary.batches) >= 3
    windows = [b.window for b in summary.batches]
    assert merge(windows) == [Window(pipe.config.initial_start, windows[-1].end)]
    labels = current_tables(pipe.config.root, pipe.config.project_id)["labels"]
    assert labels.num_rows == len(emu.ground_truth(pipe.config.project_id))


def test_timed_out_export_is_split_then_halves_commit(emu, make_pipeline):
    emu.settings.update({"v2_polls": 1000})
    pipe = make_pipeline(export_timeout=0.05, max_window_span=timedelta(days=60))
    window = pipe.plan(emu.world.now())[0]
    outcome = pipe.run_window(window)
    assert outcome.reason == "timed out" and not outcome.committed
    assert list(outcome.requeue) == [
        Window(window.start, outcome.requeue[0].end),
        Window(outcome.requeue[0].end, window.end),
    ]
    assert pipe.ledger.pending_exports() == []
    emu.settings.update({"v2_polls": 0})
    summary = pipe.run_windows(outcome.requeue)
    assert [b.window for b in summary.batches] == list(outcome.requeue)
    assert summary.watermark == window.end


def test_window_too_short_to_split_raises_the_timeout(emu, make_pipeline):
    emu.settings.update({"v2_polls": 1000})
    pipe = make_pipeline(export_timeout=0.05)
    end = emu.world.now() - timedelta(hours=1)
    with pytest.raises(LabelboxExportTimeoutError, match="not ready"):
        pipe.run_window(Window(end - timedelta(seconds=1), end))


def test_gaps_are_listed_and_filled_by_backfill_without_moving_watermark_back(emu, make_pipeline):
    pipe = make_pipeline()
    now = emu.world.now()
    hole = Window(pipe.config.initial_start + timedelta(days=10), now - timedelta(days=5))
    pipe.run_windows([Window(pipe.config.initial_start, hole.start)])
    pipe.run_windows([Window(hole.end, now - timedelta(days=1))], "backfill")
    assert pipe.gaps(now) == [hole, Window(now - timedelta(days=1), now - timedelta(minutes=10))]
    assert pipe.ledger.watermark() == hole.start
    filled = pipe.backfill(hole.start, hole.end, now)
    assert {b.mode for b in filled.batches} == {"backfill"}
    assert merge(b.window for b in filled.batches) == [hole]
    assert filled.watermark == now - timedelta(days=1)
    pipe.backfill(hole.start, hole.start + timedelta(days=1), now)  # an old window again
    assert pipe.ledger.watermark() == now - timedelta(days=1)  # never backwards


@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_reconcile_tombstones_deleted_labels(emu, make_pipeline, fmt):
    pipe = make_pipeline(export_format=fmt)
    pid = pipe.config.project_id
    pipe.catch_up(emu.world.now())
    victim = emu.ground_truth(pid)[0]["label_id"]
    emu.add_event("label_deleted", project_id=pid, target=victim)
    emu.advance(3600)
    batch = pipe.reconcile(emu.world.now())
    assert batch.mode == "reconcile" and batch.counts == {"tombstones": 1}
    view = current_tables(pipe.config.root, pid)
    assert victim not in view["labels"].column("label_id").to_pylist()
    assert view["tombstones"].column("label_id").to_pylist() == [victim]
    again = pipe.reconcile(emu.world.now())  # same batch id: replaced, tombstone kept
    assert again.batch_id == batch.batch_id and again.counts == {"tombstones": 1}
    assert (
        differences(
            mirror_state(pipe.config.root, pid, "IMAGE"), truth_state(emu.ground_truth(pid))
        )
        == []
    )
