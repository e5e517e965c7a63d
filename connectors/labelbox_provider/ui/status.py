"""What the mirror's page shows, read through the provider's own readers (never by parsing files).

One project's ledger is read once per request by :func:`read_ledger` (the one place that knows
how: the CLI's :func:`~labelbox_provider.cli.ledger.ledger_status`, which reads the project's
checkpoint once, plus its index segments for the batch list; no manifest is read). The rest
is derived in memory and capped: the page lists at most ``batches_shown`` batches per project
and charts at most ``CHART_POINTS``; reject reasons are read only for the batches listed.

Nothing here returns a credential: storage options are used, never shown; a storage URL is
shown without user info or query string; reject reasons go through the hook's redaction.
"""

from __future__ import annotations

import json
import os
import shlex
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from labelbox_provider.cli.backfill import DEFAULT_DAG_ID, gap_commands
from labelbox_provider.cli.ledger import LedgerStatus, ledger_status
from labelbox_provider.hooks.redact import QUERY_REDACTED, redact, redact_url
from labelbox_provider.state.checkpoint import BatchEntry
from labelbox_provider.state.ledger import Ledger, list_projects
from labelbox_provider.state.windows import isoformat

# Settings, from the api-server's environment (the example DAGs read the same ROOT variable).
ROOT_ENV = "LABELBOX_MIRROR_ROOT"  # mirror root: local folder or fsspec URL
OPTIONS_ENV = "LABELBOX_MIRROR_STORAGE_OPTIONS"  # JSON object of fsspec storage options
STALE_ENV = "LABELBOX_MIRROR_STALE_AFTER_HOURS"  # freshness above this is highlighted
SHOWN_ENV = "LABELBOX_MIRROR_BATCHES_SHOWN"  # batches listed per project on the overview
DAG_ENV = "LABELBOX_MIRROR_BACKFILL_DAG"  # DAG the backfill commands name
DEFAULT_ROOT = "/tmp/labelbox-mirror"  # the example DAGs' default
CHART_POINTS = 120  # batches in the rows-per-batch chart (the latest ones)
REASONS_PER_BATCH = 5  # distinct reject reasons listed per batch
REASON_CHARS = 200  # a reject reason is cut to this length
MAX_PAGE = 500  # most batches one API or page request returns


@dataclass(frozen=True)
class PageSettings:
    """Where the mirror is and how the page presents it."""

    root: str = DEFAULT_ROOT
    storage_options: dict[str, Any] = field(default_factory=dict, repr=False)  # never shown
    stale_after: timedelta = timedelta(hours=24)
    batches_shown: int = 20
    backfill_dag: str = DEFAULT_DAG_ID

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PageSettings:
        """Settings from environment variables; a bad value is a clear error."""
        env = os.environ if env is None else env
        options = json.loads(env.get(OPTIONS_ENV) or "{}")
        if not isinstance(options, dict):
            raise ValueError(f"{OPTIONS_ENV} must be a JSON object")
        return cls(
            root=env.get(ROOT_ENV) or DEFAULT_ROOT,
            storage_options=options,
            stale_after=timedelta(hours=float(env.get(STALE_ENV, "24"))),
            batches_shown=max(1, min(MAX_PAGE, int(env.get(SHOWN_ENV, "20")))),
            backfill_dag=env.get(DAG_ENV) or DEFAULT_DAG_ID,
        )

    @property
    def location(self) -> str:
        """The root as it may be shown: no user info, no query string."""
        return display_location(self.root)


def display_location(root: str) -> str:
    """``root`` without credentials or query string.

    >>> display_location("s3://key:secret@bucket/mirror?token=abc")
    's3://bucket/mirror'
    >>> display_location("/data/mirror")
    '/data/mirror'
    """
    return redact_url(root).removesuffix(QUERY_REDACTED)


def read_ledger(settings: PageSettings, project_id: str) -> tuple[Ledger, LedgerStatus]:
    """The ledger of one project and what it says (batches, watermark, gaps): one read.

    This is the page's only way into a ledger.
    """
    ledger = Ledger(settings.root, project_id, settings.storage_options)
    return ledger, ledger_status(ledger)


def projects(settings: PageSettings) -> list[str]:
    """Ids of the mirrored projects."""
    return list_projects(settings.root, settings.storage_options)


def data_rows(m: BatchEntry) -> int:
    """Rows a batch wrote, over every table except rejects."""
    return sum(n for table, n in m.counts.items() if table != "rejects")


