"""The demo's core: an emulated organisation, the example DAG over simulated days, DuckDB loads.

:func:`run_demo` expects Airflow's environment to be ready (``AIRFLOW_HOME`` set before Airflow
was imported; :func:`migrate_airflow_db` makes its SQLite database). It starts the emulator with
one project per asset type, runs ``dags/labelbox_incremental.py`` with ``dag.test()`` once for
the initial history and once per simulated day (the world moves one day, then the DAG runs with
that moment as its logical date), and after each run loads the new batches into a DuckDB file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labelbox_provider.emulator.server import EmulatorServer

REPO = Path(__file__).resolve().parents[3]  # the clone (connectors/labelbox_provider/cli/..)
DAG_FILE = REPO / "dags" / "labelbox_incremental.py"  # the example DAG the demo runs
CONN_ENV = "AIRFLOW_CONN_LABELBOX_DEFAULT"  # the DAG's connection, as an env var (no DB row)
SETTLE_MINUTES = 15  # quiet time after each day's activity, longer than the DAG's settle lag
# Activity of one simulated day, spread over the organisation's projects (kind -> count).
DAY_EVENTS: dict[str, int] = {
    "label_created": 6,  # new labels
    "label_updated": 5,  # edited annotations (new content version)
    "label_deleted": 1,  # a deletion (the v2 snapshot of its data row drops it)
    "review_applied": 3,  # approve / reject
    "workflow_moved": 3,  # data rows moving between workflow tasks
    "metadata_updated": 2,  # data row metadata changes
    "comment_created": 2,  # comments (data row activity without label change)
}


@dataclass(frozen=True)
class DemoConfig:
    """What the demo simulates and where it writes."""

    out: Path  # output folder: mirror/, warehouse.duckdb
    days: int = 5  # simulated days after the initial history
    history_days: int = 14  # days of history the world has before the first run
    labels_per_project: int = 40  # initial labels per project
    media_types: tuple[str, ...] | None = None  # None: every asset type the emulator has
    seed: int = 7  # world seed (same seed, same world)
    events_per_day: Mapping[str, int] = field(default_factory=lambda: dict(DAY_EVENTS))
    dag_file: Path = DAG_FILE  # the example DAG to run
    delta: bool = True  # keep Delta current tables of the first project (if deltalake is there)

    @property
    def mirror(self) -> Path:
        """Where the Parquet mirror goes."""
        return self.out / "mirror"

    @property
    def warehouse(self) -> Path:
        """The DuckDB file the batches are loaded into."""
        return self.out / "warehouse.duckdb"


@dataclass
class DemoRun:
    """What happened, for the summary (and for tests to compare with the world's truth)."""

    projects: list[dict[str, Any]]  # [{"id", "name", "media_type"}]
    initial_start: datetime  # where the mirror's coverage starts
    run_dates: list[datetime] = field(default_factory=list)  # logical date of each DAG run
    events: list[dict[str, Any]] = field(default_factory=list)  # every simulated event
    loaded: list[tuple[str, str]] = field(default_factory=list)  # (project, batch) loaded


def migrate_airflow_db(env: Mapping[str, str] | None = None) -> None:
    """``airflow db migrate`` in the current ``AIRFLOW_HOME`` (idempotent)."""
    cmd = [sys.executable, "-m", "airflow", "db", "migrate"]
    environ = dict(env or os.environ)
    done = subprocess.run(cmd, check=False, env=environ, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{done.stderr[-2000:]}")


@contextmanager
def labelbox_connection(emu: EmulatorServer) -> Iterator[None]:
    """``labelbox_default`` pointing at the emulator (env var, restored afterwards)."""
    previous = os.environ.get(CONN_ENV)
    conn = {"conn_type": "labelbox", "host": emu.url, "password": emu.api_key}
    os.environ[CONN_ENV] = json.dumps(conn)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(CONN_ENV, None)
        else:
            os.environ[CONN_ENV] = previous


def world_start(config: DemoConfig, today: datetime) -> datetime:
    """Start of the simulated history: far enough back that every run date is in the past."""
    midnight = today.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=config.history_days + config.days + 2)


def load_dag(config: DemoConfig, project_ids: list[str], initial_start: datetime) -> Any:
    """The example DAG built for the demo's projects and folders (imported from its file)."""
    if not config.dag_file.is_file():
        raise FileNotFoundError(f"example DAG not found at {config.dag_file} (run from a clone)")
    folder = str(config.dag_file.parent)  # Airflow puts the DAG folder on the path: the
    if folder not in sys.path:  # example DAGs import labelbox_settings from it
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location("labelbox_demo_dag", config.dag_file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {config.dag_file}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_dag(
        project_ids=project_ids,
        destination=str(config.mirror),
        initial_start=initial_start,
        deferrable=False,
        poll_interval=0.2,
        retry_delay=timedelta(seconds=1),  # a failed task fails the demo fast
    )


def load_new_batches(config: DemoConfig, run: DemoRun) -> int:
    """Load every committed, not yet loaded batch into the DuckDB warehouse; returns how many."""
    from labelbox_provider.io.warehouse.duckdb import DuckDBWarehouse

    wh = DuckDBWarehouse(config.warehouse)
    count = 0
    for project in run.projects:
        for ref in wh.pending(str(config.mirror), project["id"]):
            wh.load(ref)
            run.loaded.append((ref.project_id, ref.batch_id))
            count += 1
    return count


def delta_enabled(config: DemoConfig) -> bool:
    """Delta is shown when asked for and the ``delta`` extra is installed."""
    return config.delta and importlib.util.find_spec("deltalake") is not None


def update_delta(config: DemoConfig, run: DemoRun) -> str:
    """Apply the first project's new batches to its Delta tables (what ``delta_tables=True``
    does after each commit; one project only, to keep the demo fast)."""
    from labelbox_provider.io.delta import update_delta_tables
    from labelbox_provider.state.ledger import Ledger

    return update_delta_tables(Ledger(str(config.mirror), run.projects[0]["id"])).summary()


def _run_dag(dag: Any, when: datetime) -> None:
    dagrun = dag.test(logical_date=when)
    state = str(getattr(dagrun, "state", "success"))
    if not state.endswith("success"):
        raise RuntimeError(f"the DAG run of {when.isoformat()} ended in state {state}")


def run_demo(
    config: DemoConfig, progress: Callable[[str], None] = lambda _: None
) -> tuple[DemoRun, EmulatorServer]:
    """Simulate, mirror and load; returns the run record and the (stopped) emulator.

    The emulator is returned so the caller can compare with ``ground_truth`` (which works on
    the world, not over HTTP, after the server stopped).
    """
    from labelbox_provider.emulator.server import EmulatorServer

    start = world_start(config, datetime.now(UTC))
    # a fixed clock from an explicit start: the demo advances it a simulated day at a time
    options: dict[str, Any] = {
        "history_days": config.history_days,
        "start": start,
        "clock": "fixed",
    }
    if config.media_types is not None:
        options["media_types"] = list(config.media_types)
    emu = EmulatorServer(
        seed=config.seed, labels_per_project=config.labels_per_project, v1_polls=0, v2_polls=0,
        **options,
    )  # fmt: skip
    with emu, labelbox_connection(emu):
        run = DemoRun(projects=emu.projects, initial_start=start)
        dag = load_dag(config, [p["id"] for p in run.projects], start)
        for day in range(config.days + 1):
            if day:
                day_seconds = 86_400 - SETTLE_MINUTES * 60
                run.events += emu.advance(day_seconds, events=config.events_per_day)
                emu.advance(SETTLE_MINUTES * 60)
            when = emu.world.now()
            progress(f"day {day}/{config.days}: DAG run at {when:%Y-%m-%d %H:%M}Z")
            _run_dag(dag, when)
            run.run_dates.append(when)
            loaded = load_new_batches(config, run)
            progress(f"day {day}/{config.days}: loaded {loaded} batch(es) into DuckDB")
            if delta_enabled(config):
                done = update_delta(config, run)
                progress(f"day {day}/{config.days}: Delta tables of one project: {done}")
    return run, emu
