"""Test kit: hand-made batches that follow the table contract, a crash-on-demand filesystem.

A batch is described as data rows with their labels (the v2 shape); v1 batches use the same
description, one label per record. Every table is written to the staging dir, empty or not, as
the transforms do.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from labelbox_provider.io.batch import commit_batch
from labelbox_provider.state.ledger import Ledger, Manifest
from labelbox_provider.state.windows import Window, batch_id_for

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")
LINEAGE = [
    ("project_id", pa.string()),
    ("batch_id", pa.string()),
    ("extracted_at", TS),
    ("window_start", TS),
    ("window_end", TS),
    ("source_format", pa.string()),
]
EXTRA: dict[str, list[tuple[str, pa.DataType]]] = {
    "data_rows": [("data_row_id", pa.string()), ("global_key", pa.string())],
    "labels": [("label_id", pa.string()), ("data_row_id", pa.string()), ("version", pa.string())],
    "objects": [("label_id", pa.string()), ("data_row_id", pa.string()), ("item", pa.string())],
    "classifications": [
        ("label_id", pa.string()),
        ("data_row_id", pa.string()),
        ("item", pa.string()),
    ],
    "relationships": [
        ("label_id", pa.string()),
        ("data_row_id", pa.string()),
        ("item", pa.string()),
    ],
    "reviews": [("label_id", pa.string()), ("data_row_id", pa.string()), ("item", pa.string())],
    "workflow_history": [
        ("data_row_id", pa.string()),
        ("label_id", pa.string()),
        ("position", pa.int64()),
        ("action", pa.string()),
    ],
    "rejects": [("error", pa.string())],
    "tombstones": [("label_id", pa.string()), ("data_row_id", pa.string()), ("detected_at", TS)],
}
TABLES = tuple(EXTRA)


def hours(n: float) -> datetime:
    """T0 plus ``n`` hours."""
    return T0 + timedelta(hours=n)


@dataclass
class Spec:
    """What one export returned: data rows -> labels -> version, plus odds and ends."""

    rows: Mapping[str, Mapping[str, str]]  # data_row_id -> {label_id: version}
    tombstones: Sequence[tuple[str, str, datetime]] = ()  # (label_id, data_row_id, detected_at)
    rejects: Sequence[str] = ()  # error messages
    workflow: Sequence[tuple[str, str | None, str]] = ()  # (data_row_id, label_id, action)
    extra_rows: dict[str, int] = field(default_factory=dict)  # count corruptions for tests
    tables: tuple[str, ...] = TABLES  # tables to write (the transforms write all of them)


def table_rows(spec: Spec) -> dict[str, list[dict[str, Any]]]:
    """Rows per table (without lineage) for a spec."""
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    for dr, labels in spec.rows.items():
        out["data_rows"].append({"data_row_id": dr, "global_key": f"gk-{dr}"})
        for lab, version in labels.items():
            out["labels"].append({"label_id": lab, "data_row_id": dr, "version": version})
            for child in ("objects", "classifications", "relationships", "reviews"):
                out[child].append({"label_id": lab, "data_row_id": dr, "item": f"{version}"})
    for lab, dr, when in spec.tombstones:
        out["tombstones"].append({"label_id": lab, "data_row_id": dr, "detected_at": when})
    out["rejects"] = [{"error": e} for e in spec.rejects]
    out["workflow_history"] = [
        {"data_row_id": d, "label_id": lab, "position": 0, "action": a}
        for d, lab, a in spec.workflow
    ]
    return out


def write_staging(
    staging: Path,
    spec: Spec,
    *,
    project_id: str,
    batch_id: str,
    window: Window,
    fmt: str,
    extracted_at: datetime,
) -> dict[str, int]:
    """Write every table of ``spec`` to ``staging/<table>/part-00000.parquet``; return counts."""
    lineage = {
        "project_id": project_id,
        "batch_id": batch_id,
        "extracted_at": extracted_at,
        "window_start": window.start,
        "window_end": window.end,
        "source_format": fmt,
    }
    counts = {}
    for table, rows in table_rows(spec).items():
        if table not in spec.tables:
            continue
        schema = pa.schema(LINEAGE + EXTRA[table])
        full = [{**lineage, **r} for r in rows]
        data = pa.Table.from_pylist(full, schema=schema)
        (staging / table).mkdir(parents=True, exist_ok=True)
        pq.write_table(data, staging / table / "part-00000.parquet")
        counts[table] = data.num_rows + spec.extra_rows.get(table, 0)
    return counts


@dataclass
class Mirror:
    """A destination plus a helper that commits specs as batches."""

    ledger: Ledger
    root: str
    tmp: Path
    initial_start: datetime = T0

    def commit(
        self,
        spec: Spec,
        window: Window,
        *,
        extracted_at: datetime,
        fmt: str = "v2",
        mode: str = "incremental",
        ledger: Ledger | None = None,
    ) -> Manifest:
        """Stage ``spec`` and commit it as the batch of ``window``."""
        batch_id = batch_id_for(self.ledger.project_id, window, fmt, mode)
        staging = self.tmp / f"stage-{uuid.uuid4().hex}"
        counts = write_staging(
            staging,
            spec,
            project_id=self.ledger.project_id,
            batch_id=batch_id,
            window=window,
            fmt=fmt,
            extracted_at=extracted_at,
        )
        return commit_batch(
            ledger or self.ledger,
            staging_dir=staging,
            batch_id=batch_id,
            window=window,
            source_format=fmt,
            export_id=f"export-{batch_id[-6:]}",
            extracted_at=extracted_at,
            counts=counts,
            initial_start=self.initial_start,
            mode=mode,
        )


@pytest.fixture(params=["local", "memory"])
def mirror(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Mirror]:
    """A fresh mirror of project ``p1`` on a local folder and on fsspec's memory filesystem."""
    if request.param == "local":
        root = str(tmp_path / "mirror")
    else:
        root = f"memory://lbx-{uuid.uuid4().hex}"
    yield Mirror(Ledger(root, "p1"), root, tmp_path)
    memfs = fsspec.filesystem("memory")
    if request.param == "memory" and memfs.exists(root.removeprefix("memory:/")):
        memfs.rm(root.removeprefix("memory:/"), recursive=True)


class SimulatedCrash(RuntimeError):
    """Raised by :class:`CrashingFS` to simulate the worker dying."""


MUTATING = ("open", "pipe_file", "mv", "rm", "rm_file", "put_file", "copy", "makedirs")


class CrashingFS:
    """Proxy of a filesystem that raises before its ``fail_at``-th mutating call."""

    def __init__(self, inner: Any, fail_at: int) -> None:
        self._inner = inner
        self._fail_at = fail_at
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in MUTATING or not callable(attr):
            return attr
        return self._counting(name, attr)

    def _counting(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            mode = args[1] if len(args) > 1 else kwargs.get("mode", "rb")
            if name == "open" and "w" not in str(mode):
                return func(*args, **kwargs)
            self.calls += 1
            if self.calls == self._fail_at:
                raise SimulatedCrash(f"crash at mutating call {self.calls} ({name})")
            return func(*args, **kwargs)

        return wrapper
