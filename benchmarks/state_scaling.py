"""Per-run state cost against history, on local disk and on an S3 API (moto on loopback).

Reproduce: .venv/bin/python benchmarks/state_scaling.py [--sizes 10,1000,10000] [--repeat 5]

For each history size N, a synthetic project with N committed hourly batches is written
directly (checkpoint + index segments, as commits would leave them; no data files), then:

* **no-change run**: ``MirrorPipeline.catch_up`` when nothing is due (the watermark is at the
  settle horizon, lookback 0): what every scheduled run pays before exporting anything;
* **one commit**: ``commit_batch`` of a tiny batch (1 row in 2 tables) after those N;

S3 request counts come from the moto server's request log (every HTTP request it served). The
server is the tests' launcher (``tests/s3_server.py``: a ``moto_server`` process on loopback).
Then, on local disk, a **current-table query** (``SELECT count(*)`` of the labels and data rows
views) over 10,000 one-row batches, before and after ``compact``, against the same live rows
committed as 10 batches. Prints a table and the command.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2024, 1, 1, tzinfo=UTC)
PROJECT = "bench-project"


class RequestCounter:
    """Counts the moto server's request log lines (``count``: requests served so far)."""

    def __init__(self, log: Path) -> None:
        self.log = log

    @property
    def count(self) -> int:
        from tests.s3_server import request_count

        return request_count(self.log)


def _history(root: str, options: dict[str, Any], n: int) -> None:
    """A checkpoint (and sealed segments) of ``n`` committed hourly batches."""
    from labelbox_provider.io import conditional
    from labelbox_provider.state.checkpoint import (
        CHECKPOINT_FILE,
        BatchEntry,
        Checkpoint,
        with_batch,
    )
    from labelbox_provider.state.ledger import Ledger, _dumps
    from labelbox_provider.state.windows import Window, batch_id_for

    ledger = Ledger(root, PROJECT, options)
    cp = Checkpoint(PROJECT)
    for i in range(n):
        w = Window(T0 + timedelta(hours=i), T0 + timedelta(hours=i + 1))
        bid = batch_id_for(PROJECT, w, "v2")
        entry = BatchEntry(
            bid, 1, 0, w, "v2", "incremental", w.end, w.end, f"_ledger/{bid}/1.json",
            "exp", {"labels": 1, "data_rows": 1}, {"labels": 1, "data_rows": 1}, 2000,
        )  # fmt: skip
        cp = with_batch(cp, entry, initial_start=T0, previous=None)
    cp = ledger._seal_all(cp)
    conditional.write_if(ledger.fs, ledger.path(CHECKPOINT_FILE), _dumps(cp.to_dict()), None)


def _staging(tmp: Path, bid: str, w: Any) -> tuple[Path, dict[str, int]]:
    """A tiny batch: one data row and its label."""
    return _staging_rows(tmp, bid, w, [f"dr-{bid[-6:]}"])


class _NoHook:
    """A hook that must never be called (a no-change run exports nothing)."""

    settings = None


def _timed(fn: Callable[[], Any], repeat: int, counter: RequestCounter | None) -> tuple[float, int]:
    seconds, requests = [], []
    for _ in range(repeat):
        before = counter.count if counter else 0
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
        requests.append((counter.count - before) if counter else 0)
    return statistics.median(seconds), int(statistics.median(requests))


def state_figures(  # noqa: PLR0917 - a benchmark's knobs
    where: str,
    root: str,
    options: dict[str, Any],
    n: int,
    repeat: int,
    counter: RequestCounter | None,
) -> dict[str, Any]:
    from labelbox_provider.io.batch import commit_batch
    from labelbox_provider.pipeline.run import MirrorPipeline
    from labelbox_provider.state.ledger import Ledger
    from labelbox_provider.state.windows import Window, batch_id_for

    _history(root, options, n)
    now = T0 + timedelta(hours=n) + timedelta(minutes=10)

    def no_change() -> None:
        pipe = MirrorPipeline(
            _NoHook(), root, PROJECT, initial_start=T0, settle_lag=timedelta(minutes=10),
            lookback=timedelta(0), storage_options=options, clock=lambda: now,
        )  # fmt: skip
        summary = pipe.catch_up(now)
        assert not summary.batches

    tmp = Path(tempfile.mkdtemp(prefix="lbx-bench-"))
    k = [0]

    def one_commit() -> None:
        k[0] += 1
        w = Window(T0 + timedelta(hours=n + k[0]), T0 + timedelta(hours=n + k[0] + 1))
        bid = batch_id_for(PROJECT, w, "v2")
        staging, counts = _staging(tmp, bid, w)
        commit_batch(
            Ledger(root, PROJECT, options), staging_dir=staging, batch_id=bid, window=w,
            source_format="v2", export_id="e", extracted_at=w.end, counts=counts,
            initial_start=T0, mode="incremental",
        )  # fmt: skip

    run_s, run_r = _timed(no_change, repeat, counter)
    commit_s, commit_r = _timed(one_commit, repeat, counter)
    return {
        "where": where,
        "batches": n,
        "run_s": run_s,
        "run_req": run_r,
        "commit_s": commit_s,
        "commit_req": commit_r,
    }


