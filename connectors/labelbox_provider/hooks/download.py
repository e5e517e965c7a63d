"""Streaming downloads to spool files, with byte checks and resume.

* v2: chunks are fetched by offset; every chunk's byte length is checked against its inclusive
  offset range before the next offset is asked for.  ``<dest>.part`` only grows by verified
  chunks and ``<dest>.offset`` records the last verified offset, so a failed chunk (or a new
  call after a crash) resumes there instead of starting over.
* v1: the whole file streams from one signed URL; a broken transfer resumes with an HTTP
  ``Range`` request when the server still serves the same export file, else restarts.

Memory stays bounded by ``chunk_bytes``: nothing holds a whole export.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec
import requests
import urllib3

from labelbox_provider.exceptions import (
    LabelboxDownloadError,
    LabelboxError,
    LabelboxTransportError,
)
from labelbox_provider.hooks.export_v1 import ExportV1Status
from labelbox_provider.hooks.export_v2 import Chunk, StreamHeader
from labelbox_provider.hooks.redact import redact
from labelbox_provider.hooks.retry import RetryPolicy, call_with_retry
from labelbox_provider.hooks.transport import SyncTransport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownloadResult:
    """A finished, verified download."""

    path: Path  # the spool file holding the export
    size: int  # bytes written (== the header's totalSize for v2)
    fmt: str  # "ndjson" (v2) or "json" (v1 array)
    export_id: str  # v2 task id, or the v1 export's createdAt
    lines: int | None = None  # NDJSON lines announced by the v2 header
    fetches: int = 0  # successful chunk/file GETs
    failed_fetches: int = 0  # GETs that failed and were retried (resumed)


def copy_body(resp: requests.Response, fp: IO[bytes], chunk_bytes: int, limit: int | None) -> int:
    """Stream a response body into ``fp``; stop early once more than ``limit`` bytes came."""
    written = 0
    try:
        for block in resp.iter_content(chunk_bytes):
            fp.write(block)
            written += len(block)
            if limit is not None and written > limit:
                break
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise LabelboxTransportError(
            f"transfer broken after {written} bytes: {redact(exc)}"
        ) from None
    finally:
        resp.close()
    return written


def _read_mark(part: Path, mark: Path, identity: str) -> int:
    """The last verified offset of an earlier, unfinished download of the same stream, else 0.

    The mark holds ``<identity> <offset>``; a mark left by another task or stream is ignored.
    """
    if not part.exists() or not mark.exists():
        return 0
    owner, _, number = mark.read_text().strip().rpartition(" ")
    if owner != identity or not number.isdigit():
        return 0
    offset = int(number)
    return offset if offset <= part.stat().st_size else 0


class ChunkedDownload:
    """Download one v2 stream chunk by chunk into ``dest`` (see the module docstring)."""

    def __init__(
        self,
        transport: SyncTransport,
        get_chunk: Callable[[int], Chunk],
        header: StreamHeader,
        policy: RetryPolicy,
        chunk_bytes: int,
        *,
        stream_type: str = "RESULT",
    ) -> None:
        self.transport = transport
        self.get_chunk = get_chunk
        self.stream_type = stream_type
        self.header = header
        self.policy = policy
        self.chunk_bytes = chunk_bytes
        self.fetches = 0
        self.failed = 0

    def _one(self, fp: IO[bytes], offset: int) -> int:
        """Fetch the chunk at ``offset`` (fresh URL each try); keep it only if its size fits."""
        chunk = self.get_chunk(offset)
        if chunk.end >= self.header.total_size:
            raise LabelboxError(
                f"chunk {chunk.start}-{chunk.end} runs past totalSize {self.header.total_size}"
            )
        try:
            resp = self.transport.get_stream(chunk.url, signed=True)
            got = copy_body(resp, fp, self.chunk_bytes, chunk.size)
            if got != chunk.size:
                raise LabelboxDownloadError(
                    f"chunk {chunk.start}-{chunk.end} from {chunk.url_redacted}: "
                    f"{got} bytes, expected {chunk.size}"
                )
        except Exception:
            self.failed += 1
            fp.seek(offset)
            fp.truncate(offset)
            raise
        self.fetches += 1
        return chunk.size

    def _fetch_verified(self, fp: IO[bytes], offset: int, task_id: str) -> int:
        """The chunk at ``offset``, retried until verified or the budget is spent."""
        what = f"export {task_id} chunk at byte {offset}"
        return call_with_retry(lambda: self._one(fp, offset), self.policy, what)

    def run(self, dest: Path, task_id: str) -> DownloadResult:
        """Download the whole stream, resuming from ``<dest>.offset`` if present."""
        part = dest.with_name(dest.name + ".part")
        mark = dest.with_name(dest.name + ".offset")
        identity = f"{task_id}/{self.stream_type}/{self.header.total_size}"
        offset = _read_mark(part, mark, identity)
        if offset:
            log.info("resuming export %s download at byte %d", task_id, offset)
        with open(part, "r+b" if offset else "wb") as fp:
            fp.seek(offset)
            fp.truncate(offset)
            while offset < self.header.total_size:
                offset += self._fetch_verified(fp, offset, task_id)
                fp.flush()
                mark.write_text(f"{identity} {offset}")
        os.replace(part, dest)
        mark.unlink(missing_ok=True)
        return DownloadResult(
            dest, offset, "ndjson", task_id, self.header.total_lines, self.fetches, self.failed
        )


def _check_json_array(fp: IO[bytes]) -> None:
    """Cheap framing check of a v1 file: first and last non-blank bytes are ``[`` and ``]``."""
    size = fp.seek(0, os.SEEK_END)
    fp.seek(0)
    head = fp.read(min(size, 4096)).lstrip()
    fp.seek(max(0, size - 4096))
    tail = fp.read().rstrip()
    if not head.startswith(b"[") or not tail.endswith(b"]"):
        raise LabelboxDownloadError(f"export file of {size} bytes is not a complete JSON array")


def _resumes_at(resp: requests.Response, pos: int) -> bool:
    """True when a ranged GET answered 206 with the body starting at byte ``pos``."""
    if resp.status_code != 206:
        return False
    content_range = resp.headers.get("content-range", "")
    return content_range.startswith(f"bytes {pos}-")


class V1Download:
    """Download a v1 export file; on failure ask for a fresh URL and resume with ``Range``."""

    def __init__(
        self,
        transport: SyncTransport,
        refresh: Callable[[], ExportV1Status],
        first: ExportV1Status,
        policy: RetryPolicy,
        chunk_bytes: int,
    ) -> None:
        self.transport = transport
        self.refresh = refresh
        self.status = first
        self.policy = policy
        self.chunk_bytes = chunk_bytes
        self.fetches = 0
        self.failed = 0

    def _renew(self, fp: IO[bytes]) -> None:
        fresh = self.refresh()
        if not fresh.ready:
            raise LabelboxDownloadError("asked for a fresh download URL; export not ready yet")
        same_file = (fresh.created_at, fresh.download_url_redacted) == (
            self.status.created_at,
            self.status.download_url_redacted,
        )
        if not same_file:
            fp.seek(0)
            fp.truncate(0)  # a different export file: earlier bytes do not belong to it
        self.status = fresh

    def _fetch(self, fp: IO[bytes]) -> None:
        """GET the file (resuming with ``Range`` past the bytes already spooled)."""
        pos = fp.seek(0, os.SEEK_END)
        headers = {"Range": f"bytes={pos}-"} if pos else None
        resp = self.transport.get_stream(
            self.status.download_url or "", signed=True, headers=headers
        )
        if pos and not _resumes_at(resp, pos):
            fp.seek(0)
            fp.truncate(0)  # the server ignored Range: take the whole body again
            if resp.status_code == 206:
                resp.close()
                raise LabelboxDownloadError("the server resumed at the wrong byte; restarting")
        copy_body(resp, fp, self.chunk_bytes, None)
        fp.flush()

    def _attempt(self, fp: IO[bytes]) -> int:
        try:
            if self.failed:
                self._renew(fp)
            self._fetch(fp)
        except Exception:
            self.failed += 1
            raise
        try:
            _check_json_array(fp)
        except LabelboxDownloadError:
            self.failed += 1
            fp.seek(0)
            fp.truncate(0)  # complete but wrong: nothing of it can be trusted
            raise
        self.fetches += 1
        return fp.seek(0, os.SEEK_END)

    def run(self, dest: Path) -> DownloadResult:
        """Download to ``<dest>.part`` then rename to ``dest``."""
        part = dest.with_name(dest.name + ".part")
        what = f"v1 export of project {self.status.project_id}"
        try:
            with open(part, "w+b") as fp:
                size = call_with_retry(lambda: self._attempt(fp), self.policy, what)
        except BaseException:
            part.unlink(missing_ok=True)  # v1 cannot resume across calls: leave nothing behind
            raise
        os.replace(part, dest)
        export_id = self.status.created_at or ""
        return DownloadResult(dest, size, "json", export_id, None, self.fetches, self.failed)


def iter_ndjson(path: Path) -> Iterator[dict[str, Any]]:
    """Yield each line of an NDJSON file as a dict, one line in memory at a time."""
    decoder = msgspec.json.Decoder()
    with open(path, "rb") as fp:
        for number, line in enumerate(fp, start=1):
            if not line.strip():
                continue
            try:
                record = decoder.decode(line)
            except msgspec.DecodeError as exc:
                raise LabelboxError(f"{path.name} line {number} is not JSON: {exc}") from None
            if not isinstance(record, dict):
                raise LabelboxError(f"{path.name} line {number} is not a JSON object")
            yield record
