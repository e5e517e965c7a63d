"""Flattening a v2 (NDJSON) export: the typed fast path against the row functions alone.

The export is the emulator's IMAGE project rendered as export v2 with every detail parameter
(label details, performance details, project details with workflow history, reviews, metadata,
attachments, embeddings). Each contender runs in its own child process, libraries imported
before the clock starts; prints seconds, records/s, MB/s and peak RSS.

    python benchmarks/flatten_v2_bench.py --labels 50000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

CONTENDERS = ("flatten", "flatten_rows")


def write_export(path: Path, labels: int) -> str:
    """Write the emulator's IMAGE project as v2 NDJSON; returns the project id."""
    import msgspec
    from labelbox_provider.emulator.world import ExportFilter, V2Params, World

    world = World(seed=3, media_types=["IMAGE"], labels_per_project=labels)
    (project,) = world.projects()
    encode = msgspec.json.Encoder().encode
    with path.open("wb") as out:
        for record in world.iter_v2(project.id, ExportFilter(), V2Params(*[True] * 8)):
            out.write(encode(record) + b"\n")
    return str(project.id)


def child(name: str, src: Path, out: Path, project_id: str) -> None:
    """Flatten in this process; print seconds, peak RSS and counts as JSON."""
    import pandas  # noqa: F401  (pyarrow imports it at its first conversion: not measured)
    from labelbox_provider.io.flatten import flatten_file
    from labelbox_provider.transforms import Lineage

    lineage = Lineage(project_id, "bench", datetime.now(UTC), None, None)
    start = time.perf_counter()
    counts = flatten_file(src, out, lineage, fast=name == "flatten")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak, "counts": counts}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=int, default=50_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--project", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.src, args.out, args.project)
        return
    src = args.workdir / f"lbx_emulator_v2_image_{args.labels}.ndjson"
    project_id = write_export(src, args.labels)
    size_mb = src.stat().st_size / 1e6
    print(f"file {src} : {size_mb:.0f} MB")
    results = {}
    for name in CONTENDERS:
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as out:
            cmd = [sys.executable, __file__, "--child", name, "--src", str(src), "--out", out]
            cmd += ["--project", project_id]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        results[name] = r
        records = r["counts"]["data_rows"]
        print(
            f"{name:13s} {r['seconds']:7.2f} s  {records / r['seconds']:8.0f} records/s "
            f"({r['counts']['labels']} labels, {r['counts']['objects']} objects)  "
            f"{size_mb / r['seconds']:6.1f} MB/s  peak RSS {r['peak_rss_mb']:4.0f} MB"
        )
    ratio = results["flatten_rows"]["seconds"] / results["flatten"]["seconds"]
    print(f"fast path: x{ratio:.2f} the throughput of the row functions")
    print("reproduce: python benchmarks/flatten_v2_bench.py --labels", args.labels)


if __name__ == "__main__":
    main()
