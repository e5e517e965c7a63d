"""Export v1 (``exportLabels``) and video frames methods of the hook."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from labelbox_provider.exceptions import LabelboxError
from labelbox_provider.hooks._core import HookCore
from labelbox_provider.hooks._dates import DateInput
from labelbox_provider.hooks._download import DownloadResult, V1Download
from labelbox_provider.hooks._frames import FrameItem, FramesDownload, iter_frame_urls
from labelbox_provider.hooks._frames import iter_v2_frames as _iter_v2_frames
from labelbox_provider.hooks._v1 import ExportV1Status, parse_v1_answer, v1_query
from labelbox_provider.hooks._v1 import validate_v1_filters as _v1_filters


class ExportV1Methods(HookCore):
    """Export v1 and video: one ``exportLabels`` call, polled downloads, frames files."""

    def request_export_v1(
        self,
        project_id: str,
        *,
        start: DateInput = None,
        end: DateInput = None,
        last_activity_start: DateInput = None,
        last_activity_end: DateInput = None,
    ) -> ExportV1Status:
        """Send one ``exportLabels`` call (the server answers "poll again" or a URL)."""
        query = v1_query(_v1_filters(start, end, last_activity_start, last_activity_end))
        data = self._gql(query, {"projectId": project_id}, f"v1 export of {project_id}")
        return parse_v1_answer(project_id, data)

    async def arequest_export_v1(
        self,
        project_id: str,
        *,
        start: DateInput = None,
        end: DateInput = None,
        last_activity_start: DateInput = None,
        last_activity_end: DateInput = None,
    ) -> ExportV1Status:
        """Async :meth:`request_export_v1` for the triggerer."""
        query = v1_query(_v1_filters(start, end, last_activity_start, last_activity_end))
        data = await self._agql(query, {"projectId": project_id}, f"v1 export of {project_id}")
        return parse_v1_answer(project_id, data)

    def download_export_v1(
        self,
        project_id: str,
        dest: Path,
        *,
        start: DateInput = None,
        end: DateInput = None,
        last_activity_start: DateInput = None,
        last_activity_end: DateInput = None,
        timeout: float = 1800,
        poll_interval: float = 2,
    ) -> DownloadResult:
        """Poll ``exportLabels`` until ready (or raise after ``timeout``), then stream the file.

        A failed, expired or truncated transfer asks for a fresh URL and resumes.
        """
        filters = _v1_filters(start, end, last_activity_start, last_activity_end)
        query = v1_query(filters)

        def ask() -> ExportV1Status:
            data = self._gql(query, {"projectId": project_id}, f"v1 export of {project_id}")
            return parse_v1_answer(project_id, data)

        status = self._poll(ask, lambda s: s.ready, timeout, poll_interval)
        download = V1Download(
            self.transport,
            ask,
            status,
            self.settings.retry_policy,
            self.settings.download_chunk_bytes,
        )
        result = download.run(Path(dest))
        self.log.info("v1 export of %s: %d bytes", project_id, result.size)
        return result

    def label_generator(self, project_id: str, **filters: Any) -> Iterator[dict[str, Any]]:
        """Yield the v1 records of a project one by one from a spooled download.

        ``filters`` are those of :meth:`download_export_v1` (dates, ``timeout``...).
        """
        import msgspec

        from labelbox_provider.io.jsonstream import iter_raw_records

        decoder = msgspec.json.Decoder()
        with tempfile.TemporaryDirectory(prefix="lbx-v1-") as tmp:
            result = self.download_export_v1(project_id, Path(tmp) / "export.json", **filters)
            with open(result.path, "rb") as fp:
                for position, raw in iter_raw_records(fp, "auto"):
                    try:
                        yield decoder.decode(raw)
                    except msgspec.DecodeError as exc:
                        raise LabelboxError(f"v1 record {position} is not JSON: {exc}") from None

    # -- video -----------------------------------------------------------------------------------

    def download_v1_frames(
        self, export_file: Path, frames_dir: Path, *, max_workers: int | None = None
    ) -> int:
        """Fetch every ``Label.frames`` file named in a spooled v1 export.

        Writes ``<frames_dir>/<label id>.ndjson``; at most ``max_workers`` (default: the
        ``frames_workers`` setting) transfers at a time.  Returns the number of files written.
        """
        workers = max_workers or self.settings.frames_workers
        frames = FramesDownload(
            self.transport, self.settings.retry_policy, self.settings.download_chunk_bytes
        )
        return frames.run(iter_frame_urls(Path(export_file)), Path(frames_dir), workers)

    @staticmethod
    def iter_v2_frames(
        record: Mapping[str, Any], *, include_classifications: bool = False
    ) -> Iterator[FrameItem]:
        """Yield ``(frame_number, feature_id, annotation)`` from a v2 video label or record."""
        return _iter_v2_frames(record, include_classifications=include_classifications)
