"""Flatten a whole export file into the Parquet tables, streaming, record by record.

Each record is decoded and flattened on its own; a record that cannot be (invalid JSON, an
a wrong type, missing ids, video frames not fetched) becomes one
``rejects`` row with the reason, its position and the raw bytes, and the export goes on.
A record is all or nothing: either all its rows are written or none (then it is a reject).
An annotation of a kind this version does not know does not reject its record: it becomes an
``objects`` row of kind ``unknown`` (raw JSON in ``extra_json``), counted in the result's
``stats`` and the batch manifest, with a warning in the log.

Records of the common shape take the typed fast path of
:mod:`labelbox_provider.transforms.fast_v1` / :mod:`~labelbox_provider.transforms.fast_v2`
(same rows, several times faster); the others, and any record the fast path gives up on, the
row functions.
"""

from __future__ import annotations

import gc
import gzip
import io
import itertools
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from labelbox_provider.exceptions import TransformError
from labelbox_provider.io import check_processes
from labelbox_provider.transforms import fast_v1, fast_v2
from labelbox_provider.transforms.common import Lineage, RecordContext, Row, Rows
from labelbox_provider.transforms.legacy import is_legacy_record
from labelbox_provider.transforms.objects import UNKNOWN_KIND
from labelbox_provider.transforms.typed import FastPath
from labelbox_provider.transforms.v1 import v1_record_rows
from labelbox_provider.transforms.v2 import v2_record_rows

from .jsonstream import Decoded, detect_format, iter_decoded
from .parquet import TableSink

RowFunction = Callable[[dict[str, Any], RecordContext], Rows]
READ_BUFFER_BYTES = 1 << 20  # records are read a line at a time: few, large reads
UNKNOWN_KINDS_STAT = "unknown_annotation_kinds"  # objects rows of a kind not known here
log = logging.getLogger(__name__)


class FlattenResult(dict[str, int]):
    """What :func:`flatten_file` returns: the rows per table (this dict, which the batch
    commit checks against the files) and ``stats``, what flattening noticed besides rows
    (``unknown_annotation_kinds``: annotations of a kind this version does not know, kept as
    ``objects`` rows of kind ``unknown``), which the batch manifest records."""

    def __init__(self, counts: Mapping[str, int], stats: Mapping[str, int]) -> None:
        super().__init__(counts)
        self.stats = dict(stats)


def stats_of(counts: Mapping[str, int]) -> dict[str, int]:
    """The ``stats`` of a :class:`FlattenResult` ({} for plain counts)."""
    return dict(counts.stats) if isinstance(counts, FlattenResult) else {}


