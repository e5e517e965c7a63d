"""Flattening throughput and memory, side by side with msgspec decoding and the pandas way.

For one synthetic v1 export (``flatten_synthetic.py``), each contender runs in its own child
process so its peak RSS is its own; libraries are imported before the clock starts:

* ``decode``: msgspec.json.decode of the whole file read at once (gc paused);
* ``decode_stream``: msgspec.json.decode of each record, the file read a line at a time (1 MB
  buffer, gc paused): the tightest floor, what any streaming reader must at least spend;
* ``flatten``: ``flatten_file`` (decode + flatten + Parquet, every table, typed fast path);
* ``flatten_rows``: the same with the fast path off (the row functions only), for reference;
* ``pandas``: json.load + pandas.json_normalize per table + to_parquet (the obvious way).

Prints one line per contender (seconds, labels/s, MB/s, peak RSS) and the ratios.

    python benchmarks/flatten_bench.py --labels 200000            # all five
    python benchmarks/flatten_bench.py --labels 2000000 --only flatten decode_stream
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONTENDERS = ("decode", "decode_stream", "flatten", "flatten_rows", "pandas")


def run_decode(src: Path, out: Path) -> None:
    import msgspec

    gc.disable()
    data = src.read_bytes()
    records = msgspec.json.decode(data)
    assert isinstance(records, list)


def run_decode_stream(src: Path, out: Path) -> None:
    import msgspec

    gc.disable()
    decode = msgspec.json.Decoder().decode
    with src.open("rb", buffering=1 << 20) as fp:  # the synthetic file: one record per line
        for line in fp:
            record = line.rstrip(b",\n")
            if record[:1] == b"{":
                assert isinstance(decode(record), dict)


def run_flatten(src: Path, out: Path, *, fast: bool = True) -> None:
    from labelbox_provider.io.flatten import flatten_file
    from labelbox_provider.transforms import Lineage

    lineage = Lineage("cksynthproject0000000000", "bench", datetime.now(UTC), None, None)
    counts = flatten_file(src, out, lineage, fast=fast)
    print(json.dumps(counts), file=sys.stderr)


def run_flatten_rows(src: Path, out: Path) -> None:
    run_flatten(src, out, fast=False)


def run_pandas(src: Path, out: Path) -> None:
    import pandas as pd

    with src.open() as fp:
        data = json.load(fp)
    out.mkdir(parents=True, exist_ok=True)
    meta = ["ID", "DataRow ID"]
    tables = {
        "labels": pd.json_normalize(data).drop(columns=["Label.objects", "Reviews"]),
        "objects": pd.json_normalize(data, record_path=["Label", "objects"], meta=meta),
        "classifications": pd.json_normalize(
            data, record_path=["Label", "classifications"], meta=meta
        ),
        "reviews": pd.json_normalize(data, record_path="Reviews", meta=meta),
    }
    for name, frame in tables.items():
        text = {c: str for c in frame.columns if frame[c].dtype == object}  # mixed-type columns
        frame.astype(text).to_parquet(out / f"{name}.parquet")


RUNNERS = {
    "decode": run_decode,
    "decode_stream": run_decode_stream,
    "flatten": run_flatten,
    "flatten_rows": run_flatten_rows,
    "pandas": run_pandas,
}
IMPORTS = {  # imported before the clock starts: library start-up is not the work measured
    "decode": ["msgspec"],
    "decode_stream": ["msgspec"],
    # pyarrow imports pandas (when installed) at its first conversion of Python values
    "flatten": ["labelbox_provider.transforms", "pandas"],
    "flatten_rows": ["labelbox_provider.transforms", "pandas"],
    "pandas": ["pandas", "pyarrow.parquet"],
}


def child(name: str, src: Path, out: Path) -> None:
    """Run one contender in this process and print seconds and peak RSS as JSON."""
    import importlib

    for module in IMPORTS[name]:
        importlib.import_module(module)
    start = time.perf_counter()
    RUNNERS[name](src, out)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_rss_mb": usage.ru_maxrss / 1024}))


def measure(name: str, src: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as out:
        cmd = [sys.executable, __file__, "--child", name, "--src", str(src), "--out", out]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--only", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.src, args.out)
        return
    src = args.workdir / f"lbx_synthetic_v1_{args.labels}.json"
    if not src.exists():
        sys.path.insert(0, str(HERE))
        from flatten_synthetic import write_export

        write_export(src, args.labels)
    size_mb = src.stat().st_size / 1e6
    print(f"file {src} : {args.labels} labels, {size_mb:.0f} MB")
    results = {}
    for name in args.only:
        r = measure(name, src)
        results[name] = r
        print(
            f"{name:14s} {r['seconds']:8.1f} s wall {r['cpu']:8.1f} s cpu  "
            f"{args.labels / r['seconds']:9.0f} labels/s  {size_mb / r['seconds']:7.1f} MB/s  "
            f"peak RSS {r['peak_rss_mb']:6.0f} MB"
        )
    if "flatten" in results:
        for other in ("decode", "decode_stream", "flatten_rows", "pandas"):
            if other in results:
                wall = results["flatten"]["seconds"] / results[other]["seconds"]
                cpu = results["flatten"]["cpu"] / results[other]["cpu"]
                print(
                    f"flatten / {other}: wall time x{wall:.3f} (throughput x{1 / wall:.2f}), "
                    f"cpu time x{cpu:.3f}"
                )
    print("reproduce: python benchmarks/flatten_bench.py --labels", args.labels)


if __name__ == "__main__":
    main()
