"""Delta Lake current tables against the emulator: after every run they equal the current view.

Multi-run scenarios (creates, edits, deletes; v1 and v2; reconcile tombstones; a backfill
that replaces a batch) compare the Delta tables with the current view table for table after
each run; a Delta update that dies after its commit is repaired by the next commit; every
version reads back as the current view of its time (time travel); pyarrow reads the tables
without deltalake; and the whole of it runs on a real S3 API (moto server on loopback).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.io import delta as delta_mod
from labelbox_provider.io.current import TABLES, current_tables
from labelbox_provider.io.delta import (
    META,
    open_delta_table,
    table_uri,
    update_delta_tables,
)
from labelbox_provider.pipeline.run import MirrorPipeline
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import Window

from tests.e2e.delta_check import delta_differences, live_rows, rows_of
from tests.emulator_kit import connected_emulator
from tests.s3_server import S3Mirror

pytestmark = pytest.mark.e2e

DAY = 86_400.0
EVENTS = {
    "label_created": 2,
    "label_updated": 3,
    "label_deleted": 1,
    "review_applied": 1,
    "workflow_moved": 1,
    "metadata_updated": 1,
}
WORLD = {
    "media_types": ["IMAGE", "VIDEO"],
    "labels_per_project": 8,
    "seed": 0,
    "clock": "fixed",
    "v1_polls": 0,
    "v2_polls": 0,
    "v1_cache_seconds": 0.0,
}


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    with connected_emulator(monkeypatch, **WORLD) as server:
        yield server


@pytest.fixture
def pipeline(emu: EmulatorServer, tmp_path: Path) -> Callable[..., MirrorPipeline]:
    """``make(project_index=0, root=None, **options)``: a Delta-enabled pipeline."""
    from labelbox_provider.hooks.labelbox import LabelboxHook

    def make(project_index: int = 0, root: str | None = None, **options: Any) -> MirrorPipeline:
        project = emu.projects[project_index]["id"]
        start = emu.world.now() - timedelta(days=31)
        defaults = {"initial_start": start, "poll_interval": 0.01, "delta_tables": True}
        return MirrorPipeline(
            LabelboxHook(), root or str(tmp_path / "mirror"), project, **{**defaults, **options}
        )

    return make


def _check(pipe: MirrorPipeline) -> int:
    """Delta == current view for every table; returns the live rows compared."""
    c = pipe.config
    assert delta_differences(c.root, c.project_id, c.storage_options) == {}
    rows = live_rows(c.root, c.project_id, c.storage_options)
    assert rows > 0
    return rows


def _versions(pipe: MirrorPipeline, table: str) -> list[dict[str, Any]]:
    dt = open_delta_table(pipe.ledger, table, pipe.config.storage_options)
    assert dt is not None
    return sorted(dt.history(), key=lambda h: int(h["version"]))


@pytest.mark.parametrize("export_format", ["v2", "v1"])
def test_delta_equals_current_view_after_every_run(
    emu: EmulatorServer, pipeline: Callable[..., MirrorPipeline], export_format: str
) -> None:
    pipe = pipeline(export_format=export_format)
    start = pipe.config.initial_start
    for _ in range(3):  # creates, edits, deletes: one incremental run a day
        emu.advance(DAY, events=EVENTS)
        assert pipe.catch_up(emu.world.now()).batches
        _check(pipe)
    emu.advance(DAY, events={"label_deleted": 3})
    pipe.reconcile(emu.world.now())  # v1 sees deletions only here: tombstones
    _check(pipe)
    tombstones = current_tables(pipe.config.root, pipe.config.project_id)["tombstones"]
    if export_format == "v1":
        assert tombstones.num_rows > 0
    # a backfill of a window, run twice: the second run replaces the first one's batch
    window = Window(start, start + timedelta(days=31))
    for _ in range(2):
        emu.advance(3600, events={"label_updated": 2})
        pipe.run_windows([window], "backfill")
        _check(pipe)
    # every table holds every committed batch (through the last seq); the replaced batch
    # rebuilt the tables (a new attempt), the others were applied one version each
    for table in TABLES:
        dt = open_delta_table(pipe.ledger, table)
        assert dt is not None
        assert delta_mod.applied_seq(dt) == pipe.ledger.checkpoint().next_seq - 1
        ops = [h.get(META + "operation") for h in _versions(pipe, table)]
        assert ops[0] == "create" and ops[-1] == "rebuild" and ops.count("batch") >= 4
    # nothing left to do: no new version
    before = [len(_versions(pipe, t)) for t in TABLES]
    assert not update_delta_tables(pipe.ledger).changed
    assert [len(_versions(pipe, t)) for t in TABLES] == before


def test_an_update_reads_only_the_index_it_has_not_applied(
    emu: EmulatorServer, pipeline: Callable[..., MirrorPipeline], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Delta update's cost does not grow with the history: with the index sealed into
    segments every two batches and a compaction after three raw batches, a table that is behind
    reads the segments of the batches it misses (and compacts them), then a caught-up update and
    the update after one more commit read no segment: the checkpoint's tail and the compacted
    base have what they need."""
    import labelbox_provider.state.ledger as ledger_mod

    monkeypatch.setattr(ledger_mod, "TAIL_LIMIT", 2)
    monkeypatch.setattr(delta_mod, "AUTO_COMPACT_AFTER", 3)
    reads: list[str] = []
    real = ledger_mod.Ledger._segment

    def counted(self: Any, segment: Any) -> Any:
        reads.append(segment.path)
        return real(self, segment)

    monkeypatch.setattr(ledger_mod.Ledger, "_segment", counted)
    pipe = pipeline()
    late = pipeline(delta_tables=False)
    emu.advance(DAY, events=EVENTS)
    pipe.catch_up(emu.world.now())
    for _ in range(5):  # five batches the Delta tables do not see: sealed into segments
        emu.advance(DAY, events=EVENTS)
        late.catch_up(emu.world.now())
    assert len(pipe.ledger.checkpoint().segments) >= 2
    reads.clear()
    assert delta_mod.raw_batches(pipe.ledger.checkpoint()) > 3  # no base yet
    fresh = ledger_mod.Ledger(pipe.config.root, pipe.config.project_id)
    done = update_delta_tables(fresh, compact_after=3)
    assert reads and all(len(b) == 5 for b in done.applied.values()), done.applied
    assert delta_mod.raw_batches(pipe.ledger.checkpoint()) == 0  # compacted first
    _check(pipe)
    reads.clear()
    assert not update_delta_tables(pipe.ledger).changed  # caught up
    emu.advance(DAY, events=EVENTS)
    pipe.catch_up(emu.world.now())  # one more commit, applied by the run itself
    _check(pipe)
    assert reads == []  # neither read an index segment
    dt = open_delta_table(pipe.ledger, "labels")
    assert dt is not None and delta_mod.applied_seq(dt) == pipe.ledger.checkpoint().next_seq - 1


