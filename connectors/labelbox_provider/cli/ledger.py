"""``labelbox-export ledger``: committed batches, the watermark and the gaps of one project."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from labelbox_provider.cli._common import (
    add_gap_range_args,
    add_project_arg,
    add_root_arg,
    fmt_time,
    guarded,
    render_table,
)
from labelbox_provider.state.checkpoint import BatchEntry, PendingExport
from labelbox_provider.state.codec import to_builtins
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import Window
from labelbox_provider.state.windows import gaps as window_gaps

BATCH_COLUMNS = (
    "mode",  # incremental / backfill / reconcile
    "fmt",  # source format, v1 or v2
    "window_start",  # start of the half-open window
    "window_end",  # end of the window
    "extracted_at",  # when the export was taken
    "labels",  # label rows in the batch
    "rows",  # data rows in the batch
    "batch_id",  # deterministic batch id
)


@dataclass(frozen=True)
class LedgerStatus:
    """What the ledger of one project says, ready to print or to dump as JSON."""

    project_id: str  # the project
    batches: list[BatchEntry]  # committed batches (index entries), ordered by window
    watermark: datetime | None  # end of contiguous coverage, None before the first commit
    initial_start: datetime | None  # where coverage is measured from
    start: datetime | None  # start of the range searched for gaps
    until: datetime | None  # end of that range
    gaps: list[Window]  # uncovered parts of [start, until)
    covered: list[Window] = field(default_factory=list)  # merged windows of covering batches
    pending: list[PendingExport] = field(default_factory=list)  # started, uncommitted exports

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, each batch summarised (its files counted, not listed)."""
        data: dict[str, Any] = to_builtins(
            {
                "project_id": self.project_id,
                "watermark": self.watermark,
                "initial_start": self.initial_start,
                "range": {"start": self.start, "until": self.until},
                "gaps": self.gaps,
                "batches": [_batch_summary(m) for m in self.batches],
            }
        )
        return data


_SUMMARY_KEYS = ("batch_id", "mode", "source_format", "window", "export_id", "extracted_at")


def _batch_summary(m: BatchEntry) -> dict[str, Any]:
    data = m.to_dict()
    summary = {key: data[key] for key in (*_SUMMARY_KEYS, "counts")}
    return {**summary, "files": sum(m.files.values()), "bytes": m.bytes}


def ledger_status(
    ledger: Ledger, start: datetime | None = None, until: datetime | None = None
) -> LedgerStatus:
    """Batches, watermark and gaps of ``ledger`` (from its checkpoint).

    Gaps are searched in ``[start, until)``. ``start`` defaults to the initial start stored
    with the watermark (else the earliest batch); ``until`` defaults to the end of the last
    covering batch, so the not-yet-pulled tail after it is not called a gap.
    """
    cp = ledger.checkpoint()  # one read, plus the index segments for the batch list
    batches = sorted(ledger.batches(checkpoint=cp), key=lambda m: (m.window, m.batch_id))
    watermark, initial, covered = cp.watermark, cp.initial_start, list(cp.coverage)
    if start is None:
        start = initial if initial is not None else (covered[0].start if covered else None)
    if until is None:
        until = covered[-1].end if covered else None
    gaps: list[Window] = []
    if start is not None and until is not None and start < until:
        gaps = window_gaps(covered, start, until)
    pending = sorted(cp.pending.values(), key=lambda p: (p.window, p.batch_id))
    return LedgerStatus(
        ledger.project_id, batches, watermark, initial, start, until, gaps, covered, pending
    )


def _human_span(window: Window) -> str:
    seconds = int(window.span.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n)
    return text + (f"{secs}s" if secs or not text else "")


def render_status(status: LedgerStatus) -> str:
    """Readable report: watermark line, batches table, gaps list."""
    covered = status.covered
    lines = [
        f"project    {status.project_id}",
        f"watermark  {fmt_time(status.watermark)}",
        f"initial    {fmt_time(status.initial_start)}",
        f"covered    {', '.join(str(w) for w in covered) or '-'}",
        "",
        f"batches ({len(status.batches)})",
    ]
    rows = [
        (
            m.mode,
            m.source_format,
            fmt_time(m.window.start),
            fmt_time(m.window.end),
            fmt_time(m.extracted_at),
            m.counts.get("labels", 0),
            m.counts.get("data_rows", 0),
            m.batch_id,
        )
        for m in status.batches
    ]
    lines.append(render_table(BATCH_COLUMNS, rows) if rows else "  (none)")
    lines.append("")
    where = f"[{fmt_time(status.start)}, {fmt_time(status.until)})"
    lines.append(f"gaps in {where}: {len(status.gaps)}")
    lines += [f"  {g}  ({_human_span(g)})" for g in status.gaps]
    return "\n".join(lines)


def register(subparsers: Any) -> None:
    """Register ``ledger`` on the dispatcher's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "ledger",
        help="show committed batches, the watermark and gaps of a project",
        description="Show the committed batches, the watermark and the gaps of one project.",
    )
    add_root_arg(p)
    add_project_arg(p)
    add_gap_range_args(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    """Entry point of ``labelbox-export ledger``."""
    status = ledger_status(Ledger(args.root, args.project), args.start, args.until)
    if args.json:
        print(json.dumps(status.to_dict(), indent=2))
    else:
        print(render_status(status))
    return 0
