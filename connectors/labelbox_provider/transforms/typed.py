"""What the typed fast paths (:mod:`.fast_v1`, :mod:`.fast_v2`) share: the strict struct base,
the geometry structs, the tuple layouts of their rows (derived from :data:`.tables.ROW_COLUMNS`),
the shapes they append to, and the media-attribute columns."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from .buffers import RowBuffers, VertexColumn
from .classifications import Tree, walk
from .common import RecordContext, integer, text
from .tables import ROW_COLUMNS

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


RowTuple = Callable[..., tuple[Any, ...]]


class Layout:
    """The tuple layout of one shape: what comes first (the record's key index or position),
    then the columns the shape fills, in the order :data:`.tables.ROW_COLUMNS` declares.

    Rows are built by functions :meth:`row` compiles once, at import, from the columns they
    name: a tuple is as cheap to build as one written by hand, and no value can land in
    another column's place."""

    def __init__(self, table: str, columns: Iterable[str]) -> None:
        wanted = set(columns)
        unknown = wanted.difference(ROW_COLUMNS[table])
        if unknown:
            raise ValueError(f"{table} has no column(s) {sorted(unknown)}")
        self.table = table
        self.columns = tuple(c for c in ROW_COLUMNS[table] if c in wanted)

    def row(self, params: str, first: str, **values: str) -> RowTuple:
        """A function of ``params`` returning a row tuple: ``first``, then each column's
        expression in ``values`` (None for the columns it does not name).

        >>> Layout("reviews", ["score", "review_id"]).row("k, r", "k", score="r")(0, 1.0)
        (0, None, 1.0)
        """
        unknown = set(values).difference(self.columns)
        if unknown:
            raise ValueError(f"the {self.table} layout has no column(s) {sorted(unknown)}")
        items = ", ".join([first, *(values.get(c, "None") for c in self.columns)])
        namespace: dict[str, Any] = {}
        exec(f"def row({params}):\n    return ({items})\n", namespace)
        function: RowTuple = namespace["row"]
        return function


def geometry_rows(objects: Layout, params: str, shared: dict[str, str]) -> dict[str, RowTuple]:
    """The object rows of the geometries both formats spell alike, by kind: ``shared`` the
    columns every object row fills, ``g`` (in ``params``) the box, vertex count or point."""
    return {
        "bbox": objects.row(
            params,
            "k",
            **shared,
            kind="'bbox'",
            bbox_top="g.top",
            bbox_left="g.left",
            bbox_height="g.height",
            bbox_width="g.width",
        ),
        "polygon": objects.row(params, "k", **shared, kind="'polygon'", points="g"),
        "polyline": objects.row(params, "k", **shared, kind="'polyline'", points="g"),
        "point": objects.row(params, "k", **shared, kind="'point'", point_x="g.x", point_y="g.y"),
    }


_PARENT_PARAMS = "k, object_id, question_id, answer_id, depth, q"  # a TypedParent, the question
_PARENT_COLUMNS = {
    "parent_object_feature_id": "object_id",
    "parent_feature_id": "question_id",
    "parent_answer_feature_id": "answer_id",
    "depth": "depth",
}


def question_rows(
    questions: Layout, question: dict[str, str], answer: dict[str, str], text_answer: str
) -> tuple[RowTuple, RowTuple]:
    """The classification rows of a free-text question (``text_row(*parent, q)``) and of a
    selected answer (``answer_row(*parent, q, kind, i, a)``): ``question`` the columns of
    ``q`` every row fills, ``answer`` those of ``a``, ``text_answer`` the text."""
    text_row = questions.row(
        _PARENT_PARAMS,
        "k",
        **_PARENT_COLUMNS,
        **question,
        kind="'text'",
        answer_position="0",
        text_answer=text_answer,
    )
    answer_row = questions.row(
        _PARENT_PARAMS + ", kind, i, a",
        "k",
        **_PARENT_COLUMNS,
        **question,
        kind="kind",
        answer_position="i",
        **answer,
    )
    return text_row, answer_row


REVIEWS = Layout("reviews", ("review_id", "score", "created_at", "created_by", "review_label_id"))


TypedParent = tuple[int, str | None, str | None, str | None, int]
"""Where a typed classification list sits: (key index, object, enclosing question, enclosing
answer, depth), the first items of each of its rows."""


class TypedTree(Tree[TypedParent]):
    """The fast paths' reading of a classification tree (typed questions and answers, with
    ``feature_id`` and ``classifications``); each format says what a question's answers are."""

    def answer_nested(self, kind: str, answer: Any) -> Any:
        return None if kind == "text" else answer.classifications

    def question_nested(self, question: Any) -> Any:
        return question.classifications

    def child(self, parent: TypedParent, question: Any, answer: Any) -> TypedParent:
        answer_id = None if answer is None else answer.feature_id
        return (parent[0], parent[1], question.feature_id, answer_id, parent[4] + 1)


Layouts = tuple[Layout, Layout, Layout, Layout]


class Shapes:
    """The sink shapes a fast path appends to, their ``append`` bound once. One shape per
    table: a tuple with a few None constants is cheaper to build and convert than shapes whose
    rows must be merged back into record order. Objects, classifications, labels and (v1)
    reviews are keyed: their tuples start with the label's key index."""

    def __init__(self, sink: RowBuffers, layouts: Layouts) -> None:
        objects, questions, labels, data_rows = (layout.columns for layout in layouts)
        tables = sink.tables
        self.vertices = VertexColumn()
        points = {"points": self.vertices}
        self.object = tables["objects"].shape(objects, points, keyed=True).append
        self.question = tables["classifications"].shape(questions, keyed=True).append
        self.label = tables["labels"].shape(labels, keyed=True).append
        self.data_row = tables["data_rows"].shape(data_rows).append
        self.review = tables["reviews"].shape(REVIEWS.columns, keyed=True).append
        self.reviews = tables["reviews"]  # for dict rows
        self.relationships = tables["relationships"]
        self.workflow = tables["workflow_history"]
        self.keys = sink.keys.add


class FastPath:
    """Base of the fast paths: the sink, the record context and the shapes."""

    RECORD: type[Strict]  # the typed record this path takes
    LAYOUTS: Layouts  # of the object, classification, label and data-row tuples
    TREE: TypedTree  # how the record type's classification trees are read
    QUESTION_ROWS: tuple[RowTuple, RowTuple]  # the text and answer rows (:func:`question_rows`)

    def __init__(self, sink: RowBuffers, ctx: RecordContext) -> None:
        self.sink = sink
        self.ctx = ctx
        self._shapes = Shapes(sink, self.LAYOUTS)

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

    def _questions(self, questions: Sequence[Any], parent: TypedParent) -> None:
        """Rows of a classification list; ``parent``: (key index, object, question, answer,
        depth), the first items of every row."""
        add = self._shapes.question
        text_row, answer_row = self.QUESTION_ROWS
        for p, q, kind, i, a in walk(questions, parent, self.TREE):
            add(text_row(*p, q) if kind == "text" else answer_row(*p, q, kind, i, a))
