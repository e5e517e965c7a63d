"""``labelbox-export ledger`` and ``backfill-command`` on a hand-made mirror with a gap."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

PROJECT = "proj-cli-1"  # the project of the gappy_mirror fixture
DAY0 = datetime(2024, 3, 1, tzinfo=UTC)  # its initial start

Runner = Callable[..., tuple[int, str, str]]


def test_ledger_json_reports_watermark_batches_and_the_gap(
    gappy_mirror: Path, run_cli: Runner
) -> None:
    code, out, _ = run_cli("ledger", "--root", str(gappy_mirror), "--project", PROJECT, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["watermark"] == "2024-03-03T00:00:00.000000Z"  # days 0-1 contiguous
    assert report["initial_start"] == "2024-03-01T00:00:00.000000Z"
    assert [b["mode"] for b in report["batches"]] == [
        "incremental",
        "incremental",
        "backfill",
        "incremental",
    ]
    assert report["batches"][0]["counts"] == {"data_rows": 1, "labels": 2}
    assert report["gaps"] == [
        {"start": "2024-03-03T00:00:00.000000Z", "end": "2024-03-04T00:00:00.000000Z"}
    ]


def test_ledger_text_is_readable(gappy_mirror: Path, run_cli: Runner) -> None:
    code, out, _ = run_cli("ledger", "--root", str(gappy_mirror), "--project", PROJECT)
    assert code == 0
    assert "watermark  2024-03-03T00:00:00Z" in out
    assert "batches (4)" in out
    assert "gaps in [2024-03-01T00:00:00Z, 2024-03-06T00:00:00Z): 1" in out
    assert "[2024-03-03T00:00:00.000000Z, 2024-03-04T00:00:00.000000Z)  (1d)" in out


def test_ledger_until_extends_the_search(gappy_mirror: Path, run_cli: Runner) -> None:
    code, out, _ = run_cli(
        "ledger", "--root", str(gappy_mirror), "--project", PROJECT, "--json",
        "--until", "2024-03-07T12:00:00Z",
    )  # fmt: skip
    assert code == 0
    gaps = json.loads(out)["gaps"]
    assert [g["start"][:10] for g in gaps] == ["2024-03-03", "2024-03-06"]
    assert gaps[1]["end"] == "2024-03-07T12:00:00.000000Z"


def test_backfill_command_fills_the_gap(gappy_mirror: Path, run_cli: Runner) -> None:
    code, out, _ = run_cli(
        "backfill-command", "--root", str(gappy_mirror), "--project", PROJECT, "--dag-id", "my_dag"
    )
    assert code == 0
    commands = [line for line in out.splitlines() if not line.startswith("#")]
    assert len(commands) == 1
    argv = shlex.split(commands[0])
    assert argv[:4] == ["airflow", "dags", "trigger", "my_dag"]
    conf = json.loads(argv[argv.index("--conf") + 1])
    assert conf["project_ids"] == [PROJECT]  # only the project with the gap
    assert (conf["window_start"], conf["window_end"]) == (
        "2024-03-03T00:00:00Z",
        "2024-03-04T00:00:00Z",
    )


def test_backfill_command_without_gaps_prints_none(tmp_path: Path, run_cli: Runner) -> None:
    code, out, _ = run_cli("backfill-command", "--root", str(tmp_path), "--project", PROJECT)
    assert code == 0
    assert out.startswith("# no gaps")
    assert "airflow dags trigger" not in out
