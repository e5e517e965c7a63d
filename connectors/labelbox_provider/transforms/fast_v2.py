"""Export v2, fast path: data-row records of the common shape decoded into typed structs, rows
appended as tuples straight into the sink's column buffers.

The same contract as :mod:`.fast_v1`: an optimisation of :func:`.v2.v2_record_rows`, never a
second mapping. The structs accept only the keys the row function maps, with plain JSON types;
for that subset the rows are the same, value for value and in the same order (tests compare both
paths). Records with video ``frames``, DICOM ``groups``, ``segments``, conversational answers,
text or document locations... do not fit and go to the row function, as does any record that
raises while its rows are appended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msgspec import UNSET, UnsetType

from labelbox_provider.exceptions import TransformError

from .buffers import RowBuffers
from .common import RecordContext, as_list, flag, open_ring, to_json
from .common import ts_naive as _ts  # the tuples' timestamps: naive UTC (same instant)
from .metadata import attachment_rows, field_kind, field_values
from .typed import (
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
from .v2 import is_inline_conversation, review_row
from .v2_annotations import relationship_row


class _Mask(Strict):
    url: str | None = None


class _CompositeMask(Strict):
    url: str | None = None
    color_rgb: list[Int64] | None = None


class _Text(Strict):
    content: str | None = None


class _Feature(Strict):
    feature_id: str | None = None
    feature_schema_id: str | None = None
    name: str | None = None
    value: str | None = None


class _Answer(_Feature):
    classifications: list[_Question | list[_Question]] | None = None


class _Question(_Feature):
    message_id: str | None = None
    radio_answer: _Answer | UnsetType | None = UNSET
    checklist_answers: list[_Answer] | UnsetType | None = UNSET
    text_answer: _Text | UnsetType | None = UNSET
    classifications: list[_Question | list[_Question]] | None = None


class _Object(_Feature):
    annotation_kind: str | None = None
    classifications: list[_Question | list[_Question]] | None = None
    bounding_box: Box | UnsetType | None = UNSET
    polygon: list[Vertex] | UnsetType | None = UNSET
    line: list[Vertex] | UnsetType | None = UNSET
    point: Point | UnsetType | None = UNSET
    mask: _Mask | UnsetType | None = UNSET
    composite_mask: _CompositeMask | UnsetType | None = UNSET


class _Annotations(Strict):
    objects: list[_Object] | None = None
    classifications: list[_Question | list[_Question]] | None = None
    relationships: Any = None
    frames: dict[str, Any] | None = None  # video / DICOM content: not this path's (see _label)
    segments: dict[str, Any] | None = None
    key_frame_feature_map: dict[str, Any] | None = None
    groups: dict[str, Any] | None = None


class _LabelDetails(Strict):
    created_at: str | None = None
    updated_at: str | None = None
    created_by: str | None = None
    content_last_updated_at: str | None = None
    reviews: Any = None


class _Performance(Strict):
    seconds_to_create: Float | None = None
    seconds_to_review: Float | None = None
    skipped: bool | Int64 | None = None


class _Label(Strict):
    label_kind: str | None = None
    version: str | None = None
    id: str | None = None
    label_details: _LabelDetails | None = None
    performance_details: _Performance | None = None
    annotations: _Annotations | None = None


class _Step(Strict):
    action: str | None = None
    created_at: str | None = None
    created_by: str | None = None
    previous_task_id: str | None = None
    previous_task_name: str | None = None
    next_task_id: str | None = None
    next_task_name: str | None = None


class _ProjectDetails(Strict):
    ontology_id: str | None = None
    task_name: str | None = None
    batch_id: str | None = None
    batch_name: str | None = None
    workflow_status: str | None = None
    priority: Int64 | None = None
    consensus_expected_label_count: Int64 | None = None
    workflow_history: list[_Step] | None = None


class _Project(Strict):
    name: str | None = None
    labels: list[_Label] | None = None
    project_details: _ProjectDetails | None = None


class _Details(Strict):
    dataset_id: str | None = None
    dataset_name: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    last_activity_at: str | None = None
    created_by: str | None = None


class _DataRow(Strict):
    id: str
    global_key: str | None = None
    external_id: str | None = None
    row_data: str | None = None
    details: _Details | None = None


class V2Record(Strict):
    """A v2 data-row record of the common shape (spec 4.7, image-like annotations)."""

    data_row: _DataRow
    media_attributes: dict[str, Any] | None = None
    attachments: Any = None
    metadata_fields: Any = None
    embeddings: Any = None
    projects: dict[str, _Project] | None = None
    media_type: str | None = None


_KEYS = ("project_id", "label_id", "data_row_id")
# The tuples of each shape (keyed shapes: the keys come from the label), each column named.
_OBJECT = Layout(
    "objects",
    {"feature_id", "schema_id", "name", "value", "annotation_kind", "kind", "bbox_top"}
    | {"bbox_left", "bbox_height", "bbox_width", "points", "point_x", "point_y", "mask_url"}
    | {"mask_color_rgb"},
)
_OBJECT_COLUMNS = {  # every object row: o the object
    "feature_id": "o.feature_id",
    "schema_id": "o.feature_schema_id",
    "name": "o.name",
    "value": "o.value",
    "annotation_kind": "o.annotation_kind",
}
_OBJECT_PARAMS = "k, o, g"  # g: the geometry (box, vertex count, point, mask)
_GEOMETRY_ROWS = geometry_rows(_OBJECT, _OBJECT_PARAMS, _OBJECT_COLUMNS)
_BBOX_ROW, _POLYGON_ROW = _GEOMETRY_ROWS["bbox"], _GEOMETRY_ROWS["polygon"]
_LINE_ROW, _POINT_ROW = _GEOMETRY_ROWS["polyline"], _GEOMETRY_ROWS["point"]
_COMPOSITE_MASK_ROW = _OBJECT.row(
    _OBJECT_PARAMS,
    "k",
    **_OBJECT_COLUMNS,
    kind="'mask'",
    mask_url="g.url",
    mask_color_rgb="g.color_rgb or []",
)
_MASK_ROW = _OBJECT.row(_OBJECT_PARAMS, "k", **_OBJECT_COLUMNS, kind="'mask'", mask_url="g")
_QUESTION = Layout(
    "classifications",
    {"parent_object_feature_id", "parent_feature_id", "parent_answer_feature_id", "depth"}
    | {"feature_id", "schema_id", "name", "value", "message_id", "kind", "answer_position"}
    | {"answer_feature_id", "answer_schema_id", "answer_name", "answer_value", "text_answer"},
)
_QUESTION_ROWS = question_rows(
    _QUESTION,
    {
        "feature_id": "q.feature_id",
        "schema_id": "q.feature_schema_id",
        "name": "q.name",
        "value": "q.value",
        "message_id": "q.message_id",
    },
    {
        "answer_feature_id": "a.feature_id",
        "answer_schema_id": "a.feature_schema_id",
        "answer_name": "a.name",
        "answer_value": "a.value",
    },
    text_answer="None if q.text_answer is None else q.text_answer.content",
)
_LABEL_COLUMNS = {  # r the record, row its data row, label, perf, then computed values
    "project_name": "project.name",
    "row_data_url": "row.row_data",
    "external_id": "row.external_id",
    "global_key": "row.global_key",
    "dataset_name": "dataset_name",
    "media_type": "r.media_type",
    "label_kind": "label.label_kind",
    "label_version": "label.version",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "created_by": "created_by",
    "content_last_updated_at": "content_at",
    "seconds_to_create": "perf.seconds_to_create",
    "seconds_to_review": "perf.seconds_to_review",
    "skipped": "skipped",
    "workflow_task_name": "task",
}
_LABEL = Layout("labels", _LABEL_COLUMNS)
_LABEL_ROW = _LABEL.row(
    "k, r, row, project, label, perf, dataset_name, created_at, updated_at, created_by, "
    "content_at, skipped, task",
    "k",
    **_LABEL_COLUMNS,
)
_DATA_ROW_COLUMNS = {  # r the record, row its data row, d its details, pd the project's
    "project_id": "project_id",
    "data_row_id": "row.id",
    "global_key": "row.global_key",
    "external_id": "row.external_id",
    "row_data_url": "row.row_data",
    "dataset_id": "d.dataset_id",
    "dataset_name": "d.dataset_name",
    "media_type": "r.media_type",
    "mime_type": "mime",
    "width": "width",
    "height": "height",
    "media_attributes_json": "attributes",
    "metadata_json": "metadata",
    "attachments_json": "attachments",
    "embeddings_json": "embeddings",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "last_activity_at": "last_activity_at",
    "created_by": "d.created_by",
    "project_name": "project.name",
    "label_count": "label_count",
    "workflow_task_name": "pd.task_name",
    "workflow_status": "pd.workflow_status",
    "task_batch_id": "pd.batch_id",
    "task_batch_name": "pd.batch_name",
    "priority": "pd.priority",
    "consensus_expected_label_count": "pd.consensus_expected_label_count",
    "ontology_id": "pd.ontology_id",
}
_DATA_ROW = Layout("data_rows", _DATA_ROW_COLUMNS)
_DATA_ROW_ROW = _DATA_ROW.row(
    "pos, project_id, r, row, d, pd, project, mime, width, height, attributes, metadata, "
    "attachments, embeddings, created_at, updated_at, last_activity_at, label_count",
    "pos",
    **_DATA_ROW_COLUMNS,
)
_FIELD_KEYS = frozenset({"schema_id", "schema_name", "schema_kind", "value"})  # v2's spelling
_FIELD_VALUES = ("value", "value_number", "value_datetime", "value_enum", "value_enum_id")
_FIELD = Layout(
    "metadata",
    ("project_id", "data_row_id", "position", "schema_id", "name", "kind", *_FIELD_VALUES),
)
_FIELD_ROW = _FIELD.row(
    "pos, project_id, data_row_id, i, f, kind, v",
    "pos",
    project_id="project_id",
    data_row_id="data_row_id",
    position="i",
    schema_id="f.get('schema_id')",
    name="f.get('schema_name')",
    kind="kind",
    **{c: f"v.get({c!r})" for c in _FIELD_VALUES},
)
_STEP_COLUMNS = {  # s the step
    "project_id": "project_id",
    "data_row_id": "data_row_id",
    "position": "i",
    "action": "s.action",
    "created_by": "s.created_by",
    "created_at": "created_at",
    "previous_task_id": "s.previous_task_id",
    "previous_task_name": "s.previous_task_name",
    "next_task_id": "s.next_task_id",
    "next_task_name": "s.next_task_name",
}
_STEP = Layout("workflow_history", _STEP_COLUMNS)
_STEP_ROW = _STEP.row("pos, project_id, data_row_id, i, s, created_at", "pos", **_STEP_COLUMNS)
_NO_DETAILS = _Details()
_NO_PROJECT_DETAILS = _ProjectDetails()
_NO_LABEL_DETAILS = _LabelDetails()
_NO_PERFORMANCE = _Performance()


class _Tree(TypedTree):
    def question(self, q: Any, parent: TypedParent) -> tuple[Any, str, Sequence[Any]]:
        if q.radio_answer is not UNSET:  # null: no option selected, no row
            return q, "radio", () if q.radio_answer is None else (q.radio_answer,)
        if q.checklist_answers is not UNSET:
            return q, "checklist", q.checklist_answers or ()
        if q.text_answer is not UNSET:
            return q, "text", (None,)
        raise TransformError("classification has no known answer field")


_TREE = _Tree()


class FastV2(FastPath):
    """Appends the rows of :class:`V2Record` values to a sink (:class:`.buffers.RowBuffers`)."""

    RECORD = V2Record
    LAYOUTS = (_OBJECT, _QUESTION, _LABEL, _DATA_ROW)
    TREE = _TREE
    QUESTION_ROWS = _QUESTION_ROWS

    def __init__(self, sink: RowBuffers, ctx: RecordContext) -> None:
        super().__init__(sink, ctx)
        self._step = sink.tables["workflow_history"].shape(_STEP.columns).append
        self._field = sink.tables["metadata"].shape(_FIELD.columns).append

    def _rows(self, record: V2Record, pos: int) -> None:
        data_row_id = record.data_row.id
        if not data_row_id:
            raise TransformError("record has no 'data_row.id'")
        project_id, project = self._project(record)
        details = project.project_details or _NO_PROJECT_DETAILS
        labels = project.labels or ()
        self._data_row(record, project_id, project, len(labels), pos)
        for label in labels:
            self._label(record, project_id, project, label, pos)
        add = self._step
        for i, s in enumerate(details.workflow_history or ()):
            created_at = _ts(s.created_at, "step.created_at")
            add(_STEP_ROW(pos, project_id, data_row_id, i, s, created_at))

    def _project(self, record: V2Record) -> tuple[str, _Project]:
        projects = record.projects or {}
        if self.ctx.project_id:
            return self.ctx.project_id, projects.get(self.ctx.project_id) or _Project()
        if not projects:  # exported without a project: the data row is kept (as v2.py)
            return "", _Project()
        if len(projects) != 1:
            raise TransformError("no project id given and the record has not exactly one project")
        ((project_id, project),) = projects.items()
        return project_id, project

    def _data_row(
        self,
        record: V2Record,
        project_id: str,
        project: _Project,
        label_count: int,
        pos: int,
    ) -> None:
        pd = project.project_details or _NO_PROJECT_DETAILS
        row = record.data_row
        d = row.details or _NO_DETAILS
        attributes = record.media_attributes
        mime = None if attributes is None else attributes.get("mime_type")
        mime, width, height = media_columns(attributes, mime, "media_attributes")
        if row.row_data is not None and is_inline_conversation(row.row_data, mime):
            raise TransformError("inline conversation: the row function's (row_data_json)")
        attributes_json, metadata_json = to_json(attributes), to_json(record.metadata_fields)
        attachments_json, embeddings_json = to_json(record.attachments), to_json(record.embeddings)
        tables, data_row_id = self.sink.tables, row.id
        if record.metadata_fields:
            self._fields(record.metadata_fields, project_id, data_row_id, pos)
        if record.attachments:
            rows = attachment_rows(record.attachments, project_id, data_row_id)
            tables["attachments"].add_dicts(rows, pos)
        created_at = _ts(d.created_at, "details.created_at")
        updated_at = _ts(d.updated_at, "details.updated_at")
        last_activity_at = _ts(d.last_activity_at, "details.last_activity_at")
        self._shapes.data_row(
            _DATA_ROW_ROW(
                pos,
                project_id,
                record,
                row,
                d,
                pd,
                project,
                mime,
                width,
                height,
                attributes_json,
                metadata_json,
                attachments_json,
                embeddings_json,
                created_at,
                updated_at,
                last_activity_at,
                label_count,
            )
        )

    def _fields(self, fields: Any, project_id: str, data_row_id: str, pos: int) -> None:
        """Metadata rows of fields spelt as v2 exports them, string ids (others: the row
        function's :func:`.metadata.metadata_rows`)."""
        if type(fields) is not list:
            raise TransformError("metadata fields: the row function's")
        add = self._field
        for i, f in enumerate(fields):
            if type(f) is not dict or not _FIELD_KEYS.issuperset(f):
                raise TransformError("metadata field: the row function's")
            sid, name = f.get("schema_id"), f.get("schema_name")
            if (sid is not None and type(sid) is not str) or (
                name is not None and type(name) is not str
            ):
                raise TransformError("metadata field ids: the row function's")
            value = f.get("value")
            kind = field_kind(f.get("schema_kind"), value)
            add(_FIELD_ROW(pos, project_id, data_row_id, i, f, kind, field_values(kind, value)))

    def _label(
        self,
        record: V2Record,
        project_id: str,
        project: _Project,
        label: _Label,
        pos: int,
    ) -> None:
        pd = project.project_details or _NO_PROJECT_DETAILS
        label_id = label.id
        if not label_id:
            raise TransformError("label has no 'id'")
        data_row = record.data_row
        keys = (project_id, label_id, data_row.id)
        k = self._shapes.keys(pos, keys)
        details = label.label_details or _NO_LABEL_DETAILS
        perf = label.performance_details or _NO_PERFORMANCE
        skipped = perf.skipped
        if skipped is not None and type(skipped) is not bool:
            skipped = flag(skipped, "performance_details.skipped")
        dataset_name = data_row.details.dataset_name if data_row.details is not None else None
        created_at = _ts(details.created_at, "label_details.created_at")
        updated_at = _ts(details.updated_at, "label_details.updated_at")
        content_at = _ts(details.content_last_updated_at, "label_details.content_last_updated_at")
        label_row = _LABEL_ROW(
            k,
            record,
            data_row,
            project,
            label,
            perf,
            dataset_name,
            created_at,
            updated_at,
            details.created_by,
            content_at,
            skipped,
            pd.task_name,
        )
        self._shapes.label(label_row)
        base = dict(zip(_KEYS, keys, strict=True))
        reviews = as_list(details.reviews, "label_details.reviews")
        if reviews:
            self._shapes.reviews.add_dicts([review_row(r, base) for r in reviews], pos)
        annotations = label.annotations
        if annotations is not None:
            self._annotations(annotations, base, k, pos)

    def _annotations(self, a: _Annotations, base: dict[str, str], k: int, pos: int) -> None:
        if a.frames or a.groups or a.segments or a.key_frame_feature_map:
            raise TransformError("video or DICOM content: the row function's")
        if a.objects:
            self._objects(a.objects, k)
        if a.classifications:
            self._questions(a.classifications, (k, None, None, None, 0))
        relationships = as_list(a.relationships, "relationships")
        if relationships:
            rows = [relationship_row(r, base) for r in relationships]
            self._shapes.relationships.add_dicts(rows, pos)

    def _objects(self, objects: list[_Object], k: int) -> None:
        add = self._shapes.object
        add_vertices = self._shapes.vertices.add
        for o in objects:
            if o.bounding_box is not UNSET:
                add(_BBOX_ROW(k, o, o.bounding_box or Box()))
            elif o.polygon is not UNSET:
                add(_POLYGON_ROW(k, o, add_vertices(open_ring(o.polygon) if o.polygon else ())))
            elif o.line is not UNSET:
                add(_LINE_ROW(k, o, add_vertices(o.line or ())))
            elif o.point is not UNSET:
                add(_POINT_ROW(k, o, o.point or Point()))
            elif o.composite_mask is not UNSET:
                if o.mask is not UNSET:  # both: the legacy mask is kept in extra_json
                    raise TransformError("mask and composite_mask: the row function's")
                add(_COMPOSITE_MASK_ROW(k, o, o.composite_mask or _CompositeMask()))
            elif o.mask is not UNSET:
                add(_MASK_ROW(k, o, o.mask.url if o.mask is not None else None))
            else:
                raise TransformError("unknown annotation kind")
            if o.classifications:
                self._questions(o.classifications, (k, o.feature_id, None, None, 0))