def test_a_failed_delta_update_is_repaired_by_the_next_commit(
    emu: EmulatorServer, pipeline: Callable[..., MirrorPipeline], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe = pipeline()
    emu.advance(DAY, events=EVENTS)
    pipe.catch_up(emu.world.now())
    _check(pipe)

    real = delta_mod._merge
    calls = {"n": 0}

    def dies_midway(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # two tables took the batch, then the process "dies"
            raise RuntimeError("killed")
        real(*args, **kwargs)

    monkeypatch.setattr(delta_mod, "_merge", dies_midway)
    emu.advance(DAY, events=EVENTS)
    with pytest.raises(RuntimeError, match="killed"):
        pipe.catch_up(emu.world.now())
    monkeypatch.setattr(delta_mod, "_merge", real)
    missed = pipe.ledger.manifests()[-1].batch_id
    assert pipe.ledger.manifest(missed) is not None  # the batch is committed...
    assert delta_differences(pipe.config.root, pipe.config.project_id) != {}  # ...Delta behind

    emu.advance(DAY, events=EVENTS)
    pipe.catch_up(emu.world.now())  # the next commit applies the missed batch, then its own
    _check(pipe)
    labels = [h.get(META + "batch_id") for h in _versions(pipe, "labels")]
    assert labels.count(missed) == 1  # applied once, in its own version
    objects = [h.get(META + "batch_id") for h in _versions(pipe, "data_rows")]
    assert objects.count(missed) == 1  # the table that had taken it was not applied again


def test_time_travel_reads_each_runs_state(
    emu: EmulatorServer, pipeline: Callable[..., MirrorPipeline]
) -> None:
    pipe = pipeline()
    seen = []  # (labels version after the run, the current view's labels then)
    for _ in range(3):
        emu.advance(DAY, events=EVENTS)
        pipe.catch_up(emu.world.now())
        dt = open_delta_table(pipe.ledger, "labels")
        assert dt is not None
        view = current_tables(pipe.config.root, pipe.config.project_id)["labels"]
        seen.append((dt.version(), rows_of(view), datetime.now(UTC)))  # after, before the next
    assert seen[0][1] != seen[-1][1] and len({v for v, _, _ in seen}) == 3
    for version, state, after in seen:
        old = open_delta_table(pipe.ledger, "labels", version=version)
        assert old is not None and rows_of(old.to_pyarrow_table()) == state
        at = open_delta_table(pipe.ledger, "labels", as_of=after)
        assert at is not None and at.version() == version


def test_pyarrow_reads_the_delta_files_alone(
    emu: EmulatorServer, pipeline: Callable[..., MirrorPipeline]
) -> None:
    import pyarrow.dataset as ds

    pipe = pipeline()
    for _ in range(2):
        emu.advance(DAY, events=EVENTS)
        pipe.catch_up(emu.world.now())
    view = current_tables(pipe.config.root, pipe.config.project_id)
    for table in ("labels", "objects", "data_rows"):
        dt = open_delta_table(pipe.ledger, table)
        assert dt is not None
        files = dt.file_uris()  # the live files of the latest version (no deletion vectors)
        read = ds.dataset(files, format="parquet").to_table()
        assert rows_of(read) == rows_of(view[table]) and read.num_rows > 0


def test_query_command_reads_delta_tables(
    emu: EmulatorServer, pipeline: Callable[..., MirrorPipeline], capsys: Any
) -> None:
    from labelbox_provider.cli.main import main

    pipe = pipeline()
    root, project = pipe.config.root, pipe.config.project_id
    sql = "SELECT count(*) AS n, count(DISTINCT label_id) AS labels FROM labels"
    emu.advance(DAY, events=EVENTS)
    pipe.catch_up(emu.world.now())
    dt = open_delta_table(pipe.ledger, "labels")
    assert dt is not None
    first_version = dt.version()
    capsys.readouterr()  # the run's logs
    assert main(["query", "--root", root, "--sql", sql]) == 0
    first = capsys.readouterr().out
    emu.advance(DAY, events={"label_created": 4})
    pipe.catch_up(emu.world.now())
    capsys.readouterr()
    assert main(["query", "--root", root, "--sql", sql]) == 0
    parquet = capsys.readouterr().out
    assert parquet != first  # four more labels
    assert main(["query", "--root", root, "--delta", "--sql", sql]) == 0
    assert capsys.readouterr().out == parquet
    assert main(["query", "--root", root, "--project", project, "--delta", "--as-of-version",
                 str(first_version), "--sql", sql]) == 0  # fmt: skip
    assert capsys.readouterr().out == first
    assert main(["delta", "history", "--root", root, "--project", project, "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [v["version"] for v in history["versions"]][-1] == 0
    assert history["versions"][0]["batch_id"] == pipe.ledger.manifests()[-1].batch_id
    assert main(["query", "--root", root, "--as-of-version", "1", "--table", "labels"]) == 2


def test_rebuild_for_a_mirror_that_enables_delta_late(
    emu: EmulatorServer, pipeline: Callable[..., MirrorPipeline], capsys: Any
) -> None:
    from labelbox_provider.cli.main import main

    pipe = pipeline(delta_tables=False)
    for _ in range(2):
        emu.advance(DAY, events=EVENTS)
        pipe.catch_up(emu.world.now())
    assert open_delta_table(pipe.ledger, "labels") is None
    root, project = pipe.config.root, pipe.config.project_id
    capsys.readouterr()
    assert main(["delta", "rebuild", "--root", root, "--project", project]) == 0
    assert json.loads(capsys.readouterr().out)["rebuilt"] == list(TABLES)
    _check(pipe)
    later = pipeline()  # now enabled: the next commit applies on top of the rebuild
    emu.advance(DAY, events=EVENTS)
    later.catch_up(emu.world.now())
    _check(later)


@pytest.mark.timeout(900)
def test_on_a_real_s3_api(
    emu: EmulatorServer,
    pipeline: Callable[..., MirrorPipeline],
    s3_mirror: S3Mirror,
) -> None:
    pipe = pipeline(root=s3_mirror.root, storage_options=s3_mirror.storage_options)
    for _ in range(2):
        emu.advance(DAY, events=EVENTS)
        pipe.catch_up(emu.world.now())
        _check(pipe)
    emu.advance(DAY, events={"label_deleted": 2})
    pipe.reconcile(emu.world.now())
    _check(pipe)
    uri = table_uri(pipe.ledger, "labels")
    assert uri.startswith(f"s3://{s3_mirror.bucket}/mirror/project=")
    listed = s3_mirror.client().list_objects_v2(
        Bucket=s3_mirror.bucket, Prefix=uri.split("/", 3)[3] + "/_delta_log/"
    )
    assert len(listed["Contents"]) == len(_versions(pipe, "labels"))  # one log entry a version
    assert not update_delta_tables(pipe.ledger, s3_mirror.storage_options).changed


RACED = ("data_rows", "labels", "tombstones")  # a MERGE with rows, one with none, a raw table


def _race(pipe: MirrorPipeline, writers: int = 2) -> list[Any]:
    """``writers`` threads update the project's Delta tables (``RACED``) at the same moment."""
    import threading

    barrier = threading.Barrier(writers)
    results: list[Any] = []

    def write() -> None:
        try:
            ledger = Ledger(pipe.config.root, pipe.config.project_id, pipe.config.storage_options)
            barrier.wait()
            options = pipe.config.storage_options
            results.append(update_delta_tables(ledger, options, tables=RACED))
        except Exception as exc:  # collected: the test shows none happened
            results.append(exc)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.timeout(900)  # the S3 case makes several hundred requests to moto
@pytest.mark.parametrize("where", ["local", "s3"])
def test_two_writers_apply_a_batch_once(
    emu: EmulatorServer,
    pipeline: Callable[..., MirrorPipeline],
    s3_mirror: S3Mirror,
    where: str,
) -> None:
    options: dict[str, Any] = {}
    if where == "s3":
        options = {"root": s3_mirror.root, "storage_options": s3_mirror.storage_options}
    pipe = pipeline(**options)
    emu.advance(DAY, events=EVENTS)
    pipe.catch_up(emu.world.now())  # creates the tables
    late = pipeline(delta_tables=False, **options)
    for _ in range(2):  # two batches the Delta tables have not seen
        emu.advance(DAY, events=EVENTS)
        late.catch_up(emu.world.now())
    missing = [m.batch_id for m in pipe.ledger.manifests()][-2:]
    results = _race(pipe)
    assert not [r for r in results if isinstance(r, Exception)], results
    applied = [r.applied.get("labels", []) for r in results]
    assert sorted(b for a in applied for b in a) == sorted(missing)  # each applied by one writer
    for table in RACED:
        batches = [h.get(META + "batch_id") for h in _versions(pipe, table)]
        assert all(batches.count(b) == 1 for b in missing), (table, batches)
    update_delta_tables(pipe.ledger, pipe.config.storage_options)  # the tables not raced
    _check(pipe)