def query_figures(tmp: Path, n_batches: int, live: int, repeat: int) -> dict[str, float]:
    """Seconds of a current-table query over ``n_batches`` (of ``live`` data rows: each batch
    re-extracts some), before and after compaction."""
    import duckdb
    from labelbox_provider.io.batch import commit_batch
    from labelbox_provider.io.compact import compact
    from labelbox_provider.io.current import register_current_views
    from labelbox_provider.state.ledger import Ledger
    from labelbox_provider.state.windows import Window, batch_id_for

    root = str(tmp / f"q-{n_batches}")
    ledger = Ledger(root, PROJECT)
    for i in range(n_batches):
        w = Window(T0 + timedelta(hours=i), T0 + timedelta(hours=i + 1))
        bid = batch_id_for(PROJECT, w, "v2")
        staging, counts = _staging_rows(
            tmp, bid, w, [f"dr-{(i * 7 + j) % live}" for j in range(max(1, live // n_batches))]
        )
        commit_batch(
            ledger, staging_dir=staging, batch_id=bid, window=w, source_format="v2",
            export_id="e", extracted_at=w.end, counts=counts, initial_start=T0,
            mode="incremental",
        )  # fmt: skip

    def query() -> None:
        con = duckdb.connect()
        register_current_views(con, root, PROJECT)
        con.sql("SELECT count(*) FROM labels").fetchall()
        con.sql("SELECT count(*) FROM data_rows").fetchall()
        con.close()

    before, _ = _timed(query, repeat, None)
    compact(ledger)
    after, _ = _timed(query, repeat, None)
    return {"before": before, "after": after}


def _staging_rows(tmp: Path, bid: str, w: Any, data_rows: list[str]) -> tuple[Path, dict[str, int]]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from labelbox_provider.transforms.tables import SCHEMAS

    staging = tmp / f"stage-{uuid.uuid4().hex}"
    lineage = {
        "project_id": PROJECT, "batch_id": bid, "extracted_at": w.end, "window_start": w.start,
        "window_end": w.end, "source_format": "v2",
    }  # fmt: skip
    tables = {
        "data_rows": [{**lineage, "data_row_id": d} for d in data_rows],
        "labels": [{**lineage, "label_id": f"lb-{d}", "data_row_id": d} for d in data_rows],
    }
    for table, rows in tables.items():
        (staging / table).mkdir(parents=True)
        pq.write_table(
            pa.Table.from_pylist(rows, schema=SCHEMAS[table]),
            staging / table / "part-00000.parquet",
        )
    return staging, {t: len(r) for t, r in tables.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--query-batches", type=int, default=10000)
    parser.add_argument("--live", type=int, default=1000, help="live data rows in the query test")
    parser.add_argument("--skip-query", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    sys.path.insert(0, str(REPO))
    from tests.s3_server import moto_s3, s3_client, storage_options

    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="lbx-state-") as tmp,
        moto_s3(Path(tmp) / "moto.log") as endpoint,
    ):
        counter = RequestCounter(Path(tmp) / "moto.log")
        # the s3fs instance cache on, as a long-lived worker has it (and the figures were taken)
        options = {**storage_options(endpoint), "skip_instance_cache": False}
        client = s3_client(endpoint)
        for n in sizes:
            rows.append(state_figures("local", f"{tmp}/local-{n}", {}, n, args.repeat, None))
            bucket = f"bench-{n}-{uuid.uuid4().hex[:6]}"
            client.create_bucket(Bucket=bucket)
            rows.append(
                state_figures("s3 (moto)", f"s3://{bucket}/m", options, n, args.repeat, counter)
            )
        print("| storage | batches | no-change run s | requests | one commit s | requests |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in rows:
            local = r["where"] == "local"
            run_req = "-" if local else str(r["run_req"])
            commit_req = "-" if local else str(r["commit_req"])
            print(
                f"| {r['where']} | {r['batches']:,} | {r['run_s']:.4f} | {run_req} | "
                f"{r['commit_s']:.4f} | {commit_req} |"
            )
        if not args.skip_query:
            small = query_figures(Path(tmp), 10, args.live, args.repeat)
            big = query_figures(Path(tmp), args.query_batches, args.live, args.repeat)
            print()
            print(f"| current-table query (local, {args.live:,} live data rows) | seconds |")
            print("|---|---:|")
            print(f"| 10 batches | {small['before']:.4f} |")
            print(f"| {args.query_batches:,} batches, before compaction | {big['before']:.4f} |")
            print(f"| {args.query_batches:,} batches, after compaction | {big['after']:.4f} |")
    print()
    print("command: .venv/bin/python benchmarks/state_scaling.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
