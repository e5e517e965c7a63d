"""Classification trees (v1 and v2) -> one row per selected answer, the nesting kept.

A question with three checked answers gives three rows; a free-text question gives one row
with ``text_answer``. Nested questions under an answer carry ``parent_feature_id`` (the
enclosing question), ``parent_answer_feature_id`` and ``depth`` (0 = top level), and keep the
``parent_object_feature_id`` of the object they hang from, so the tree can be rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from labelbox_provider.exceptions import TransformError

from .common import Row, as_dict, as_list, extra_json, text

# Keys mapped to columns; any other (a question's keyframe, an answer's position...) is kept
# in extra_json.
_V1_QUESTION = frozenset(
    {"featureId", "schemaId", "title", "value", "answer", "answers", "scope", "messageId"}
    | {"classifications"}
)
_V1_ANSWER = frozenset({"featureId", "schemaId", "title", "value", "classifications", "keyframe"})
_V2_QUESTION = frozenset(
    {"feature_id", "feature_schema_id", "name", "value", "message_id", "classifications"}
    | {"radio_answer", "checklist_answers", "text_answer"}
    | {"conversational_checklist_answers", "conversational_text_answer"}
    | {"conversational_radio_answer"}
)
_V2_ANSWER = frozenset(
    {"feature_id", "feature_schema_id", "name", "value", "classifications", "message_id"}
)


P = TypeVar("P")


class Parent(NamedTuple):
    """Where a classification list sits: label ids, object, enclosing question and answer."""

    base: Row  # project_id, label_id, data_row_id
    object_id: str | None = None  # feature id of the object it belongs to (None = global)
    question_id: str | None = None  # enclosing question's feature id
    answer_id: str | None = None  # enclosing answer's feature id
    depth: int = 0  # 0 = top level
    frame: int | None = None  # video/DICOM frame number
    group: str | None = None  # DICOM plane
    segments: dict[str, Any] | None = None  # v2 segments keyed by feature id

    def child(self, question_id: str | None, answer_id: str | None) -> Parent:
        """The parent for the questions nested under one answer."""
        return Parent(
            self.base, self.object_id, question_id, answer_id, self.depth + 1, self.frame,
            self.group, self.segments,
        )  # fmt: skip

    def prefix(self) -> Row:
        """The columns every row of this list shares."""
        return {
            **self.base,
            "parent_object_feature_id": self.object_id,
            "parent_feature_id": self.question_id,
            "parent_answer_feature_id": self.answer_id,
            "depth": self.depth,
            "frame_number": self.frame,
            "group_name": self.group,
        }


class Tree(Generic[P]):
    """How one reading of a classification tree (a format, typed or plain) answers what
    :func:`walk` asks; ``P`` is the parent the rows carry."""

    def question(self, question: Any, parent: P) -> tuple[Any, str, Sequence[Any]]:
        """What the rows of ``question`` share (handed back with each answer), its answer kind,
        and its answers (a free-text question: one, None); answers are checked by the caller,
        as it reads them."""
        raise NotImplementedError

    def answer_nested(self, kind: str, answer: Any) -> Any:
        """The questions nested under ``answer`` (falsy: none)."""
        raise NotImplementedError

    def question_nested(self, question: Any) -> Any:
        """The questions nested directly under ``question`` (falsy: none)."""
        raise NotImplementedError

    def child(self, parent: P, question: Any, answer: Any) -> P:
        """The parent of the questions nested under ``question`` (and ``answer``, or None)."""
        raise NotImplementedError


def walk(items: Iterable[Any], parent: P, tree: Tree[P]) -> Iterator[tuple[P, Any, str, int, Any]]:
    """Every selected answer of a classification list, depth first in export order, as
    ``(parent, shared, kind, position, answer)``: a question's answers in turn, each followed by
    the questions nested under it, then the questions nested under the question. A list inside
    the list (the checklist extra-list quirk) is flattened. The one nested-question walk: the
    row functions and the typed fast paths differ only in their :class:`Tree`.
    """
    question, answer_nested, child = tree.question, tree.answer_nested, tree.child
    for item in items:
        if type(item) is list:
            yield from walk(item, parent, tree)
            continue
        shared, kind, answers = question(item, parent)
        for position, answer in enumerate(answers):
            yield parent, shared, kind, position, answer
            nested = answer_nested(kind, answer)
            if nested:
                yield from walk(nested, child(parent, item, answer), tree)
        nested = tree.question_nested(item)
        if nested:
            yield from walk(nested, child(parent, item, None), tree)


class _PlainTree(Tree[Parent]):
    """The row functions' reading: JSON values, checked as they are read."""

    ID = "featureId"

    def __init__(self) -> None:
        self._prefixes: dict[int, tuple[Parent, Row]] = {}

    def prefix(self, parent: Parent) -> Row:
        """``parent.prefix()``, built once per parent."""
        cached = self._prefixes.get(id(parent))
        if cached is None or cached[0] is not parent:
            cached = self._prefixes[id(parent)] = (parent, parent.prefix())
        return cached[1]

    def answer_nested(self, kind: str, answer: Any) -> Any:
        if kind == "text":
            return None
        nested = as_dict(answer, "classification answer").get("classifications")
        return as_list(nested, "nested") if nested else None

    def question_nested(self, question: Any) -> Any:
        nested = question.get("classifications")
        return as_list(nested, "nested") if nested else None

    def child(self, parent: Parent, question: Any, answer: Any) -> Parent:
        key = self.ID
        return parent.child(question.get(key), None if answer is None else answer.get(key))


