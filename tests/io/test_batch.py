"""The commit protocol: manifests, counts, replacement, crashes at every step, watermark."""

from __future__ import annotations

import hashlib
import posixpath
from typing import Any

import duckdb
import pytest
from labelbox_provider.exceptions import CountMismatchError
from labelbox_provider.io.batch import commit_batch, sweep_orphans
from labelbox_provider.io.current import register_current_views
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import Window, batch_id_for

from .mirror_kit import CrashingFS, Mirror, SimulatedCrash, Spec, hours, write_staging

pytestmark = pytest.mark.integration

W1 = Window(hours(0), hours(1))
W2 = Window(hours(1), hours(2))
W3 = Window(hours(2), hours(3))
LEAN = ("data_rows", "labels", "tombstones")  # fewer files keep the crash-at-every-step loops fast


def all_files(ledger: Ledger) -> set[str]:
    """Every file under the project directory, relative to it."""
    if not ledger.fs.exists(ledger.project_path):
        return set()
    found = ledger.fs.find(ledger.project_path)
    return {posixpath.relpath(str(p), ledger.project_path) for p in found}


def data_files(ledger: Ledger) -> set[str]:
    """Files outside the bookkeeping folders."""
    return {p for p in all_files(ledger) if not p.startswith("_")}


def raw_labels(mirror: Mirror) -> set[tuple[str, str, str]]:
    """(batch_id, label_id, version) of every committed labels row, as a reader sees them."""
    con = duckdb.connect()
    register_current_views(con, mirror.root, "p1")
    rows = con.sql("SELECT batch_id, label_id, version FROM raw_labels").fetchall()
    return {(str(a), str(b), str(c)) for a, b, c in rows}


def check_manifests_intact(ledger: Ledger) -> None:
    """Every listed file exists with the recorded size and checksum."""
    for manifest in ledger.manifests():
        for f in manifest.files:
            with ledger.fs.open(ledger.path(f.path), "rb") as handle:
                data = handle.read()
            assert len(data) == f.size
            assert hashlib.sha256(data).hexdigest() == f.sha256


def test_commit_publishes_manifest_files_and_watermark(mirror: Mirror) -> None:
    spec = Spec({"d1": {"l1": "a", "l2": "a"}}, rejects=["bad record"])
    manifest = mirror.commit(spec, W1, extracted_at=hours(1.5))
    ledger = mirror.ledger
    assert ledger.manifests() == [manifest]
    assert manifest.attempt == 1 and manifest.counts["labels"] == 2
    assert manifest.counts["rejects"] == 1 and manifest.counts["tombstones"] == 0
    assert {f.table for f in manifest.files} == set(manifest.counts)
    check_manifests_intact(ledger)
    assert ledger.watermark() == W1.end
    bid = manifest.batch_id
    assert data_files(ledger) == {f"{t}/batch={bid}/part-1-00000.parquet" for t in manifest.counts}
    assert not any(p.startswith("_staging") for p in all_files(ledger))
    assert {(lab, v) for _, lab, v in raw_labels(mirror)} == {("l1", "a"), ("l2", "a")}


def test_count_mismatch_aborts_and_leaves_nothing(mirror: Mirror) -> None:
    mirror.commit(Spec({"d1": {"l1": "a"}}), W1, extracted_at=hours(1.5))
    before = all_files(mirror.ledger)
    with pytest.raises(CountMismatchError, match=r"labels: expected 3, found 1"):
        mirror.commit(
            Spec({"d2": {"l2": "a"}}, extra_rows={"labels": 2}), W2, extracted_at=hours(3)
        )
    claims = {p for p in all_files(mirror.ledger) if p.startswith("_state/claims/")}
    assert all_files(mirror.ledger) - claims == before - claims  # only the attempt's claim is new
    assert mirror.ledger.watermark() == W1.end
    assert len(mirror.ledger.manifests()) == 1


def test_rerunning_a_window_replaces_its_batch(mirror: Mirror) -> None:
    first = mirror.commit(Spec({"d1": {"l1": "a", "l2": "a"}}), W1, extracted_at=hours(1.5))
    second = mirror.commit(Spec({"d1": {"l1": "b"}}), W1, extracted_at=hours(4))
    assert second.batch_id == first.batch_id and second.attempt == 2
    assert mirror.ledger.manifests() == [second]
    assert raw_labels(mirror) == {(second.batch_id, "l1", "b")}
    assert data_files(mirror.ledger) == {f.path for f in second.files}
    check_manifests_intact(mirror.ledger)


