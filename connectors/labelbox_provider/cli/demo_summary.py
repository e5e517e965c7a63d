"""The demo's readable summary: rows per table, watermarks and gaps, examples, a daily chart.

Every number is read back from what the pipeline wrote (the ledger, the Parquet mirror through
the current view, and the DuckDB warehouse), never from the emulator; only the project list (id,
asset type) comes from the demo's set-up. The summary shows what a user of the mirror would see.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from labelbox_provider.cli._common import fmt_time, render_table
from labelbox_provider.cli.chart import bar_chart
from labelbox_provider.cli.ledger import ledger_status
from labelbox_provider.io.current import TABLES, register_current_views
from labelbox_provider.state.ledger import Ledger

EXAMPLE_COLUMNS = (
    "mime_type",  # the data row's MIME type (data_rows)
    "label_id",  # Labelbox label id
    "data_row_id",  # the labelled data row
    "created_at",  # when the label was created
    "workflow_task_name",  # where the data row is in the workflow
    "seconds_to_label",  # labelling time
)
EXAMPLES = 5  # example label rows printed
DELTA_VERSIONS = 4  # newest versions of the labels Delta table printed
EXAMPLE_SQL = f"""
SELECT d.mime_type, l.label_id, l.data_row_id, l.created_at, l.workflow_task_name,
       l.seconds_to_label
FROM main."labels" l
LEFT JOIN main."data_rows" d ON d.project_id = l.project_id AND d.data_row_id = l.data_row_id
ORDER BY l.created_at DESC, l.label_id LIMIT {EXAMPLES}
"""  # the newest labels, with their data row's MIME type


@dataclass(frozen=True)
class ProjectLine:
    """One project in the summary."""

    project_id: str  # Labelbox project id
    media_type: str  # asset type
    batches: int  # committed batches
    labels: int  # labels in the warehouse (current state)
    watermark: datetime | None  # the project's watermark
    gaps: int  # uncovered windows between initial start and the last batch


@dataclass
class DemoSummary:
    """Numbers of the summary (tests compare them with the emulator's truth)."""

    tables: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # raw, current, wh
    projects: list[ProjectLine] = field(default_factory=list)  # one per project
    initial_labels: int = 0  # label rows of the first run (the initial history)
    per_day: list[tuple[str, int]] = field(default_factory=list)  # (day, label rows exported)
    examples: list[tuple[Any, ...]] = field(default_factory=list)  # EXAMPLE_COLUMNS rows
    delta_project: str | None = None  # the project whose Delta tables are shown (or None)
    delta_counts: list[tuple[str, int, int]] = field(default_factory=list)  # table, Delta, view
    delta_history: list[tuple[Any, ...]] = field(default_factory=list)  # labels' versions


def delta_facts(mirror: Path, project_id: str, summary: DemoSummary) -> None:
    """Rows per Delta table (read with DuckDB, as ``query --delta`` does) next to the current
    view's, and the labels table's newest versions."""
    import duckdb

    from labelbox_provider.cli.delta import history_rows
    from labelbox_provider.io.delta import register_delta_views

    delta_con, view_con = duckdb.connect(), duckdb.connect()
    try:
        register_delta_views(delta_con, [Ledger(str(mirror), project_id)])
        register_current_views(view_con, str(mirror), project_id)
        summary.delta_counts = [(t, _count(delta_con, t), _count(view_con, t)) for t in TABLES]
    finally:
        delta_con.close()
        view_con.close()
    rows = history_rows(str(mirror), project_id, "labels", DELTA_VERSIONS)
    summary.delta_history = [(r["version"], r["operation"], r["batch_id"] or "-") for r in rows]
    summary.delta_project = project_id


def _count(con: Any, relation: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
    return int(row[0]) if row else 0


def _mirror_counts(mirror: Path) -> dict[str, tuple[int, int]]:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        register_current_views(con, str(mirror))
        return {t: (_count(con, f"raw_{t}"), _count(con, t)) for t in TABLES}
    finally:
        con.close()


def _warehouse_facts(warehouse: Path) -> tuple[dict[str, int], Counter[str], list[Any]]:
    """Rows per table, labels per project and example rows, from the DuckDB file."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        counts = {t: _count(con, f'main."{t}"') for t in TABLES}
        per_project = Counter(
            {p: int(n) for p, n in con.execute(
                'SELECT project_id, count(*) FROM main."labels" GROUP BY 1'
            ).fetchall()}
        )  # fmt: skip
        examples = con.execute(EXAMPLE_SQL).fetchall()
        return counts, per_project, examples
    finally:
        con.close()


def summarize(
    mirror: Path, warehouse: Path, projects: list[dict[str, Any]], run_dates: list[datetime]
) -> DemoSummary:
    """Collect the summary's numbers from the mirror, its ledgers and the warehouse."""
    summary = DemoSummary()
    mirror_counts = _mirror_counts(mirror)
    wh_counts, per_project, summary.examples = _warehouse_facts(warehouse)
    summary.tables = {t: (*mirror_counts[t], wh_counts[t]) for t in TABLES}
    per_run: Counter[int] = Counter()
    for project in projects:
        ledger = Ledger(str(mirror), project["id"])
        status = ledger_status(ledger)
        for m in status.batches:
            run = sum(1 for d in run_dates if d <= m.extracted_at) - 1
            per_run[max(run, 0)] += m.counts.get("labels", 0)
        summary.projects.append(
            ProjectLine(
                project_id=project["id"],
                media_type=project["media_type"],
                batches=len(status.batches),
                labels=per_project.get(project["id"], 0),
                watermark=status.watermark,
                gaps=len(status.gaps),
            )
        )
    summary.initial_labels = per_run.get(0, 0)
    summary.per_day = [
        (f"day {i} ({d:%a %d %b})", per_run.get(i, 0)) for i, d in enumerate(run_dates) if i
    ]
    return summary


def render_summary(summary: DemoSummary) -> str:
    """The text printed at the end of ``make demo``."""
    table_rows = [(t, *summary.tables[t]) for t in TABLES]
    project_rows = [
        (p.media_type, p.project_id, p.batches, p.labels, fmt_time(p.watermark), p.gaps)
        for p in summary.projects
    ]
    parts = [
        "== Rows per table ==",
        render_table(["table", "raw copies", "current view", "DuckDB"], table_rows),
        "",
        "== Projects (one per asset type) ==",
        render_table(["media", "project", "batches", "labels", "watermark", "gaps"], project_rows),
        "",
        "== Example labels (newest first, from DuckDB) ==",
        render_table(list(EXAMPLE_COLUMNS), summary.examples),
        "",
        f"== Label changes exported per day (initial history: {summary.initial_labels}) ==",
        bar_chart(summary.per_day, unit="labels"),
    ]
    if summary.delta_project:
        parts += [
            "",
            f"== Delta Lake current tables of project {summary.delta_project} ==",
            render_table(["table", "Delta rows", "current view"], summary.delta_counts),
            "",
            "newest versions of its labels table (one per batch):",
            render_table(["version", "operation", "batch"], summary.delta_history),
        ]
    return "\n".join(parts)
