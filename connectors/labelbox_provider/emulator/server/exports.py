"""Export jobs: records from the world are rendered to a spool file by a background thread.

An export v1 file is one JSON array (``[\\n`` + records joined by ``,\\n`` + ``]\\n``, compact
separators, as in real files); an export v2 stream is NDJSON (one data row per line,
``", "``/``": "`` separators as in real files) plus an ERRORS stream. Nothing is held in memory
but one record and, for NDJSON, the end offset of each line (8 bytes a line) so chunks can
report line numbers.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import msgspec

from labelbox_provider.emulator.faults import FaultPlan

__all__ = ["ExportJob", "Spool", "corrupt_record", "filter_key", "render_v1", "render_v2"]

Fate = Literal["ok", "stuck", "failed"]


class Spool:
    """One file being written by a background thread; readable once `done` is set."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done = threading.Event()
        self.size = 0
        self.error: str | None = None
        self._line_ends = array("Q")  # byte offset of the "\n" that ends each NDJSON line

    @property
    def lines(self) -> int:
        """Number of NDJSON lines written."""
        return len(self._line_ends)

    def write(self, pieces: Iterable[bytes], *, ndjson: bool) -> None:
        """Write all pieces (each an NDJSON line when `ndjson`), then mark the spool done."""
        try:
            with self.path.open("wb") as out:
                for piece in pieces:
                    out.write(piece)
                    self.size += len(piece)
                    if ndjson:
                        self._line_ends.append(self.size - 1)
        except Exception as exc:  # surfaced as a failed export, never swallowed silently
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.done.set()

    def line_of(self, offset: int) -> int:
        """The 0-based NDJSON line that holds byte `offset`."""
        return bisect_left(self._line_ends, offset)

    def offset_of_line(self, line: int) -> int:
        """The byte offset where NDJSON line `line` starts."""
        return 0 if line <= 0 else int(self._line_ends[line - 1]) + 1


@dataclass
class ExportJob:
    """One export (v1 file or v2 task) and the state of its polling."""

    id: str  # export / task id
    kind: Literal["v1", "v2"]  # export format
    project_id: str  # exported project
    key: str  # project + filter key (v1 cache key)
    created_at: datetime  # simulated creation time
    fate: Fate  # ok, or stuck / failed by an injected fault
    result: Spool  # the export file / RESULT stream
    errors: Spool | None = None  # the ERRORS stream (v2)
    name: str | None = None  # task name (v2)
    polls_needed: int = 0  # status reads answered "in progress" before "done"
    polls: int = 0  # status reads so far
    created_mono: float = field(default_factory=time.monotonic)  # real creation time

    def poll(self, ready_wait: float = 2.0) -> str:
        """Count one status read, then return `status`."""
        self.polls += 1
        return self.status(ready_wait)

    def status(self, ready_wait: float = 0.0) -> str:
        """ "in_progress", "complete" or "failed" (waits up to `ready_wait` for the spools)."""
        if self.fate == "stuck" or self.polls <= self.polls_needed:
            return "in_progress"
        if self.fate == "failed":
            return "failed"
        spools = [s for s in (self.result, self.errors) if s is not None]
        if not all(s.done.wait(ready_wait) for s in spools):
            return "in_progress"
        return "failed" if any(s.error for s in spools) else "complete"

    def stream(self, stream_type: str) -> Spool | None:
        """The spool of a stream type ("RESULT" or "ERRORS")."""
        return {"RESULT": self.result, "ERRORS": self.errors}.get(stream_type)


def _v1_pieces(records: Iterable[bytes]) -> Iterator[bytes]:
    yield b"[\n"
    first = True
    for record in records:
        yield record if first else b",\n" + record
        first = False
    yield b"]\n"


def _rendered(
    records: Iterable[dict[str, Any]],
    encode: Callable[[dict[str, Any]], bytes],
    base_url: bytes,
    faults: FaultPlan | None,
    tag: str,
) -> Iterator[bytes]:
    for index, record in enumerate(records):
        rendered = record
        if faults is not None and faults.decide(["record", tag], kinds=["malformed_record"]):
            rendered = corrupt_record(record, index)
        yield encode(rendered).replace(b"{base_url}", base_url)


def _encode_v2(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def render_v1(
    records: Iterable[dict[str, Any]], base_url: str, faults: FaultPlan | None = None
) -> Iterator[bytes]:
    """The bytes of an export v1 JSON array file."""
    encoded = _rendered(records, msgspec.json.encode, base_url.encode(), faults, "record:v1")
    return _v1_pieces(encoded)


def render_v2(
    records: Iterable[dict[str, Any]], base_url: str, faults: FaultPlan | None = None
) -> Iterator[bytes]:
    """The NDJSON lines of an export v2 stream."""
    return _rendered(records, _encode_v2, base_url.encode(), faults, "record:v2")


def corrupt_record(record: dict[str, Any], index: int) -> dict[str, Any]:
    """A copy of `record` broken in one of several ways (chosen by `index`).

    >>> sorted(corrupt_record({"ID": "a", "Label": {}}, 0))
    ['Label']
    """
    broken = dict(record)
    variant = index % 4
    if "data_row" in broken:  # export v2 record
        if variant == 0:
            broken["data_row"] = {k: v for k, v in broken["data_row"].items() if k != "id"}
        elif variant == 1:
            broken["projects"] = "projects"
        elif variant == 2:
            broken["data_row"] = ["not", "an", "object"]
        else:
            broken["media_attributes"] = 12345
        return broken
    if variant == 0:
        broken.pop("ID", None)
    elif variant == 1:
        broken["Label"] = "not a label object"
    elif variant == 2:
        broken["Created At"] = 1234567890
    else:
        broken["Seconds to Label"] = "fast"
    return broken


def start_spool(spool: Spool, pieces: Iterable[bytes], *, ndjson: bool, lock: Any) -> None:
    """Write `pieces` to `spool` in a daemon thread, holding the world `lock` meanwhile."""

    def run() -> None:
        with lock:
            spool.write(pieces, ndjson=ndjson)

    threading.Thread(target=run, name=f"spool-{spool.path.name}", daemon=True).start()


def filter_key(flt: Any) -> str:
    """A stable text key of a filter (exports are cached per distinct filter set)."""
    parts = []
    for spec in sorted(dataclasses.fields(flt), key=lambda f: f.name):
        name, value = spec.name, getattr(flt, spec.name)
        shown = sorted(value) if isinstance(value, frozenset) else value
        parts.append(f"{name}={shown!r}")
    return ";".join(parts)
