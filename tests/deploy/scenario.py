"""What the deployment tests (and benchmarks/deploy_celery.py) do with a running stack.

The example DAG files are copied from dags/ unchanged; they read where coverage starts, the
settle lag, the pool and the retry delay from the environment (``dags/labelbox_settings.py``).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.deploy.client import AirflowClient, StackError, wait_until
from tests.deploy.emulator_proc import EmulatorProcess

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = ("labelbox_settings.py", "labelbox_incremental.py", "labelbox_warehouse_load.py")
INCREMENTAL, LOAD = "labelbox_incremental", "labelbox_warehouse_load"
POOL, POOL_SLOTS = "labelbox_api", 4  # at most 4 Labelbox calls at once, however many projects
SETTLE_S = 1.0  # windows end 1 s before now (production: 600 s)
ACTIVITY = {"label_created": 3, "label_updated": 4, "label_deleted": 2}  # per interval


def deploy_dags(folder: Path) -> Path:
    """The DAG folder of a stack: the repository's example DAG files, as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in DAG_FILES:
        shutil.copy(REPO / "dags" / name, folder / name)
    return folder


def mirror_env(emu: EmulatorProcess, root: Path, warehouse: Path, **extra: str) -> dict[str, str]:
    """Connection and DAG settings of the stacks (the same as docs/production.md shows)."""
    coverage = datetime.now(UTC) - timedelta(days=4)  # before the emulator's 3-day history
    return {
        "AIRFLOW_CONN_LABELBOX_DEFAULT": emu.connection(),
        "LABELBOX_PROJECT_IDS": ",".join(p["id"] for p in emu.projects),
        "LABELBOX_MIRROR_ROOT": str(root),
        "LABELBOX_WAREHOUSE": f"duckdb://{warehouse}",
        "LABELBOX_INITIAL_START": coverage.isoformat(),
        "LABELBOX_SETTLE_LAG_SECONDS": str(SETTLE_S),
        "LABELBOX_RETRY_DELAY_SECONDS": "1",
        "LABELBOX_POOL": POOL,
        **extra,
    }


def open_for_business(api: AirflowClient, slots: int = POOL_SLOTS) -> dict[str, Any]:
    """Wait for both DAGs, note the aliases registered before any run, create the pool,
    unpause. Returns what was seen before the first run."""
    api.wait_for_dag(INCREMENTAL)
    api.wait_for_dag(LOAD)
    seen = {"aliases_before_first_run": api.alias_names()}
    api.set_pool(POOL, slots, "Labelbox API calls (rate limits)")
    seen["hook_meta"] = next(
        (m for m in api.get("/ui/connections/hook_meta") if m["connection_type"] == "labelbox"),
        None,
    )
    api.unpause(LOAD)
    api.unpause(INCREMENTAL)
    return seen


def first_scheduled_run(api: AirflowClient, timeout: float = 900) -> tuple[dict[str, Any], float]:
    """The run the scheduler itself creates once the DAG is unpaused (the latest daily tick;
    catchup is off), waited for; returns it and its duration in seconds."""

    def scheduled() -> str | None:
        runs = [r for r in api.runs(INCREMENTAL) if r["run_type"] == "scheduled"]
        return str(runs[0]["dag_run_id"]) if runs else None

    run_id = wait_until(
        scheduled, timeout=300, what=f"the scheduler created a run of {INCREMENTAL}", every=0.5
    )
    run = api.wait_for_run(INCREMENTAL, run_id, timeout=timeout)
    took = datetime.fromisoformat(run["end_date"]) - datetime.fromisoformat(run["start_date"])
    return run, took.total_seconds()


def run_interval(api: AirflowClient, timeout: float = 900) -> tuple[dict[str, Any], float]:
    """One incremental run (triggered now); returns the run and how long it took."""
    t0 = time.monotonic()
    run_id = api.trigger(INCREMENTAL)
    run = api.wait_for_run(INCREMENTAL, run_id, timeout=timeout)
    return run, time.monotonic() - t0


def next_interval(emu: EmulatorProcess) -> list[dict[str, Any]]:
    """Activity in the emulator (at its wall-clock now), then wait until a window planned now
    covers all of it: the emulator dates a new label's workflow moves up to 552 ms after it
    (``moves_at_ms``), and windows end ``SETTLE_S`` before now, floored to the second."""
    made = emu.activity(ACTIVITY)
    instants = [
        datetime.fromisoformat(e[k]).timestamp()
        for e in made
        for k in ("at", "visible_at")
        if e.get(k)
    ]
    instants += [ms / 1000 for e in made for ms in e.get("moves_at_ms", ())]
    covered = max(instants, default=time.time()) + SETTLE_S + 1.0 + 0.1  # 1.0: the floor
    time.sleep(max(0.0, covered - time.time()))
    return made


