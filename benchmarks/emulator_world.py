"""Throughput and memory of the emulator's simulated world.

Builds one project of ``--labels`` labels, streams every v1 record and every v2 line through
``json.dumps`` (as the server would) without keeping them, and prints construction time,
population time, records per second and peak RSS.

Reproduce:
    .venv/bin/python benchmarks/emulator_world.py --labels 1000000 --media IMAGE
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from labelbox_provider.emulator.world import ExportFilter, V2Params, World


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=int, default=200_000)
    parser.add_argument("--media", default="IMAGE")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    world = World(seed=args.seed, projects=[{"media_type": args.media, "labels": args.labels}])
    t1 = time.perf_counter()
    pid = world.projects()[0].id  # populates the project
    t2 = time.perf_counter()
    print(f"construct: {t1 - t0:.4f} s   populate {args.labels:,} labels: {t2 - t1:.2f} s")
    print(f"peak RSS after populate: {_rss_mb():.0f} MB")

    for name, records in (
        ("v1", world.iter_v1(pid, ExportFilter())),
        ("v2", world.iter_v2(pid, ExportFilter(), V2Params(*([True] * 8)))),
    ):
        start = time.perf_counter()
        count = size = 0
        for rec in records:
            size += len(json.dumps(rec))
            count += 1
        took = time.perf_counter() - start
        print(
            f"{name}: {count:,} records, {size / 1e6:,.0f} MB JSON in {took:.1f} s "
            f"= {count / took:,.0f} records/s; peak RSS {_rss_mb():.0f} MB"
        )
    print(
        f"command: .venv/bin/python benchmarks/emulator_world.py --labels {args.labels} "
        f"--media {args.media}"
    )


if __name__ == "__main__":
    main()
