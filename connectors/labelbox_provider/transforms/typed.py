"""What the typed fast paths (:mod:`.fast_v1`, :mod:`.fast_v2`) share: the strict struct base,
the geometry structs, the sink shapes they append to, and the media-attribute columns."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from .buffers import VertexColumn
from .common import RecordContext, integer, text
from .sink import TableSink

Int64 = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]  # larger: the row function's (Arrow)
# Arrow refuses an integer beyond 2**53 for a double column: such values are left to the row
# function too (which hands them to Arrow and rejects the record, naming the column).
Float = Annotated[float, Meta(ge=-(2**53), le=2**53)]


class Strict(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """Every field optional unless said otherwise; an unknown key fails the decode (the record
    then goes to the row function, which keeps unmapped keys in ``extra_json``)."""


class Vertex(Strict):
    x: Float | None  # required: a vertex without x or y is left to the row function
    y: Float | None


class Point(Strict):
    x: Float | None = None
    y: Float | None = None


class Box(Strict):
    top: Float | None = None
    left: Float | None = None
    height: Float | None = None
    width: Float | None = None


def media_columns(
    attributes: dict[str, Any] | None, mime: Any, what: str
) -> tuple[str | None, int | None, int | None]:
    """``mime_type``, ``width`` and ``height`` from media attributes, as the row functions
    coerce them (``mime``: the MIME value found under the format's key)."""
    if attributes is None:
        return None, None, None
    if mime is not None and type(mime) is not str:
        mime = text(mime, f"{what}.mime_type")
    width, height = attributes.get("width"), attributes.get("height")
    if width is not None and type(width) is not int:
        width = integer(width, f"{what}.width")
    if height is not None and type(height) is not int:
        height = integer(height, f"{what}.height")
    return mime, width, height


Columns = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]
REVIEW_COLUMNS = ("review_id", "score", "created_at", "created_by", "review_label_id")


class Shapes:
    """The sink shapes a fast path appends to, their ``append`` bound once. One shape per
    table: a tuple with a few None constants is cheaper to build and convert than shapes whose
    rows must be merged back into record order. Objects, classifications, labels and (v1)
    reviews are keyed: their tuples start with the label's key index."""

    def __init__(self, sink: TableSink, columns: Columns) -> None:
        objects, questions, labels, data_rows = columns
        tables = sink.tables
        self.vertices = VertexColumn()
        points = {"points": self.vertices}
        self.object = tables["objects"].shape(objects, points, keyed=True).append
        self.question = tables["classifications"].shape(questions, keyed=True).append
        self.label = tables["labels"].shape(labels, keyed=True).append
        self.data_row = tables["data_rows"].shape(data_rows).append
        self.review = tables["reviews"].shape(REVIEW_COLUMNS, keyed=True).append
        self.reviews = tables["reviews"]  # for dict rows
        self.relationships = tables["relationships"]
        self.workflow = tables["workflow_history"]
        self.keys = sink.keys.add


class FastPath:
    """Base of the fast paths: the sink, the record context and the shapes."""

    RECORD: type[Strict]  # the typed record this path takes
    COLUMNS: Columns  # of the object, classification, label and data-row tuples

    def __init__(self, sink: TableSink, ctx: RecordContext) -> None:
        self.sink = sink
        self.ctx = ctx
        self._shapes = Shapes(sink, self.COLUMNS)

    def add(self, record: Any, pos: int) -> None:
        """Append every row of ``record``, the record at ``pos`` (the caller commits). On any
        error nothing stays appended and the error propagates: the caller then gives the
        record to the row function."""
        try:
            self._rows(record, pos)
        except BaseException:
            self.sink.discard(pos)
            raise

    def _rows(self, record: Any, pos: int) -> None:
        raise NotImplementedError
