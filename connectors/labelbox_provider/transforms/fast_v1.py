"""Export v1, fast path: records of the common shape decoded into typed structs, rows appended
as tuples straight into the sink's column buffers.

This is an optimisation of :func:`.v1.v1_record_rows`, never a second definition of the
mapping. The structs below accept a strict subset of what the row function accepts: only the
keys it maps (``forbid_unknown_fields``), only the plain JSON types (a number where a string
belongs, an extra key, a video or a document entity... fail to decode), and for that subset the
rows are the same, value for value and in the same order (a test compares both paths on every
real fixture and on emulator exports of every media type). Any record the structs refuse, or
that raises while its rows are appended, is handed to the row function, which decides, as it
always does, what the rows are or why the record is rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msgspec import UNSET, UnsetType

from labelbox_provider.exceptions import TransformError

from .common import flag, open_ring, to_json, ts
from .typed import Box, FastPath, Float, Int64, Point, Strict, Vertex, media_columns
from .v1 import _project_from_url, _relationship, _workflow

_FEATURE = {  # v1 key of each field whose name is not its key (subclasses inherit the map)
    "feature_id": "featureId",
    "schema_id": "schemaId",
    "message_id": "messageId",
    "instance_uri": "instanceURI",
}


class _Feature(Strict, rename=_FEATURE):
    """What every annotation, question and answer carries."""

    feature_id: str | None = None
    schema_id: str | None = None
    title: str | None = None
    value: str | None = None


class _Answer(_Feature):
    keyframe: bool | None = None
    classifications: list[_Question | list[_Question]] | None = None


class _Question(_Feature):
    message_id: str | None = None
    scope: str | None = None
    answer: str | _Answer | list[_Answer] | UnsetType | None = UNSET
    answers: list[_Answer] | UnsetType | None = UNSET
    classifications: list[_Question | list[_Question]] | None = None


class _Object(_Feature):
    color: str | None = None
    instance_uri: str | None = None
    keyframe: bool | None = None
    classifications: list[_Question | list[_Question]] | None = None
    page: Int64 | UnsetType | None = UNSET
    unit: str | None = None
    bbox: Box | UnsetType | None = UNSET
    polygon: list[Vertex] | UnsetType | None = UNSET
    line: list[Vertex] | UnsetType | None = UNSET
    point: Point | UnsetType | None = UNSET


class _Label(Strict):
    objects: list[_Object] | UnsetType | None = UNSET
    classifications: list[_Question | list[_Question]] | UnsetType | None = UNSET
    relationships: list[Any] | UnsetType | None = UNSET


class _Review(Strict, rename="camel"):
    id: str | None = None
    score: Float | None = None
    created_at: str | None = None
    created_by: str | None = None
    label_id: str | None = None


class _Workflow(Strict, rename={"task_name": "taskName", "history": "Workflow History"}):
    task_name: str | None = None
    history: Any = None


_RECORD_KEYS = {
    "id": "ID",
    "data_row_id": "DataRow ID",
    "metadata": "DataRow Metadata",
    "media_attributes": "Media Attributes",
    "data_split": "Data Split",
    "row_data": "Labeled Data",
    "label": "Label",
    "created_by": "Created By",
    "project_name": "Project Name",
    "created_at": "Created At",
    "updated_at": "Updated At",
    "seconds_to_label": "Seconds to Label",
    "seconds_to_review": "Seconds to Review",
    "seconds_to_create": "Seconds to Create",
    "external_id": "External ID",
    "global_key": "Global Key",
    "agreement": "Agreement",
    "is_benchmark": "Is Benchmark",
    "benchmark_agreement": "Benchmark Agreement",
    "benchmark_id": "Benchmark ID",
    "dataset_name": "Dataset Name",
    "reviews": "Reviews",
    "view_label": "View Label",
    "has_open_issues": "Has Open Issues",
    "skipped": "Skipped",
    "workflow": "DataRow Workflow Info",
    "media_type": "media_type",
}


class V1Record(Strict, rename=_RECORD_KEYS):
    """A v1 label record of the common shape (spec 3.1 key sets of 2020-2023)."""

    id: str
    data_row_id: str
    metadata: Any = None
    media_attributes: dict[str, Any] | None = None
    data_split: str | None = None
    row_data: str | None = None
    label: _Label | None = None
    created_by: str | None = None
    project_name: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    seconds_to_label: Float | None = None
    seconds_to_review: Float | None = None
    seconds_to_create: Float | None = None
    external_id: str | None = None
    global_key: str | None = None
    agreement: Float | None = None
    is_benchmark: bool | Int64 | None = None
    benchmark_agreement: Float | None = None
    benchmark_id: str | None = None
    dataset_name: str | None = None
    reviews: list[_Review] | None = None
    view_label: str | None = None
    has_open_issues: Int64 | None = None
    skipped: bool | Int64 | None = None
    workflow: _Workflow | None = None
    media_type: str | None = None


_KEYS = ("project_id", "label_id", "data_row_id")
# Column order of the tuples below (keyed shapes: the keys come from the record).
_OBJECT = (
    "feature_id", "schema_id", "name", "value", "color", "instance_uri", "keyframe",
    "page_number", "page_unit", "kind", "bbox_top", "bbox_left", "bbox_height", "bbox_width",
    "points", "point_x", "point_y", "mask_url",
)  # fmt: skip
_QUESTION = (
    "parent_object_feature_id", "parent_feature_id", "parent_answer_feature_id", "depth",
    "feature_id", "schema_id", "name", "value", "message_id", "scope", "kind",
    "answer_position", "answer_feature_id", "answer_schema_id", "answer_name", "answer_value",
    "answer_keyframe", "text_answer",
)  # fmt: skip
_LABEL = (
    "project_name", "row_data_url", "external_id", "global_key", "dataset_name", "media_type",
    "created_at", "updated_at", "created_by", "seconds_to_label", "seconds_to_create",
    "seconds_to_review", "agreement", "benchmark_agreement", "benchmark_id", "is_benchmark",
    "view_label_url", "has_open_issues", "skipped", "workflow_task_name", "data_split",
)  # fmt: skip
_DATA_ROW = (
    "project_id", "data_row_id", "global_key", "external_id", "row_data_url", "dataset_name",
    "media_type", "mime_type", "width", "height", "media_attributes_json", "metadata_json",
    "data_split", "project_name", "workflow_task_name",
)  # fmt: skip
_Parent = tuple[int, str | None, str | None, str | None, int]
_Keys = tuple[str, str, str]


class FastV1(FastPath):
    """Appends the rows of :class:`V1Record` values to a :class:`.sink.TableSink`."""

    RECORD = V1Record
    COLUMNS = (_OBJECT, _QUESTION, _LABEL, _DATA_ROW)

    def _rows(self, record: V1Record, pos: int) -> None:
        label_id, data_row_id = record.id, record.data_row_id
        if not label_id or not data_row_id:
            raise TransformError("record has no 'ID' or no 'DataRow ID'")
        project_id = self.ctx.project_id or _project_from_url(record.view_label)
        keys = (project_id, label_id, data_row_id)
        shapes = self._shapes
        k = shapes.keys(pos, keys)  # starts the rows of keyed shapes
        label = record.label
        if label is not None:
            if label.objects:
                self._objects(label.objects, k)
            if label.classifications:
                self._questions(label.classifications, (k, None, None, None, 0))
            if label.relationships:
                base = dict(zip(_KEYS, keys, strict=True))
                rows = [_relationship(r, base) for r in label.relationships]
                shapes.relationships.add_dicts(rows, pos)
        add_review = shapes.review
        for r in record.reviews or ():
            created_at = ts(r.created_at, "review.createdAt")
            add_review((k, r.id, r.score, created_at, r.created_by, r.label_id))
        task_name = self._workflow(record.workflow, project_id, data_row_id, pos)
        self._label(record, task_name, k)
        self._data_row(record, keys, task_name, pos)

    def _data_row(self, record: V1Record, keys: _Keys, task: str | None, pos: int) -> None:
        attributes = record.media_attributes
        mime = (
            None if attributes is None else attributes.get("mimeType", attributes.get("mime_type"))
        )
        mime, width, height = media_columns(attributes, mime, "Media Attributes")
        attributes_json = to_json(attributes)
        metadata = record.metadata
        self._shapes.data_row((
            pos, keys[0], keys[2], record.global_key, record.external_id, record.row_data,
            record.dataset_name, record.media_type, mime, width, height, attributes_json,
            "[]" if metadata == [] else to_json(metadata), record.data_split,
            record.project_name, task,
        ))  # fmt: skip

    def _workflow(
        self, workflow: _Workflow | None, project_id: str, data_row_id: str, pos: int
    ) -> str | None:
        if workflow is None:
            return None
        if workflow.history is not None:
            steps = _workflow(workflow.history, project_id, data_row_id)
            self._shapes.workflow.add_dicts(steps, pos)
        return workflow.task_name

    def _label(self, record: V1Record, task: str | None, k: int) -> None:
        skipped = record.skipped
        if skipped is None:  # 2020 exports: a skipped label is "Label": {}
            label = record.label
            skipped = label is not None and (
                label.objects is UNSET
                and label.classifications is UNSET
                and label.relationships is UNSET
            )
        elif type(skipped) is not bool:
            skipped = flag(skipped, "Skipped")
        benchmark = record.is_benchmark
        if benchmark is not None and type(benchmark) is not bool:
            benchmark = flag(benchmark, "Is Benchmark")
        self._shapes.label((
            k, record.project_name, record.row_data, record.external_id, record.global_key,
            record.dataset_name, record.media_type, ts(record.created_at, "Created At"),
            ts(record.updated_at, "Updated At"), record.created_by, record.seconds_to_label,
            record.seconds_to_create, record.seconds_to_review, record.agreement,
            record.benchmark_agreement, record.benchmark_id, benchmark, record.view_label,
            record.has_open_issues, skipped, task, record.data_split,
        ))  # fmt: skip

    def _objects(self, objects: list[_Object], k: int) -> None:
        add = self._shapes.object
        add_vertices = self._shapes.vertices.add
        for o in objects:
            if o.page is UNSET:
                number = unit = None
            else:  # a document page: 0-based in v1, stored 1-based
                number = None if o.page is None else o.page + 1
                unit = o.unit
            if o.bbox is not UNSET:
                b = o.bbox or Box()
                add((k, o.feature_id, o.schema_id, o.title, o.value, o.color, o.instance_uri,
                     o.keyframe, number, unit, "bbox", b.top, b.left, b.height, b.width, None,
                     None, None, None))  # fmt: skip
            elif o.polygon is not UNSET:
                n = add_vertices(open_ring(o.polygon) if o.polygon else ())
                add((k, o.feature_id, o.schema_id, o.title, o.value, o.color, o.instance_uri,
                     o.keyframe, number, unit, "polygon", None, None, None, None, n, None, None,
                     None))  # fmt: skip
            elif o.line is not UNSET:
                n = add_vertices(o.line or ())
                add((k, o.feature_id, o.schema_id, o.title, o.value, o.color, o.instance_uri,
                     o.keyframe, number, unit, "polyline", None, None, None, None, n, None, None,
                     None))  # fmt: skip
            elif o.point is not UNSET:
                p = o.point or Point()
                add((k, o.feature_id, o.schema_id, o.title, o.value, o.color, o.instance_uri,
                     o.keyframe, number, unit, "point", None, None, None, None, None, p.x, p.y,
                     None))  # fmt: skip
            elif o.instance_uri is not None:
                add((k, o.feature_id, o.schema_id, o.title, o.value, o.color, o.instance_uri,
                     o.keyframe, number, unit, "mask", None, None, None, None, None, None, None,
                     o.instance_uri))  # fmt: skip
            else:
                raise TransformError("unknown annotation kind")
            if o.classifications:
                self._questions(o.classifications, (k, o.feature_id, None, None, 0))

    def _questions(self, questions: Sequence[_Question | list[_Question]], parent: _Parent) -> None:
        """Rows of a classification list; ``parent``: (key index, object, question, answer,
        depth), the first items of every row."""
        add = self._shapes.question
        for q in questions:
            if isinstance(q, list):  # the checklist extra-list quirk: a list inside the list
                self._questions(q, parent)
                continue
            head = (*parent, q.feature_id, q.schema_id, q.title, q.value, q.message_id, q.scope)
            answers: Sequence[_Answer]
            if q.answers is not UNSET:
                kind, answers = "checklist", q.answers or ()
            elif type(q.answer) is list:
                kind, answers = "dropdown", q.answer
            elif type(q.answer) is _Answer:
                kind, answers = "radio", (q.answer,)
            elif q.answer is UNSET:
                raise TransformError("classification has neither 'answer' nor 'answers'")
            else:
                kind, answers = "text", ()
                add((*head, kind, 0, None, None, None, None, None, q.answer))
            k, object_id, _, _, depth = parent
            for i, a in enumerate(answers):
                add((*head, kind, i, a.feature_id, a.schema_id, a.title, a.value, a.keyframe,
                     None))  # fmt: skip
                if a.classifications:
                    nested = (k, object_id, q.feature_id, a.feature_id, depth + 1)
                    self._questions(a.classifications, nested)
            if q.classifications:
                self._questions(q.classifications, (k, object_id, q.feature_id, None, depth + 1))