def wait_loaded(
    api: AirflowClient, root: Path, warehouse: Path, timeout: float = 600
) -> set[tuple[str, str]]:
    """Until every committed batch's Asset event has triggered a load run and no load run is
    still going; then the (project, batch) pairs the warehouse holds (StackError if one is
    missing). Progress is asked of the REST API: the DuckDB file is opened only at the end, when
    no load task can hold its lock (a reader meanwhile would make a load fail)."""
    from labelbox_provider.io.warehouse import warehouse_for
    from labelbox_provider.state.ledger import Ledger

    projects = [p.name.split("=", 1)[1] for p in root.glob("project=*")]
    consumed: dict[str, set[str]] = {}  # finished load run -> the batches of its events

    def wanted() -> set[tuple[str, str]]:
        return {(p, m.batch_id) for p in projects for m in Ledger(str(root), p).manifests()}

    def progress() -> tuple[list[str], set[str]]:
        """Load runs not finished; committed batches no load run was triggered by yet."""
        busy = []
        for run in api.runs(LOAD):
            if run["state"] not in ("success", "failed"):
                busy.append(f"{run['dag_run_id']}: {run['state']}")
            elif run["dag_run_id"] not in consumed:
                path = f"/api/v2/dags/{LOAD}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents"
                events = api.get(path)["asset_events"]
                consumed[run["dag_run_id"]] = {e["extra"]["batch_id"] for e in events}
        loaded_by_runs = set().union(*consumed.values())
        return busy, {b for _, b in wanted()} - loaded_by_runs

    def done() -> bool:
        busy, left = progress()
        return not busy and not left

    def status() -> str:
        busy, left = progress()
        return f"load runs not done: {busy}; batches no load run took: {sorted(left)[:3]}"

    wait_until(done, timeout=timeout, what="a load run took every batch", status=status, every=2)
    loaded = set(warehouse_for(f"duckdb://{warehouse}").loaded())
    missing = wanted() - loaded
    if missing:
        raise StackError(f"load runs finished, but the warehouse lacks {sorted(missing)[:5]}")
    return loaded


def mirror_vs_truth(emu: EmulatorProcess, root: Path) -> dict[str, list[str]]:
    """Per project: the differences between the mirror's current tables and the truth."""
    from tests.e2e.mirror_truth import differences, mirror_state, truth_state

    out = {}
    for p in emu.projects:
        truth = truth_state(emu.truth(p["id"]))
        out[p["id"]] = differences(mirror_state(str(root), p["id"], p["media_type"]), truth)
    return out


