"""LLM data projects mirrored end to end: prompt / response creation and chat evaluation.

The emulator serves these projects in the shapes Labelbox's SDK recorded (docs/export-shapes.md);
the example DAG mirrors them for a few simulated days. The current view must equal the
emulator's ground truth, chat-evaluation selections and rankings included (in
``message_evaluations``), with no record rejected and no annotation of an unknown kind.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import labelbox_incremental
import pytest
from labelbox_provider.emulator.world import LLM_MEDIA_TYPES
from labelbox_provider.io.current import current_tables
from labelbox_provider.state.ledger import Ledger

from tests.e2e.mirror_truth import differences, mirror_state, truth_state

pytestmark = pytest.mark.e2e

DAY = 86_400.0
EVENTS = {"label_created": 3, "label_updated": 3, "label_deleted": 1, "review_applied": 2}
MEDIA = [*LLM_MEDIA_TYPES, "CONVERSATIONAL"]


@pytest.mark.usefixtures("airflow_db")
def test_llm_and_chat_evaluation_projects_match_ground_truth(
    labelbox_emulator_factory: Any, labelbox_connection: Any, tmp_path: Path
) -> None:
    emu = labelbox_emulator_factory(media_types=MEDIA, labels_per_project=6)
    labelbox_connection(emu)
    media = {p["id"]: p["media_type"] for p in emu.projects}
    root = str(tmp_path / "mirror")
    dag = labelbox_incremental.build_dag(
        project_ids=list(media),
        destination=root,
        export_format="v2",
        retries=0,
        initial_start=emu.world.now() - timedelta(days=31),
        poll_interval=0.05,
    )
    for _ in range(2):
        emu.advance(DAY - 3600, events=EVENTS)
        emu.advance(3600)  # a quiet hour: all of the day's activity is past the settle lag
        run = dag.test(logical_date=emu.world.now())
        assert run.state == "success"

    for project, media_type in media.items():
        truth = list(emu.ground_truth(project))
        diff = differences(mirror_state(root, project, media_type), truth_state(truth))
        assert diff == [], "\n".join(diff[:20])
        manifests = Ledger(root, project).manifests()
        assert manifests and all(m.counts.get("rejects", 0) == 0 for m in manifests)
        assert all(m.stats == {"unknown_annotation_kinds": 0} for m in manifests)
        tables = {n: t.to_pylist() for n, t in current_tables(root, project).items()}
        _check_media(media_type, tables, truth)


def _check_media(media_type: str, tables: dict[str, list[dict[str, Any]]], truth: Any) -> None:
    labels = {r["label_id"]: r for r in tables["labels"]}
    if media_type == "MODEL_CHAT_EVALUATION":
        evaluations = tables["message_evaluations"]
        assert len(evaluations) >= len(labels) > 0
        for row in evaluations:  # the rater is the label's author; the prompt is the parent
            assert row["rated_by"] == labels[row["label_id"]]["created_by"] is not None
            assert row["parent_message_id"] == "message-0"
            assert (row["rank"] is None) == (row["annotation_kind"] != "MessageRanking")
            assert (row["selected"] is None) == (row["annotation_kind"] == "MessageRanking")
        kinds = {r["kind"] for r in tables["objects"]}
        assert kinds <= {"message_selection", "message_ranking"}
    if media_type in ("CONVERSATIONAL", "MODEL_CHAT_EVALUATION"):
        for row in tables["data_rows"]:  # the conversation inline, in its own column
            assert row["row_data_url"] is None
            assert json.loads(row["row_data_json"])["type"].startswith(
                "application/vnd.labelbox.conversational"
            )
    if media_type.startswith("LLM_"):
        names = {r["name"] for r in tables["classifications"] if r["kind"] == "text"}
        wanted = {
            "LLM_PROMPT_CREATION": {"prompt-text"},
            "LLM_RESPONSE_CREATION": {"response-text"},
        }
        assert wanted.get(media_type, {"prompt-text", "response-text"}) <= names
        assert not tables["objects"]
