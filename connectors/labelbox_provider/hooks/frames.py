"""Video frames: the v1 ``Label.frames`` NDJSON files, and the frames inside v2 video labels.

v1 frames files are fetched with the API key (``Authorization: Bearer``), a bounded number at a
time, each streamed to ``<frames_dir>/<label id>.ndjson``.  The key is only sent to the API's own
host (the endpoint's host or ``*.labelbox.com``), never to a foreign host named in a file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import msgspec

from labelbox_provider.exceptions import LabelboxError
from labelbox_provider.hooks.download import copy_body
from labelbox_provider.hooks.retry import RetryPolicy, call_with_retry
from labelbox_provider.hooks.transport import SyncTransport

_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # label ids become file names: cuid characters only


class FrameItem(NamedTuple):
    """One annotation on one frame of a v2 video label."""

    frame_number: int  # frame number as in the export (frames count from 1)
    feature_id: str  # the annotation's feature id
    annotation: dict[str, Any]  # the object (or frame classification) as exported


def iter_frame_urls(export_file: Path) -> Iterator[tuple[str, str]]:
    """Yield ``(label_id, frames_url)`` for every v1 record whose ``Label.frames`` is a URL."""
    from labelbox_provider.io.jsonstream import iter_raw_records

    decoder = msgspec.json.Decoder()
    with open(export_file, "rb") as fp:
        for _, raw in iter_raw_records(fp, "auto"):
            try:
                record = decoder.decode(raw)
            except msgspec.DecodeError:
                continue  # a malformed record is the flattener's to reject, not ours
            label = record.get("Label") if isinstance(record, dict) else None
            frames = label.get("frames") if isinstance(label, dict) else None
            label_id = record.get("ID")
            if isinstance(frames, str) and frames.startswith("http") and isinstance(label_id, str):
                yield label_id, frames


def key_allowed(url: str, endpoint: str) -> bool:
    """May the API key be sent to ``url``?  Only to the endpoint's host or Labelbox's."""
    host = (urlsplit(url).hostname or "").lower()
    api_host = (urlsplit(endpoint).hostname or "").lower()
    return host in (api_host, "labelbox.com") or host.endswith(".labelbox.com")


class FramesDownload:
    """Fetch v1 frames files with at most ``max_workers`` transfers in flight."""

    def __init__(self, transport: SyncTransport, policy: RetryPolicy, chunk_bytes: int) -> None:
        self.transport = transport
        self.policy = policy
        self.chunk_bytes = chunk_bytes

    def fetch_one(self, label_id: str, url: str, frames_dir: Path) -> Path:
        """Download one frames file (retried) to ``<frames_dir>/<label_id>.ndjson``."""
        if not _SAFE_ID.fullmatch(label_id):
            raise LabelboxError(f"label id {label_id[:40]!r} is not a safe file name")
        dest = frames_dir / f"{label_id}.ndjson"
        part = dest.with_name(dest.name + ".part")
        signed = not key_allowed(url, self.transport.settings.endpoint)

        def attempt() -> None:
            resp = self.transport.get_stream(url, signed=signed)
            with open(part, "wb") as fp:
                copy_body(resp, fp, self.chunk_bytes, None)

        call_with_retry(attempt, self.policy, f"frames of label {label_id}")
        os.replace(part, dest)
        return dest

    def run(self, items: Iterable[tuple[str, str]], frames_dir: Path, max_workers: int) -> int:
        """Download every ``(label_id, url)``; return the number of files written."""
        if max_workers < 1:
            raise LabelboxError("max_workers must be at least 1")
        frames_dir.mkdir(parents=True, exist_ok=True)
        done = 0
        pending: set[Future[Path]] = set()
        with ThreadPoolExecutor(max_workers, thread_name_prefix="lbx-frames") as pool:
            for label_id, url in items:
                pending.add(pool.submit(self.fetch_one, label_id, url, frames_dir))
                if len(pending) >= 2 * max_workers:  # bound the queue, not only the workers
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    done += _settle(finished)
            done += _settle(pending)
        return done


def _settle(futures: Iterable[Future[Path]]) -> int:
    """Count finished transfers; re-raise the first failure."""
    return len([future.result() for future in futures])


def _labels_of(record: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    if "annotations" in record:
        yield record
        return
    for project in (record.get("projects") or {}).values():
        yield from project.get("labels") or []


def iter_v2_frames(
    record: Mapping[str, Any], *, include_classifications: bool = False
) -> Iterator[FrameItem]:
    """Yield a :class:`FrameItem` per object on each frame of a v2 video label.

    ``record`` is one v2 label (``{"annotations": {"frames": ...}}``) or a whole v2 data-row
    record, whose labels are all visited.  Frame keys (strings on the wire) become ints, in
    ascending order.  With ``include_classifications``, frame-level classifications follow the
    objects of their frame.
    """
    for label in _labels_of(record):
        frames = (label.get("annotations") or {}).get("frames") or {}
        for key in sorted(frames, key=int):
            frame = frames[key] or {}
            number = int(key)
            objects = frame.get("objects") or {}
            for feature_id, obj in objects.items():
                yield FrameItem(number, str(feature_id), obj)
            if include_classifications:
                for cls in frame.get("classifications") or []:
                    yield FrameItem(number, str(cls.get("feature_id", "")), cls)
