"""Per-project constants and the format-neutral *views* of a data row and a label.

A view gathers every fact an export record needs (ids, times, reviews, workflow steps, data-row
attributes, content) from the compact state; the v1 and v2 renderers only spell views out.
URLs the emulator's HTTP server must serve start with the literal placeholder ``{base_url}``
(see :data:`BASE_URL`); the server replaces it with its own address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from labelbox_provider.emulator.world.content import (
    DICOM_FRAME_COUNT,
    VIDEO_FRAME_COUNT,
    LabelContent,
    generate,
)
from labelbox_provider.emulator.world.conversations import chat_evaluation, conversation
from labelbox_provider.emulator.world.geometry import MESSAGE_COUNT, PAGE_COUNT, message_id
from labelbox_provider.emulator.world.ids import EntityIds, b36, digest, hashed_id, hashed_uuid
from labelbox_provider.emulator.world.ontology import Ontology
from labelbox_provider.emulator.world.timeline import ProjectState, Review, Step

BASE_URL = "{base_url}"  # placeholder the server replaces with its own scheme://host:port
BATCH_SIZE = 1000  # data rows per simulated batch
CONVERSATIONAL = "application/vnd.labelbox.conversational"  # SDK recorded row (mocked export)
MMC = CONVERSATIONAL + ".model-chat-evaluation"  # the row data's "type" [inferred as MIME]
# media type -> (file extension, v2 media_attributes without per-row sizes)
_MEDIA: dict[str, tuple[str, dict[str, Any]]] = {
    "IMAGE": ("jpg", {"mime_type": "image/jpeg", "exif_rotation": "1"}),
    "VIDEO": (
        "mp4",
        {"mime_type": "video/mp4", "frame_rate": 30, "frame_count": VIDEO_FRAME_COUNT},
    ),
    "TEXT": ("txt", {"mime_type": "text/plain"}),
    "GEOSPATIAL_TILE": ("json", {"mime_type": "application/json"}),
    "AUDIO": ("mp3", {"mime_type": "audio/mpeg", "duration": 12.5}),
    "PDF": ("pdf", {"mime_type": "application/pdf", "page_count": PAGE_COUNT}),
    "CONVERSATIONAL": ("json", {"asset_type": "conversational", "mime_type": CONVERSATIONAL}),
    "DICOM": ("dcm", {"mime_type": "application/dicom", "frame_count": DICOM_FRAME_COUNT}),
    "HTML": ("html", {"mime_type": "text/html"}),
    # [inferred] media attributes of LLM projects: not in any recorded fixture
    "LLM_PROMPT_CREATION": ("txt", {"mime_type": "text/plain"}),
    "LLM_PROMPT_RESPONSE_CREATION": ("txt", {"mime_type": "text/plain"}),
    "LLM_RESPONSE_CREATION": ("txt", {"mime_type": "text/plain"}),
    "MODEL_CHAT_EVALUATION": ("json", {"asset_type": "conversational", "mime_type": MMC}),
}
INLINE_ROW_DATA = ("CONVERSATIONAL", "MODEL_CHAT_EVALUATION")  # v2 row_data: the JSON inline


@dataclass
class ProjectCtx:
    """Everything constant about one project."""

    seed: int
    key: str  # stable project key used in every hash
    id: str
    name: str
    media_type: str
    created_at: int  # ms
    ontology: Ontology
    dataset_id: str
    dataset_name: str
    org_id: str
    users: list[dict[str, Any]]  # user number -> {"id", "email", ...}
    planned_labels: int = 0  # labels of the initial history
    state: ProjectState = field(default_factory=ProjectState)
    labels: EntityIds = field(init=False)
    rows: EntityIds = field(init=False)

    def __post_init__(self) -> None:
        self.state.salt = f"{self.seed}|{self.key}"
        self.labels = EntityIds(self.seed, self.key, "label")
        self.rows = EntityIds(self.seed, self.key, "datarow")

    def task_id(self, task: int) -> str:
        """Workflow task id (a UUID in real exports)."""
        return self._task_ids[task]

    @cached_property
    def _task_ids(self) -> list[str]:
        return [hashed_uuid(self.seed, self.key, "task", t) for t in range(4)]

    @cached_property
    def metadata_schema_id(self) -> str:
        """Schema id stem of the custom metadata fields."""
        return hashed_id(self.seed, self.org_id, "metadata")

    def email(self, user: int) -> str:
        """E-mail of user number ``user``."""
        return str(self.users[user % len(self.users)]["email"])


@dataclass
class RowView:
    """The facts of one data row in a snapshot."""

    ctx: ProjectCtx
    st: ProjectState
    d: int

    @cached_property
    def id(self) -> str:
        return self.ctx.rows.make(self.d)

    @cached_property
    def global_key(self) -> str | None:
        h = digest(self.ctx.seed, self.ctx.key, "gk", self.d)
        return None if h % 10 == 0 else f"{self.ctx.media_type.lower()}-{self.d:07d}-{b36(h, 6)}"

    @property
    def external_id(self) -> str:
        return f"{self.ctx.media_type.lower()}_{self.d:07d}.{_MEDIA[self.ctx.media_type][0]}"

    @property
    def row_data(self) -> str:
        if self.ctx.media_type == "GEOSPATIAL_TILE":
            lng = -122.4 + (self.d % 100) / 1000
            return (
                '{"tileLayerUrl": "https://tiles.emulator.invalid/{z}/{x}/{y}.png", '
                f'"bounds": [[37.7, {lng:.3f}], [37.8, {lng + 0.05:.3f}]], '
                '"minZoom": 12, "maxZoom": 20, "epsg": "EPSG4326"}'
            )
        sig = b36(digest(self.ctx.seed, "sig", self.id), 27)
        return (
            f"https://storage.labelbox.com/{self.ctx.org_id}%2F"
            f"{hashed_uuid(self.ctx.seed, 'asset', self.id)}-{self.external_id}"
            f"?Expires=1893456000000&KeyName=labelbox-assets-key-3&Signature={sig}"
        )

    def media_attributes(self) -> dict[str, Any]:
        attrs = dict(_MEDIA[self.ctx.media_type][1])
        if self.ctx.media_type in ("IMAGE", "VIDEO"):
            attrs = {"height": 480 + self.d % 7 * 120, "width": 640 + self.d % 5 * 160, **attrs}
        if self.ctx.media_type == "CONVERSATIONAL":
            attrs["labelable_ids"] = [message_id(m) for m in range(MESSAGE_COUNT)]
            attrs["message_count"] = MESSAGE_COUNT
        return attrs

    @property
    def v2_row_data(self) -> str:
        """``data_row.row_data`` in v2: conversations inline (a JSON string), else the URL."""
        if self.ctx.media_type == "CONVERSATIONAL":
            return json.dumps(conversation(self.d))
        if self.ctx.media_type == "MODEL_CHAT_EVALUATION":
            return json.dumps(chat_evaluation(self.d))
        return self.row_data

    def metadata(self) -> list[tuple[str, str, Any]]:
        """``(schema id, schema name, value)`` of each custom metadata field, one of each kind
        (spec: metadata fields are string, number, datetime or enum): ``value`` is a str, a
        float, an int of epoch milliseconds for the datetime, and ``(option schema id, option
        name)`` for the enum. The renderers spell each kind in their format."""
        version = self.st.d_meta[self.d]
        option = digest("split", self.ctx.key, self.d) % 3
        split = ("train", "valid", "test")[option]
        sid = self.ctx.metadata_schema_id
        out: list[tuple[str, str, Any]] = [
            (sid + "s", "split", (f"{sid}o{option}", split)),
            (sid + "q", "quality", digest("quality", self.ctx.key, self.d) % 1000 / 10),
            (sid + "c", "captured_at", self.st.d_created[self.d] // 1000 * 1000 - 86_400_000),
            (sid + "n", "camera", f"cam-{self.d % 4}"),
        ]
        if version:
            out.append((sid + "v", "revision", f"rev-{version}"))
        return out

    def attachments(self) -> list[dict[str, str]]:
        if digest("att", self.ctx.key, self.d) % 3:
            return []
        return [{"type": "RAW_TEXT", "value": f"Operator note for row {self.d}", "name": "note"}]

    @property
    def batch(self) -> tuple[str, str]:
        n = self.d // BATCH_SIZE
        return hashed_uuid(self.ctx.seed, self.ctx.key, "batch", n), f"batch-{n:04d}"

    def steps(self) -> list[Step]:
        """Workflow history, **newest first**."""
        return sorted(self.st.steps_of(self.d), key=lambda s: s.at, reverse=True)

    def live_labels(self) -> list[int]:
        return [i for i in self.st.labels_of(self.d) if self.st.l_state[i] == 0]


@dataclass
class LabelView:
    """The facts of one label in a snapshot."""

    ctx: ProjectCtx
    st: ProjectState
    i: int
    row: RowView

    @cached_property
    def id(self) -> str:
        return self.ctx.labels.make(self.i)

    @cached_property
    def content(self) -> LabelContent:
        skipped = bool(self.st.l_skipped[self.i])
        return generate(
            self.ctx.seed, self.id, self.st.l_version[self.i], self.ctx.ontology, skipped
        )

    @property
    def created_by(self) -> str:
        return self.ctx.email(self.st.l_by[self.i])

    def reviews(self) -> list[Review]:
        st, i = self.st, self.i
        out = list(st.l_reviews.get(i, ()))
        if st.l_rev_at[i]:
            first = Review(hashed_id(self.id, "review", 0), st.l_rev_score[i], st.l_rev_at[i], 0)
            out.insert(0, first)
        return out

    @cached_property
    def _h(self) -> int:
        return digest(self.ctx.seed, "perf", self.id)

    @property
    def seconds_to_label(self) -> float:
        return round(5 + (self._h % 300_000) / 1000, 3)

    @property
    def seconds_to_review(self) -> float:
        return round((self._h >> 20) % 120_000 / 1000, 3) if self.reviews() else 0.0

    def agreement(self) -> tuple[float, float, str | None]:
        """(Agreement, Benchmark Agreement, Benchmark ID); -1 / None when not applicable."""
        labels = self.row.live_labels()
        consensus = round((self._h >> 40) % 1000 / 1000, 3) if len(labels) > 1 else -1
        if digest(self.ctx.key, "bench", self.row.d) % 8 or not labels:
            return consensus, -1, None
        bench = labels[0]
        score = 1.0 if bench == self.i else round((self._h >> 50) % 1000 / 1000, 3)
        return consensus, score, self.ctx.labels.make(bench)
