"""Seconds of one Delta current-table update (one committed batch) at several history sizes.

Reproduce: .venv/bin/python benchmarks/delta_update.py [--history 10 100 1000] [--s3]
Builds a mirror of N committed batches (the v2 image fixture flattened again per batch, one
hour apart: same live data rows, growing history), creates the Delta tables (``delta
rebuild``), then commits four more batches and times the Delta update each one triggers
(``update_delta_tables``: the current-view read of the touched data rows and one MERGE per
table): the first (which, above ``AUTO_COMPACT_AFTER`` raw batches, compacts first) and the
median of the other three. ``--s3`` puts the mirror on a moto S3 server on
loopback (no network latency: real object storage adds its round trips).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "exports" / "v2_image.ndjson"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def commit_copy(ledger: Any, i: int, work: Path, storage: Any) -> str:
    """Flatten the fixture as batch ``i`` (window hour ``i``) and commit it; its batch id."""
    from labelbox_provider.pipeline.commit import commit_staged, flatten_into
    from labelbox_provider.pipeline.types import ExportRef
    from labelbox_provider.state.windows import Window, batch_id_for

    window = Window(T0 + timedelta(hours=i), T0 + timedelta(hours=i + 1))
    batch_id = batch_id_for(ledger.project_id, window, "v2")
    ref = ExportRef(batch_id, window, "v2", "incremental", f"x{i}", project_id=ledger.project_id)
    staging = work / f"s{i}"
    extracted = window.end + timedelta(minutes=10)
    counts = flatten_into(FIXTURE, staging, ref, extracted_at=extracted, frames_dir=None)
    commit_staged(ledger, ref, staging, counts, extracted, initial_start=T0)
    return batch_id


def measure(history: int, s3: Any | None) -> dict[str, float]:
    """Build ``history`` batches, rebuild Delta, then time three per-batch updates."""
    from labelbox_provider.io.delta import rebuild_delta_tables, update_delta_tables
    from labelbox_provider.state.ledger import Ledger

    with tempfile.TemporaryDirectory() as tmp:
        root = s3.root + f"-{history}" if s3 else str(Path(tmp) / "mirror")
        storage = s3.storage_options if s3 else None
        ledger = Ledger(root, "bench", storage)
        for i in range(history):
            commit_copy(ledger, i, Path(tmp), storage)
        t = time.perf_counter()
        rebuild_delta_tables(ledger, storage)
        rebuild = time.perf_counter() - t
        times = []
        for i in range(history, history + 4):
            batch_id = commit_copy(ledger, i, Path(tmp), storage)
            t = time.perf_counter()
            done = update_delta_tables(ledger, storage)
            times.append(time.perf_counter() - t)
            assert all(done.applied.get(t) == [batch_id] for t in done.applied), done
        compacted = ledger.checkpoint().compaction is not None
        t = time.perf_counter()
        update_delta_tables(ledger, storage)  # nothing to do: the check alone
        noop = time.perf_counter() - t
    return {
        "rebuild": rebuild,
        "first": times[0],  # above AUTO_COMPACT_AFTER raw batches: includes the compaction
        "update": statistics.median(times[1:]),
        "noop": noop,
        "compacted": compacted,
    }


def main() -> None:
    """Print one line per history size."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--s3", action="store_true", help="on a moto S3 server (loopback)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    with ExitStack() as stack:
        s3 = None
        if args.s3:
            from tests.s3_server import S3Mirror, moto_s3

            s3 = S3Mirror(stack.enter_context(moto_s3()), "bench")
            s3.client().create_bucket(Bucket=s3.bucket)
        where = "S3 API (moto, loopback)" if s3 else "local disk"
        print(f"Delta update per committed batch, {where}; 12 tables, fixture v2_image")
        head = f"{'batches':>8} {'first s':>8} {'then s':>7} {'no-op s':>8} {'rebuild s':>10}"
        print(head + " compacted")
        for n in args.history:
            r = measure(n, s3)
            print(
                f"{n:>8} {r['first']:>8.2f} {r['update']:>7.2f} {r['noop']:>8.2f}"
                f" {r['rebuild']:>10.2f} {'yes' if r['compacted'] else 'no'}"
            )
    cmd = "benchmarks/delta_update.py --history " + " ".join(map(str, args.history))
    print(f"reproduce: .venv/bin/python {cmd}{' --s3' if args.s3 else ''}")


if __name__ == "__main__":
    main()
