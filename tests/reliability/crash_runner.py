"""Run the CLI or an Airflow task in this process and SIGKILL it at a named crash point.

    python -m tests.reliability.crash_runner POINT NTH cli pull --root ... (CLI arguments)
    python -m tests.reliability.crash_runner POINT NTH task FORMAT ROOT PROJECT RUN_DATE

The point's function is wrapped: on its NTH call, before or after the call, the process kills
itself with SIGKILL (no cleanup, no finally, no atexit: what a node failure looks like). Nothing
in the package knows about crash points; ``POINT=none`` runs to the end.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys
from datetime import datetime, timedelta
from typing import Any

# name -> (module, attribute path, "before" | "after"): where the kill lands.
CRASH_POINTS: dict[str, tuple[str, str, str]] = {
    "export-recorded": ("labelbox_provider.state.ledger", "Ledger.record_export_started", "after"),
    "download-mid": ("labelbox_provider.hooks.download", "copy_body", "after"),
    "flatten-mid": ("labelbox_provider.io.parquet", "TableSink.commit", "after"),  # every record
    "parquet-write": ("labelbox_provider.io.parquet", "BackgroundWriter._write", "after"),
    "parquet-closed": ("labelbox_provider.io.parquet", "TableSink.close", "after"),
    "files-moved": ("labelbox_provider.io.batch", "_upload", "after"),  # at their final paths
    "manifest-before": ("labelbox_provider.state.ledger", "Ledger.write_manifest", "before"),
    "manifest-after": ("labelbox_provider.state.ledger", "Ledger.write_manifest", "after"),
    # the checkpoint compare-and-swap lists the batch, advances the watermark, clears the pending
    # export: the commit point (issue 14)
    "watermark-before": ("labelbox_provider.state.ledger", "Ledger.publish_commit", "before"),
    "watermark-after": ("labelbox_provider.state.ledger", "Ledger.publish_commit", "after"),
    "pending-cleared": ("labelbox_provider.io.batch", "collect_garbage", "after"),
    "defer": ("airflow.sdk.bases.operator", "BaseOperator.defer", "before"),
    "resume": (
        "labelbox_provider.operators.labelbox",
        "LabelboxIncrementalExportOperator.execute_complete",
        "before",
    ),
}


def arm(point: str, nth: int) -> None:
    """Wrap the function of ``point`` so that its ``nth`` call kills the process."""
    if point == "none":
        return
    module_name, path, when = CRASH_POINTS[point]
    owner: Any = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    calls = [0]

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == nth and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if calls[0] == nth and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(owner, name, wrapper)


def run_task(fmt: str, root: str, project: str, run_date: str) -> int:
    """``dag.test()`` of the example incremental DAG, deferrable (triggerer in-process)."""
    import labelbox_incremental  # the example DAG file (dags/ is on the path)

    when = datetime.fromisoformat(run_date)
    dag = labelbox_incremental.build_dag(
        project_ids=[project],
        destination=root,
        export_format=fmt,
        deferrable=True,
        retries=0,
        initial_start=when - timedelta(days=30),
        max_window_span=timedelta(days=12),
        export_timeout=30.0,
    )
    run = dag.test(logical_date=when)
    return 0 if run.state == "success" else 1


def main(argv: list[str]) -> int:
    point, nth, kind, *rest = argv
    if kind == "task":
        import airflow.sdk.bases.operator  # noqa: F401  (the defer point lives there)
    arm(point, int(nth))
    if kind == "cli":
        from labelbox_provider.cli.main import main as cli_main

        return cli_main(rest)
    return run_task(*rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
