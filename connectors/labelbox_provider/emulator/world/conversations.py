"""The inline row data of conversational and chat-evaluation data rows (v2 ``row_data``).

Both shapes follow what Labelbox's SDK recorded (docs/export-shapes.md): a conversational row is
``{"type", "version": 1, "messages": [{messageId, timestampUsec, content, user, align,
canLabel}]}``; a chat-evaluation row is ``{"type", "version": 2, "rootMessageIds", "actors",
"messages": {id: {actorId, content: [{type, content}], childMessageIds}}}``, a tree that starts
at the human prompt, whose children are one response per model config.
"""

from __future__ import annotations

from typing import Any

from labelbox_provider.emulator.world.geometry import (
    CORPUS,
    MESSAGE_COUNT,
    MODEL_CONFIGS,
    PROMPT_ID,
    RESPONSE_IDS,
    message_id,
)

_CONVERSATIONAL = "application/vnd.labelbox.conversational"
_START_USEC = 1_700_000_000_000_000


def _snippet(row: int, n: int) -> str:
    start = (row * 37 + n * 53) % (len(CORPUS) - 60)
    return CORPUS[start : start + 60].strip()


def conversation(row: int) -> dict[str, Any]:
    """The conversation of data row number ``row`` (customer and agent take turns)."""
    messages = []
    for n in range(MESSAGE_COUNT):
        customer = n % 2 == 0
        messages.append(
            {
                "messageId": message_id(n),
                "timestampUsec": _START_USEC + row * 1_000_000 + n * 30_000_000,
                "content": _snippet(row, n),
                "user": {
                    "userId": "customer" if customer else "agent",
                    "name": "Customer" if customer else "Agent",
                },
                "align": "left" if customer else "right",
                "canLabel": True,
            }
        )
    return {"type": _CONVERSATIONAL, "version": 1, "messages": messages}


def chat_evaluation(row: int) -> dict[str, Any]:
    """The chat to evaluate of data row number ``row``: one prompt, one response per model."""
    actors: dict[str, Any] = {"human": {"role": "human", "metadata": {"name": "rater"}}}
    messages: dict[str, Any] = {
        PROMPT_ID: {
            "actorId": "human",
            "content": [{"type": "text", "content": _snippet(row, 0)}],
            "childMessageIds": list(RESPONSE_IDS),
        }
    }
    for n, (response, config) in enumerate(zip(RESPONSE_IDS, MODEL_CONFIGS, strict=True)):
        actor = f"model-{n}"
        actors[actor] = {"role": "model", "metadata": {"modelConfigName": config}}
        content = [{"type": "text", "content": _snippet(row, n + 1)}]
        messages[response] = {"actorId": actor, "content": content, "childMessageIds": []}
    return {
        "type": _CONVERSATIONAL + ".model-chat-evaluation",
        "version": 2,
        "rootMessageIds": [PROMPT_ID],
        "actors": actors,
        "messages": messages,
    }
