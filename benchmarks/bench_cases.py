"""The cases of ``make bench`` (``benchmarks/bench.py``), one per child process.

Each case runs in a fresh interpreter so that its peak RSS and CPU time are its own (the
parent reads them with ``os.wait4``); libraries are imported before the clock starts. A case
prints one JSON line: its own wall seconds and whatever it counted.

    python benchmarks/bench_cases.py flatten --src FILE --out DIR [--processes auto|1|2]
    python benchmarks/bench_cases.py pandas_v1|pandas_v2|decode --src FILE --out DIR
    python benchmarks/bench_cases.py e2e --labels N --format v1|v2
    python benchmarks/bench_cases.py incremental --labels N
    python benchmarks/bench_cases.py video --labels N --workers K --latency S
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def flatten(args: argparse.Namespace) -> dict[str, Any]:
    """``flatten_file`` (decode + flatten + Parquet, every table), as the pipeline runs it."""
    # the provider before pandas (which loads pyarrow), as in a task: Arrow's default pool is
    # then the provider's (see labelbox_provider/__init__.py)
    from labelbox_provider.io.flatten import flatten_file
    from labelbox_provider.transforms import Lineage

    lineage = Lineage(args.project, "bench", datetime.now(UTC), None, None)
    import pandas  # noqa: F401  (pyarrow imports it at its first conversion: not measured)

    processes = None if args.processes == "auto" else int(args.processes)
    start, cpu0, children0 = time.perf_counter(), time.process_time(), _children_cpu()
    counts = flatten_file(args.src, args.out, lineage, processes=processes)
    return {
        "seconds": time.perf_counter() - start,
        # this process's threads and the worker process (waited for by flatten_file)
        "cpu": time.process_time() - cpu0 + _children_cpu() - children0,
        "rows": sum(counts.values()),
    }


def _children_cpu() -> float:
    """CPU seconds of the child processes waited for so far (a flattener's worker)."""
    times = os.times()
    return times.children_user + times.children_system


def decode(args: argparse.Namespace) -> dict[str, Any]:
    """The floor: msgspec decodes each record (one per line) and nothing else is done."""
    import msgspec

    gc.disable()
    dec = msgspec.json.Decoder().decode
    start, cpu0 = time.perf_counter(), time.process_time()
    n = 0
    with args.src.open("rb", buffering=1 << 20) as fp:
        for line in fp:
            record = line.strip().rstrip(b",")
            if record[:1] == b"{":
                dec(record)
                n += 1
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu0, "records": n}


def _to_parquet(tables: dict[str, Any], out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        text = {c: str for c in frame.columns if frame[c].dtype == object}  # mixed-type columns
        frame.astype(text).to_parquet(out / f"{name}.parquet")
    return sum(len(f) for f in tables.values())


def pandas_v1(args: argparse.Namespace) -> dict[str, Any]:
    """The obvious way: json.load, pandas.json_normalize per table, to_parquet."""
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    sys.path.insert(0, str(HERE))
    from flatten_bench import run_pandas

    start, cpu0 = time.perf_counter(), time.process_time()
    run_pandas(args.src, args.out)
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu0}


def pandas_v2(args: argparse.Namespace) -> dict[str, Any]:
    """The same for v2 NDJSON: json.loads per line, json_normalize per table, to_parquet."""
    import pandas as pd
    import pyarrow.parquet  # noqa: F401

    start, cpu0 = time.perf_counter(), time.process_time()
    with args.src.open() as fp:
        data = [json.loads(line) for line in fp if line.strip()]
    labels = [
        {"data_row_id": r["data_row"]["id"], **label}
        for r in data
        for project in r.get("projects", {}).values()
        for label in project.get("labels", [])
    ]
    meta = ["id", "data_row_id"]
    tables = {
        "data_rows": pd.json_normalize(
            [{k: v for k, v in r.items() if k != "projects"} for r in data]
        ),
        "labels": pd.json_normalize(
            [{k: v for k, v in x.items() if k != "annotations"} for x in labels]
        ),
        "objects": pd.json_normalize(labels, record_path=["annotations", "objects"], meta=meta),
        "classifications": pd.json_normalize(
            labels, record_path=["annotations", "classifications"], meta=meta
        ),
    }
    rows = _to_parquet(tables, args.out)
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu0, "rows": rows}


def _pipeline(hook: Any, root: str, project: str, fmt: str) -> Any:
    from labelbox_provider.pipeline.run import MirrorPipeline

    return MirrorPipeline(
        hook,
        root,
        project,
        export_format=fmt,
        initial_start=datetime(2025, 1, 1, tzinfo=UTC),
        max_window_span=timedelta(days=400),
        poll_interval=0.05,
    )