def _rows(bid: str, spec: Spec) -> set[tuple[str, str, str]]:
    return {(bid, lab, v) for labels in spec.rows.values() for lab, v in labels.items()}


def _crashing(mirror: Mirror, fail_at: int) -> Ledger:
    """The mirror's ledger on a filesystem that crashes at its ``fail_at``-th mutation."""
    fs: Any = CrashingFS(mirror.ledger.fs, fail_at)
    return Ledger(mirror.ledger.root, "p1", fs=fs)


def _assert_no_orphans(mirror: Mirror) -> None:
    listed = {f.path for m in mirror.ledger.manifests() for f in m.files}
    assert data_files(mirror.ledger) == listed
    assert not any(p.startswith(("_staging", "_exports")) for p in all_files(mirror.ledger))


def test_a_crash_at_any_step_of_a_new_batch_shows_nothing_or_everything(mirror: Mirror) -> None:
    mirror.commit(Spec({"d1": {"l1": "a"}}), W1, extracted_at=hours(1.5))
    new = Spec({"d2": {"l2": "new", "l3": "new"}}, tables=LEAN)
    crashed: list[Window] = []
    outcomes = set()
    for fail_at in range(1, 200):
        window = Window(hours(10 + fail_at), hours(11 + fail_at))  # a fresh batch each time
        bid = batch_id_for("p1", window, "v2")
        try:
            mirror.commit(new, window, extracted_at=hours(50), ledger=_crashing(mirror, fail_at))
        except SimulatedCrash:
            visible = {r for r in raw_labels(mirror) if r[0] == bid}
            assert visible in (set(), _rows(bid, new)), f"partial batch after crash {fail_at}"
            outcomes.add(bool(visible))
            check_manifests_intact(mirror.ledger)
            assert mirror.ledger.watermark() == W1.end  # these windows leave a gap after W1
            crashed.append(window)
            continue
        break
    assert len(crashed) > 5 and outcomes == {False, True}
    for window in crashed:  # retrying every crashed window completes it and leaves no debris
        mirror.commit(new, window, extracted_at=hours(60))
    _assert_no_orphans(mirror)
    assert len(raw_labels(mirror)) == 1 + 2 * (len(crashed) + 1)


def test_a_crash_at_any_step_of_a_rerun_shows_old_or_new_batch(mirror: Mirror) -> None:
    mirror.commit(Spec({"d1": {"l1": "a"}}), W1, extracted_at=hours(1.5))
    old = Spec({"d2": {"l2": "old"}}, tables=LEAN)
    new = Spec({"d2": {"l2": "new", "l3": "new"}}, tables=LEAN)
    mirror.commit(old, W2, extracted_at=hours(2.5))
    bid = batch_id_for("p1", W2, "v2")
    others = {r for r in raw_labels(mirror) if r[0] != bid}
    outcomes = set()
    fail_at = 0
    while True:
        fail_at += 1
        try:
            mirror.commit(new, W2, extracted_at=hours(50), ledger=_crashing(mirror, fail_at))
        except SimulatedCrash:
            visible = raw_labels(mirror)
            assert visible - others in (_rows(bid, old), _rows(bid, new)), f"crash {fail_at}"
            assert visible & others == others
            outcomes.add(visible - others == _rows(bid, new))
            check_manifests_intact(mirror.ledger)
            mirror.commit(old, W2, extracted_at=hours(2.5))  # back to the old state
            continue
        break
    assert fail_at > 5 and outcomes == {False, True}
    assert raw_labels(mirror) - others == _rows(bid, new)
    _assert_no_orphans(mirror)


def test_watermark_follows_contiguous_coverage_and_never_goes_back(mirror: Mirror) -> None:
    ledger = mirror.ledger
    mirror.commit(Spec({}), W1, extracted_at=hours(10))
    mirror.commit(Spec({}), W3, extracted_at=hours(10))
    assert ledger.watermark() == W1.end
    assert ledger.gaps(hours(0), hours(4)) == [W2, Window(hours(3), hours(4))]
    mirror.commit(Spec({}), W2, extracted_at=hours(11), mode="backfill")
    assert ledger.watermark() == W3.end and ledger.gaps(hours(0), hours(3)) == []
    # a backfill of an old, already covered window does not move it back
    mirror.commit(Spec({}), Window(hours(0), hours(0.5)), extracted_at=hours(12), mode="backfill")
    assert ledger.watermark() == W3.end
    # a reconcile batch is not window coverage
    mirror.commit(Spec({}), Window(hours(3), hours(9)), extracted_at=hours(12), mode="reconcile")
    assert ledger.watermark() == W3.end


