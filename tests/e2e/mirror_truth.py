"""Compare the mirror's current view with the emulator's ground truth, entity by entity."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from labelbox_provider.io.current import current_tables

VIDEO_LIKE = ("VIDEO", "DICOM")  # media types whose objects are per keyframe


def _ms(value: Any) -> str | None:
    """A timestamp at millisecond precision, as text (both sides agree on ms)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.isoformat(timespec="milliseconds")


def truth_state(truth: list[dict[str, Any]]) -> dict[str, Any]:
    """The comparable state of the emulator's ground truth for one project."""
    history = {}
    for t in truth:
        steps = [
            (s["action"], _ms(s["created_at"]), s["previous_task_id"], s["next_task_id"])
            for s in t["workflow_history"]
        ]
        history[t["data_row_id"]] = sorted(steps, key=str)
    return {
        "labels": {t["label_id"]: (t["data_row_id"], _ms(t["updated_at"])) for t in truth},
        "objects": {t["label_id"]: sorted(map(str, t["object_feature_ids"])) for t in truth},
        "answers": {t["label_id"]: sorted(map(str, t["answers"])) for t in truth},
        "relationships": {t["label_id"]: sorted(map(str, t["relationships"])) for t in truth},
        "message_evaluations": {
            t["label_id"]: sorted(map(str, t["message_evaluations"])) for t in truth
        },
        "reviews": {t["label_id"]: sorted(t["review_ids"]) for t in truth},
        "workflow_history": history,
    }


def _object_key(row: dict[str, Any], video: bool) -> str | None:
    if not video:
        return str(row["feature_id"])
    if not row["keyframe"]:
        return None
    return str([row["frame_number"], row["feature_id"]])


def _answer_key(row: dict[str, Any]) -> str:
    parent = row["parent_answer_feature_id"] or row["parent_object_feature_id"]
    answer = row["answer_feature_id"] if row["answer_feature_id"] else row["text_answer"]
    return str([parent, row["feature_id"], answer])


def mirror_state(root: str, project_id: str, media_type: str) -> dict[str, Any]:
    """The same comparable state, read from the mirror's current view."""
    tables = {name: t.to_pylist() for name, t in current_tables(root, project_id).items()}
    labels = {r["label_id"]: (r["data_row_id"], _ms(r["updated_at"])) for r in tables["labels"]}
    video = media_type in VIDEO_LIKE
    per_label: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in tables["objects"]:
        key = _object_key(r, video)
        if key is not None:
            per_label["objects"][r["label_id"]].add(key)
    for r in tables["classifications"]:
        per_label["answers"][r["label_id"]].add(_answer_key(r))
    for r in tables["relationships"]:
        per_label["relationships"][r["label_id"]].add(
            str([r["source_feature_id"], r["target_feature_id"], r["relationship_type"]])
        )
    for r in tables["message_evaluations"]:
        per_label["message_evaluations"][r["label_id"]].add(
            str([r["feature_id"], r["message_id"], r["model_config_name"], r["rank"]])
        )
    for r in tables["reviews"]:
        per_label["reviews"][r["label_id"]].add(r["review_id"])
    steps: dict[str, set[Any]] = defaultdict(set)
    for r in tables["workflow_history"]:
        steps[r["data_row_id"]].add(
            (r["action"], _ms(r["created_at"]), r["previous_task_id"], r["next_task_id"])
        )
    state: dict[str, Any] = {"labels": labels}
    for kind in ("objects", "answers", "relationships", "message_evaluations", "reviews"):
        state[kind] = {lid: sorted(per_label[kind].get(lid, set())) for lid in labels}
    live_rows = {dr for dr, _ in labels.values()}
    state["workflow_history"] = {
        dr: sorted(s, key=str) for dr, s in steps.items() if dr in live_rows
    }
    return state


def differences(mirror: dict[str, Any], truth: dict[str, Any]) -> list[str]:
    """Human-readable differences (empty when the mirror equals the truth)."""
    out = []
    for kind, want in truth.items():
        got = mirror.get(kind, {})
        for key in sorted(set(want) | set(got)):
            if want.get(key) != got.get(key):
                out.append(f"{kind}[{key}]: truth={want.get(key)!r} mirror={got.get(key)!r}")
    return out
