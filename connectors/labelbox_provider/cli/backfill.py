"""``labelbox-export backfill-command``: the ``airflow backfill create`` commands that fill gaps.

``airflow backfill create`` takes logical dates, inclusive at both ends; with an interval
timetable a run's logical date is the start of its data interval. A gap ``[start, end)`` is
therefore widened to whole periods: ``--from-date`` is the period containing ``start`` and
``--to-date`` the period containing the last instant before ``end``. The extra overlap is
harmless (the current view collapses duplicates). Gaps whose widened ranges touch or overlap are
joined into one command. ``--reprocess-behavior completed`` is set because a logical date in a
gap may already have a (scheduled) run whose window was different; re-running a window replaces
its batch, so nothing is duplicated. Each run gets ``{"project_ids": [<project>]}`` as its
conf (the example DAGs' param), so only the project with the gap is exported.
"""

from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Iterable
from datetime import datetime, timedelta
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

PERIODS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}  # schedule period -> length
# A DAG whose runs export their data interval: the mirror operator under
# CronDataIntervalTimetable("@daily", timezone="UTC"). The scheduled example labelbox_incremental
# uses a trigger timetable (zero-width intervals), so its backfill runs have no window.
DEFAULT_DAG_ID = "labelbox_backfill"


def floor_period(value: datetime, period: str) -> datetime:
    """Start of the hour or day (UTC) that contains ``value``."""
    value = value.replace(minute=0, second=0, microsecond=0)
    return value.replace(hour=0) if period == "day" else value


def logical_range(gap: Window, period: str) -> tuple[datetime, datetime]:
    """Inclusive ``(from_date, to_date)`` of the runs whose periods cover ``gap``.

    >>> from datetime import UTC
    >>> g = Window(datetime(2024, 1, 2, 6, tzinfo=UTC), datetime(2024, 1, 4, tzinfo=UTC))
    >>> [d.isoformat() for d in logical_range(g, "day")]
    ['2024-01-02T00:00:00+00:00', '2024-01-03T00:00:00+00:00']
    """
    last_instant = gap.end - timedelta(microseconds=1)
    return floor_period(gap.start, period), floor_period(last_instant, period)


def logical_ranges(gaps: Iterable[Window], period: str) -> list[tuple[datetime, datetime]]:
    """:func:`logical_range` of each gap, with touching or overlapping ranges joined."""
    step = PERIODS[period]
    joined: list[tuple[datetime, datetime]] = []
    for gap in sorted(gaps):
        first, last = logical_range(gap, period)
        if joined and first <= joined[-1][1] + step:
            joined[-1] = (joined[-1][0], max(joined[-1][1], last))
        else:
            joined.append((first, last))
    return joined


def backfill_command(
    dag_id: str, first: datetime, last: datetime, conf: dict[str, Any] | None = None
) -> str:
    """One shell-quoted ``airflow backfill create`` command line."""
    argv = [
        "airflow",
        "backfill",
        "create",
        "--dag-id",
        dag_id,
        "--from-date",
        fmt_time(first),
        "--to-date",
        fmt_time(last),
        "--reprocess-behavior",
        "completed",
    ]
    if conf:
        argv += ["--dag-run-conf", json.dumps(conf, sort_keys=True)]
    return shlex.join(argv)


def gap_commands(
    gaps: Iterable[Window], dag_id: str, period: str, conf: dict[str, Any] | None = None
) -> list[str]:
    """Every command needed to fill ``gaps`` (empty when there is no gap)."""
    return [backfill_command(dag_id, a, b, conf) for a, b in logical_ranges(gaps, period)]


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
        help="print the `airflow backfill create` commands that fill the gaps",
        description="Print the `airflow backfill create` commands that fill a project's gaps.",
    )
    add_root_arg(p)
    add_project_arg(p)
    p.add_argument("--dag-id", default=DEFAULT_DAG_ID, help=f"DAG to backfill ({DEFAULT_DAG_ID})")
    p.add_argument(
        "--period", choices=sorted(PERIODS), default="day", help="the DAG's schedule period"
    )
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
    for line in gap_commands(status.gaps, args.dag_id, args.period, conf):
        print(line)
    return 0
