"""One truth for both formats: the same labels exported as v1 and as v2 give the same rows.

The emulator's world renders the same labels in both generations (v1 with every era-2023 key and
frames files for video/DICOM; v2 with every detail parameter). Both files are flattened and
compared table by table, on every column both formats carry. The columns left out are listed in
:data:`FORMAT_ONLY` with the reason; the few value normalisations are in :func:`_normalise`.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from labelbox_provider.emulator.world import ALL_MEDIA_TYPES, ExportFilter, V2Params, World
from labelbox_provider.io.flatten import flatten_file
from labelbox_provider.transforms import KEYS, LINEAGE_COLUMNS, TABLES, Lineage

from ._transform_helpers import count_answers

pytestmark = pytest.mark.integration

FORMAT_ONLY: dict[str, set[str]] = {
    "data_rows": {
        # v2 only: data_row.details, project_details, attachments, embeddings, label count
        "dataset_id",
        "created_at",
        "updated_at",
        "last_activity_at",
        "created_by",
        "label_count",
        "workflow_status",
        "task_batch_id",
        "task_batch_name",
        "priority",
        "consensus_expected_label_count",
        "ontology_id",
        "attachments_json",
        "embeddings_json",
        # v1 only
        "data_split",
        # same content, key spelling differs (camelCase in v1, snake_case in v2)
        "media_attributes_json",
        "metadata_json",
        "extra_json",
    },
    "labels": {
        # v2 only
        "label_kind",
        "label_version",
        "content_last_updated_at",
        # v1 only
        "seconds_to_label",
        "agreement",
        "benchmark_agreement",
        "benchmark_id",
        "is_benchmark",
        "view_label_url",
        "has_open_issues",
        "data_split",
        "frames_url",
        # unmapped leftovers differ by construction
        "extra_json",
    },
    "objects": {
        # v1 only
        "color",
        "instance_uri",
        "page_unit",
        "geo_type",
        "geo_coordinates_json",
        # v2 only
        "annotation_kind",
        "segments",
        "group_name",
        "mask_color_rgb",
        "page_width",
        "page_height",
        "text_token",
        # v1 instanceURI and v2 mask URL are different endpoints for the same mask
        "mask_url",
        "extra_json",
    },
    # v1 only: scope, answer keyframes; v2 only: segments, DICOM plane
    "classifications": {"extra_json", "scope", "answer_keyframe", "segments", "group_name"},
    "relationships": {
        # v1 only
        "feature_id",
        "schema_id",
        "relationship_label",
        # v2 only
        "name",
        "annotation_kind",
        "extra_json",
    },
    "reviews": {"review_label_id", "extra_json"},
    "workflow_history": {"actor_id", "created_by", "extra_json"},
    "rejects": set(),
    "tombstones": set(),
}
DISTINCT = {"data_rows", "workflow_history"}  # v1 repeats them on each label of a data row


def _normalise(table: str, row: dict[str, Any]) -> dict[str, Any]:
    out = {k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()}
    if table == "labels":  # v2 exports whole seconds
        for key in ("seconds_to_create", "seconds_to_review"):
            out[key] = None if out[key] is None else round(out[key])
    if table == "classifications" and out["kind"] == "dropdown":
        out["kind"] = "radio"  # v2 has no dropdown: it exports one as radio_answer
    return out


def _rows(folder: Path, table: str) -> Counter[str]:
    rows = pq.read_table(folder / table / "part-00000.parquet").to_pylist()
    skip = FORMAT_ONLY[table] | set(LINEAGE_COLUMNS)
    kept = [
        json.dumps(
            _normalise(table, {k: v for k, v in r.items() if k not in skip}),
            sort_keys=True,
            default=str,
        )
        for r in rows
    ]
    return Counter(set(kept)) if table in DISTINCT else Counter(kept)


def _export(world: World, project_id: str, folder: Path) -> tuple[Path, Path, Path]:
    frames = folder / "frames"
    frames.mkdir(parents=True)
    v1_path, v2_path = folder / "v1.json", folder / "v2.ndjson"
    v1_records = list(world.iter_v1(project_id, ExportFilter()))
    v1_path.write_text("[\n" + ",\n".join(json.dumps(r) for r in v1_records) + "\n]")
    for record in v1_records:
        lines = world.v1_frames(record["ID"])
        if lines is not None:
            text = "".join(json.dumps(line) + "\n" for line in lines)
            (frames / f"{record['ID']}.ndjson").write_text(text)
    params = V2Params(*[True] * 8)
    with v2_path.open("w") as out:
        for record in world.iter_v2(project_id, ExportFilter(), params):
            out.write(json.dumps(record) + "\n")
    return v1_path, v2_path, frames


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=11, labels_per_project=5, v1_era="2023")


@pytest.mark.parametrize("media_type", ALL_MEDIA_TYPES)
def test_v1_and_v2_give_the_same_rows(world: World, media_type: str, tmp_path: Path) -> None:
    (project,) = [p for p in world.projects() if p.media_type == media_type]
    v1_path, v2_path, frames = _export(world, project.id, tmp_path)
    lineage = Lineage(project.id, "b", datetime(2026, 2, 1, tzinfo=UTC), None, None)
    c1 = flatten_file(v1_path, tmp_path / "v1", lineage, frames_dir=frames)
    c2 = flatten_file(v2_path, tmp_path / "v2", lineage)
    assert c1["rejects"] == c2["rejects"] == 0
    assert c1["labels"] == c2["labels"] > 0
    compared = 0
    for table in TABLES:
        v1_rows, v2_rows = _rows(tmp_path / "v1", table), _rows(tmp_path / "v2", table)
        assert v1_rows == v2_rows, f"{media_type}: {table} differs between v1 and v2"
        compared += sum(v1_rows.values())
    assert compared >= c1["labels"] * 2  # labels and data rows at least, never vacuous


@pytest.mark.parametrize("media_type", ALL_MEDIA_TYPES)
def test_counts_are_conserved_on_the_emulator_world(
    world: World, media_type: str, tmp_path: Path
) -> None:
    (project,) = [p for p in world.projects() if p.media_type == media_type]
    v1_path, _, frames = _export(world, project.id, tmp_path)
    records = json.loads(v1_path.read_text())
    objects = answers = reviews = 0
    for record in records:
        label = record["Label"]
        pages = [label]  # label-level annotations, then the frames file's lines
        if "frames" in label:
            text = (frames / f"{record['ID']}.ndjson").read_text()
            pages += [json.loads(line) for line in text.splitlines() if line.strip()]
        for page in pages:
            objects += len(page.get("objects", []))
            answers += count_answers(page.get("classifications"))
            answers += sum(count_answers(o.get("classifications")) for o in page.get("objects", []))
        reviews += len(record["Reviews"])
    lineage = Lineage(project.id, "b", datetime(2026, 2, 1, tzinfo=UTC), None, None)
    counts = flatten_file(v1_path, tmp_path / "out", lineage, frames_dir=frames)
    assert counts["labels"] + counts["rejects"] == len(records)
    assert (counts["objects"], counts["classifications"], counts["reviews"]) == (
        objects,
        answers,
        reviews,
    )


@pytest.mark.parametrize("media_type", ALL_MEDIA_TYPES)
def test_natural_keys_identify_rows(world: World, media_type: str, tmp_path: Path) -> None:
    """KEYS are what the current view deduplicates on: within one batch a key names one row
    (v1 repeats data rows and workflow steps on each label of a data row: identical copies)."""
    (project,) = [p for p in world.projects() if p.media_type == media_type]
    v1_path, v2_path, frames = _export(world, project.id, tmp_path)
    lineage = Lineage(project.id, "b", datetime(2026, 2, 1, tzinfo=UTC), None, None)
    flatten_file(v1_path, tmp_path / "v1", lineage, frames_dir=frames)
    flatten_file(v2_path, tmp_path / "v2", lineage)
    for fmt in ("v1", "v2"):
        for table in TABLES:
            rows = pq.read_table(tmp_path / fmt / table / "part-00000.parquet").to_pylist()
            by_key: dict[tuple[Any, ...], str] = {}
            for row in rows:
                key = tuple(row[k] for k in KEYS[table])
                body = json.dumps(row, sort_keys=True, default=str)
                assert by_key.setdefault(key, body) == body, f"{fmt} {table}: key {key} reused"
