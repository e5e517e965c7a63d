"""Projects mirrored per minute by a real Airflow on the CeleryExecutor, with 1 and 2 workers.

Reproduce (needs ``make wheel-venv`` and PostgreSQL and Redis on loopback):
    PYTHONPATH=connectors:. .venv/bin/python benchmarks/deploy_celery.py [--projects 20]
        [--labels 6] [--workers 1,2] [--concurrency 2]

For each worker count: a fresh stack (tests/deploy: api-server, scheduler, dag-processor,
triggerer, N ``airflow celery worker``, PostgreSQL, Redis) against ``labelbox-emulator serve``
(wall clock, exports ready at once), the example incremental DAG unchanged. It times the
scheduler's first run (every project's catch-up, one mapped task each) and a second run after
label activity, and prints projects per minute for both. The pool is sized to the worker slots,
so it does not limit the figure. Start-up and migration are reported, not counted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "connectors")]


def measure(projects: int, labels: int, workers: int, concurrency: int) -> dict[str, float]:
    """One stack with ``workers`` workers: seconds and projects/min of two runs."""
    from tests.deploy import scenario as sc
    from tests.deploy.emulator_proc import EmulatorProcess
    from tests.deploy.stack import AirflowStack

    venv = REPO / ".venv-wheel"
    with tempfile.TemporaryDirectory(prefix="lbx-bench-deploy-") as tmp:
        base = Path(tmp)
        args = ["--seed", "3", "--history-days", "3", "--v2-polls", "0"]
        args += [f"--project=IMAGE:{labels}"] * projects
        with EmulatorProcess(venv, base / "emulator.log", *args) as emu:
            env = sc.mirror_env(emu, base / "mirror", base / "wh.duckdb")
            dags = sc.deploy_dags(base / "dags")
            stack = AirflowStack(
                venv, dags, executor="CeleryExecutor", env=env, celery_workers=workers,
                celery_concurrency=concurrency, parallelism=workers * concurrency + 2,
            )  # fmt: skip
            with stack:
                api = stack.client()
                sc.open_for_business(api, slots=workers * concurrency)
                _, first = sc.first_scheduled_run(api)
                sc.next_interval(emu)
                _, second = sc.run_interval(api)
                timings = dict(stack.timings)
    return {
        "workers": workers,
        "first_run_s": round(first, 1),
        "first_projects_per_min": round(projects * 60 / first, 1),
        "next_run_s": round(second, 1),
        "next_projects_per_min": round(projects * 60 / second, 1),
        **{k: round(v, 1) for k, v in timings.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--labels", type=int, default=6)
    parser.add_argument("--workers", default="1,2", help="worker counts to measure")
    parser.add_argument("--concurrency", type=int, default=2, help="slots per worker")
    args = parser.parse_args()
    print("command:", " ".join(["python", *sys.argv]))
    for workers in (int(w) for w in args.workers.split(",")):
        result = measure(args.projects, args.labels, workers, args.concurrency)
        print(json.dumps({"projects": args.projects, "labels": args.labels, **result}), flush=True)


if __name__ == "__main__":
    main()
