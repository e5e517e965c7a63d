"""Plain data types of the world's public API (re-exported by the ``world`` package)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ALL_MEDIA_TYPES = (
    "IMAGE", "VIDEO", "TEXT", "GEOSPATIAL_TILE", "AUDIO", "PDF", "CONVERSATIONAL", "DICOM", "HTML",
)  # fmt: skip
# LLM data projects (v2 export only; not in a default world): prompt / response creation and
# multimodal chat evaluation.
LLM_MEDIA_TYPES = (
    "LLM_PROMPT_CREATION", "LLM_PROMPT_RESPONSE_CREATION", "LLM_RESPONSE_CREATION",
    "MODEL_CHAT_EVALUATION",
)  # fmt: skip
EVENT_KINDS = (
    "label_created", "label_updated", "label_deleted", "review_applied", "workflow_moved",
    "issue_created", "issue_updated", "issue_deleted", "comment_created", "comment_updated",
    "comment_deleted", "metadata_updated",
)  # fmt: skip
V1_ERAS = ("2019", "2020", "2021", "2022", "2023")  # 2019: class-keyed Label (image)


@dataclass(frozen=True)
class ExportFilter:
    """Export filters, already parsed by the server from either API (all bounds inclusive)."""

    label_created: tuple[datetime | None, datetime | None] | None = None  # label created_at
    last_activity: tuple[datetime | None, datetime | None] | None = None  # data row activity
    data_row_ids: frozenset[str] | None = None  # data row ids
    global_keys: frozenset[str] | None = None  # data row global keys
    workflow_status: str | None = None  # "ToLabel" | "InReview" | "InRework" | "Done"
    batch_ids: frozenset[str] | None = None  # batch ids


@dataclass(frozen=True)
class V2Params:
    """The ``params`` of ``exportDataRowsInProject`` (each adds keys to v2 records)."""

    include_data_row_details: bool = False  # data_row.details
    include_label_details: bool = False  # labels[].label_details
    include_performance_details: bool = False  # labels[].performance_details
    include_project_details: bool = False  # projects.<id>.project_details
    include_metadata: bool = False  # metadata_fields
    include_attachments: bool = False  # attachments
    include_embeddings: bool = False  # embeddings (always empty)
    include_interpolated_frames: bool = False  # video frames between keyframes


@dataclass(frozen=True)
class ProjectInfo:
    """What ``GetProjectPyApi`` and friends need about a project."""

    id: str
    name: str
    media_type: str
    created_at: datetime
    ontology_id: str
    description: str
    dataset_id: str
    dataset_name: str
    data_row_count: int
    label_count: int
    last_activity_time: datetime
    queue_mode: str = "BATCH"
