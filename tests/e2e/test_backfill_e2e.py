"""The backfill example DAG: the windows given to its runs fill a gap; the watermark stays."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import labelbox_backfill
import pytest
from labelbox_provider.pipeline.run import MirrorPipeline
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import Window

pytestmark = pytest.mark.e2e


@pytest.mark.usefixtures("airflow_db")
def test_backfill_runs_fill_the_gap_and_keep_the_watermark(
    labelbox_emulator_factory: Any, labelbox_connection: Any, tmp_path: Path
) -> None:
    from labelbox_provider.hooks.labelbox import LabelboxHook

    emu = labelbox_emulator_factory(media_types=["IMAGE"], labels_per_project=10)
    labelbox_connection(emu)
    project = emu.projects[0]["id"]
    root = str(tmp_path / "mirror")
    now = emu.world.now()
    start = now - timedelta(days=10)
    pipe = MirrorPipeline(LabelboxHook(), root, project, initial_start=start, poll_interval=0.01)
    pipe.run_windows([Window(start, start + timedelta(days=2))])
    pipe.run_windows([Window(start + timedelta(days=4), now - timedelta(hours=1))], "backfill")
    hole = Window(start + timedelta(days=2), start + timedelta(days=4))
    assert pipe.gaps(now)[0] == hole and Ledger(root, project).watermark() == hole.start

    dag = labelbox_backfill.build_dag(
        project_ids=[project], destination=root, initial_start=start, poll_interval=0.01
    )
    for day in (3, 4, 3):  # the windows [day-1, day) in the run's params; day 3 twice: a re-run
        window = {
            "window_start": (start + timedelta(days=day - 1)).isoformat(),
            "window_end": (start + timedelta(days=day)).isoformat(),
        }
        run = dag.test(run_conf=window)
        assert run.state == "success"

    batches = [m for m in Ledger(root, project).manifests() if m.mode == "backfill"]
    assert hole.start in [m.window.start for m in batches]
    assert len(batches) == len({m.batch_id for m in batches}) == 3  # re-run replaced, no dup
    assert pipe.gaps(now) == [Window(now - timedelta(hours=1), now - timedelta(minutes=10))]
    assert Ledger(root, project).watermark() == now - timedelta(hours=1)


@pytest.mark.usefixtures("airflow_db")
def test_backfill_run_without_a_window_fails_clearly(
    labelbox_emulator_factory: Any, labelbox_connection: Any, tmp_path: Path
) -> None:
    emu = labelbox_emulator_factory(media_types=["IMAGE"], labels_per_project=3)
    labelbox_connection(emu)
    project = emu.projects[0]["id"]
    dag = labelbox_backfill.build_dag(project_ids=[project], destination=str(tmp_path / "m"))
    run = dag.test()
    assert run.state == "failed"
    assert emu.exports_created() == []  # refused before any export
    assert not (tmp_path / "m" / f"project={project}" / "_ledger").exists()
