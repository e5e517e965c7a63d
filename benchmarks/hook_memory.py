"""Peak memory of a process that pulls a whole export through LabelboxHook.

Reproduce (1,000,000 labels, as in issue #3; takes several minutes and ~15 GB of disk):

    .venv/bin/python benchmarks/hook_memory.py --labels 1000000

Starts ``labelbox-emulator serve`` (one IMAGE project) as a subprocess, then, for each of
export v2 and export v1, runs a *separate* Python process that creates the export through the
hook, downloads it to a spool file (v2: chunks by offset, size-checked; v1: the JSON array) and
iterates every record (``iter_export_v2`` / ``label_generator``).  Each child reports its peak
RSS (``ru_maxrss``), its RSS after imports, the records seen and the time taken.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EMULATOR = Path(sys.executable).parent / "labelbox-emulator"
LIMIT_MB = 300.0  # the bound on peak RSS


def _rss_mb() -> float:
    """Current resident set size of this process (Linux /proc), in MB."""
    with open("/proc/self/statm") as fp:
        pages = int(fp.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def child(fmt: str, url: str, key: str, project: str) -> None:
    """Run in a fresh process: pull the export through the hook and print one JSON line."""
    conn = {"conn_type": "labelbox", "host": url, "password": key, "extra": {"poll_interval": 1}}
    os.environ["AIRFLOW_CONN_LABELBOX_DEFAULT"] = json.dumps(conn)
    from labelbox_provider.hooks.labelbox import LabelboxHook

    hook = LabelboxHook(export_timeout=3600)
    base = _rss_mb()
    start = time.perf_counter()
    count = 0
    if fmt == "v2":
        task = hook.create_export_v2(project, params={"label_details": True})
        hook.wait_for_export_task(task, timeout=3600, poll_interval=1)
        ready = time.perf_counter()
        for record in hook.iter_export_v2(task):
            count += len(record["projects"][project]["labels"])
    else:
        while not hook.request_export_v1(project).ready:  # the server builds the file
            time.sleep(1)
        ready = time.perf_counter()
        for _record in hook.label_generator(project, timeout=3600, poll_interval=1):
            count += 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB on Linux
    took = time.perf_counter() - start
    figures = {"fmt": fmt, "labels": count, "seconds": round(took, 1)}
    figures["server_wait_s"] = round(ready - start, 1)  # the emulator building the export
    figures |= {"rss_after_imports_mb": round(base, 1), "peak_rss_mb": round(peak, 1)}
    print(json.dumps(figures))


def _start_emulator(labels: int, chunk_mb: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    cmd = [
        str(EMULATOR), "serve", "--port", "0", "--project", f"IMAGE:{labels}",
        "--v1-polls", "0", "--v2-polls", "0", "--v1-cache-seconds", "3600",
        "--chunk-size", str(chunk_mb * 1024 * 1024), "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info


def main() -> None:
    """Start the emulator, run one child per format, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--chunk-mb", type=int, default=64, help="v2 chunk size served")
    parser.add_argument("--formats", default="v2,v1")
    parser.add_argument("--child", nargs=4, metavar=("FMT", "URL", "KEY", "PROJECT"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    started = time.perf_counter()
    proc, info = _start_emulator(args.labels, args.chunk_mb)
    print(f"emulator up in {time.perf_counter() - started:.1f}s: {args.labels:,} labels")
    project = info["projects"][0]["id"]
    env = {**os.environ, "AIRFLOW_HOME": tempfile.mkdtemp(prefix="lbx-bench-")}
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    results = []
    try:
        for fmt in args.formats.split(","):
            cmd = [sys.executable, __file__, "--child", fmt, info["url"], info["api_key"], project]
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            line = [x for x in out.stdout.splitlines() if x.startswith('{"fmt"')][-1]
            results.append(json.loads(line))
            print(line, flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    header = ("format", "labels", "total s", "server s", "RSS after imports", "peak RSS")
    print("\n{:<8}{:>12}{:>10}{:>10}{:>20}{:>12}".format(*header))
    for r in results:
        row = (r["fmt"], f"{r['labels']:,}", r["seconds"], r["server_wait_s"])
        mem = (f"{r['rss_after_imports_mb']} MB", f"{r['peak_rss_mb']} MB")
        print("{:<8}{:>12}{:>10}{:>10}{:>20}{:>12}".format(*row, *mem))
    worst = max(r["peak_rss_mb"] for r in results)
    verdict = "within" if worst < LIMIT_MB else "OVER"
    print(f"\nworst peak RSS {worst} MB: {verdict} the {LIMIT_MB:g} MB bound")
    print(
        f"reproduce: {Path(sys.executable).name} benchmarks/hook_memory.py --labels {args.labels}"
    )


if __name__ == "__main__":
    main()
