"""A small random mirror for the warehouse tests: committed v1, v2 and reconcile batches.

Each batch is written with the real schemas and committed with the real commit protocol, so the
current view (the oracle) and the warehouse read exactly the same files.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from labelbox_provider.io.batch import commit_batch
from labelbox_provider.io.current import current_tables
from labelbox_provider.state.ledger import Ledger, Manifest
from labelbox_provider.state.windows import Window, batch_id_for
from labelbox_provider.transforms.tables import SCHEMAS

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DATA_ROWS = ("d0", "d1", "d2", "d3")
LABELS = tuple(f"l{i}" for i in range(8))  # label l<i> belongs to data row d<i % 4>
CHILDREN = ("objects", "classifications", "relationships", "reviews")


def _dr_of(label: str) -> str:
    return DATA_ROWS[int(label[1:]) % len(DATA_ROWS)]


class _Batch:
    """Rows of one batch being generated."""

    def __init__(self, rng: random.Random, project: str, fmt: str) -> None:
        self.rng, self.project, self.fmt = rng, project, fmt
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in SCHEMAS}
        self.tag = f"{rng.randrange(10**6):06d}"  # makes this batch's payloads distinct

    def data_row(self, dr: str) -> None:
        base = {"project_id": self.project, "data_row_id": dr, "global_key": f"{dr}/{self.tag}"}
        self.rows["data_rows"].append({**base, "label_count": self.rng.randint(0, 3)})

    def label(self, label: str) -> None:
        dr, rng = _dr_of(label), self.rng
        key = {"project_id": self.project, "label_id": label, "data_row_id": dr}
        self.rows["labels"].append({**key, "extra_json": f"{label}/{self.tag}", "skipped": False})
        for child in CHILDREN:
            for k in range(rng.randint(0, 2)):
                row = {**key, "feature_id": f"{label}/{child}/{k}/{self.tag}"}
                if child == "objects":
                    row["points"] = [{"x": float(k), "y": rng.random()}]
                    row["segments"] = [[k, k + 1]]
                self.rows[child].append(row)
        for k in range(rng.randint(0, 2)):
            self.workflow(dr, label if rng.random() < 0.7 else None, k)

    def workflow(self, dr: str, label: str | None, position: int) -> None:
        row = {"project_id": self.project, "data_row_id": dr, "label_id": label}
        row.update(position=position, action=f"Move/{self.tag}")
        self.rows["workflow_history"].append(row)


def _generate(rng: random.Random, project: str, kind: str, extracted_at: datetime) -> _Batch:
    batch = _Batch(rng, project, "v2" if kind in ("v2", "reconcile") else "v1")
    if kind == "v2":
        for dr in rng.sample(DATA_ROWS, rng.randint(2, 4)):
            batch.data_row(dr)
            for label in [x for x in LABELS if _dr_of(x) == dr and rng.random() < 0.6]:
                batch.label(label)
            if rng.random() < 0.5:
                batch.workflow(dr, None, 9)
    elif kind == "v1":
        for label in rng.sample(LABELS, rng.randint(1, 3)):
            batch.data_row(_dr_of(label))
            batch.label(label)
        if rng.random() < 0.5:
            batch.workflow(rng.choice(DATA_ROWS), None, 7)
    else:
        for label in rng.sample(LABELS, rng.randint(1, 2)):
            tomb = {"project_id": project, "label_id": label, "data_row_id": _dr_of(label)}
            batch.rows["tombstones"].append({**tomb, "detected_at": extracted_at, "reason": "gone"})
    if rng.random() < 0.2:
        reject = {"project_id": project, "position": 0, "error": "bad", "raw": "{}"}
        batch.rows["rejects"].append(reject)
    return batch


def _write(batch: _Batch, folder: Path, lineage: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, rows in batch.rows.items():
        if not rows:
            continue
        full = [{**row, **lineage} for row in rows]
        (folder / table).mkdir(parents=True, exist_ok=True)
        pq.write_table(
            pa.Table.from_pylist(full, schema=SCHEMAS[table]), folder / table / "a.parquet"
        )
        counts[table] = len(rows)
    return counts


def commit_random_batch(
    root: Path,
    work: Path,
    rng: random.Random,
    index: int,
    *,
    project: str = "p1",
    kind: str | None = None,
    extracted_at: datetime | None = None,
) -> Manifest:
    """Generate, write and commit batch number ``index`` (its window is hour ``index``)."""
    kind = kind or rng.choice(["v1", "v2", "v2", "v2", "reconcile"])
    when = extracted_at or T0 + timedelta(days=1, minutes=rng.randint(0, 12) * 10)
    window = Window(T0 + timedelta(hours=index), T0 + timedelta(hours=index + 1))
    batch = _generate(rng, project, kind, when)
    mode = "reconcile" if kind == "reconcile" else rng.choice(["incremental", "backfill"])
    batch_id = batch_id_for(project, window, batch.fmt, mode)
    lineage = {
        "batch_id": batch_id,
        "extracted_at": when,
        "window_start": window.start,
        "window_end": window.end,
        "source_format": batch.fmt,
    }
    folder = work / f"{project}-{index}"
    counts = _write(batch, folder, lineage)
    return commit_batch(
        Ledger(str(root), project),
        staging_dir=folder,
        batch_id=batch_id,
        window=window,
        source_format=batch.fmt,
        export_id=None,
        extracted_at=when,
        counts=counts,
        initial_start=T0,
        mode=mode,
    )


def build_world(root: Path, work: Path, seed: int, batches: int = 7) -> list[Manifest]:
    """Commit ``batches`` random batches of project ``p1`` under ``root``."""
    rng = random.Random(seed)
    return [commit_random_batch(root, work, rng, i) for i in range(batches)]


def canonical(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    """Rows as sorted, comparable strings over ``columns``."""
    return sorted(repr(tuple(_norm(row.get(c)) for c in columns)) for row in rows)


def _norm(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in sorted(value.items())}
    return value


def expected(root: Path) -> dict[str, list[str]]:
    """The current view of every table, canonicalised (the oracle)."""
    tables = current_tables(str(root))
    return {t: canonical(tables[t].to_pylist(), list(SCHEMAS[t].names)) for t in SCHEMAS}
