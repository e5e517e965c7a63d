"""Time from launching ``labelbox-emulator serve`` to its ready line (10k-label project).

Reproduce: .venv/bin/python benchmarks/emulator_startup.py [--labels 10000] [--runs 5]
Prints the time per run and the median; the target is under 2 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "labelbox-emulator"


def one_run(labels: int) -> float:
    """Seconds until the ready line is printed and the API answers."""
    import requests

    began = time.perf_counter()
    proc = subprocess.Popen(
        [str(SCRIPT), "serve", "--project", f"IMAGE:{labels}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        body = {"query": "query GetOrganizationPyApi{organization{id}}"}
        auth = {"Authorization": f"Bearer {ready['api_key']}"}
        requests.post(ready["url"], json=body, headers=auth, timeout=10).raise_for_status()
        return time.perf_counter() - began
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = [one_run(args.labels) for _ in range(args.runs)]
    for i, seconds in enumerate(times, 1):
        print(f"run {i}: {seconds:.3f} s")
    print(
        f"emulator ready ({args.labels} labels): median {statistics.median(times):.3f} s, "
        f"max {max(times):.3f} s over {args.runs} runs (target < 2 s)"
    )
    print(
        f"command: {sys.executable} benchmarks/emulator_startup.py --labels {args.labels} "
        f"--runs {args.runs}"
    )


if __name__ == "__main__":
    main()
