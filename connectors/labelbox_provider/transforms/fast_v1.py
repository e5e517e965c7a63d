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

from .common import flag, open_ring, to_json, ts_naive
from .metadata import metadata_rows
from .typed import (
    REVIEWS,
    Box,
    FastPath,
    Float,
    Int64,
    Layout,
    Point,
    Strict,
    TypedParent,
    TypedTree,
    Vertex,
    geometry_rows,
    media_columns,
    question_rows,
)
from .v1 import project_from_url, relationship_row, workflow_rows

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
# The tuples of each shape (keyed shapes: the keys come from the record), each column named.
_OBJECT = Layout(
    "objects",
    {"feature_id", "schema_id", "name", "value", "color", "instance_uri", "keyframe"}
    | {"page_number", "page_unit", "kind", "bbox_top", "bbox_left", "bbox_height", "bbox_width"}
    | {"points", "point_x", "point_y", "mask_url"},
)
_OBJECT_COLUMNS = {  # every object row: o the object, number and unit its page
    "feature_id": "o.feature_id",
    "schema_id": "o.schema_id",
    "name": "o.title",
    "value": "o.value",
    "color": "o.color",
    "instance_uri": "o.instance_uri",
    "keyframe": "o.keyframe",
    "page_number": "number",
    "page_unit": "unit",
}
_OBJECT_PARAMS = "k, o, number, unit, g"  # g: the geometry (box, vertex count, point)
_MASK_ROW = _OBJECT.row(
    _OBJECT_PARAMS, "k", **_OBJECT_COLUMNS, kind="'mask'", mask_url="o.instance_uri"
)
_GEOMETRY_ROWS = geometry_rows(_OBJECT, _OBJECT_PARAMS, _OBJECT_COLUMNS)
_BBOX_ROW, _POLYGON_ROW = _GEOMETRY_ROWS["bbox"], _GEOMETRY_ROWS["polygon"]
_LINE_ROW, _POINT_ROW = _GEOMETRY_ROWS["polyline"], _GEOMETRY_ROWS["point"]
_QUESTION = Layout(
    "classifications",
    {"parent_object_feature_id", "parent_feature_id", "parent_answer_feature_id", "depth"}
    | {"feature_id", "schema_id", "name", "value", "message_id", "scope", "kind"}
    | {"answer_position", "answer_feature_id", "answer_schema_id", "answer_name"}
    | {"answer_value", "answer_keyframe", "text_answer"},
)
_QUESTION_ROWS = question_rows(
    _QUESTION,
    {
        "feature_id": "q.feature_id",
        "schema_id": "q.schema_id",
        "name": "q.title",
        "value": "q.value",
        "message_id": "q.message_id",
        "scope": "q.scope",
    },
    {
        "answer_feature_id": "a.feature_id",
        "answer_schema_id": "a.schema_id",
        "answer_name": "a.title",
        "answer_value": "a.value",
        "answer_keyframe": "a.keyframe",
    },
    text_answer="q.answer",
)
_LABEL_COLUMNS = {  # r the record, then the values the label row computes
    "project_name": "r.project_name",
    "row_data_url": "r.row_data",
    "external_id": "r.external_id",
    "global_key": "r.global_key",
    "dataset_name": "r.dataset_name",
    "media_type": "r.media_type",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "created_by": "r.created_by",
    "seconds_to_label": "r.seconds_to_label",
    "seconds_to_create": "r.seconds_to_create",
    "seconds_to_review": "r.seconds_to_review",
    "agreement": "None if r.agreement == -1 else r.agreement",  # -1: no score (v1.score)
    "benchmark_agreement": "None if r.benchmark_agreement == -1 else r.benchmark_agreement",
    "benchmark_id": "r.benchmark_id",
    "is_benchmark": "benchmark",
    "view_label_url": "r.view_label",
    "has_open_issues": "r.has_open_issues",
    "skipped": "skipped",
    "workflow_task_name": "task",
    "data_split": "r.data_split",
}
_LABEL = Layout("labels", _LABEL_COLUMNS)
_LABEL_ROW = _LABEL.row(
    "k, r, created_at, updated_at, benchmark, skipped, task", "k", **_LABEL_COLUMNS
)
_DATA_ROW_COLUMNS = {  # r the record, then the values the data row computes
    "project_id": "project_id",
    "data_row_id": "r.data_row_id",
    "global_key": "r.global_key",
    "external_id": "r.external_id",
    "row_data_url": "r.row_data",
    "dataset_name": "r.dataset_name",
    "media_type": "r.media_type",
    "mime_type": "mime",
    "width": "width",
    "height": "height",
    "media_attributes_json": "attributes",
    "metadata_json": "metadata",
    "data_split": "r.data_split",
    "project_name": "r.project_name",
    "workflow_task_name": "task",
}
_DATA_ROW = Layout("data_rows", _DATA_ROW_COLUMNS)
_DATA_ROW_ROW = _DATA_ROW.row(
    "pos, project_id, r, mime, width, height, attributes, metadata, task",
    "pos",
    **_DATA_ROW_COLUMNS,
)
_REVIEW_ROW = REVIEWS.row(
    "k, r, created_at",
    "k",
    review_id="r.id",
    score="r.score",
    created_at="created_at",
    created_by="r.created_by",
    review_label_id="r.label_id",
)
_Keys = tuple[str, str, str]