def current_rows(root: Path, project_ids: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every current table's rows without the lineage columns (which batch, when), sorted."""
    from labelbox_provider.io.current import current_tables
    from labelbox_provider.transforms.tables import LINEAGE_COLUMNS

    out: dict[str, list[tuple[Any, ...]]] = {}
    for pid in project_ids:
        for name, table in current_tables(str(root), pid).items():
            cols = [c for c in table.column_names if c not in LINEAGE_COLUMNS]
            rows = table.select(cols).to_pylist()
            out.setdefault(name, []).extend(tuple(str(r[c]) for c in cols) for r in rows)
    return {name: sorted(rows) for name, rows in out.items()}


def explain(root: Path, project_id: str, activity: list[dict[str, Any]]) -> str:
    """The project's committed windows and the activity it saw (for a failure message)."""
    from labelbox_provider.state.ledger import Ledger

    windows = [
        (m.mode, str(m.window), m.batch_id) for m in Ledger(str(root), project_id).manifests()
    ]
    events = [e for e in activity if e.get("project_id") == project_id]
    return f"{project_id}: windows {windows}; events {events}"


def pending_exports(root: Path) -> dict[str, list[str]]:
    """Ledger records of exports started and never finished, per project (should be none)."""
    from labelbox_provider.state.ledger import Ledger

    out = {}
    for folder in root.glob("project=*"):
        pid = folder.name.split("=", 1)[1]
        pending = [p.batch_id for p in Ledger(str(root), pid).pending_exports()]
        if pending:
            out[pid] = pending
    return out


def _events(path: Path) -> list[dict[str, Any]]:
    """The JSON log records of one task or trigger log file (Airflow 3 writes JSON lines)."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "event" in record:
            out.append(record)
    return out


_TRIGGER_LOG = re.compile(r"attempt=(\d+)\.log\.trigger\.(\d+)\.log")
TRIGGERER_OUTPUT = "triggerer.log"  # the triggerer component's own output (JSON lines)


def deferrals(logs: Path) -> dict[str, dict[str, Any]]:
    """Per mirror task instance (its log folder), what its logs say about deferral.

    Airflow 3.3 writes a task's own log to ``attempt=N.log`` (the worker) and what the triggerer
    did with the task's trigger to ``attempt=N.log.trigger.<triggerer job id>.log``. Returns
    ``deferred`` (how often the task paused as DEFERRED), ``task_text`` (the attempts' text),
    ``committed`` (batch ids the resumed task committed) and ``fired``: one entry per trigger
    that fired and completed, ``{"job_id", "status", "export_id", "batch_id"}``.

    A trigger's last lines can miss its file: the triggerer's supervisor closes the file when the
    runner reports the trigger finished, and that report and the log lines come over two sockets
    in no fixed order, so "Trigger fired event" and "trigger completed" written just before the
    report go to the triggerer's own output instead (under load, seen in CI). Those lines name
    the trigger (``dag/run/task/map index/try (ID n)``), so they are matched back to the try's
    trigger file, whose name gives the triggerer job.
    """
    spilled = _events(logs / TRIGGERER_OUTPUT) if (logs / TRIGGERER_OUTPUT).is_file() else []
    out: dict[str, dict[str, Any]] = {}
    folders = logs.glob(f"dag_id={INCREMENTAL}/run_id=*/task_id=mirror/map_index=*")
    for folder in sorted(folders):
        facts: dict[str, Any] = {"deferred": 0, "task_text": "", "committed": [], "fired": []}
        for path in sorted(folder.iterdir()):
            trigger = _TRIGGER_LOG.fullmatch(path.name)
            if trigger is not None:
                prefix = _trigger_prefix(folder.relative_to(logs), int(trigger.group(1)))
                mine = [e for e in spilled if str(e.get("name", "")).startswith(prefix)]
                facts["fired"] += _fired(_events(path) + mine, int(trigger.group(2)))
            elif re.fullmatch(r"attempt=\d+\.log", path.name):
                events = _events(path)
                facts["task_text"] += path.read_text(errors="replace")
                facts["deferred"] += sum(
                    e["event"].startswith("Pausing task as DEFERRED") for e in events
                )
                facts["committed"] += [
                    e["event"].split()[2].rstrip(":")
                    for e in events
                    if e["event"].startswith("committed batch ")
                ]
        out[str(folder.relative_to(logs))] = facts
    return out


def _trigger_prefix(folder: Path, attempt: int) -> str:
    """How the triggerer names the triggers of one try: ``dag/run/task/map index/try (ID ``."""
    parts = dict(part.split("=", 1) for part in folder.parts)
    return (
        "/".join(
            [parts["dag_id"], parts["run_id"], parts["task_id"], parts["map_index"], str(attempt)]
        )
        + " (ID "
    )


def _fired(events: list[dict[str, Any]], job_id: int) -> list[dict[str, Any]]:
    """The events a trigger fired (and then completed) according to its trigger log."""
    completed = {e.get("name") for e in events if e["event"] == "trigger completed"}
    out = []
    for e in events:
        if e["event"] == "Trigger fired event" and e.get("name") in completed:
            result = str(e.get("result", ""))
            payload = ast.literal_eval(result[result.index("{") : result.rindex("}") + 1])
            out.append(
                {
                    "job_id": job_id,
                    "status": payload["status"],
                    "export_id": payload["export_id"],
                    "batch_id": payload["batch_id"],
                }
            )
    return out


def secret_hits(logs: Path, needles: list[bytes]) -> dict[str, list[str]]:
    """Every file under ``logs`` (the components' output, task and trigger logs, the
    dag-processor's) that contains one of ``needles``, byte for byte, with the needles found
    (by position in ``needles``: the secret itself is never put in a message)."""
    hits = {}
    for path in sorted(p for p in logs.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found = [f"needle {i}" for i, needle in enumerate(needles) if needle in data]
        if found:
            hits[str(path.relative_to(logs))] = found
    return hits
