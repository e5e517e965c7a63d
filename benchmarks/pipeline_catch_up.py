"""End-to-end throughput of the mirror pipeline (export, download, flatten, commit) and its RSS.

Reproduce: .venv/bin/python benchmarks/pipeline_catch_up.py [--labels 3000] [--format v2]
Starts an in-process emulator with one image project, mirrors it with one catch-up run into a
temporary folder, and prints labels, seconds, labels/s, rows written and this process's peak
RSS (which includes the emulator's, so it is an upper bound for the pipeline).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta


def main() -> None:
    """Run one catch-up and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=3000)
    parser.add_argument("--format", choices=("v1", "v2"), default="v2")
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="lbx-bench-"))

    from labelbox_provider.emulator.testing import running_emulator
    from labelbox_provider.hooks.labelbox import LabelboxHook
    from labelbox_provider.pipeline.run import MirrorPipeline

    with running_emulator(media_types=["IMAGE"], labels_per_project=args.labels) as emu:
        conn = {"conn_type": "labelbox", "host": emu.url, "password": emu.api_key}
        os.environ["AIRFLOW_CONN_LABELBOX_DEFAULT"] = json.dumps(conn)
        project = emu.projects[0]["id"]
        with tempfile.TemporaryDirectory() as root:
            pipe = MirrorPipeline(
                LabelboxHook(),
                root,
                project,
                export_format=args.format,
                initial_start=datetime(2025, 1, 1, tzinfo=UTC),
                max_window_span=timedelta(days=400),
                poll_interval=0.05,
            )
            t0 = time.perf_counter()
            summary = pipe.catch_up(emu.world.now()).to_dict()
            seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    labels = summary["counts"].get("labels", 0)
    print(f"format={args.format} labels={labels} batches={len(summary['batches'])}")
    print(f"seconds={seconds:.2f} labels_per_s={labels / seconds:.0f}")
    print(f"rows={sum(summary['counts'].values())} peak_rss_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()
