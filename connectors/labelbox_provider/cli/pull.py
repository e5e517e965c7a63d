"""``labelbox-export pull``: mirror projects without Airflow, one window or catching up to now.

Without ``--start``/``--end`` the run is incremental: from the watermark (minus the lookback)
to ``--now`` minus the settle lag, exactly what the scheduled DAG does. With them it exports the
explicit window ``[start, end)`` as backfill batches (the watermark never moves back). The same
:class:`~labelbox_provider.pipeline.run.MirrorPipeline` as the operator does the work.
"""

from __future__ import annotations

import argparse
import json
from collections import deque
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from labelbox_provider.cli._common import (
    add_root_arg,
    fmt_time,
    guarded,
    parse_time,
    positive_int,
    project_id_arg,
    quiet_airflow_import,
    route_logs,
)
from labelbox_provider.cli._hook import API_KEY_ENV, build_hook, check_endpoint
from labelbox_provider.cli.progress import Progress
from labelbox_provider.exceptions import CliError
from labelbox_provider.pipeline.types import BatchResult, RunSummary

if TYPE_CHECKING:
    from labelbox_provider.pipeline.run import MirrorPipeline
    from labelbox_provider.state.windows import Window


def seconds_arg(text: str) -> timedelta:
    """A non-negative number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return timedelta(seconds=value)


def _check_args(args: argparse.Namespace) -> None:
    """Everything that can be refused before a request is sent."""
    if (args.start is None) != (args.end is None):
        raise CliError("give both --start and --end (a window), or neither (catch up)")
    if args.start is not None and args.start >= args.end:
        raise CliError(f"--start {fmt_time(args.start)} must be before --end {fmt_time(args.end)}")
    if args.conn_id is None:
        check_endpoint(args.endpoint)


def pipeline_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword options of :class:`MirrorPipeline` given on the command line."""
    options: dict[str, Any] = {"export_format": args.format}
    if args.initial_start is not None:
        options["initial_start"] = args.initial_start
    if args.settle_lag is not None:
        options["settle_lag"] = args.settle_lag
    if args.lookback is not None:
        options["lookback"] = args.lookback
    if args.poll_interval is not None:
        options["poll_interval"] = args.poll_interval
    if args.max_window_days is not None:
        options["max_window_span"] = timedelta(days=args.max_window_days)
    if args.delta:
        options["delta_tables"] = True
    return options


def run_with_progress(
    pipe: MirrorPipeline, windows: list[Window], mode: str, *, enabled: bool | None = None
) -> RunSummary:
    """Like ``MirrorPipeline.run_windows`` with a progress bar over the windows on stderr."""
    summary = RunSummary(pipe.config.project_id)
    queue = deque(windows)
    label = f"{pipe.config.project_id} windows"
    with Progress(len(windows), label, enabled=enabled) as bar:
        while queue:
            window = queue.popleft()
            bar.note(f"exporting {window}")
            outcome = pipe.run_window(window, mode)
            summary.batches.extend(outcome.committed)
            if outcome.requeue:
                summary.splits += 1
                queue.extendleft(reversed(outcome.requeue))
                bar.total = (bar.total or 0) + len(outcome.requeue)
            bar.advance()
    summary.watermark = pipe.ledger.watermark()
    return summary


def _batch_line(b: BatchResult) -> str:
    counts = " ".join(f"{t}={n}" for t, n in sorted(b.counts.items()) if n)
    return f"  {b.mode:<11} {b.window}  {counts or 'empty'}"


def render_summary(summary: RunSummary) -> str:
    """Readable lines: one per committed batch, then the watermark."""
    lines = [f"project {summary.project_id}: {len(summary.batches)} batch(es) committed"]
    lines += [_batch_line(b) for b in summary.batches]
    if summary.splits:
        lines.append(f"  {summary.splits} window(s) split to stay within budget")
    lines.append(f"  watermark {fmt_time(summary.watermark)}")
    return "\n".join(lines)


def pull_project(hook: Any, args: argparse.Namespace, project_id: str, now: datetime) -> RunSummary:
    """Plan and run the windows of one project."""
    from labelbox_provider.pipeline.run import MirrorPipeline

    pipe = MirrorPipeline(hook, args.root, project_id, **pipeline_options(args))
    if args.start is not None:
        windows, mode = pipe.plan_backfill(args.start, args.end, now), "backfill"
    else:
        windows, mode = pipe.plan(now), "incremental"
    summary = run_with_progress(pipe, windows, mode)
    if args.reconcile:
        summary.batches.append(pipe.reconcile(now))
    return summary


def register(subparsers: Any) -> None:
    """Register ``pull`` on the dispatcher's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "pull",
        help="export and commit a window, or catch up to now (no Airflow needed)",
        description=__doc__.split("\n\n")[0] + f" The API key is read from ${API_KEY_ENV}.",
    )
    add_root_arg(p)
    p.add_argument(
        "--project", action="append", required=True, type=project_id_arg,
        help="Labelbox project id (repeat for several projects)",
    )  # fmt: skip
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--endpoint", default="https://api.labelbox.com",
        help=f"API endpoint (default: the public API); key from ${API_KEY_ENV}",
    )  # fmt: skip
    src.add_argument("--conn-id", help="use this Airflow connection (e.g. from AIRFLOW_CONN_<ID>)")
    p.add_argument("--format", choices=("v2", "v1"), default="v2", help="export API (v2)")
    p.add_argument("--start", type=parse_time, help="window start (with --end: a backfill)")
    p.add_argument("--end", type=parse_time, help="window end, exclusive")
    p.add_argument("--now", type=parse_time, help="plan up to this time (default: now)")
    p.add_argument("--initial-start", type=parse_time, help="where coverage begins")
    p.add_argument("--settle-lag", type=seconds_arg, help="seconds of lag waited out (600)")
    p.add_argument("--lookback", type=seconds_arg, help="seconds re-read before the watermark")
    p.add_argument("--poll-interval", type=float, help="seconds between export status polls")
    p.add_argument("--max-window-days", type=positive_int, help="longest window of one export")
    p.add_argument("--reconcile", action="store_true", help="then tombstone deleted labels")
    p.add_argument("--delta", action="store_true", help="also update the Delta current tables")
    p.add_argument("--json", action="store_true", help="print one JSON summary per project")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    p.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    """Entry point of ``labelbox-export pull``."""
    _check_args(args)
    quiet_airflow_import(args.verbose)
    from labelbox_provider.pipeline.run import wall_now

    now = args.now or wall_now()
    hook = build_hook(endpoint=args.endpoint, conn_id=args.conn_id)
    route_logs(args.verbose)  # after the hook's import set Airflow's logging up
    for project_id in args.project:
        summary = pull_project(hook, args, project_id, now)
        print(json.dumps(summary.to_dict()) if args.json else render_summary(summary))
    return 0