class _Tree(TypedTree):
    def question(self, q: Any, parent: TypedParent) -> tuple[Any, str, Sequence[Any]]:
        if q.answers is not UNSET:
            return q, "checklist", q.answers or ()
        if type(q.answer) is list:
            return q, "dropdown", q.answer
        if type(q.answer) is _Answer:
            return q, "radio", (q.answer,)
        if q.answer is UNSET:
            raise TransformError("classification has neither 'answer' nor 'answers'")
        return q, "text", (None,)


_TREE = _Tree()


class FastV1(FastPath):
    """Appends the rows of :class:`V1Record` values to a sink (:class:`.buffers.RowBuffers`)."""

    RECORD = V1Record
    LAYOUTS = (_OBJECT, _QUESTION, _LABEL, _DATA_ROW)
    TREE = _TREE
    QUESTION_ROWS = _QUESTION_ROWS

    def _rows(self, record: V1Record, pos: int) -> None:
        label_id, data_row_id = record.id, record.data_row_id
        if not label_id or not data_row_id:
            raise TransformError("record has no 'ID' or no 'DataRow ID'")
        project_id = self.ctx.project_id or project_from_url(record.view_label)
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
                rows = [relationship_row(r, base) for r in label.relationships]
                shapes.relationships.add_dicts(rows, pos)
        add_review = shapes.review
        for r in record.reviews or ():
            created_at = ts_naive(r.created_at, "review.createdAt")
            add_review(_REVIEW_ROW(k, r, created_at))
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
        metadata_json = "[]" if metadata == [] else to_json(metadata)
        if metadata:
            rows = metadata_rows(metadata, keys[0], keys[2])
            self.sink.tables["metadata"].add_dicts(rows, pos)
        row = _DATA_ROW_ROW(
            pos, keys[0], record, mime, width, height, attributes_json, metadata_json, task
        )
        self._shapes.data_row(row)

    def _workflow(
        self, workflow: _Workflow | None, project_id: str, data_row_id: str, pos: int
    ) -> str | None:
        if workflow is None:
            return None
        if workflow.history is not None:
            steps = workflow_rows(workflow.history, project_id, data_row_id)
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
        created_at = ts_naive(record.created_at, "Created At")
        updated_at = ts_naive(record.updated_at, "Updated At")
        self._shapes.label(_LABEL_ROW(k, record, created_at, updated_at, benchmark, skipped, task))

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
                add(_BBOX_ROW(k, o, number, unit, o.bbox or Box()))
            elif o.polygon is not UNSET:
                n = add_vertices(open_ring(o.polygon) if o.polygon else ())
                add(_POLYGON_ROW(k, o, number, unit, n))
            elif o.line is not UNSET:
                add(_LINE_ROW(k, o, number, unit, add_vertices(o.line or ())))
            elif o.point is not UNSET:
                add(_POINT_ROW(k, o, number, unit, o.point or Point()))
            elif o.instance_uri is not None:
                add(_MASK_ROW(k, o, number, unit, None))
            else:
                raise TransformError("unknown annotation kind")
            if o.classifications:
                self._questions(o.classifications, (k, o.feature_id, None, None, 0))