def test_pending_export_is_recorded_in_the_destination_and_cleared_by_commit(
    mirror: Mirror,
) -> None:
    ledger = mirror.ledger
    assert ledger.pending_export(W1, "v2") is None
    pending = ledger.record_export_started(W1, "v2", "task-123")
    again = Ledger(mirror.root, "p1")  # another worker sees it
    assert again.pending_export(W1, "v2") == pending
    assert again.pending_export(W1, "v1") is None
    assert [p.export_id for p in again.pending_exports()] == ["task-123"]
    mirror.commit(Spec({}), W1, extracted_at=hours(2))
    assert ledger.pending_export(W1, "v2") is None and ledger.pending_exports() == []


def test_missing_staging_dir_is_an_error(mirror: Mirror, tmp_path: Any) -> None:
    with pytest.raises(Exception, match="does not exist"):
        commit_batch(
            mirror.ledger,
            staging_dir=tmp_path / "nope",
            batch_id="b",
            window=W1,
            source_format="v2",
            export_id=None,
            extracted_at=hours(2),
            counts={},
            initial_start=hours(0),
            mode="incremental",
        )
    assert mirror.ledger.manifests() == []


def test_staged_counts_come_from_the_files(tmp_path: Any) -> None:
    counts = write_staging(
        tmp_path / "s",
        Spec({"d1": {"l1": "a", "l2": "b"}, "d2": {}}),
        project_id="p1",
        batch_id="b",
        window=W1,
        fmt="v2",
        extracted_at=hours(2),
    )
    assert counts["data_rows"] == 2 and counts["labels"] == 2 and counts["objects"] == 2


def test_sweep_removes_debris_of_abandoned_attempts_only(mirror: Mirror) -> None:
    kept = mirror.commit(Spec({"d1": {"l1": "a"}}, tables=LEAN), W1, extracted_at=hours(1))
    window = Window(hours(5), hours(6))
    for fail_at in (3, 6):  # crash mid-upload, then before the manifest: never retried
        with pytest.raises(SimulatedCrash):
            spec = Spec({"d2": {"l2": "a"}}, tables=LEAN)
            mirror.commit(spec, window, extracted_at=hours(7), ledger=_crashing(mirror, fail_at))
    assert data_files(mirror.ledger) != {f.path for f in kept.files}  # debris is there
    would = sweep_orphans(mirror.ledger, dry_run=True)
    assert would and all("batch=" in p for p in would)
    assert sorted(sweep_orphans(mirror.ledger)) == sorted(would)
    _assert_no_orphans(mirror)
    assert data_files(mirror.ledger) == {f.path for f in kept.files}
    assert raw_labels(mirror) == {(kept.batch_id, "l1", "a")}


def test_a_table_split_in_several_part_files_commits_whole(
    mirror: Mirror, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from labelbox_provider.io import parquet as sink
    from labelbox_provider.io.current import current_tables
    from labelbox_provider.io.flatten import flatten_file
    from labelbox_provider.transforms import Lineage

    monkeypatch.setattr(sink, "BATCH_BYTES", 300)  # tiny row groups, 2 writes per file
    monkeypatch.setattr(sink, "ROW_GROUP_ROWS", 5)
    monkeypatch.setattr(sink, "ROW_GROUPS_PER_FILE", 2)
    records = [
        {"ID": f"l{i}", "DataRow ID": f"d{i}", "Label": {"objects": [
            {"featureId": f"o{i}-{j}", "point": {"x": j, "y": i}} for j in range(3)]}}
        for i in range(30)
    ]  # fmt: skip
    src = tmp_path / "export.json"
    src.write_text(json.dumps(records))
    bid = batch_id_for("p1", W1, "v1")
    lineage = Lineage("p1", bid, hours(1.5), W1.start, W1.end)
    counts = flatten_file(src, tmp_path / "staging", lineage)
    assert len(list((tmp_path / "staging" / "objects").glob("*.parquet"))) > 1
    manifest = commit_batch(
        mirror.ledger,
        staging_dir=tmp_path / "staging",
        batch_id=bid,
        window=W1,
        source_format="v1",
        export_id=None,
        extracted_at=hours(1.5),
        counts=counts,
        initial_start=hours(0),
        mode="incremental",
    )
    objects_files = [f for f in manifest.files if f.table == "objects"]
    assert len(objects_files) > 1
    check_manifests_intact(mirror.ledger)
    objects = current_tables(mirror.root, "p1", tables=("objects",))["objects"]
    assert sorted(objects.column("feature_id").to_pylist()) == sorted(
        f"o{i}-{j}" for i in range(30) for j in range(3)
    )
