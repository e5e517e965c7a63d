"""Shared pieces of the reliability tests: the emulator world, the fast connection, the two
drivers (plain and deferrable, both through the operator) and the mirror comparisons.

``LBX_SOAK=1`` (``make soak``) runs the full counts; otherwise a representative sample.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk.exceptions import TaskDeferred
from airflow.sdk.execution_time.context import OutletEventAccessors
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import running_emulator
from labelbox_provider.io.current import current_tables
from labelbox_provider.operators.labelbox import LabelboxIncrementalExportOperator
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.transforms.tables import LINEAGE_COLUMNS

REPO = Path(__file__).resolve().parents[2]
SOAK = os.environ.get("LBX_SOAK") == "1"
# A tiny world: one image project, a few labels; the emulator answers at once.
WORLD: dict[str, Any] = {
    "media_types": ["IMAGE"],
    "labels_per_project": 6,
    "v1_cache_seconds": 1800.0,  # identical v1 requests reuse one export, as the server does
}
# Fast retry budgets: every transient fault costs milliseconds, not minutes.
FAST_EXTRAS: dict[str, Any] = {
    "max_retry_seconds": 4,
    "backoff_initial": 0.01,
    "backoff_max": 0.05,
    "max_retry_after": 0.05,
    "timeout": 0.5,
    "connect_timeout": 0.5,
    "poll_interval": 0.05,
    "jitter": False,
}
SPAN_DAYS = 12  # window span: the small world's history is a few windows


def initial_start(emu: EmulatorServer) -> datetime:
    """Where the mirror's coverage begins: before the small world's history."""
    return emu.world.now() - timedelta(days=30)


def connection_json(emu: EmulatorServer, **extras: Any) -> str:
    """``AIRFLOW_CONN_LABELBOX_DEFAULT`` for this emulator with the fast retry budget."""
    conn = {
        "conn_type": "labelbox",
        "host": emu.url,
        "password": emu.api_key,
        "extra": {**FAST_EXTRAS, **extras},
    }
    return json.dumps(conn)


def operator(
    emu: EmulatorServer, root: Path, fmt: str, *, deferrable: bool, **options: Any
) -> LabelboxIncrementalExportOperator:
    """The mirror operator on the emulator's first project, fast timeouts."""
    return LabelboxIncrementalExportOperator(
        task_id="mirror",
        project_id=emu.projects[0]["id"],
        destination=str(root),
        export_format=fmt,
        initial_start=initial_start(emu),
        max_window_span=timedelta(days=SPAN_DAYS),
        export_timeout=options.pop("export_timeout", 1.0),
        deferrable=deferrable,
        **options,
    )


def step(call: Any, *args: Any) -> tuple[Any, TaskDeferred | None]:
    """Run ``call``: its result, or the deferral it raised."""
    try:
        return call(*args), None
    except TaskDeferred as deferral:
        return None, deferral


def fire(trigger: Any) -> dict[str, Any]:
    """Run the trigger's loop in-process (asyncio, real HTTP); return its one event."""

    async def first() -> dict[str, Any]:
        events = [event.payload async for event in trigger.run()]
        assert len(events) == 1, events
        return dict(events[0])

    return asyncio.run(first())


def run_task(
    op: LabelboxIncrementalExportOperator, emu: EmulatorServer, events: list[dict[str, Any]]
) -> dict[str, Any]:
    """One task try, as Airflow runs it: execute, then (deferrable) trigger -> execute_complete."""
    context: dict[str, Any] = {
        "data_interval_end": emu.world.now(),
        "outlet_events": OutletEventAccessors(),
    }
    result, deferral = step(op.execute, context)
    while deferral is not None:
        event = fire(deferral.trigger)
        events.append(event)
        result, deferral = step(op.execute_complete, context, event)
    return dict(result)


def reference_tables(factory: Any, world: dict[str, Any]) -> dict[str, Any]:
    """Fault-free current tables of each format (in-process, plain mode) of ``world``."""
    import pytest

    mp = pytest.MonkeyPatch()
    tables = {}
    with running_emulator(**world) as emu:
        mp.setenv("AIRFLOW_CONN_LABELBOX_DEFAULT", connection_json(emu))
        for fmt in ("v1", "v2"):
            root = factory.mktemp(f"reference-{fmt}")
            run_task(operator(emu, root, fmt, deferrable=False), emu, [])
            tables[fmt] = comparable(root, emu)
    mp.undo()
    assert tables["v2"]["labels"], "the reference mirror is empty: the tests would prove nothing"
    return tables


