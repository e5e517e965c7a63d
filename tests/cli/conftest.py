"""Fixtures of the CLI tests: a small hand-made mirror and an in-process CLI runner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from labelbox_provider.io.batch import commit_batch
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import Window, batch_id_for

PROJECT = "proj-cli-1"
DAY0 = datetime(2024, 3, 1, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")


def _lineage(n: int, batch_id: str, w: Window, extracted: datetime) -> dict[str, pa.Array]:
    return {
        "project_id": pa.array([PROJECT] * n),
        "batch_id": pa.array([batch_id] * n),
        "extracted_at": pa.array([extracted] * n, TS),
        "window_start": pa.array([w.start] * n, TS),
        "window_end": pa.array([w.end] * n, TS),
        "source_format": pa.array(["v2"] * n),
    }


def commit_day(
    ledger: Ledger, staging: Path, day: int, labels: list[tuple[str, str]], *, mode: str
) -> str:
    """Commit one day-window batch holding ``labels`` as (label_id, data_row_id) pairs."""
    w = Window(DAY0 + timedelta(days=day), DAY0 + timedelta(days=day + 1))
    batch_id = batch_id_for(PROJECT, w, "v2", mode)
    extracted = w.end + timedelta(minutes=5)
    stage = staging / batch_id
    for table, rows in (
        ("labels", labels),
        ("data_rows", sorted({(dr, dr) for _, dr in labels})),
    ):
        (stage / table).mkdir(parents=True)
        cols = _lineage(len(rows), batch_id, w, extracted)
        cols["label_id" if table == "labels" else "global_key"] = pa.array([r[0] for r in rows])
        cols["data_row_id"] = pa.array([r[1] for r in rows])
        pq.write_table(pa.table(cols), stage / table / "part-0.parquet")
    commit_batch(
        ledger,
        staging_dir=stage,
        batch_id=batch_id,
        window=w,
        source_format="v2",
        export_id=f"task-{day}",
        extracted_at=extracted,
        counts={"labels": len(labels), "data_rows": len({dr for _, dr in labels})},
        initial_start=DAY0,
        mode=mode,
    )
    return batch_id


@pytest.fixture
def gappy_mirror(tmp_path: Path) -> Path:
    """A mirror of days 0, 1 and 4 (incremental) plus day 3 (backfill): day 2 is a gap.

    Data row D1 has labels L1 and L2 on day 0 but only L1 on day 1: the day-1 v2 snapshot of D1
    wins, so L2 counts as deleted. The current view has 3 labels (L1, L3, L4), the raw table 5.
    """
    root = tmp_path / "mirror"
    ledger = Ledger(str(root), PROJECT)
    staging = tmp_path / "staging"
    commit_day(ledger, staging, 0, [("L1", "D1"), ("L2", "D1")], mode="incremental")
    commit_day(ledger, staging, 1, [("L1", "D1")], mode="incremental")
    commit_day(ledger, staging, 3, [("L3", "D2")], mode="backfill")
    commit_day(ledger, staging, 4, [("L4", "D3")], mode="incremental")
    return root


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``labelbox-export <argv>`` in process; returns (exit status, stdout, stderr)."""
    from labelbox_provider.cli.main import main

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            status = main(list(argv))
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return int(status or 0), out, err

    return run
