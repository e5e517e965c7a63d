"""The ledger on its own: manifests, pending exports, watermark, coverage, the checkpoint and its
migration from a mirror written before it, in a tmp folder."""

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


def _commit(ledger: Ledger, manifest: Manifest) -> None:
    ledger.write_manifest(manifest)
    ledger.publish_commit(manifest, initial_start=datetime(2026, 1, 1, tzinfo=UTC))


def test_manifest_round_trips_through_its_stored_file(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path), P)
    manifest = _manifest(_w(1, 2))
    ledger.write_manifest(manifest)
    assert ledger.manifest(manifest.batch_id) is None  # written, not committed
    ledger.publish_commit(manifest, initial_start=datetime(2026, 1, 1, tzinfo=UTC))
    stored = _read(tmp_path / f"project={P}" / "_ledger" / manifest.batch_id / "1.json")
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
    stored = _read(tmp_path / f"project={P}" / "_state" / "checkpoint.json")
    assert stored["pending"][pending.batch_id] == {
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


def test_watermark_is_stored_in_the_checkpoint_with_its_initial_start(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path), P)
    assert ledger.watermark() is None
    _commit(ledger, _manifest(_w(1, 2)))
    _commit(ledger, _manifest(_w(3, 4)))  # after a gap: the watermark stays
    assert ledger.watermark() == _w(1, 2).end
    stored = _read(tmp_path / f"project={P}" / "_state" / "checkpoint.json")
    assert stored["checkpoint_version"] == 1
    assert stored["watermark"] == "2026-01-02T00:00:00.000000Z"
    assert stored["initial_start"] == "2026-01-01T00:00:00.000000Z"
    assert stored["advanced_by"] == _manifest(_w(1, 2)).batch_id
    assert [e["seq"] for e in stored["tail"].values()] == [1, 2]


def test_coverage_merges_covering_batches_and_gaps_are_the_rest(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path), P)
    for window, mode in (
        (_w(1, 3), "incremental"),
        (_w(3, 4), "backfill"),
        (_w(6, 8), "incremental"),
    ):
        _commit(ledger, _manifest(window, mode))
    _commit(ledger, _manifest(_w(4, 6), "reconcile"))  # a reconcile covers nothing
    assert ledger.covered() == [_w(1, 4), _w(6, 8)]
    start, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 10, tzinfo=UTC)
    assert ledger.gaps(start, until) == [_w(4, 6), _w(8, 10)]
    assert list_projects(str(tmp_path)) == [P]


def _legacy_mirror(tmp_path: Path, manifests: list[Manifest], watermark: dict[str, str]) -> None:
    """Files as the pre-checkpoint ledger wrote them."""
    project = tmp_path / f"project={P}"
    (project / "_ledger").mkdir(parents=True)
    for m in manifests:
        (project / "_ledger" / f"{m.batch_id}.json").write_text(json.dumps(m.to_dict()))
    (project / "_watermark.json").write_text(json.dumps(watermark))
    pending = PendingExport(batch_id_for(P, _w(9, 10), "v2"), _w(9, 10), "v2", "incremental", "t9")
    (project / "_exports").mkdir()
    (project / "_exports" / f"{pending.batch_id}.json").write_text(json.dumps(pending.to_dict()))


def test_a_mirror_without_checkpoint_is_migrated_once(tmp_path: Path) -> None:
    old = [_manifest(_w(1, 2)), _manifest(_w(2, 3)), _manifest(_w(5, 6), "backfill")]
    mark = {"watermark": "2026-01-03T00:00:00.000000Z", "initial_start": "2026-01-01T00:00:00Z"}
    _legacy_mirror(tmp_path, old, mark)
    ledger = Ledger(str(tmp_path), P)
    assert ledger.watermark() == datetime(2026, 1, 3, tzinfo=UTC)
    assert ledger.covered() == [_w(1, 3), _w(5, 6)]
    assert [p.export_id for p in ledger.pending_exports()] == ["t9"]
    assert sorted(m.batch_id for m in ledger.manifests()) == sorted(m.batch_id for m in old)
    assert ledger.manifest(old[0].batch_id) == old[0]
    cp_file = tmp_path / f"project={P}" / "_state" / "checkpoint.json"
    written = cp_file.read_bytes()
    assert Ledger(str(tmp_path), P).checkpoint() == ledger.checkpoint()  # read, not rebuilt
    assert cp_file.read_bytes() == written
    # a re-commit of a migrated batch takes a new attempt (its old files keep their names)
    assert ledger.claim_attempt(old[0].batch_id) == 2


def test_a_newer_committed_attempt_wins_and_an_older_one_is_replaced(tmp_path: Path) -> None:
    from labelbox_provider.exceptions import LostClaimError

    ledger = Ledger(str(tmp_path), P)
    base = _manifest(_w(1, 2))
    a1, a2 = ledger.claim_attempt(base.batch_id), ledger.claim_attempt(base.batch_id)
    assert (a1, a2) == (1, 2)  # exclusive claims: never the same attempt twice
    from dataclasses import replace

    first, second = replace(base, attempt=a1), replace(base, attempt=a2)
    _commit(ledger, second)  # the retry commits first
    with pytest.raises(LostClaimError, match="attempt 2 was committed"):
        _commit(ledger, first)  # the zombie's later commit loses
    assert ledger.manifest(base.batch_id) == second
    third = replace(base, attempt=ledger.claim_attempt(base.batch_id))
    _commit(ledger, third)  # a later attempt replaces
    assert ledger.manifest(base.batch_id) == third
    assert [e.attempt for e in ledger.batches()] == [3]


def test_the_index_is_sealed_into_segments_and_per_run_reads_stay_small(tmp_path: Path) -> None:
    from labelbox_provider.state.checkpoint import TAIL_LIMIT

    ledger = Ledger(str(tmp_path), P)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    from datetime import timedelta

    n = 2 * TAIL_LIMIT + 5
    for i in range(n):
        w = Window(start + timedelta(hours=i), start + timedelta(hours=i + 1))
        _commit(ledger, replace_window(_manifest(_w(1, 2)), w))
    cp = ledger.checkpoint()
    assert len(cp.segments) == 2 and len(cp.tail) <= TAIL_LIMIT
    assert ledger.watermark() == start + timedelta(hours=n)
    assert [e.seq for e in ledger.batches()] == list(range(1, n + 1))
    assert [e.seq for e in ledger.batches(since_seq=n - 3)] == [n - 2, n - 1, n]
    size = (tmp_path / f"project={P}" / "_state" / "checkpoint.json").stat().st_size
    assert size < 200 * (TAIL_LIMIT + 1) + 4000  # bounded by the tail, not by the history


def replace_window(m: Manifest, w: Window) -> Manifest:
    from dataclasses import replace

    return replace(m, window=w, batch_id=batch_id_for(P, w, "v2"))