class _UnknownKinds:
    """Counts the annotations of unknown kinds; warns once per kind, and once per file.
    ``quiet``: records the position each kind was first seen at and warns nothing (the range
    of a file flattened in two processes: the kinds of both are reported once, merged)."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.kinds: Counter[str] = Counter()
        self.first: dict[str, int] = {}  # kind -> position of the record it was first seen in
        self.quiet = quiet

    def see(self, rows: Rows, position: int) -> None:
        for row in rows.get("objects", ()):
            if row.get("kind") == UNKNOWN_KIND:
                kind = str(row.get("annotation_kind"))
                if kind not in self.kinds:
                    self.first[kind] = position
                    if not self.quiet:
                        _warn_kind(kind, position)
                self.kinds[kind] += 1

    def merge(self, kinds: Mapping[str, int], first: Mapping[str, int], offset: int) -> None:
        """Add the kinds seen in a later range (its positions counted from ``offset``)."""
        for kind, count in kinds.items():
            if kind not in self.kinds:
                self.first[kind] = first[kind] + offset
            self.kinds[kind] += count

    def report(self) -> None:
        """Warn about each kind (quiet counts) and the total, as one process does."""
        if self.quiet:
            for kind, position in sorted(self.first.items(), key=lambda item: item[1]):
                _warn_kind(kind, position)
        total = sum(self.kinds.values())
        if total:
            log.warning("%d annotation(s) of unknown kinds: %s", total, dict(self.kinds))

    def stats(self) -> dict[str, int]:
        return {UNKNOWN_KINDS_STAT: sum(self.kinds.values())}


def _warn_kind(kind: str, position: int) -> None:
    log.warning(
        "unknown annotation kind %r (record %d): kept as an objects row of kind "
        "'unknown' with the raw annotation in extra_json",
        kind,
        position,
    )


def source_format_of(file_format: str) -> str:
    """The export generation of a file layout: NDJSON is v2, JSON arrays/objects are v1."""
    return "v2" if file_format == "ndjson" else "v1"


def flatten_file(
    src: Path,
    out_dir: Path,
    lineage: Lineage,
    *,
    fmt: str = "auto",
    frames_dir: Path | None = None,
    fast: bool = True,
    processes: int | None = None,
) -> FlattenResult:
    """Flatten the export at ``src`` into ``out_dir/<table>/part-00000.parquet`` (a very large
    table continues in ``part-00001.parquet``...).

    Every table gets a file, empty (with its schema) if it has no rows. Returns the row count
    per table, with the flattening's ``stats`` (:class:`FlattenResult`). ``fmt`` is
    ``"auto"``, ``"v1_array"``, ``"v1_object"`` or ``"ndjson"``; ``frames_dir`` holds v1
    video frames files named ``<label id>.ndjson``. ``fast=False`` turns off the typed fast
    paths of :mod:`~labelbox_provider.transforms.fast_v1` and
    :mod:`~labelbox_provider.transforms.fast_v2` (same output, slower; for comparison).
    ``processes``: ``1`` flattens in this process; ``2`` splits the file at a record near
    its middle and flattens the second part in a second process (same tables, rows, counts
    and rejects; its files are numbered from ``part-50000.parquet``), or in this process
    alone if the file cannot be split (see :mod:`~labelbox_provider.io.split`); ``None``
    (default) takes 2 when the file is at least
    :data:`~labelbox_provider.io.split.SPLIT_MIN_BYTES` and this process may run on two cores
    or more, 1.5 of them idle (:func:`~labelbox_provider.io.split.wanted`).
    A file found truncated (``TruncatedExportError``, see :mod:`~labelbox_provider.io.jsonstream`)
    or any other failure raises after removing the part files this call wrote: no partial
    table is left behind.
    """
    check_processes(processes)
    if processes != 1:
        from .split import flatten_split

        result = flatten_split(
            src, out_dir, lineage, fmt=fmt, frames_dir=frames_dir, fast=fast, processes=processes
        )
        if result is not None:
            return result
    before = _part_files(out_dir)
    with open_export(src) as fp:
        file_format = detect_format(fp) if fmt == "auto" else fmt
        try:
            return flatten_stream(
                fp, file_format, out_dir, lineage, frames_dir=frames_dir, fast=fast
            )
        except BaseException:
            remove_new_parts(out_dir, before)
            raise


def flatten_stream(
    fp: BinaryIO,
    file_format: str,
    out_dir: Path,
    lineage: Lineage,
    *,
    frames_dir: Path | None = None,
    fast: bool = True,
    legacy_era: bool | None = None,
    line_records: bool = False,
    sink_options: Mapping[str, Any] | None = None,
    unknown: _UnknownKinds | None = None,
    wrap: Callable[[Iterator[Decoded]], Iterator[Decoded]] | None = None,
) -> FlattenResult:
    """Flatten the records of ``fp`` (a ``file_format`` layout) into ``out_dir``; on failure
    the sink's files are closed and the error raised (the caller removes them).

    The other arguments serve a range of a file flattened by two processes: ``legacy_era``
    (v1) decided from the file's first record instead of the stream's, ``line_records`` (see
    :func:`~labelbox_provider.io.jsonstream.iter_decoded`), the sink's options (see
    :class:`~labelbox_provider.io.parquet.TableSink`), a quiet ``unknown`` whose kinds the
    caller reports, and ``wrap`` around the decoded records (to count or check them).
    """
    ctx = RecordContext(project_id=lineage.project_id, frames_dir=frames_dir)
    source_format = lineage.source_format or source_format_of(file_format)
    to_rows: RowFunction = v2_record_rows if source_format == "v2" else v1_record_rows
    sink = TableSink(out_dir, lineage, source_format, _reject_maker(ctx), **(sink_options or {}))
    fast_path = _fast_path(sink, ctx, source_format) if fast else None
    typed = fast_path.RECORD if fast_path is not None else None
    decoder = _TypedDecoder(typed) if typed is not None else None
    records = iter_decoded(
        fp, file_format, decoder.decode if decoder else None, line_records=line_records
    )
    if wrap is not None:
        records = wrap(records)
    if source_format == "v1":
        records = _legacy_era(records, ctx) if legacy_era is None else records
        ctx.legacy_era = ctx.legacy_era if legacy_era is None else legacy_era
        if ctx.legacy_era and decoder is not None:  # legacy files take the row functions
            decoder.enabled, fast_path = False, None
    seen = _UnknownKinds() if unknown is None else unknown
    try:
        with gc_paused():
            for record in records:
                if type(record.value) is typed and fast_path is not None:
                    try:
                        fast_path.add(record.value, record.position)
                    except Exception:  # the row function decides: rows or a reject
                        plain = record._replace(value=_PLAIN.decode(record.raw))
                        _flatten_one(sink, plain, to_rows, ctx, seen)
                    else:
                        sink.commit(record.position, record.raw)
                else:
                    _flatten_one(sink, record, to_rows, ctx, seen)
            counts = sink.close()
    except BaseException:
        sink.abort()
        raise
    if unknown is None:
        seen.report()
    return FlattenResult(counts, seen.stats())


def remove_new_parts(out_dir: Path, before: set[Path]) -> None:
    """Remove the part files of ``out_dir`` not in ``before``: no partial table may look
    complete."""
    for path in _part_files(out_dir) - before:
        path.unlink(missing_ok=True)


def _part_files(out_dir: Path) -> set[Path]:
    return set(out_dir.glob("*/part-*.parquet")) if out_dir.is_dir() else set()


_PLAIN = msgspec.json.Decoder()
_GZIP_MAGIC = b"\x1f\x8b"


def open_export(src: Path) -> BinaryIO:
    """The export file's bytes, buffered; a gzip-compressed file (magic ``1f 8b``, whatever
    its name) is decompressed as it is read."""
    with src.open("rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC
    if not compressed:
        return src.open("rb", buffering=READ_BUFFER_BYTES)
    return io.BufferedReader(gzip.GzipFile(src, "rb"), READ_BUFFER_BYTES)


def detect_file_format(src: Path) -> str:
    """The layout of the export file at ``src`` (gzip-compressed or not)."""
    with open_export(src) as fp:
        return detect_format(fp)


def _legacy_era(records: Iterator[Decoded], ctx: RecordContext) -> Iterator[Decoded]:
    """Set ``ctx.legacy_era`` from the file's first record (a 2018-2019 file is legacy
    throughout: there ``"Label": {}`` is an empty submission, not a skip); the records, that
    one included."""
    first = next(records, None)
    if first is None:
        return iter(())
    ctx.legacy_era = isinstance(first.value, dict) and is_legacy_record(first.value)
    return itertools.chain((first,), records)


def _fast_path(sink: TableSink, ctx: RecordContext, source_format: str) -> FastPath:
    """The format's fast path, bound to ``sink``."""
    path = fast_v2.FastV2 if source_format == "v2" else fast_v1.FastV1
    return path(sink, ctx)


