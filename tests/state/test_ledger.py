"""The ledger on its own: manifests, pending exports, watermark and coverage, in a tmp folder."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from labelbox_provider.state.ledger import (
    Ledger,
    Manifest,
    ManifestFile,
    PendingExport,
    list_projects,
)
from labelbox_provider.state.windows import Window, batch_id_for

pytestmark = pytest.mark.unit

P = "cl-project"


def _w(day: int, until: int) -> Window:
    return Window(datetime(2026, 1, day, tzinfo=UTC), datetime(2026, 1, until, tzinfo=UTC))


def _manifest(window: Window, mode: str = "incremental") -> Manifest:
    batch_id = batch_id_for(P, window, "v2", mode)
    part = ManifestFile("labels", f"labels/batch={batch_id}/part-1-0.parquet", 3, 120, "ab" * 32)
    return Manifest(
        batch_id=batch_id,
        project_id=P,
        window=window,
        source_format="v2",
        mode=mode,
        export_id="task-1",
        extracted_at=datetime(2026, 1, 9, 12, 30, tzinfo=UTC),
        attempt=1,
        counts={"labels": 3, "data_rows": 2},
        files=(part,),
    )


def _read(path: Path) -> dict:
    return json.loads(path.read_text())


def test_manifest_round_trips_through_its_stored_file(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path), P)
    manifest = _manifest(_w(1, 2))
    ledger.write_manifest(manifest)
    stored = _read(tmp_path / f"project={P}" / "_ledger" / f"{manifest.batch_id}.json")
    assert stored["manifest_version"] == 1
    assert stored["window"] == {
        "start": "2026-01-01T00:00:00.000000Z",
        "end": "2026-01-02T00:00:00.000000Z",
    }
    assert stored["extracted_at"] == "2026-01-09T12:30:00.000000Z"
    assert stored["counts"] == {"data_rows": 2, "labels": 3}
    assert stored["files"][0] == {
        "table": "labels",
        "path": f"labels/batch={manifest.batch_id}/part-1-0.parquet",
        "rows": 3,
        "size": 120,
        "sha256": "ab" * 32,
    }
    assert ledger.manifest(manifest.batch_id) == manifest
    assert ledger.manifests() == [manifest]
    assert ledger.manifest("no-such-batch") is None


def test_manifest_reads_offset_forms_and_refuses_other_versions() -> None:
    data = _manifest(_w(1, 2)).to_dict()
    data["extracted_at"] = "2026-01-09T13:30:00+01:00"
    assert Manifest.from_dict(data).extracted_at == datetime(2026, 1, 9, 12, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="manifest version"):
        Manifest.from_dict({**data, "manifest_version": 2})


def test_pending_export_is_set_listed_and_cleared(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path), P)
    window = _w(3, 4)
    assert ledger.pending_export(window, "v2", "backfill") is None
    pending = ledger.record_export_started(window, "v2", "task-7", "backfill")
    assert pending == PendingExport(
        batch_id_for(P, window, "v2", "backfill"), window, "v2", "backfill", "task-7"
    )
    stored = _read(tmp_path / f"project={P}" / "_exports" / f"{pending.batch_id}.json")
    assert stored == {
        "batch_id": pending.batch_id,
        "window": {"start": "2026-01-03T00:00:00.000000Z", "end": "2026-01-04T00:00:00.000000Z"},
        "source_format": "v2",
        "mode": "backfill",
        "export_id": "task-7",
    }
    assert ledger.pending_export(window, "v2", "backfill") == pending
    assert ledger.pending_export(window, "v2", "incremental") is None
    assert ledger.pending_exports() == [pending]
    ledger.clear_pending_export(pending.batch_id)
    assert ledger.pending_export(window, "v2", "backfill") is None
    assert ledger.pending_exports() == []


def test_watermark_is_stored_with_its_initial_start(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path), P)
    assert ledger.watermark() is None
    mark = datetime(2026, 1, 5, 6, 7, 8, 9, tzinfo=UTC)
    ledger.write_watermark(mark, initial_start=datetime(2026, 1, 1, tzinfo=UTC), batch_id="b-1")
    assert ledger.watermark() == mark
    assert _read(tmp_path / f"project={P}" / "_watermark.json") == {
        "watermark": "2026-01-05T06:07:08.000009Z",
        "initial_start": "2026-01-01T00:00:00.000000Z",
        "advanced_by": "b-1",
    }


def test_coverage_merges_covering_batches_and_gaps_are_the_rest(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path), P)
    for window, mode in (
        (_w(1, 3), "incremental"),
        (_w(3, 4), "backfill"),
        (_w(6, 8), "incremental"),
    ):
        ledger.write_manifest(_manifest(window, mode))
    ledger.write_manifest(_manifest(_w(4, 6), "reconcile"))  # a reconcile covers nothing
    assert ledger.covered() == [_w(1, 4), _w(6, 8)]
    start, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 10, tzinfo=UTC)
    assert ledger.gaps(start, until) == [_w(4, 6), _w(8, 10)]
    assert list_projects(str(tmp_path)) == [P]
