"""One process against two: ``flatten_file(processes=1)`` and ``processes=2`` alternated.

For each layout of the bench's synthetic export (``bench.inputs``: v1 one record per line, v1
single-line array, v2 NDJSON), runs ``bench_cases.py flatten --processes N`` in the order given,
each measured by ``bench.measure(cmd, tree=True)``: wall and CPU seconds of the work (the
worker process's CPU included), the peak of the summed RSS of the process and its worker
(VmRSS every 50 ms), each process's own peak, and the load average. One JSON line per run.

    PYTHONPATH=connectors nice -n 5 .venv/bin/python benchmarks/flatten_processes.py \\
        --labels 200000 --order 1,2,1,2 --workdir /tmp/lbx-bench
    ... benchmarks/flatten_processes.py --order 1,2 --src /tmp/big/2m/v2_2000000.ndjson
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import bench


def main() -> None:
    """Run the alternation; print one JSON line per run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=int, default=200_000)
    parser.add_argument("--order", default="1,2,1,2", help="processes per run, in order")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/lbx-bench"))
    parser.add_argument(
        "--src",
        type=Path,
        action="append",
        help="measure these export files (.ndjson: v2) instead of the bench's three layouts",
    )
    args = parser.parse_args()
    if args.src:
        files = {("v2 " if p.suffix == ".ndjson" else "v1 ") + p.name: p for p in args.src}
    else:
        files = bench.inputs(args.workdir, args.labels)
    out = args.workdir / "out-processes"
    for layout, src in files.items():
        for processes in args.order.split(","):
            shutil.rmtree(out, ignore_errors=True)
            cmd = [bench.PY, bench.CASES, "flatten", "--src", str(src), "--out", str(out)]
            cmd += ["--processes", processes]
            if layout.startswith("v2"):
                cmd += ["--project", bench.v2_project(src)]
            run = bench.measure(cmd, tree=True)
            line = {
                "layout": layout,
                "processes": processes,
                "wall": round(run["out"]["seconds"], 2),
                "cpu": round(run["out"]["cpu"], 2),
                "summed_rss_mb": round(run["tree_rss_mb"], 1),
                "rss_each_mb": [round(mb, 1) for mb in run["rss_each_mb"]],
                "load": round(run["load"], 2),
            }
            print(json.dumps(line), flush=True)
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
