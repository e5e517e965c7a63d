"""Chat evaluation (v2): the message-level selections and rankings of a label -> rows of
``message_evaluations``.

Multimodal chat evaluation exports an evaluation as an object with no geometry: the kind
``MessageSingleSelection`` carries ``selected_message{message_id, model_config_name,
parent_message_id}``, ``MessageMultiSelection`` ``selected_messages{messages[...],
parent_message_id}`` and ``MessageRanking`` ``ranked_messages{ranked_messages[{..., order}],
parent_message_id}`` (the shapes are in docs/export-shapes.md). The object keeps its
``objects`` row (kind ``message_selection`` / ``message_ranking``); each message it names gets
one row here, with the rater taken from the label (``label_details.created_by``).
"""

from __future__ import annotations

from typing import Any

from .common import Row, as_dict, as_list, integer, text, to_json

# geometry-like key of an evaluation object -> (normalised kind, key of its message list)
MESSAGE_KEYS: dict[str, tuple[str, str | None]] = {
    "selected_message": ("message_selection", None),
    "selected_messages": ("message_selection", "messages"),
    "ranked_messages": ("message_ranking", "ranked_messages"),
}
_MESSAGE_KNOWN = frozenset({"message_id", "model_config_name", "order", "parent_message_id"})


def message_kind(obj: dict[str, Any]) -> str | None:
    """``message_selection`` / ``message_ranking`` for an evaluation object, else None."""
    for key, (kind, _) in MESSAGE_KEYS.items():
        if key in obj:
            return kind
    return None


def message_evaluation_rows(obj: dict[str, Any], base: Row, rated_by: str | None) -> list[Row]:
    """One row per message an evaluation object selects or ranks (exported order kept).

    >>> rows = message_evaluation_rows({"feature_id": "f", "annotation_kind": "MessageRanking",
    ...     "ranked_messages": {"parent_message_id": "p", "ranked_messages": [
    ...         {"message_id": "b", "model_config_name": "m2", "order": 2},
    ...         {"message_id": "a", "model_config_name": "m1", "order": 1}]}}, {}, "rater")
    >>> [(r["message_id"], r["rank"], r["selected"], r["rated_by"]) for r in rows]
    [('b', 2, None, 'rater'), ('a', 1, None, 'rater')]
    """
    key = next(k for k in MESSAGE_KEYS if k in obj)
    _, list_key = MESSAGE_KEYS[key]
    block = as_dict(obj[key], key)
    messages = [block] if list_key is None else as_list(block.get(list_key), f"{key}.{list_key}")
    block_extra = {k: v for k, v in block.items() if k not in {"parent_message_id", list_key}}
    if list_key is None:
        block_extra = {}
    head = {
        **base,
        "feature_id": text(obj.get("feature_id"), "object.feature_id"),
        "schema_id": text(obj.get("feature_schema_id"), "object.feature_schema_id"),
        "name": text(obj.get("name"), "object.name"),
        "annotation_kind": text(obj.get("annotation_kind"), "object.annotation_kind"),
        "parent_message_id": text(block.get("parent_message_id"), f"{key}.parent_message_id"),
        "rated_by": rated_by,
    }
    ranking = key == "ranked_messages"
    rows = []
    for position, item in enumerate(messages):
        message = as_dict(item, f"{key} message")
        extra = {k: v for k, v in message.items() if k not in _MESSAGE_KNOWN}
        if block_extra:
            extra["evaluation"] = block_extra
        rows.append(
            {
                **head,
                "message_id": text(message.get("message_id"), f"{key}.message_id"),
                "model_config_name": text(
                    message.get("model_config_name"), f"{key}.model_config_name"
                ),
                "position": position,
                "selected": None if ranking else True,
                "rank": integer(message.get("order"), f"{key}.order") if ranking else None,
                "extra_json": to_json(extra) if extra else None,
            }
        )
    return rows