class _EmulatorProcess:
    """``labelbox-emulator serve`` as a child process (fixed clock, one IMAGE project), so the
    measured process is the worker alone: its CPU time and peak RSS exclude the server's."""

    def __init__(self, labels: int) -> None:
        cmd = [
            str(Path(sys.executable).with_name("labelbox-emulator")), "serve", "--port", "0",
            "--clock", "fixed", "--seed", "0", "--project", f"IMAGE:{labels}",
            "--v1-polls", "0", "--v2-polls", "0", "--v1-cache-seconds", "0",
            "--log-level", "warning",
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()
        if not ready:
            raise RuntimeError(f"the emulator exited ({self.proc.wait()}) before it was ready")
        info = json.loads(ready)
        self.url, self.api_key = info["url"], info["api_key"]
        self.control, self.projects = info["control_url"].rstrip("/"), info["projects"]

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        method = "GET" if data is None else "POST"
        req = urllib.request.Request(self.control + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.api_key}")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=600) as resp:
            return json.loads(resp.read())

    def now(self) -> datetime:
        """The emulator's clock."""
        return datetime.fromisoformat(self._call("/state")["now"])

    def advance(self, seconds: float, events: dict[str, int]) -> None:
        """Move the clock, with ``events`` (kind: count) happening on the way."""
        self._call("/clock/advance", {"seconds": seconds, "events": events})

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


@contextmanager
def _mirror(labels: int, fmt: str) -> Iterator[tuple[_EmulatorProcess, Any]]:
    """An emulator process with one IMAGE project of ``labels`` labels, and a pipeline
    mirroring it."""
    from labelbox_provider.hooks.labelbox import LabelboxHook

    emu = _EmulatorProcess(labels)
    try:
        _connect(emu)
        with tempfile.TemporaryDirectory() as root:
            yield emu, _pipeline(LabelboxHook(), root, emu.projects[0]["id"], fmt)
    finally:
        emu.stop()


def _worker_cpu() -> float:
    """CPU seconds of this process and of the children it has waited for: a two-process
    flatten's worker is waited for when it ends, the emulator only when it is stopped."""
    import resource

    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextmanager
def _worker_rss(emu: _EmulatorProcess) -> Iterator[dict[str, float]]:
    """The peak RSS (MB) of this process and its flatten workers, the emulator's process left
    out, once the block ends: ``own_rss_mb``, this process's own peak (exact: the kernel's
    high-water mark), and ``rss_mb``, the larger of that and the peak of the summed RSS of the
    process and its flatten workers (sampled every 50 ms)."""
    import resource

    from bench import TreeRss

    sampler = TreeRss(os.getpid(), skip=frozenset({emu.proc.pid}))
    peak: dict[str, float] = {}
    try:
        yield peak
    finally:
        tree = sampler.stop()["tree_rss_mb"]
        peak["own_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak["rss_mb"] = max(tree, peak["own_rss_mb"])


def e2e(args: argparse.Namespace) -> dict[str, Any]:
    """One catch-up run (export, download, flatten, commit) of a project of N labels: the
    worker's wall, CPU and peak RSS, a two-process flatten's worker included."""
    with _mirror(args.labels, args.format) as (emu, pipe), _worker_rss(emu) as peak:
        start, cpu0 = time.perf_counter(), _worker_cpu()
        summary = pipe.catch_up(emu.now()).to_dict()
        seconds, cpu = time.perf_counter() - start, _worker_cpu() - cpu0
    labels = summary["counts"].get("labels", 0)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "labels": labels,
        "batches": len(summary["batches"]),
    } | peak


def _connect(emu: Any) -> None:
    conn = {"conn_type": "labelbox", "host": emu.url, "password": emu.api_key}
    os.environ["AIRFLOW_CONN_LABELBOX_DEFAULT"] = json.dumps(conn)


def incremental(args: argparse.Namespace) -> dict[str, Any]:
    """A mirrored project of N labels, then one window per share of labels changed in it."""
    out: dict[str, Any] = {"windows": []}
    with _mirror(args.labels, args.format) as (emu, pipe):
        start = time.perf_counter()
        pipe.catch_up(emu.now())
        out["initial_seconds"] = time.perf_counter() - start
        for pct in (0, 1, 10, 100):
            changes = args.labels * pct // 100
            emu.advance(seconds=3600, events={"label_updated": changes} if changes else {})
            cpu0, start = _worker_cpu(), time.perf_counter()
            summary = pipe.catch_up(emu.now()).to_dict()
            window = {
                "changed_pct": pct,
                "events": changes,
                "labels_exported": summary["counts"].get("labels", 0),
                "seconds": time.perf_counter() - start,
                "cpu": _worker_cpu() - cpu0,
            }
            out["windows"].append(window)
    out["seconds"] = sum(w["seconds"] for w in out["windows"]) + out["initial_seconds"]
    out["cpu"] = sum(w["cpu"] for w in out["windows"])
    return out


def video(args: argparse.Namespace) -> dict[str, Any]:
    """v1 frames files of a video project fetched with ``--workers`` transfers in flight,
    each answered after ``--latency`` seconds (the emulator's ``slow`` fault)."""
    from labelbox_provider.emulator.testing import running_emulator
    from labelbox_provider.hooks.labelbox import LabelboxHook

    with running_emulator(media_types=["VIDEO"], labels_per_project=args.labels) as emu:
        _connect(emu)
        project = emu.projects[0]["id"]
        hook = LabelboxHook()
        with tempfile.TemporaryDirectory() as tmp:
            export = Path(tmp) / "v1.json"
            hook.download_export_v1(project, export, poll_interval=0.01)
            emu.set_faults([{"kind": "slow", "target": "download:frames", "delay": args.latency}])
            start, cpu0 = time.perf_counter(), time.process_time()
            files = hook.download_v1_frames(export, Path(tmp) / "frames", max_workers=args.workers)
            seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "cpu": time.process_time() - cpu0,
        "files": files,
        "workers": args.workers,
    }


CASES = {
    "flatten": flatten,
    "decode": decode,
    "pandas_v1": pandas_v1,
    "pandas_v2": pandas_v2,
    "e2e": e2e,
    "incremental": incremental,
    "video": video,
}


def main() -> None:
    """Run one case and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case", choices=CASES)
    parser.add_argument("--src", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--project", default="cksynthproject0000000000")
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--format", choices=("v1", "v2"), default="v2")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--processes", choices=("auto", "1", "2"), default="auto")
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="lbx-bench-"))
    print(json.dumps(CASES[args.case](args)))


if __name__ == "__main__":
    main()
