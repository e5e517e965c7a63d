"""Two real processes mirror the same project and window at the same time: the mirror ends
consistent (every manifest whole, the watermark not ahead of the data, the current tables equal
to a single run's). Uses only the ledger's public methods, so it holds for any ledger that
keeps those promises: attempts claimed exclusively, the checkpoint compare-and-swap as the
commit point, a losing writer's attempt dropped (issue 14)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import running_emulator
from labelbox_provider.state.ledger import Ledger

from tests.reliability import kit

pytestmark = pytest.mark.e2e


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A small emulator, chunked downloads (the two runs interleave more)."""
    with running_emulator(**kit.WORLD, chunk_size=4096) as server:
        yield server


@pytest.mark.parametrize("fmt", ["v2", "v1"])
def test_two_simultaneous_runs_end_consistent(
    emulator: EmulatorServer, tmp_path: Path, fmt: str
) -> None:
    root = tmp_path / "mirror"
    cmd = kit.command(emulator, root, ("cli", fmt, "none"), 0)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(kit.REPO / "connectors"), str(kit.REPO)]),
        "LABELBOX_API_KEY": emulator.api_key,
    }
    procs = [
        subprocess.Popen(cmd, cwd=kit.REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes == [0, 0], outputs  # both succeed: a losing attempt is a no-op, not an error
    project = emulator.projects[0]["id"]
    kit.assert_ledger_consistent(root, project)
    alone = tmp_path / "alone"
    single = kit.run_process(kit.command(emulator, alone, ("cli", fmt, "none"), 0), emulator)
    assert single.returncode == 0, single.stderr
    assert kit.comparable(root, emulator) == kit.comparable(alone, emulator)
    assert Ledger(str(root), project).watermark() == Ledger(str(alone), project).watermark()
    for out, err in outputs:
        assert emulator.api_key.encode() not in out + err
