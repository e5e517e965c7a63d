"""Snapshots pin the flattened output of every real export file and own fixture, table by table.

Each snapshot holds, per table, the row count, a SHA-256 of all rows (canonical JSON, every
column) and, per column, how many values are set; the project's own fixtures also keep their
first rows in full, so a change shows what moved. The real corpus is third-party data (some of
it unlicensed): its snapshots keep no values from it, only counts and hashes. To accept a deliberate
change: ``LBX_UPDATE_SNAPSHOTS=1 pytest tests/transforms/test_snapshots.py`` and review the diff.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from labelbox_provider.io.flatten import flatten_file
from labelbox_provider.transforms import TABLES, Lineage

from ._transform_helpers import OWN_FILES, REAL_FILES

pytestmark = pytest.mark.unit

SNAPSHOTS = Path(__file__).parent / "snapshots"
HEAD_ROWS = 3
FIXTURES = [pytest.param(("own", name), id=name) for name in sorted(OWN_FILES)] + [
    pytest.param(("real", name), id=name, marks=pytest.mark.real_corpus) for name in REAL_FILES
]
LINEAGE = Lineage(
    project_id="",  # taken from each record, as the CLI does
    batch_id="snapshot",
    extracted_at=datetime(2024, 1, 1, tzinfo=UTC),
    window_start=None,
    window_end=None,
)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def render(out: Path, head_rows: int = HEAD_ROWS) -> dict[str, Any]:
    """The snapshot of one flattened output folder (``head_rows`` rows kept in full)."""
    snapshot: dict[str, Any] = {}
    for table in TABLES:
        rows = pq.read_table(out / table / "part-00000.parquet").to_pylist()
        rows = [{k: _plain(v) for k, v in row.items()} for row in rows]
        canonical = json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()
        snapshot[table] = {
            "rows": len(rows),
            "sha256": hashlib.sha256(canonical).hexdigest(),
            "set": {c: sum(r[c] is not None for r in rows) for c in (rows[0] if rows else {})},
            "head": rows[:head_rows],
        }
    return snapshot


@pytest.mark.parametrize("case", FIXTURES)
def test_snapshot(case: tuple[str, str], request: pytest.FixtureRequest, tmp_path: Path) -> None:
    where, name = case
    folder: Path = request.getfixturevalue(f"{where}_fixtures")
    flatten_file(folder / name, tmp_path, LINEAGE, frames_dir=folder / "frames")
    actual = render(tmp_path, HEAD_ROWS if where == "own" else 0)
    path = SNAPSHOTS / f"{name}.json"
    if os.environ.get("LBX_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.write_text(json.dumps(actual, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        if os.environ.get("LBX_UPDATE_SNAPSHOTS") != "1":
            pytest.fail(f"snapshot {path.name} was missing and has been written: review it")
    expected = json.loads(path.read_text())
    for table in TABLES:
        assert actual[table]["head"] == expected[table]["head"], f"{name}: {table} head rows"
        assert actual[table]["rows"] == expected[table]["rows"], f"{name}: {table} row count"
        assert actual[table]["set"] == expected[table]["set"], f"{name}: {table} values set"
        assert actual[table]["sha256"] == expected[table]["sha256"], f"{name}: {table} content"
