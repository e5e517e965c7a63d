"""The example DAGs run by a real Airflow 3.3.2, first on the LocalExecutor, then on Celery.

Both stacks run api-server, scheduler, dag-processor and triggerer as separate processes over
a fresh PostgreSQL database, with the provider installed from its wheel, against one emulator
(20 projects) whose clock follows the wall clock. The LocalExecutor stack runs the incremental
DAG in deferrable mode (the triggerer polls) for three intervals while the emulator creates,
edits and deletes labels. The Celery stack (Redis broker, PostgreSQL result backend, two
workers) then catches up on the same world, so its tables must equal the LocalExecutor's; a
further interval has a worker SIGKILLed mid-export, which Airflow's retry must survive.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.deploy import scenario as sc
from tests.deploy.client import AirflowClient, wait_until
from tests.deploy.emulator_proc import EmulatorProcess
from tests.deploy.procs import kill_all
from tests.deploy.stack import AirflowStack

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(2700)]
DEFERRED_POLLS = 4  # status reads an export of the deferrable stack stays "in progress"


def _facts(
    stack: AirflowStack, api: AirflowClient, emu: EmulatorProcess, root: Path, since: int
) -> dict[str, Any]:
    """What the assertions look at, gathered while the stack still runs."""
    runs = api.runs(sc.INCREMENTAL)
    return {
        "runs": runs,
        "tis": [ti for r in runs for ti in api.task_instances(sc.INCREMENTAL, r["dag_run_id"])],
        "events": api.asset_events(source_dag_id=sc.INCREMENTAL),
        "load_runs": api.runs(sc.LOAD),
        "diff": sc.mirror_vs_truth(emu, root),
        "rows": sc.current_rows(root, [p["id"] for p in emu.projects]),
        "pending": sc.pending_exports(root),
        "exports": emu.exports_per_window(since),
        "manifests": _manifests(root),
        "worker_parts": _worker_parts(root),
        "logs": stack.all_logs(),
        # the API key and any signed URL's signature, in no file Airflow wrote
        "secret_hits": sc.secret_hits(stack.logs, [emu.api_key.encode(), b"Signature="]),
        "log_files": sum(1 for p in stack.logs.rglob("*") if p.is_file()),
        "timings": dict(stack.timings),
    }


def _worker_parts(root: Path) -> int:
    """Committed Parquet files past a batch table's first (``part-<attempt>-00001.parquet`` on).
    One process writes a small export's table as one file; two write one file each."""
    return sum(1 for p in root.rglob("part-*.parquet") if int(p.stem.rsplit("-", 1)[1]) > 0)


def _manifests(root: Path) -> set[str]:
    from labelbox_provider.state.ledger import Ledger

    return {
        m.batch_id
        for folder in root.glob("project=*")
        for m in Ledger(str(root), folder.name.split("=", 1)[1]).manifests()
    }


@pytest.fixture(scope="module")
def local_run(wheel_venv: Path, deploy_tmp: Path, emulator: EmulatorProcess) -> dict[str, Any]:
    """LocalExecutor, deferrable: the scheduler's first run, then two intervals of activity."""
    base = deploy_tmp / "local"
    root, warehouse = base / "mirror", base / "warehouse.duckdb"
    env = sc.mirror_env(emulator, root, warehouse, AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE="True")
    since = emulator.last_seq()
    with AirflowStack(wheel_venv, sc.deploy_dags(base / "dags"), env=env) as stack:
        api = stack.client()
        # Exports take a while, as Labelbox's do: ready at the fifth status read (~7.5 s of
        # the trigger's backoff). An export ready at once lets the trigger fire before the
        # scheduler has processed the deferring try's exit, which Airflow 3.3.2 takes for an
        # external kill (apache/airflow 67287, 72716): a retry per hit, on a loaded machine
        # often enough to exhaust the retries.
        emulator.set_polls(DEFERRED_POLLS)
        facts = sc.open_for_business(api)
        _, facts["first_run_s"] = sc.first_scheduled_run(api)
        facts["activity"] = []
        for _ in range(2):
            facts["activity"] += sc.next_interval(emulator)
            sc.run_interval(api)
        emulator.set_polls(0)  # the Celery stack's catch-up: exports ready at once
        facts["loaded"] = sc.wait_loaded(api, root, warehouse)
        facts |= _facts(stack, api, emulator, root, since)
        facts["explain"] = {p: sc.explain(root, p, facts["activity"]) for p in facts["diff"]}
        jobs = api.get("/api/v2/jobs", job_type="TriggererJob", limit=100)["jobs"]
        facts["triggerer_jobs"] = {int(j["id"]) for j in jobs}
        facts["deferrals"] = sc.deferrals(stack.logs)
    print(f"\nLocalExecutor: first run {facts['first_run_s']:.1f}s, timings {facts['timings']}")
    return facts