class _TypedDecoder:
    """Decodes records into the fast path's typed record where they fit, else into plain
    values. Gives up on the typed decoder when most records of a file do not fit (a new key
    in every record, say), so such files cost one decode per record, not two."""

    PROBE = 1000  # records decoded before judging
    MIN_SHARE = 0.5  # share of records that must fit for the typed decoder to be kept

    def __init__(self, typed: type[Any]) -> None:
        self._decoder = msgspec.json.Decoder(typed)
        self.tried = 0
        self.fitted = 0
        self.enabled = True

    def decode(self, raw: bytes) -> Any:
        """The record as the typed record if it fits, else as plain JSON values."""
        if self.enabled:
            self.tried += 1
            try:
                value = self._decoder.decode(raw)
            except msgspec.DecodeError:  # does not fit, or not JSON: the plain decoder says
                value = None
            else:
                self.fitted += 1
            if self.tried == self.PROBE and self.fitted < self.PROBE * self.MIN_SHARE:
                self.enabled = False
            if value is not None:
                return value
        return _PLAIN.decode(raw)


def _flatten_one(
    sink: TableSink,
    record: Decoded,
    to_rows: RowFunction,
    ctx: RecordContext,
    unknown: _UnknownKinds,
) -> None:
    value = record.value
    if record.error is not None:
        sink.reject(reject_row(record, ctx, f"invalid JSON: {record.error}"))
    elif not isinstance(value, dict):
        sink.reject(reject_row(record, ctx, "record is not a JSON object"))
    else:
        try:
            rows = to_rows(value, ctx)
        except TransformError as exc:
            sink.reject(reject_row(record, ctx, str(exc)))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            sink.reject(reject_row(record, ctx, f"malformed record ({type(exc).__name__})"))
        else:
            sink.add(rows, record.position, record.raw)
            unknown.see(rows, record.position)


def _reject_maker(ctx: RecordContext) -> Callable[[int, bytes, str], Row]:
    def make(position: int, raw: bytes, error: str) -> Row:
        try:
            value = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            value = None
        return reject_row(Decoded(position, raw, value, None), ctx, error)

    return make


def reject_row(record: Decoded, ctx: RecordContext, error: str) -> Row:
    """A rejects row: the reason, the position, any ids found and the raw record."""
    label_id, data_row_id = _ids(record.value)
    return {
        "project_id": ctx.project_id,
        "position": record.position,
        "label_id": label_id,
        "data_row_id": data_row_id,
        "error": error,
        "raw": record.raw.decode("utf-8", errors="replace"),
    }


def _ids(value: Any) -> tuple[str | None, str | None]:
    if not isinstance(value, dict):
        return None, None
    label_id = value.get("ID")
    data_row_id = value.get("DataRow ID")
    data_row = value.get("data_row")
    if isinstance(data_row, dict):
        data_row_id = data_row.get("id")
    return (
        label_id if isinstance(label_id, str) else None,
        data_row_id if isinstance(data_row_id, str) else None,
    )


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (decoded records hold no cycles; ~3x faster)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
