"""Classification trees (v1 and v2) -> one row per selected answer, the nesting kept.

A question with three checked answers gives three rows; a free-text question gives one row
with ``text_answer``. Nested questions under an answer carry ``parent_feature_id`` (the
enclosing question), ``parent_answer_feature_id`` and ``depth`` (0 = top level), and keep the
``parent_object_feature_id`` of the object they hang from, so the tree can be rebuilt.
"""

from __future__ import annotations

from typing import Any, NamedTuple

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
    _v1_questions(as_list(items, "classifications"), parent, parent.prefix(), out)


def _v1_questions(items: list[Any], parent: Parent, prefix: Row, out: list[Row]) -> None:
    for item in items:
        if type(item) is list:
            _v1_questions(item, parent, prefix, out)
            continue
        get = item.get if type(item) is dict else as_dict(item, "classification").get
        row = {
            **prefix,
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
            row["answer_position"] = 0
            out.append(row)
        for position, answer in enumerate(answers):
            _v1_answer(row, position, answer, parent, out)
        if get("classifications"):  # questions nested directly under a question
            child = parent.child(row["feature_id"], None)
            _v1_questions(as_list(get("classifications"), "nested"), child, child.prefix(), out)


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


def _v1_answer(question: Row, position: int, answer: Any, parent: Parent, out: list[Row]) -> None:
    get = answer.get if type(answer) is dict else as_dict(answer, "classification answer").get
    answer_id = get("featureId")
    extra = None if _V1_ANSWER.issuperset(answer) else extra_json(answer, _V1_ANSWER)
    out.append(
        {
            **question,
            "answer_position": position,
            "answer_feature_id": answer_id,
            "answer_schema_id": get("schemaId"),
            "answer_name": get("title"),
            "answer_value": get("value"),
            "answer_keyframe": get("keyframe"),
            "extra_json": _merge_extra(question["extra_json"], extra),
        }
    )
    nested = get("classifications")
    if nested:
        child = parent.child(question["feature_id"], answer_id)
        _v1_questions(as_list(nested, "nested"), child, child.prefix(), out)


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
    _v2_questions(as_list(items, "classifications"), parent, parent.prefix(), out)
    return out


def _v2_questions(items: list[Any], parent: Parent, prefix: Row, out: list[Row]) -> None:
    segments = parent.segments
    for item in items:
        if type(item) is list:
            _v2_questions(item, parent, prefix, out)
            continue
        get = as_dict(item, "classification").get
        feature_id = get("feature_id")
        row = {
            **prefix,
            "feature_id": feature_id,
            "schema_id": get("feature_schema_id"),
            "name": get("name"),
            "value": get("value"),
            "message_id": get("message_id"),
            "extra_json": extra_json(item, _V2_QUESTION),
        }
        if segments and feature_id in segments:
            row["segments"] = segments[feature_id]
        kind, answers = _v2_answers(item)
        row["kind"] = kind
        for position, (answer, message_id) in enumerate(answers):
            if message_id is not None:
                row = {**row, "message_id": message_id}
            if kind == "text":
                content = as_dict(answer, "text_answer").get("content")
                out.append({**row, "answer_position": position, "text_answer": content})
            else:
                _v2_answer(row, position, answer, parent, out)
        if get("classifications"):
            child = parent.child(feature_id, None)
            _v2_questions(as_list(get("classifications"), "nested"), child, child.prefix(), out)


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


def _v2_answer(question: Row, position: int, answer: Any, parent: Parent, out: list[Row]) -> None:
    get = as_dict(answer, "classification answer").get
    answer_id = get("feature_id")
    extra = extra_json(answer, _V2_ANSWER)
    out.append(
        {
            **question,
            "answer_position": position,
            "answer_feature_id": answer_id,
            "answer_schema_id": get("feature_schema_id"),
            "answer_name": get("name"),
            "answer_value": get("value"),
            "extra_json": _merge_extra(question["extra_json"], extra),
        }
    )
    nested = get("classifications")
    if nested:
        child = parent.child(question["feature_id"], answer_id)
        _v2_questions(as_list(nested, "nested"), child, child.prefix(), out)