def _plain(value: Any, base_url: str) -> Any:
    return value.replace(base_url, "<emulator>") if isinstance(value, str) else value


def comparable(root: Path, emu: EmulatorServer) -> dict[str, list[tuple[Any, ...]]]:
    """The current tables without lineage columns, rows sorted: what a reader sees.

    The emulator's address (in mask URLs) is replaced: each schedule has its own port.
    """
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name, table in current_tables(str(root), emu.projects[0]["id"]).items():
        keep = [c for c in table.column_names if c not in LINEAGE_COLUMNS]
        rows = table.select(keep).to_pylist()
        plain = (tuple(sorted((k, _plain(v, emu.base_url)) for k, v in r.items())) for r in rows)
        out[name] = sorted(plain, key=repr)
    return out


def assert_ledger_consistent(root: Path, project_id: str) -> None:
    """The watermark is never ahead of committed data; every manifest's files are whole."""
    ledger = Ledger(str(root), project_id)
    manifests = ledger.manifests()
    mark = ledger.watermark()
    if mark is not None:
        assert manifests, "a watermark without any committed batch"
        assert mark <= max(m.window.end for m in manifests), (mark, manifests)
    for manifest in manifests:
        for table in manifest.counts:
            for f in manifest.files_for(table):
                path = Path(ledger.path(f.path))  # a reader would open exactly this file
                assert path.exists() and path.stat().st_size == f.size, f


def tree_bytes(*roots: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file under ``roots`` with its bytes (for byte-for-byte secret searches)."""
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file():
                yield path, path.read_bytes()


# Where Airflow keeps what a task run produced: XComs, rendered template fields, the
# deferral's next_kwargs, trigger kwargs, the run's conf, the audit log.
AIRFLOW_RECORDS = ("xcom", "rendered_task_instance_fields", "task_instance", "trigger", "dag_run")


def airflow_records(dag_id: str) -> dict[str, list[str]]:
    """The metadata DB's rows of ``dag_id`` (every row of tables without a dag_id), per table
    of :data:`AIRFLOW_RECORDS`, as text: for byte searches of secrets."""
    import sqlalchemy as sa
    from airflow.configuration import conf

    engine = sa.create_engine(conf.get("database", "sql_alchemy_conn"))
    try:
        with engine.connect() as conn:
            meta = sa.MetaData()
            meta.reflect(bind=conn, only=AIRFLOW_RECORDS)
            out: dict[str, list[str]] = {}
            for name in AIRFLOW_RECORDS:
                table = meta.tables[name]
                query = sa.select(table)
                if "dag_id" in table.c:
                    query = query.where(table.c.dag_id == dag_id)
                out[name] = [repr(tuple(row)) for row in conn.execute(query)]
            return out
    finally:
        engine.dispose()


def rendered_fields(op: LabelboxIncrementalExportOperator, context: dict[str, Any]) -> str:
    """The operator's templated fields after Airflow's rendering, as text."""
    op.render_template_fields(context)
    return json.dumps({name: getattr(op, name) for name in op.template_fields}, default=str)


def command(emu: EmulatorServer, root: Path, case: tuple[str, str, str], nth: int) -> list[str]:
    """The crash runner's command line: ``case`` is (cli|task, format, crash point)."""
    runner, fmt, point = case
    head = [sys.executable, "-m", "tests.reliability.crash_runner", point, str(nth), runner]
    start, now = initial_start(emu).isoformat(), emu.world.now().isoformat()
    if runner == "task":
        return [*head, fmt, str(root), emu.projects[0]["id"], now]
    return [
        *head, "pull", "--root", str(root), "--project", emu.projects[0]["id"],
        "--endpoint", emu.url, "--format", fmt, "--initial-start", start, "--now", now,
        "--max-window-days", str(SPAN_DAYS), "--poll-interval", "0.05",
    ]  # fmt: skip


def run_process(cmd: list[str], emu: EmulatorServer) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` from the repo root with the emulator's key and connection in its env."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "connectors"), str(REPO), str(REPO / "dags")]),
        "LABELBOX_API_KEY": emu.api_key,
        "AIRFLOW_CONN_LABELBOX_DEFAULT": connection_json(emu),
    }
    return subprocess.run(  # a dag.test() under heavy load can take minutes
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=700, check=False
    )
