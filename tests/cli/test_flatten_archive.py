"""``labelbox-export flatten PATH... --root``: folders of archived exports loaded as one mirror,
each file a batch in the ledger (name and checksum), re-runs skip, changed files replace."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from labelbox_provider.cli.main import main
from labelbox_provider.io.current import current_tables
from labelbox_provider.io.warehouse import BatchRef
from labelbox_provider.io.warehouse.duckdb import DuckDBWarehouse
from labelbox_provider.pipeline.archive import batch_id_of, sha256_of
from labelbox_provider.state.ledger import Ledger

pytestmark = pytest.mark.integration

LEGACY_2019 = "v1_legacy2019_class_keyed_skip_reviews_doors.json"
LEGACY_2018 = "v1_legacy2018_wkt_multipolygon_minimal_keys.json"
V1_OBJECT = "v1_text_export.json"  # a bare v1 object
PROJECT = "projM"


def _v2_line(row: str) -> dict[str, Any]:
    """A v2 data row with a metadata field of every kind and an attachment."""
    return {
        "data_row": {"id": row, "row_data": "https://x/a.jpg"},
        "metadata_fields": [
            {"schema_id": "s1", "schema_name": "note", "value": "sunny"},
            {"schema_id": "s2", "schema_name": "score", "value": 0.25},
            {"schema_id": "s3", "schema_name": "taken", "value": "2023-05-16T11:50:48.000+00:00"},
            {"schema_id": "s4", "schema_name": "split",
             "value": {"schema_id": "o1", "schema_name": "train"}},
        ],
        "attachments": [{"id": "a1", "type": "RAW_TEXT", "name": "n", "value": "look left"}],
        "projects": {PROJECT: {"name": "p", "labels": [{"id": f"L{row}", "annotations": {
            "objects": [], "classifications": [], "relationships": []}}]}},
    }  # fmt: skip


def _folder(real: Path, tmp: Path) -> Path:
    folder = tmp / "archive"
    (folder / "2019").mkdir(parents=True)
    shutil.copy(real / LEGACY_2019, folder / "2019" / "export-2019-08-30T10_57_42.796Z.json")
    shutil.copy(real / LEGACY_2018, folder / LEGACY_2018)
    shutil.copy(real / V1_OBJECT, folder / V1_OBJECT)
    lines = "".join(json.dumps(_v2_line(r)) + "\n" for r in ("d1", "d2"))
    (folder / "v2.ndjson.gz").write_bytes(gzip.compress(lines.encode()))
    (folder / "README.txt").write_text("not an export: not picked up (suffix)")
    return folder


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    code = main(["flatten", *args])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return code, out


def test_a_folder_loads_as_one_mirror_and_a_rerun_skips(
    real_fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, root = _folder(real_fixtures, tmp_path), tmp_path / "mirror"
    code, out = _run(capsys, str(folder), "--root", str(root))
    assert code == 0
    assert sorted(r["file"] for r in out) == sorted(
        ["2019/export-2019-08-30T10_57_42.796Z.json", LEGACY_2018, V1_OBJECT, "v2.ndjson.gz"]
    )
    assert {r["status"] for r in out} == {"loaded"}
    assert all(r["counts"]["rejects"] == 0 for r in out)
    by_file = {r["file"]: r for r in out}
    doors = by_file["2019/export-2019-08-30T10_57_42.796Z.json"]
    ledger = Ledger(str(root), doors["project_id"])
    manifest = ledger.manifest(doors["batch_id"])
    assert manifest is not None and manifest.mode == "archive"
    assert manifest.source_file == doors["file"]
    assert manifest.source_sha256 == sha256_of(folder / doors["file"])
    assert manifest.extracted_at == datetime(2019, 8, 30, 10, 57, 42, 796000, tzinfo=UTC)
    assert ledger.watermark() is None  # archive batches are not window coverage
    tables = current_tables(str(root))
    assert tables["labels"].num_rows == 812 + 10 + 1 + 2
    assert tables["objects"].num_rows == 1744 + 10 + 4
    assert tables["reviews"].num_rows == 839
    assert tables["metadata"].num_rows == 8 and tables["attachments"].num_rows == 2
    code, again = _run(capsys, str(folder), "--root", str(root))
    assert code == 0 and {r["status"] for r in again} == {"skipped"}
    assert ledger.manifest(doors["batch_id"]) == manifest  # not re-committed


def test_a_changed_file_replaces_its_batch(
    real_fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, root = _folder(real_fixtures, tmp_path), tmp_path / "mirror"
    assert _run(capsys, str(folder), "--root", str(root))[0] == 0
    records = json.loads((folder / LEGACY_2018).read_text())
    (folder / LEGACY_2018).write_text(json.dumps(records[:4]))  # the user re-exported fewer
    code, out = _run(capsys, str(folder), "--root", str(root))
    status = {r["file"]: r["status"] for r in out}
    assert code == 0 and status.pop(LEGACY_2018) == "replaced"
    assert set(status.values()) == {"skipped"}
    labels = current_tables(str(root), "coco")["labels"]
    assert labels.num_rows == 4  # the batch was replaced, not added to
    manifest = Ledger(str(root), "coco").manifest(batch_id_of(LEGACY_2018))
    assert manifest is not None and manifest.counts["labels"] == 4


def test_a_bad_file_is_reported_and_the_others_load(
    real_fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(real_fixtures / LEGACY_2018, folder / LEGACY_2018)
    (folder / "page.json").write_text("<html></html>")
    code = main(["flatten", str(folder), "--root", str(tmp_path / "m")])
    captured = capsys.readouterr()
    assert code == 2 and "page.json" in captured.err
    assert [json.loads(x)["file"] for x in captured.out.splitlines()] == [LEGACY_2018]
    assert not Ledger(str(tmp_path / "m"), "coco").manifest(batch_id_of("page.json"))


def test_metadata_and_attachments_flow_to_query_and_the_warehouse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "v2.ndjson"
    src.write_text(json.dumps(_v2_line("d1")) + "\n")
    root = tmp_path / "mirror"
    code, (result,) = _run(capsys, str(src), "--root", str(root))
    assert code == 0 and result["counts"]["metadata"] == 4
    sql = "SELECT name, kind, value, value_number, value_enum FROM metadata ORDER BY position"
    assert main(["query", "--root", str(root), "--sql", sql]) == 0
    printed = capsys.readouterr().out
    assert "score" in printed and "train" in printed
    db = tmp_path / "wh.duckdb"
    DuckDBWarehouse(db).load(BatchRef(str(root), PROJECT, result["batch_id"]), force=True)
    with duckdb.connect(str(db)) as con:
        rows = con.sql(
            "SELECT name, kind, value, value_number, value_datetime IS NOT NULL, value_enum, "
            "value_enum_id FROM metadata ORDER BY position"
        ).fetchall()
        attachments = con.sql("SELECT attachment_id, type, name, value FROM attachments").fetchall()
    assert rows == [
        ("note", "string", "sunny", None, False, None, None),
        ("score", "number", "0.25", 0.25, False, None, None),
        ("taken", "datetime", "2023-05-16T11:50:48+00:00", None, True, None, None),
        ("split", "enum", "train", None, False, "train", "o1"),
    ]
    assert attachments == [("a1", "RAW_TEXT", "n", "look left")]
