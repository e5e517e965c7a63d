"""``labelbox-export pull`` as a real process against the emulator over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import running_emulator
from labelbox_provider.io.current import current_tables
from labelbox_provider.state.ledger import Ledger

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("labelbox-export"))
Runner = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def emu() -> EmulatorServer:
    """Two small projects; the world's clock is in the past, so every window has settled."""
    with running_emulator(media_types=["IMAGE", "TEXT"], labels_per_project=6) as server:
        yield server


def pull(
    emu: EmulatorServer, root: Path, *args: str, key: str | None = None
) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)  # it logs a line at import: a user has none
    env["LABELBOX_API_KEY"] = emu.api_key if key is None else key
    argv = [CLI, "pull", "--root", str(root), "--endpoint", emu.url, "--poll-interval", "0.05"]
    done = subprocess.run(
        [*argv, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode, done.stdout, done.stderr


def test_catch_up_mirrors_every_label(emu: EmulatorServer, tmp_path: Path) -> None:
    pids = [p["id"] for p in emu.projects]
    start = (emu.world.now() - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    code, out, err = pull(
        emu, tmp_path, "--project", pids[0], "--project", pids[1], "--initial-start", start,
        "--json", "-v",
    )  # fmt: skip
    assert code == 0, err
    summaries = [json.loads(line) for line in out.splitlines()]  # stdout holds only results
    assert [s["project_id"] for s in summaries] == pids
    for pid, summary in zip(pids, summaries, strict=True):
        truth = {row["label_id"] for row in emu.ground_truth(pid)}
        labels = current_tables(str(tmp_path), pid, tables=("labels",))["labels"]
        assert set(labels.column("label_id").to_pylist()) == truth
        assert summary["counts"]["labels"] == len(truth)
        assert summary["watermark"] is not None
        assert Ledger(str(tmp_path), pid).watermark() is not None
    assert emu.api_key not in out + err  # -v logs still never show the key


def test_window_pull_is_a_backfill(emu: EmulatorServer, tmp_path: Path) -> None:
    pid = emu.projects[0]["id"]
    end = emu.world.now()
    start = end - timedelta(days=45)
    code, out, err = pull(
        emu, tmp_path, "--project", pid,
        "--start", start.isoformat(), "--end", end.isoformat(), "--max-window-days", "30",
    )  # fmt: skip
    assert code == 0, err
    assert f"project {pid}: 2 batch(es) committed" in out
    manifests = Ledger(str(tmp_path), pid).manifests()
    assert [m.mode for m in manifests] == ["backfill", "backfill"]
    assert manifests[0].window.start == start
    assert manifests[-1].window.end == end
    assert sum(m.counts.get("labels", 0) for m in manifests) >= len(emu.ground_truth(pid))


def test_wrong_key_is_a_clear_error(emu: EmulatorServer, tmp_path: Path) -> None:
    code, out, err = pull(emu, tmp_path, "--project", emu.projects[0]["id"], key="not-the-key-42")
    assert code == 1
    assert out == ""
    assert "LabelboxAuthenticationError" in err
    assert "not-the-key-42" not in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        pytest.param(["--start", "2024-01-02"], "give both --start and --end", id="half-window"),
        pytest.param(
            ["--start", "2024-01-02", "--end", "2024-01-01"], "must be before", id="inverted"
        ),
        pytest.param(["--endpoint", "ftp://x"], "is not an http(s) URL", id="bad-endpoint"),
        pytest.param(["--poll-interval", "0"], "must be a positive number", id="bad-poll"),
        pytest.param(["--start", "soon", "--end", "later"], "is not a time", id="bad-time"),
    ],
)
def test_bad_arguments_fail_before_any_request(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
    tmp_path: Path,
    run_cli: Runner,
    monkeypatch: pytest.MonkeyPatch,
    *,
    argv: list[str],
    needle: str,
) -> None:
    server = labelbox_emulator_factory(media_types=["IMAGE"], labels_per_project=2)
    monkeypatch.setenv("LABELBOX_API_KEY", server.api_key)
    endpoint = [] if "--endpoint" in argv else ["--endpoint", server.url]
    pid = server.projects[0]["id"]
    code, out, err = run_cli("pull", "--root", str(tmp_path), "--project", pid, *endpoint, *argv)
    assert code == 2
    assert needle in err
    assert out == ""
    assert server.request_log() == []  # nothing was sent


def test_missing_key_fails_before_any_request(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
    tmp_path: Path,
    run_cli: Runner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = labelbox_emulator_factory(media_types=["IMAGE"], labels_per_project=2)
    monkeypatch.delenv("LABELBOX_API_KEY", raising=False)
    code, _, err = run_cli(
        "pull", "--root", str(tmp_path), "--project", "p1", "--endpoint", server.url
    )
    assert code == 2
    assert "LABELBOX_API_KEY" in err
    assert server.request_log() == []


def test_project_id_is_checked(run_cli: Runner, tmp_path: Path) -> None:
    code, _, err = run_cli("pull", "--root", str(tmp_path), "--project", "a/b")
    assert code == 2
    assert "is not a Labelbox project id" in err