def _kill_worker_mid_export(
    stack: AirflowStack, api: AirflowClient, run_id: str, root: Path, projects: list[str]
) -> int:
    """SIGKILL worker 1 (and everything under it) once one of its tasks has started an export;
    returns the map index of that task."""
    from labelbox_provider.state.ledger import Ledger

    worker = next(c for c in stack.components if c.name == "celery-worker-1")

    def kill_one_mid_export() -> int | None:
        tree = worker.descendants()
        runners = {" ".join(p.cmdline()).split()[-1] for p in tree if _is_runner(p)}
        for ti in api.task_instances(sc.INCREMENTAL, run_id):
            project = projects[ti["map_index"]] if ti["map_index"] >= 0 else None
            if ti["id"] in runners and project and Ledger(str(root), project).pending_exports():
                worker.signal_group(signal.SIGKILL)
                kill_all(tree)  # the task runners too: the whole worker machine is gone
                return int(ti["map_index"]) + 1  # truthy for map index 0
        return None

    def states() -> object:
        return sorted(
            {(t["state"], t.get("hostname")) for t in api.task_instances(sc.INCREMENTAL, run_id)},
            key=str,
        )

    found = wait_until(
        kill_one_mid_export,
        timeout=600,
        what="a task of worker 1 seen mid-export",
        status=states,
        every=0.3,
    )
    return found - 1


def _is_runner(proc: psutil.Process) -> bool:
    try:
        return " ".join(proc.cmdline()).startswith("airflow worker -- ")
    except psutil.Error:
        return False


@pytest.fixture(scope="module")
def celery_run(
    wheel_venv: Path, deploy_tmp: Path, emulator: EmulatorProcess, local_run: dict[str, Any]
) -> dict[str, Any]:
    """CeleryExecutor, two workers: catch up on the LocalExecutor's world, then an interval
    during which worker 1 is SIGKILLed mid-export."""
    base = deploy_tmp / "celery"
    root, warehouse = base / "mirror", base / "warehouse.duckdb"
    # two flatten processes per export file (LocalExecutor: automatic, one for these small
    # files): the mirrors must be equal all the same
    env = sc.mirror_env(emulator, root, warehouse, LABELBOX_FLATTEN_PROCESSES="2")
    since = emulator.last_seq()
    with AirflowStack(
        wheel_venv, sc.deploy_dags(base / "dags"), executor="CeleryExecutor", env=env
    ) as stack:
        api = stack.client()
        facts = sc.open_for_business(api)
        _, facts["first_run_s"] = sc.first_scheduled_run(api)
        # the scheduled run covers up to its daily tick (midnight): one run now for the rest
        first, _ = sc.run_interval(api)
        facts["rows_after_catch_up"] = sc.current_rows(root, [p["id"] for p in emulator.projects])
        facts["first_run"] = first
        facts["activity"] = sc.next_interval(emulator)
        emulator.set_polls(1)  # each export needs a second status read: tasks wait mid-export
        run_id = api.trigger(sc.INCREMENTAL)
        facts["killed_map_index"] = _kill_worker_mid_export(
            stack, api, run_id, root, [p["id"] for p in emulator.projects]
        )
        facts["kill_run"] = api.wait_for_run(sc.INCREMENTAL, run_id)
        emulator.set_polls(0)
        facts["loaded"] = sc.wait_loaded(api, root, warehouse)
        facts |= _facts(stack, api, emulator, root, since)
        facts["explain"] = {p: sc.explain(root, p, facts["activity"]) for p in facts["diff"]}
        facts["worker_logs"] = {
            c.name: c.log_text() for c in stack.components if c.name.startswith("celery-worker")
        }
    print(f"\nCeleryExecutor: first run {facts['first_run_s']:.1f}s, timings {facts['timings']}")
    return facts


