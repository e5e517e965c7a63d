"""``labelbox-export backfill-command``: the ``airflow dags trigger`` commands that fill gaps.

The backfill example DAG (``dags/labelbox_backfill.py``) has no schedule: each run exports the
window in its params. So each gap ``[start, end)`` becomes one ``airflow dags trigger`` whose
``--conf`` names the window and the project (``{"project_ids": [<project>], "window_start":
..., "window_end": ...}``), so only the project with the gap is exported, exactly over the gap.
Re-running a window replaces its batch, so nothing is duplicated.
"""

from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Iterable
from typing import Any

from labelbox_provider.cli._common import (
    add_gap_range_args,
    add_project_arg,
    add_root_arg,
    fmt_time,
    guarded,
)
from labelbox_provider.cli.ledger import ledger_status
from labelbox_provider.exceptions import CliError
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import Window

# The DAG whose runs export the window in their params (the example labelbox_backfill).
DEFAULT_DAG_ID = "labelbox_backfill"


def backfill_command(dag_id: str, gap: Window, conf: dict[str, Any] | None = None) -> str:
    """One shell-quoted ``airflow dags trigger`` command line that exports ``gap``."""
    run_conf = {
        **(conf or {}),
        "window_start": fmt_time(gap.start),
        "window_end": fmt_time(gap.end),
    }
    argv = ["airflow", "dags", "trigger", dag_id, "--conf", json.dumps(run_conf, sort_keys=True)]
    return shlex.join(argv)


def gap_commands(
    gaps: Iterable[Window], dag_id: str, conf: dict[str, Any] | None = None
) -> list[str]:
    """Every command needed to fill ``gaps`` (empty when there is no gap), oldest first."""
    return [backfill_command(dag_id, gap, conf) for gap in sorted(gaps)]


def _conf_arg(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"--conf is not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("--conf must be a JSON object")
    return value


def register(subparsers: Any) -> None:
    """Register ``backfill-command`` on the dispatcher's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "backfill-command",
        help="print the `airflow dags trigger` commands that fill the gaps",
        description="Print the `airflow dags trigger` commands that fill a project's gaps.",
    )
    add_root_arg(p)
    add_project_arg(p)
    p.add_argument("--dag-id", default=DEFAULT_DAG_ID, help=f"DAG to backfill ({DEFAULT_DAG_ID})")
    add_gap_range_args(p)
    p.add_argument(
        "--conf", type=_conf_arg, help='run conf JSON (default: {"project_ids": [PROJECT]})'
    )
    p.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    """Entry point of ``labelbox-export backfill-command``."""
    if args.start is not None and args.until is not None and args.start >= args.until:
        raise CliError("--start must be before --until")
    status = ledger_status(Ledger(args.root, args.project), args.start, args.until)
    if not status.gaps:
        print(f"# no gaps in [{fmt_time(status.start)}, {fmt_time(status.until)})")
        return 0
    print(f"# {len(status.gaps)} gap(s) in project {args.project}:")
    for gap in status.gaps:
        print(f"#   {gap}")
    conf = args.conf if args.conf is not None else {"project_ids": [args.project]}
    for line in gap_commands(status.gaps, args.dag_id, conf):
        print(line)
    return 0