def batch_view(m: BatchEntry) -> dict[str, Any]:
    """One batch as the page lists it (no file paths, no export URLs)."""
    return {
        "batch_id": m.batch_id,
        "mode": m.mode,
        "source_format": m.source_format,
        "window": m.window.to_dict(),
        "extracted_at": isoformat(m.extracted_at),
        "counts": dict(sorted(m.counts.items())),
        "rows": data_rows(m),
        "rejects": m.counts.get("rejects", 0),
    }


def reject_reasons(ledger: Ledger, m: BatchEntry) -> list[dict[str, Any]]:
    """Distinct reasons of one batch's rejects with their counts (most frequent first).

    Only the ``error`` column of the batch's reject files is read (never the raw record, which
    may hold signed URLs), through the ledger's filesystem.
    """
    import pyarrow.parquet as pq

    found: Counter[str] = Counter()
    for path in m.paths("rejects"):
        with ledger.fs.open(ledger.path(path), "rb") as handle:
            column = pq.read_table(handle, columns=["error"]).column("error")
        found.update(str(e) for e in column.to_pylist())
    return [
        {"reason": redact(reason)[:REASON_CHARS], "count": n}
        for reason, n in found.most_common(REASONS_PER_BATCH)
    ]


def _gap_views(status: LedgerStatus, settings: PageSettings) -> list[dict[str, Any]]:
    conf = {"project_ids": [status.project_id]}
    views = []
    for gap in status.gaps:
        (command,) = gap_commands([gap], settings.backfill_dag, conf)
        views.append({**gap.to_dict(), "command": command})
    return views


def cli_command(settings: PageSettings, project_id: str) -> str:
    """The ``labelbox-export backfill-command`` call that prints the same commands."""
    argv = ["labelbox-export", "backfill-command", "--root", settings.location]
    return shlex.join([*argv, "--project", project_id, "--dag-id", settings.backfill_dag])


def summary(
    ledger: Ledger, status: LedgerStatus, settings: PageSettings, now: datetime
) -> dict[str, Any]:
    """Watermark, freshness, totals, gaps (each with its command) and pending exports."""
    batches = status.batches
    fresh = None if status.watermark is None else (now - status.watermark).total_seconds()
    latest = max(batches, key=lambda m: (m.extracted_at, m.batch_id), default=None)
    return {
        "project_id": status.project_id,
        "watermark": None if status.watermark is None else isoformat(status.watermark),
        "initial_start": None if status.initial_start is None else isoformat(status.initial_start),
        "freshness_seconds": fresh,
        "stale": fresh is None or fresh > settings.stale_after.total_seconds(),
        "batches": len(batches),
        "rows": sum(data_rows(m) for m in batches),
        "rejects": sum(m.counts.get("rejects", 0) for m in batches),
        "last_extracted_at": None if latest is None else isoformat(latest.extracted_at),
        "gaps": _gap_views(status, settings),
        "backfill_cli": cli_command(settings, status.project_id),
        "pending_exports": [p.to_dict() for p in status.pending],
    }


def latest_first(status: LedgerStatus) -> list[BatchEntry]:
    """Batches, the latest window first (a backfill of old history sorts with its window)."""
    return sorted(status.batches, key=lambda m: (m.window, m.batch_id), reverse=True)


def batch_page(
    ledger: Ledger, status: LedgerStatus, offset: int, limit: int
) -> list[dict[str, Any]]:
    """``limit`` batches from ``offset`` (latest window first), each with its reject reasons."""
    limit = max(0, min(limit, MAX_PAGE))
    chosen = latest_first(status)[max(0, offset) : max(0, offset) + limit]
    return [
        {
            **batch_view(m),
            "reject_reasons": reject_reasons(ledger, m) if m.paths("rejects") else [],
        }
        for m in chosen
    ]


def chart_points(status: LedgerStatus) -> list[dict[str, Any]]:
    """(window end, rows) of the latest ``CHART_POINTS`` batches, oldest first."""
    chosen = latest_first(status)[:CHART_POINTS]
    return [{"at": isoformat(m.window.end), "rows": data_rows(m)} for m in reversed(chosen)]


def project_view(
    settings: PageSettings, project_id: str, now: datetime, offset: int = 0, limit: int = 20
) -> dict[str, Any]:
    """Everything the page shows of one project, from one ledger read."""
    ledger, status = read_ledger(settings, project_id)
    return {
        **summary(ledger, status, settings, now),
        "offset": offset,
        "last_batches": batch_page(ledger, status, offset, limit),
        "chart": chart_points(status),
    }