class _V1Tree(_PlainTree):
    def question(self, question: Any, parent: Parent) -> tuple[Any, str, Sequence[Any]]:
        item = question
        get = item.get if type(item) is dict else as_dict(item, "classification").get
        row = {
            **self.prefix(parent),
            "feature_id": get("featureId"),
            "schema_id": get("schemaId"),
            "name": get("title"),
            "value": get("value"),
            "message_id": get("messageId"),
            "scope": get("scope"),
            "extra_json": None if _V1_QUESTION.issuperset(item) else extra_json(item, _V1_QUESTION),
        }
        kind, answers = _v1_answers(item)
        row["kind"] = kind
        if kind == "text":
            row["text_answer"] = text(get("answer"), "classification.answer")
            return row, kind, (None,)
        return row, kind, answers


class _V2Tree(_PlainTree):
    ID = "feature_id"

    def question(self, question: Any, parent: Parent) -> tuple[Any, str, Sequence[Any]]:
        get = as_dict(question, "classification").get
        feature_id = get("feature_id")
        row = {
            **self.prefix(parent),
            "feature_id": feature_id,
            "schema_id": get("feature_schema_id"),
            "name": get("name"),
            "value": get("value"),
            "message_id": get("message_id"),
            "extra_json": extra_json(question, _V2_QUESTION),
        }
        segments = parent.segments
        if segments and feature_id in segments:
            row["segments"] = segments[feature_id]
        kind, answers = _v2_answers(question)
        row["kind"] = kind
        out, message_id = [], None
        for answer, own in answers:  # an answer's message id holds for the answers after it
            message_id = own if own is not None else message_id
            out.append((answer, message_id))
        return row, kind, out

    def answer_nested(self, kind: str, answer: Any) -> Any:
        return super().answer_nested(kind, answer[0])

    def child(self, parent: Parent, question: Any, answer: Any) -> Parent:
        return super().child(parent, question, None if answer is None else answer[0])


def add_v1_classification_rows(out: list[Row], items: Any, parent: Parent) -> None:
    """Append to ``out`` the rows of a v1 ``classifications`` list (answer / answers / dropdown
    list / free text). Nested lists (the checklist extra-list quirk) are flattened.

    >>> rows: list[Row] = []
    >>> add_v1_classification_rows(rows,
    ...     [{"featureId": "q", "title": "color", "answers": [{"featureId": "a1", "title": "red"},
    ...      {"featureId": "a2", "title": "blue", "classifications": [{"featureId": "q2",
    ...      "title": "why", "answer": "sky"}]}]}], Parent({"label_id": "L"}))
    >>> for r in rows:
    ...     print(r["feature_id"], r["kind"], r.get("answer_name"), r.get("text_answer"),
    ...           r["depth"])
    q checklist red None 0
    q checklist blue None 0
    q2 text None sky 1
    """
    out_append = out.append
    for _, row, kind, position, answer in walk(
        as_list(items, "classifications"), parent, _V1Tree()
    ):
        if kind == "text":
            out_append({**row, "answer_position": 0})
        else:
            out_append(_v1_answer_row(row, position, answer))


