"""Make a mirror with everything the page shows, from an emulator, through the real operator.

Run as a script in a fresh process (so Airflow reads its ``[metrics]`` settings fresh)::

    python tests/plugins/build_mirror.py ROOT PROJECT_ID START_ISO SPLIT_ISO

with ``AIRFLOW_CONN_LABELBOX_DEFAULT`` pointing at a running emulator and ``AIRFLOW_HOME`` /
``AIRFLOW__CORE__DAGS_FOLDER`` set up (a migrated database, the repo's ``dags/``). It commits
``[START, SPLIT)`` with the pipeline, then runs the example backfill DAG with ``dag.test()``
for the two days after ``SPLIT + 1 day`` (the operator emits its metrics after each commit),
which leaves the day after ``SPLIT`` as a gap, and finally starts one export without committing
it (a pending export).
"""

from __future__ import annotations

import sys
from datetime import timedelta

import labelbox_backfill
from labelbox_provider.hooks.labelbox import LabelboxHook
from labelbox_provider.pipeline.run import MirrorPipeline
from labelbox_provider.state.windows import Window, parse_iso

DAY = timedelta(days=1)


def main(root: str, project: str, start_iso: str, split_iso: str) -> int:
    """Build the mirror; the exit code says whether every DAG run succeeded."""
    start, split = parse_iso(start_iso), parse_iso(split_iso)
    pipe = MirrorPipeline(LabelboxHook(), root, project, initial_start=start, poll_interval=0.01)
    pipe.run_windows([Window(start, split)])
    dag = labelbox_backfill.build_dag(
        project_ids=[project], destination=root, initial_start=start, poll_interval=0.01
    )
    for day in (2, 3):  # data intervals [day-1, day) after the split
        window = {
            "window_start": (split + (day - 1) * DAY).isoformat(),
            "window_end": (split + day * DAY).isoformat(),
        }  # the backfill DAG runs only when asked, for the window in its params
        run = dag.test(logical_date=split + day * DAY, run_conf=window)
        if run.state != "success":
            print(f"backfill run of {split + day * DAY} ended {run.state}", file=sys.stderr)
            return 1
    pipe.start_export(Window(split + 3 * DAY, split + 4 * DAY), "backfill")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
