"""Folders of export files a user already has -> one mirror, each file a batch in the ledger.

``labelbox-export flatten --root`` runs this. Every file (v1 arrays, bare v1 objects, v2 NDJSON,
any of them gzip-compressed; a folder is walked for ``*.json``, ``*.ndjson``, ``*.jsonl`` and
``*.gz``) becomes one batch of mode ``archive``, whose id is derived from the file's name, and
whose manifest records that name and the SHA-256 of the file's bytes. So a re-run skips a file
whose bytes are unchanged, and a changed file (same name, new bytes) replaces its batch. Archive
batches do not count as window coverage: they never move the watermark of incremental pulls.

The project of a file is ``project_id`` when given, else the one project its rows carry (v1
``View Label``, a 2018 file's ``Project Name``, v2 the record's only project). When the export
was taken (``extracted_at``, what "latest wins" orders by) is read from a Labelbox file name
(``export-2019-08-30T10_57_42.796Z.json``), else the file's modification time.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from labelbox_provider.exceptions import ExportFormatError, FlattenProcessError
from labelbox_provider.state.ledger import Ledger, Manifest, list_projects
from labelbox_provider.state.windows import Window

SUFFIXES = (".json", ".ndjson", ".jsonl", ".gz")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # archive windows: everything up to the export
_STAMP = re.compile(r"export-(\d{4}-\d\d-\d\dT\d\d)_(\d\d)_(\d\d(?:\.\d+)?)Z")
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchiveFile:
    """One export file to load: where it is and the name that identifies its batch."""

    path: Path
    name: str  # relative to the folder given (or the file's own name): the batch's identity


@dataclass
class ArchiveResult:
    """What happened to one file: ``loaded``, ``replaced`` (its bytes changed) or ``skipped``
    (already loaded, same bytes)."""

    name: str
    batch_id: str
    status: str
    project_id: str
    counts: dict[str, int] = field(default_factory=dict)


def archive_files(paths: Iterable[Path]) -> list[ArchiveFile]:
    """The export files of ``paths`` (files as given; folders walked, sorted by name)."""
    out: list[ArchiveFile] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
            out += [ArchiveFile(p, p.relative_to(path).as_posix()) for p in found]
        elif path.is_file():
            out.append(ArchiveFile(path, path.name))
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return out


def batch_id_of(name: str) -> str:
    """The batch id of the file named ``name`` (the same name always gives the same id)."""
    return "archive-" + hashlib.sha256(name.encode()).hexdigest()[:24]


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of the file's bytes (as stored: a gzip file's compressed bytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        for chunk in iter(lambda: fp.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def extracted_at_of(path: Path) -> datetime:
    """When the export was taken: the stamp of a Labelbox export file name, else its mtime."""
    match = _STAMP.search(path.name)
    if match:
        return datetime.fromisoformat(f"{match[1]}:{match[2]}:{match[3]}+00:00")
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _loaded(root: str, batch_id: str, project_id: str | None, storage: Any) -> Manifest | None:
    projects = [project_id] if project_id else list_projects(root, storage)
    for pid in projects:
        manifest = Ledger(root, pid, storage).manifest(batch_id)
        if manifest is not None:
            return manifest
    return None


def load_archive_file(
    root: str,
    item: ArchiveFile,
    *,
    project_id: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    delta_tables: bool = False,
    processes: int | None = None,
) -> ArchiveResult:
    """Load one export file as its batch (or skip it when loaded with the same bytes); with
    ``delta_tables`` the project's Delta current tables then take the batch."""
    sha, batch_id = sha256_of(item.path), batch_id_of(item.name)
    held = _loaded(root, batch_id, project_id, storage_options)
    if held is not None and held.source_sha256 == sha:
        return ArchiveResult(item.name, batch_id, "skipped", held.project_id, dict(held.counts))
    extracted_at = extracted_at_of(item.path)
    with tempfile.TemporaryDirectory(prefix="lbx-archive-") as tmp:
        staging, counts, project = _flatten(
            item.path, Path(tmp), batch_id, extracted_at, project_id, processes=processes
        )
        ledger = Ledger(root, project, storage_options)
        _commit(
            ledger,
            staging,
            batch_id=batch_id,
            extracted_at=extracted_at,
            counts=counts,
            item=item,
            sha=sha,
        )
    if delta_tables:
        from labelbox_provider.pipeline.commit import update_delta

        update_delta(ledger, storage_options)
    status = "loaded" if held is None else "replaced"
    return ArchiveResult(item.name, batch_id, status, project, counts)


def _flatten(
    path: Path,
    tmp: Path,
    batch_id: str,
    extracted_at: datetime,
    project_id: str | None,
    *,
    processes: int | None,
) -> tuple[Path, dict[str, int], str]:
    """Flatten into ``tmp``; the staging folder, the counts and the file's project."""
    from labelbox_provider.io.flatten import flatten_file
    from labelbox_provider.transforms.common import Lineage

    def run(pid: str, staging: Path) -> dict[str, int]:
        lineage = Lineage(pid, batch_id, extracted_at, EPOCH, extracted_at)
        return flatten_file(path, staging, lineage, processes=processes)

    counts = run(project_id or "", tmp / "first")
    if project_id:
        return tmp / "first", counts, project_id
    project = _only_project(tmp / "first", path)
    if counts.get("rejects"):  # rejects carry the given project id: flatten again with it
        return tmp / "again", run(project, tmp / "again"), project
    return tmp / "first", counts, project


def _only_project(staging: Path, path: Path) -> str:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    found: set[str] = set()
    for part in sorted((staging / "data_rows").glob("*.parquet")):
        column = pq.read_table(part, columns=["project_id"]).column("project_id")
        found.update(str(v) for v in pc.unique(column).to_pylist())
    if len(found) != 1:
        what = "no rows" if not found else f"rows of {len(found)} projects"
        raise ExportFormatError(f"{path.name}: {what}; give the project id (--project-id)")
    return found.pop()


def _commit(
    ledger: Ledger,
    staging: Path,
    *,
    batch_id: str,
    extracted_at: datetime,
    counts: dict[str, int],
    item: ArchiveFile,
    sha: str,
) -> None:
    from labelbox_provider.io.batch import commit_batch
    from labelbox_provider.io.flatten import detect_file_format, source_format_of

    commit_batch(
        ledger,
        staging_dir=staging,
        batch_id=batch_id,
        window=Window(EPOCH, extracted_at),
        source_format=source_format_of(detect_file_format(item.path)),
        export_id=None,
        extracted_at=extracted_at,
        counts=counts,
        initial_start=EPOCH,
        mode="archive",
        source=(item.name, sha),
    )


def load_archive(
    root: str,
    files: Iterable[ArchiveFile],
    *,
    project_id: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    delta_tables: bool = False,
    processes: int | None = None,
) -> Iterator[ArchiveResult | tuple[ArchiveFile, Exception]]:
    """Load each file in turn; a file that fails yields ``(file, error)`` and the rest go on
    (a failed file leaves no partial batch: the commit protocol's manifest is written last).
    ``processes``: see :func:`~labelbox_provider.io.flatten.flatten_file`."""
    for item in files:
        try:
            yield load_archive_file(
                root,
                item,
                project_id=project_id,
                storage_options=storage_options,
                delta_tables=delta_tables,
                processes=processes,
            )
        except (ExportFormatError, FlattenProcessError, OSError, ValueError) as exc:
            yield item, exc
