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

from .common import as_list, flag, open_ring, to_json
from .common import ts as _ts
from .typed import Box, FastPath, Float, Int64, Point, Strict, Vertex, media_columns
from .v2 import _review, _step
from .v2_annotations import _relationship


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


class _ProjectDetails(Strict):
    ontology_id: str | None = None
    task_name: str | None = None
    batch_id: str | None = None
    batch_name: str | None = None
    workflow_status: str | None = None
    priority: Int64 | None = None
    consensus_expected_label_count: Int64 | None = None
    workflow_history: Any = None


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
# Column order of the tuples below (keyed shapes: the keys come from the label).
_OBJECT = (
    "feature_id", "schema_id", "name", "value", "annotation_kind", "kind", "bbox_top",
    "bbox_left", "bbox_height", "bbox_width", "points", "point_x", "point_y", "mask_url",
    "mask_color_rgb",
)  # fmt: skip
_QUESTION = (
    "parent_object_feature_id", "parent_feature_id", "parent_answer_feature_id", "depth",
    "feature_id", "schema_id", "name", "value", "message_id", "kind", "answer_position",
    "answer_feature_id", "answer_schema_id", "answer_name", "answer_value", "text_answer",
)  # fmt: skip
_LABEL = (
    "project_name", "row_data_url", "external_id", "global_key", "dataset_name", "media_type",
    "label_kind", "label_version", "created_at", "updated_at", "created_by",
    "content_last_updated_at", "seconds_to_create", "seconds_to_review", "skipped",
    "workflow_task_name",
)  # fmt: skip
_DATA_ROW = (
    "project_id", "data_row_id", "global_key", "external_id", "row_data_url", "dataset_id",
    "dataset_name", "media_type", "mime_type", "width", "height", "media_attributes_json",
    "metadata_json", "attachments_json", "embeddings_json", "created_at", "updated_at",
    "last_activity_at", "created_by", "project_name", "label_count", "workflow_task_name",
    "workflow_status", "task_batch_id", "task_batch_name", "priority",
    "consensus_expected_label_count", "ontology_id",
)  # fmt: skip
_Parent = tuple[int, str | None, str | None, str | None, int]
_NO_DETAILS = _Details()
_NO_PROJECT_DETAILS = _ProjectDetails()
_NO_LABEL_DETAILS = _LabelDetails()
_NO_PERFORMANCE = _Performance()


