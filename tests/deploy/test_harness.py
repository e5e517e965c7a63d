"""The deployment harness's own log readers find what they look for (and miss nothing).

The deployment tests assert on what Airflow 3.3 wrote: the deferral evidence in task and
trigger log files, and the absence of secrets in every log. These checks would pass vacuously if
the readers found nothing, so they are tested here on log files laid out as Airflow lays them out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.deploy import scenario as sc

pytestmark = pytest.mark.unit

BATCH = "incremental-v2-20261202T135049Z-20261202T145200Z-718c723f20"


def _ti_folder(logs: Path, map_index: int) -> Path:
    run = "run_id=manual__2026-12-02T14:52:01+00:00"
    folder = logs / f"dag_id={sc.INCREMENTAL}" / run / "task_id=mirror" / f"map_index={map_index}"
    folder.mkdir(parents=True)
    return folder


def _jsonl(path: Path, *events: dict[str, object]) -> None:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


def _trigger_log(path: Path, name: str, status: str = "success") -> None:
    payload = {"status": status, "export_id": "cn0tp", "batch_id": BATCH, "state": None}
    _jsonl(
        path,
        {"event": f"trigger {name} starting"},
        {"event": "Trigger fired event", "name": name, "result": f"TriggerEvent<{payload!r}>"},
        {"event": "trigger completed", "name": name},
    )


def test_deferrals_read_task_and_trigger_logs(tmp_path: Path) -> None:
    deferred = _ti_folder(tmp_path, 0)
    _jsonl(
        deferred / "attempt=1.log",
        {"event": "started v2 export cn0tp of window [a, b) (incremental)"},
        {"event": "Pausing task as DEFERRED. "},
        {"event": f"committed batch {BATCH}: {{'labels': 1}}"},
    )
    _trigger_log(deferred / "attempt=1.log.trigger.7.log", "labelbox_incremental/.../0/1 (ID 42)")
    plain = _ti_folder(tmp_path, 1)  # ran without deferring: no trigger log
    _jsonl(plain / "attempt=1.log", {"event": f"committed batch {BATCH}: {{}}"})
    (plain / "attempt=1.log").open("a").write("not json: a plain line\n")

    facts = {Path(k).name: v for k, v in sc.deferrals(tmp_path).items()}

    assert facts["map_index=0"]["deferred"] == 1
    assert facts["map_index=0"]["committed"] == [BATCH]
    assert facts["map_index=0"]["fired"] == [
        {"job_id": 7, "status": "success", "export_id": "cn0tp", "batch_id": BATCH}
    ]
    assert "cn0tp" in facts["map_index=0"]["task_text"]
    assert facts["map_index=1"]["deferred"] == 0 and facts["map_index=1"]["fired"] == []


def test_a_trigger_that_fired_but_never_completed_is_not_counted(tmp_path: Path) -> None:
    folder = _ti_folder(tmp_path, 0)
    _jsonl(folder / "attempt=1.log", {"event": "Pausing task as DEFERRED. "})
    payload = {"status": "success", "export_id": "x", "batch_id": BATCH}
    _jsonl(
        folder / "attempt=1.log.trigger.3.log",
        {"event": "Trigger fired event", "name": "t (ID 1)", "result": f"TriggerEvent<{payload}>"},
    )
    assert next(iter(sc.deferrals(tmp_path).values()))["fired"] == []


def test_a_trigger_whose_last_lines_went_to_the_triggerer_output_is_counted(
    tmp_path: Path,
) -> None:
    """The triggerer closes a trigger's file when the runner reports it finished; lines that
    arrive after that report go to the triggerer's own output, named by the trigger."""
    folder = _ti_folder(tmp_path, 0)
    _jsonl(folder / "attempt=2.log", {"event": "Pausing task as DEFERRED. "})
    run = "manual__2026-12-02T14:52:01+00:00"
    name = f"{sc.INCREMENTAL}/{run}/mirror/0/2 (ID 9)"
    _jsonl(folder / "attempt=2.log.trigger.4.log", {"event": f"trigger {name} starting"})
    payload = {"status": "success", "export_id": "cn0tp", "batch_id": BATCH}
    fired = {"event": "Trigger fired event", "name": name, "result": f"TriggerEvent<{payload}>"}
    other = {**fired, "name": f"{sc.INCREMENTAL}/{run}/mirror/0/1 (ID 8)"}  # another try's
    _jsonl(
        tmp_path / sc.TRIGGERER_OUTPUT,
        {"event": "Starting the triggerer"},
        fired,
        other,
        {"event": "trigger completed", "name": other["name"]},
        {"event": "trigger completed", "name": name},
    )
    facts = next(iter(sc.deferrals(tmp_path).values()))
    assert facts["fired"] == [
        {"job_id": 4, "status": "success", "export_id": "cn0tp", "batch_id": BATCH}
    ]
    (tmp_path / sc.TRIGGERER_OUTPUT).write_text(json.dumps(fired) + "\n")  # never completed
    assert next(iter(sc.deferrals(tmp_path).values()))["fired"] == []


def test_secret_hits_finds_a_needle_in_any_file_and_does_not_echo_it(tmp_path: Path) -> None:
    key = "lbx-key-0123456789abcdef"
    nested = tmp_path / "dag_id=x" / "run_id=y"
    nested.mkdir(parents=True)
    (nested / "attempt=1.log.trigger.3.log").write_bytes(
        b"...Authorization: Bearer " + key.encode()
    )
    (tmp_path / "scheduler.log").write_text("GET /x.json?Expires=1&Signature=abc\n")
    (tmp_path / "api-server.log").write_text("nothing to see\n")

    hits = sc.secret_hits(tmp_path, [key.encode(), b"Signature="])

    assert hits == {
        "dag_id=x/run_id=y/attempt=1.log.trigger.3.log": ["needle 0"],
        "scheduler.log": ["needle 1"],
    }
    assert key not in repr(hits)
