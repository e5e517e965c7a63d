"""Export throughput and server memory of the emulator on a large project.

Reproduce: .venv/bin/python benchmarks/emulator_export.py [--labels 100000] [--chunk-mb 4]
Starts ``labelbox-emulator serve`` as a subprocess, runs one export v1 (JSON array download)
and one export v2 (task + chunks by offset), streaming both to /dev/null, and prints time,
bytes, MB/s and the server's peak RSS (VmHWM), which must stay flat as the export grows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

SCRIPT = Path(sys.executable).parent / "labelbox-emulator"
V1 = (
    "mutation GetLabelExportUrlPyApi($projectId: ID!)\n            {exportLabels(data:"
    "{projectId: $projectId}) {downloadUrl createdAt shouldPoll} }\n        "
)
CREATE = (
    "mutation exportDataRowsInProjectPyApi($input: ExportDataRowsInProjectInput!)"
    "{exportDataRowsInProject(input: $input){taskId isStreamable}}"
)
TASKS = (
    "query GetUserCreatedTasksPyApi($param_0: ID!){user{createdTasks(where: {id: $param_0})"
    "{status}}}"
)
HEADER = (
    "query GetExportMetadataHeaderPyApi($where: WhereUniqueIdInput, $streamType: "
    "TaskStreamType!){task(where: $where){exportMetadataHeader(streamType: $streamType)"
    "{totalSize totalLines}}}"
)
CHUNK = (
    "query GetExportFileFromOffsetPyApi($where: WhereUniqueIdInput, $streamType: "
    "TaskStreamType!, $offset: UInt64!){task(where: $where){exportFileFromOffset(streamType: "
    "$streamType, offset: $offset){offsets {start end} lines {start end} file}}}"
)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _post(session: requests.Session, url: str, query: str, variables: dict[str, Any]) -> Any:
    answer = session.post(url, json={"query": query, "variables": variables}, timeout=600)
    answer.raise_for_status()
    return answer.json()["data"]


def _drain(url: str) -> int:
    size = 0
    with requests.get(url, stream=True, timeout=600) as response:
        response.raise_for_status()
        for block in response.iter_content(1 << 20):
            size += len(block)
    return size


def bench_v1(session: requests.Session, url: str, pid: str) -> tuple[float, int]:
    """Seconds and bytes for one v1 export (create, poll, download)."""
    began = time.perf_counter()
    while True:
        answer = _post(session, url, V1, {"projectId": pid})["exportLabels"]
        if not answer["shouldPoll"] and answer["downloadUrl"]:
            break
        time.sleep(0.2)
    return time.perf_counter() - began, _drain(answer["downloadUrl"])


def bench_v2(session: requests.Session, url: str, pid: str) -> tuple[float, int]:
    """Seconds and bytes for one v2 export read chunk by chunk."""
    began = time.perf_counter()
    variables = {"input": {"filters": {"projectId": pid, "searchQuery": {"query": []}}}}
    task_id = _post(session, url, CREATE, variables)["exportDataRowsInProject"]["taskId"]
    while (
        _post(session, url, TASKS, {"param_0": task_id})["user"]["createdTasks"][0]["status"]
        == "IN_PROGRESS"
    ):
        time.sleep(0.2)
    where = {"where": {"id": task_id}, "streamType": "RESULT"}
    total = _post(session, url, HEADER, where)["task"]["exportMetadataHeader"]["totalSize"]
    offset = 0
    while offset < total:
        info = _post(session, url, CHUNK, {**where, "offset": str(offset)})
        chunk = info["task"]["exportFileFromOffset"]
        _drain(chunk["file"])
        offset = chunk["offsets"]["end"] + 1
    return time.perf_counter() - began, total


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=100_000)
    parser.add_argument("--chunk-mb", type=float, default=4)
    args = parser.parse_args()
    command = [
        str(SCRIPT),
        "serve",
        "--project",
        f"IMAGE:{args.labels}",
        "--v1-polls",
        "0",
        "--v2-polls",
        "0",
        "--chunk-size",
        str(int(args.chunk_mb * 1024 * 1024)),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {ready['api_key']}"
        pid = ready["projects"][0]["id"]
        base_rss = _peak_rss_mb(proc.pid)
        for name, bench in (("v1", bench_v1), ("v2", bench_v2)):
            seconds, size = bench(session, ready["url"], pid)
            print(
                f"export {name}: {args.labels} labels, {size / 1e6:.1f} MB in {seconds:.2f} s "
                f"({size / 1e6 / seconds:.1f} MB/s, {args.labels / seconds:,.0f} labels/s)"
            )
        print(
            f"server peak RSS: {base_rss:.0f} MB after start, "
            f"{_peak_rss_mb(proc.pid):.0f} MB after both exports"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(
        f"command: {sys.executable} benchmarks/emulator_export.py --labels {args.labels} "
        f"--chunk-mb {args.chunk_mb:g}"
    )


if __name__ == "__main__":
    main()