class FastV2(FastPath):
    """Appends the rows of :class:`V2Record` values to a :class:`.sink.TableSink`."""

    RECORD = V2Record
    COLUMNS = (_OBJECT, _QUESTION, _LABEL, _DATA_ROW)

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
        history = as_list(details.workflow_history, "workflow_history")
        steps = [_step(s, project_id, data_row_id, i) for i, s in enumerate(history)]
        self._shapes.workflow.add_dicts(steps, pos)

    def _project(self, record: V2Record) -> tuple[str, _Project]:
        projects = record.projects or {}
        if self.ctx.project_id:
            return self.ctx.project_id, projects.get(self.ctx.project_id) or _Project()
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
        self._shapes.data_row((
            pos, project_id, row.id, row.global_key, row.external_id, row.row_data,
            d.dataset_id, d.dataset_name, record.media_type, mime, width, height,
            to_json(attributes), to_json(record.metadata_fields), to_json(record.attachments),
            to_json(record.embeddings), _ts(d.created_at, "details.created_at"),
            _ts(d.updated_at, "details.updated_at"),
            _ts(d.last_activity_at, "details.last_activity_at"), d.created_by, project.name,
            label_count, pd.task_name, pd.workflow_status, pd.batch_id, pd.batch_name,
            pd.priority, pd.consensus_expected_label_count, pd.ontology_id,
        ))  # fmt: skip

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
        self._shapes.label((
            k, project.name, data_row.row_data, data_row.external_id, data_row.global_key,
            dataset_name, record.media_type, label.label_kind, label.version,
            _ts(details.created_at, "label_details.created_at"),
            _ts(details.updated_at, "label_details.updated_at"), details.created_by,
            _ts(details.content_last_updated_at, "label_details.content_last_updated_at"),
            perf.seconds_to_create, perf.seconds_to_review, skipped, pd.task_name,
        ))  # fmt: skip
        base = dict(zip(_KEYS, keys, strict=True))
        reviews = as_list(details.reviews, "label_details.reviews")
        if reviews:
            self._shapes.reviews.add_dicts([_review(r, base) for r in reviews], pos)
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
            rows = [_relationship(r, base) for r in relationships]
            self._shapes.relationships.add_dicts(rows, pos)

    def _objects(self, objects: list[_Object], k: int) -> None:
        add = self._shapes.object
        add_vertices = self._shapes.vertices.add
        for o in objects:
            if o.bounding_box is not UNSET:
                b = o.bounding_box or Box()
                add((k, o.feature_id, o.feature_schema_id, o.name, o.value, o.annotation_kind,
                     "bbox", b.top, b.left, b.height, b.width, None, None, None, None,
                     None))  # fmt: skip
            elif o.polygon is not UNSET:
                n = add_vertices(open_ring(o.polygon) if o.polygon else ())
                add((k, o.feature_id, o.feature_schema_id, o.name, o.value, o.annotation_kind,
                     "polygon", None, None, None, None, n, None, None, None, None))  # fmt: skip
            elif o.line is not UNSET:
                n = add_vertices(o.line or ())
                add((k, o.feature_id, o.feature_schema_id, o.name, o.value, o.annotation_kind,
                     "polyline", None, None, None, None, n, None, None, None, None))  # fmt: skip
            elif o.point is not UNSET:
                p = o.point or Point()
                add((k, o.feature_id, o.feature_schema_id, o.name, o.value, o.annotation_kind,
                     "point", None, None, None, None, None, p.x, p.y, None, None))  # fmt: skip
            elif o.composite_mask is not UNSET:
                if o.mask is not UNSET:  # both: the legacy mask is kept in extra_json
                    raise TransformError("mask and composite_mask: the row function's")
                c = o.composite_mask or _CompositeMask()
                add((k, o.feature_id, o.feature_schema_id, o.name, o.value, o.annotation_kind,
                     "mask", None, None, None, None, None, None, None, c.url,
                     c.color_rgb or []))  # fmt: skip
            elif o.mask is not UNSET:
                url = o.mask.url if o.mask is not None else None
                add((k, o.feature_id, o.feature_schema_id, o.name, o.value, o.annotation_kind,
                     "mask", None, None, None, None, None, None, None, url, None))  # fmt: skip
            else:
                raise TransformError("unknown annotation kind")
            if o.classifications:
                self._questions(o.classifications, (k, o.feature_id, None, None, 0))

    def _questions(self, questions: Sequence[_Question | list[_Question]], parent: _Parent) -> None:
        """Rows of a classification list; ``parent``: (key index, object, question, answer,
        depth), the first items of every row."""
        add = self._shapes.question
        k, object_id, _, _, depth = parent
        for q in questions:
            if isinstance(q, list):  # a list inside the list: flattened, as the row function
                self._questions(q, parent)
                continue
            head = (*parent, q.feature_id, q.feature_schema_id, q.name, q.value, q.message_id)
            answers: Sequence[_Answer]
            if q.radio_answer is not UNSET:  # null: no option selected, no row
                kind, answers = "radio", () if q.radio_answer is None else (q.radio_answer,)
            elif q.checklist_answers is not UNSET:
                kind, answers = "checklist", q.checklist_answers or ()
            elif q.text_answer is not UNSET:
                content = q.text_answer.content if q.text_answer is not None else None
                kind, answers = "text", ()
                add((*head, kind, 0, None, None, None, None, content))
            else:
                raise TransformError("classification has no known answer field")
            for i, a in enumerate(answers):
                add((*head, kind, i, a.feature_id, a.feature_schema_id, a.name, a.value, None))
                if a.classifications:
                    nested = (k, object_id, q.feature_id, a.feature_id, depth + 1)
                    self._questions(a.classifications, nested)
            if q.classifications:
                self._questions(q.classifications, (k, object_id, q.feature_id, None, depth + 1))