def _common_checks(facts: dict[str, Any], emu: EmulatorProcess) -> None:
    assert {"labelbox_mirror"} <= facts["aliases_before_first_run"]  # registered at parse time
    assert "idx_asset_alias_name_unique" not in facts["logs"]
    assert all(r["state"] == "success" for r in facts["runs"]), facts["runs"]
    wrong = {p: d for p, d in facts["diff"].items() if d}
    assert not wrong, [(d[:3], facts["explain"][p]) for p, d in wrong.items()]  # tables == truth
    assert set(facts["diff"]) == {p["id"] for p in emu.projects}
    assert facts["pending"] == {}  # no export left pending in any ledger
    twice = {k: n for k, n in facts["exports"].items() if n > 1}
    assert twice == {}, f"windows exported more than once: {twice}"
    batches = {e["extra"]["batch_id"] for e in facts["events"]}
    assert batches == facts["manifests"] and len(facts["events"]) == len(batches)
    assert facts["load_runs"] and all(r["state"] == "success" for r in facts["load_runs"])
    assert {b for _, b in facts["loaded"]} >= facts["manifests"]  # the warehouse has every batch
    assert {r["run_type"] for r in facts["load_runs"]} == {"asset_triggered"}
    assert facts["log_files"] > 2 * len(emu.projects)  # components', tasks' and triggers' logs
    assert facts["secret_hits"] == {}  # neither the API key nor a URL signature in any log


def test_local_executor_mirror_equals_truth_and_loads_every_batch(
    local_run: dict[str, Any], emulator: EmulatorProcess
) -> None:
    _common_checks(local_run, emulator)
    kinds = sorted(r["run_type"] for r in local_run["runs"])
    assert kinds == ["manual", "manual", "scheduled"]  # the scheduler's run, two intervals
    mirror = [t for t in local_run["tis"] if t["task_id"] == "mirror"]
    assert len(mirror) == 3 * len(emulator.projects)
    # all succeed; on a loaded machine a missed heartbeat may cost a retry, which re-attaches
    assert all(t["state"] == "success" for t in mirror)
    assert all(t["pool"] == sc.POOL for t in mirror)


def test_local_executor_deferral_runs_in_the_real_triggerer(
    local_run: dict[str, Any], emulator: EmulatorProcess
) -> None:
    """Every mirror task deferred on the worker; a trigger in the triggerer process (a
    TriggererJob of the metadata DB: its id names the trigger log file) polled that task's own
    export and fired "success"; the resumed task committed the event's batch."""
    deferrals = local_run["deferrals"]
    assert len(deferrals) == 3 * len(emulator.projects)  # every mirror task instance logged
    assert local_run["triggerer_jobs"], "no TriggererJob in the metadata database"
    for ti, facts in deferrals.items():
        assert facts["deferred"] >= 1, f"{ti} never paused as DEFERRED"
        assert facts["fired"], f"{ti}: no trigger fired and completed in the triggerer"
        for fired in facts["fired"]:
            assert fired["job_id"] in local_run["triggerer_jobs"], (ti, fired)
            assert fired["status"] == "success", (ti, fired)
            assert fired["export_id"] in facts["task_text"], (ti, fired)  # the task's export
            assert fired["batch_id"] in facts["committed"], (ti, fired)  # resumed and committed


def test_connection_form_comes_from_the_provider_info(local_run: dict[str, Any]) -> None:
    meta = local_run["hook_meta"]
    assert meta is not None and meta["hook_name"] == "Labelbox"
    fields = meta["standard_fields"]
    assert fields["password"]["title"] == "API key" and fields["host"]["title"] == "API endpoint"
    assert fields["login"]["hidden"] and fields["port"]["hidden"]
    assert meta["extra_fields"]["timeout"]["schema"]["title"] == "Request timeout (s)"


def test_celery_mirror_equals_the_local_executor_mirror(
    celery_run: dict[str, Any], local_run: dict[str, Any], emulator: EmulatorProcess
) -> None:
    assert len(emulator.projects) >= 20
    assert celery_run["first_run"]["state"] == "success"
    assert celery_run["rows_after_catch_up"] == local_run["rows"]
    assert local_run["worker_parts"] == 0  # automatic: these small files take one process
    assert celery_run["worker_parts"] > 0  # forced to two: Celery tasks ran a second process
    workers = celery_run["worker_logs"]
    assert all("] received" in text for text in workers.values())  # both workers took tasks


def test_celery_survives_a_worker_killed_mid_export(
    celery_run: dict[str, Any], emulator: EmulatorProcess
) -> None:
    _common_checks(celery_run, emulator)
    assert celery_run["kill_run"]["state"] == "success"
    killed = [
        t
        for t in celery_run["tis"]
        if t["dag_run_id"] == celery_run["kill_run"]["dag_run_id"]
        and t["map_index"] == celery_run["killed_map_index"]
    ]
    assert [(t["state"], t["try_number"]) for t in killed] == [("success", 2)]