def _v1_answers(question: dict[str, Any]) -> tuple[str, list[Any]]:
    if "answers" in question:
        return "checklist", as_list(question["answers"], "classification.answers")
    if "answer" not in question:
        raise TransformError("classification has neither 'answer' nor 'answers'")
    answer = question["answer"]
    if isinstance(answer, list):
        return "dropdown", answer
    if isinstance(answer, dict):
        return "radio", [answer]
    return "text", []


def _v1_answer_row(question: Row, position: int, answer: Any) -> Row:
    get = answer.get if type(answer) is dict else as_dict(answer, "classification answer").get
    extra = None if _V1_ANSWER.issuperset(answer) else extra_json(answer, _V1_ANSWER)
    return {
        **question,
        "answer_position": position,
        "answer_feature_id": get("featureId"),
        "answer_schema_id": get("schemaId"),
        "answer_name": get("title"),
        "answer_value": get("value"),
        "answer_keyframe": get("keyframe"),
        "extra_json": _merge_extra(question["extra_json"], extra),
    }


def _merge_extra(question_extra: str | None, answer_extra: str | None) -> str | None:
    if answer_extra is None:
        return question_extra
    return f'{{"answer":{answer_extra},"question":{question_extra or "null"}}}'


def v2_classification_rows(items: Any, parent: Parent) -> list[Row]:
    """Rows for a v2 ``classifications`` list (radio_answer, checklist_answers, text_answer,
    and the conversational variants with ``message_id``).

    >>> rows = v2_classification_rows([{"feature_id": "q", "name": "ok",
    ...     "radio_answer": {"feature_id": "a", "name": "yes", "classifications": []}}],
    ...     Parent({"label_id": "L"}))
    >>> [(r["kind"], r["answer_name"], r["answer_position"]) for r in rows]
    [('radio', 'yes', 0)]
    """
    out: list[Row] = []
    for _, row, kind, position, (answer, message_id) in walk(
        as_list(items, "classifications"), parent, _V2Tree()
    ):
        question = row if message_id is None else {**row, "message_id": message_id}
        if kind == "text":
            out.append(
                {
                    **question,
                    "answer_position": position,
                    "text_answer": as_dict(answer, "text_answer").get("content"),
                }
            )
        else:
            out.append(_v2_answer_row(question, position, answer))
    return out


def _v2_answers(question: dict[str, Any]) -> tuple[str, list[tuple[Any, Any]]]:
    """The answer kind and ``(answer, message_id)`` pairs of a v2 question."""
    if "radio_answer" in question:  # null: no option selected, no row (as an empty checklist)
        selected = question["radio_answer"]
        return "radio", [] if selected is None else [(selected, None)]
    if "checklist_answers" in question:
        return "checklist", [(a, None) for a in as_list(question["checklist_answers"], "answers")]
    if "text_answer" in question:
        return "text", [(question["text_answer"], None)]
    if "conversational_radio_answer" in question:
        return "radio", _conversational(question["conversational_radio_answer"], "radio_answer")
    if "conversational_checklist_answers" in question:
        entries = question["conversational_checklist_answers"]
        return "checklist", _conversational(entries, "checklist_answers")
    if "conversational_text_answer" in question:
        return "text", _conversational(question["conversational_text_answer"], "text_answer")
    raise TransformError("classification has no known answer field")


def _conversational(entries: Any, inner: str) -> list[tuple[Any, Any]]:
    """Conversational answers: entries that are answers with a ``message_id``, or that wrap
    their answer(s) under ``inner`` / ``answer`` next to a ``message_id``."""
    out: list[tuple[Any, Any]] = []
    for item in entries if isinstance(entries, list) else [entries]:
        entry = as_dict(item, "conversational answer")
        message_id = entry.get("message_id")
        wrapped = entry.get(inner, entry.get("answer"))
        if wrapped is None:
            out.append((entry, message_id))
        else:
            out.extend(
                (a, message_id) for a in (wrapped if isinstance(wrapped, list) else [wrapped])
            )
    return out


def _v2_answer_row(question: Row, position: int, answer: Any) -> Row:
    get = as_dict(answer, "classification answer").get
    return {
        **question,
        "answer_position": position,
        "answer_feature_id": get("feature_id"),
        "answer_schema_id": get("feature_schema_id"),
        "answer_name": get("name"),
        "answer_value": get("value"),
        "extra_json": _merge_extra(question["extra_json"], extra_json(answer, _V2_ANSWER)),
    }
