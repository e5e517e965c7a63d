"""SIGKILL at named points of a real process (the CLI, and an Airflow task under dag.test()),
then a rerun: the mirror ends equal to a fault-free run and nothing was ever half-visible.

After each kill: every committed manifest's files are whole, the watermark is not ahead of the
committed data, and the current view holds only rows of the fault-free run. After the rerun:
the current tables equal the fault-free run's, the rerun re-attached to the export the killed
process had started (the emulator created one export per committed window, no more), and no
API key or URL signature is in the output or any written file. 5 cases here, 35 with LBX_SOAK=1.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import running_emulator
from labelbox_provider.state.ledger import Ledger

from tests.reliability import kit
from tests.reliability.crash_runner import CRASH_POINTS

pytestmark = pytest.mark.e2e

CLI_POINTS = [p for p in CRASH_POINTS if p not in ("defer", "resume")]
ALL_CASES = (
    [("cli", "v2", p) for p in CLI_POINTS]
    + [("cli", "v1", p) for p in CLI_POINTS]
    + [("task", "v2", p) for p in CRASH_POINTS]
)
SAMPLE = [
    ("cli", "v2", "download-mid"),
    ("cli", "v1", "manifest-after"),
    ("cli", "v2", "watermark-before"),
    ("cli", "v2", "files-moved"),
    ("task", "v2", "defer"),  # a dag.test() subprocess costs ~1 min under load: one here
]
CASES = ALL_CASES if kit.SOAK else SAMPLE
DAG_ID = "labelbox_incremental"  # the example DAG the task runner tests
WORLD = {**kit.WORLD, "chunk_size": 4096}  # several v2 chunks: a kill can land between them


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A fresh emulator per case: its export count covers the crashed run and the rerun."""
    with running_emulator(**WORLD) as server:
        yield server


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Fault-free current tables of each format (the same world as every case's)."""
    return kit.reference_tables(tmp_path_factory, WORLD)


def _subset(seen: dict[str, list[Any]], full: dict[str, list[Any]]) -> bool:
    return all(set(map(repr, rows)) <= set(map(repr, full[name])) for name, rows in seen.items())


# A task case is two dag.test() subprocesses: 2-5 min on a loaded 2-core machine.
PARAMS = [
    pytest.param(*c, id="-".join(c), marks=[pytest.mark.timeout(1500)] if c[0] == "task" else [])
    for c in CASES
]


@pytest.mark.parametrize(("runner", "fmt", "point"), PARAMS)
def test_sigkill_then_rerun_ends_like_a_fault_free_run(
    runner: str,
    fmt: str,
    point: str,
    *,
    emulator: EmulatorServer,
    reference: Any,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    if runner == "task":
        request.getfixturevalue("airflow_db")  # dag.test() needs the migrated metadata DB
    nth = random.Random(f"{runner}-{fmt}-{point}").randint(1, 2)
    root = tmp_path / "mirror"
    crashed = kit.run_process(kit.command(emulator, root, (runner, fmt, point), nth), emulator)
    assert crashed.returncode == -9, (
        f"the kill at {point}#{nth} never happened: {crashed.stderr[-2000:]}"
    )
    project = emulator.projects[0]["id"]
    kit.assert_ledger_consistent(root, project)
    if Ledger(str(root), project).manifests():
        assert _subset(kit.comparable(root, emulator), reference[fmt])  # no half batch visible
    rerun = kit.run_process(kit.command(emulator, root, (runner, fmt, "none"), 0), emulator)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert kit.comparable(root, emulator) == reference[fmt]
    kit.assert_ledger_consistent(root, project)
    committed = {m.window for m in Ledger(str(root), project).manifests()}
    assert len(emulator.exports_created()) <= len(committed), "a window was exported twice"
    for text in (crashed.stdout, crashed.stderr, rerun.stdout, rerun.stderr):
        assert emulator.api_key not in text and "Signature=" not in text
    for path, data in kit.tree_bytes(root):
        assert emulator.api_key.encode() not in data and b"Signature=" not in data, path
    if runner == "task":  # what Airflow stored: XComs, rendered fields, next_kwargs, triggers
        records = kit.airflow_records(DAG_ID)
        assert records["xcom"] and records["rendered_task_instance_fields"], records
        for table, rows in records.items():
            text = "\n".join(rows)
            assert emulator.api_key not in text and "Signature=" not in text, table
