"""Procedural geometry of the neutral content model (shapes documented in ``content``)."""

from __future__ import annotations

import random
from typing import Any

from labelbox_provider.emulator.world.ids import hashed_uuid

CORPUS = (
    "Metal-insulator transitions have been one of the central topics in condensed matter "
    "physics. Recent research suggests that the interplay of disorder and interactions gives "
    "rise to new phases. Customer support asked whether the parcel shipped on Monday; the "
    "agent answered that billing had already refunded the order. Labelbox exports carry "
    "labels, reviews and workflow history for every data row of a project."
)
MESSAGE_COUNT = 4  # messages per simulated conversation
PAGE_COUNT = 5  # pages per simulated PDF
# Chat evaluation: one human prompt, answered by one message per model config.
PROMPT_ID = "message-0"
MODEL_CONFIGS = ("model-config-a", "model-config-b", "model-config-c")
RESPONSE_IDS = tuple(f"message-{n + 1}" for n in range(len(MODEL_CONFIGS)))


def message_id(n: int) -> str:
    """Id of message ``n`` of a conversation (``message-0``...: the ids of the SDK's
    recorded conversational row, also its ``labelable_ids``)."""
    return f"message-{n}"


def _evaluation(kind: str, rng: random.Random) -> dict[str, Any]:
    """A chat evaluation: the prompt and the chosen responses, best first for a ranking."""
    responses = list(zip(RESPONSE_IDS, MODEL_CONFIGS, strict=True))
    if kind == "mmc_single":
        chosen = [rng.choice(responses)]
    elif kind == "mmc_multi":
        chosen = sorted(rng.sample(responses, rng.randint(1, len(responses))))
    else:
        chosen = rng.sample(responses, len(responses))
    return {"parent": PROMPT_ID, "messages": chosen}


def _box(rng: random.Random, scale: int = 1000) -> dict[str, Any]:
    top, left = rng.randrange(scale), rng.randrange(scale)
    return {"top": top, "left": left, "height": rng.randint(5, 300), "width": rng.randint(5, 300)}


def _points(rng: random.Random, n: int, scale: float = 1000.0) -> list[tuple[float, float]]:
    return [(round(rng.uniform(0, scale), 3), round(rng.uniform(0, scale), 3)) for _ in range(n)]


def _lnglat(rng: random.Random, n: int) -> list[list[float]]:
    lng, lat = rng.uniform(-122.5, -122.3), rng.uniform(37.7, 37.8)
    return [
        [round(lng + rng.uniform(0, 0.01), 6), round(lat + rng.uniform(0, 0.01), 6)]
        for _ in range(n)
    ]


def flat_geometry(kind: str, rng: random.Random, salt: str) -> dict[str, Any]:
    """Neutral geometry of a non-frame object (see ``content`` for the shapes)."""
    if kind == "bbox":
        return _box(rng)
    if kind in ("polygon", "line"):
        return {"points": _points(rng, rng.randint(3, 6))}
    if kind == "point":
        x, y = _points(rng, 1)[0]
        return {"x": x, "y": y}
    if kind == "mask":
        return {"color": (rng.randrange(256), rng.randrange(256), rng.randrange(256))}
    if kind in ("entity", "conv_entity"):
        start = rng.randrange(0, len(CORPUS) - 30)
        end = start + rng.randint(3, 25)
        if kind == "conv_entity":
            return {
                "message_id": message_id(rng.randrange(MESSAGE_COUNT)),
                "start": start,
                "end": end,
            }
        return {"start": start, "end": end, "token": CORPUS[start:end]}
    if kind.startswith("mmc_"):
        return _evaluation(kind, rng)
    return _document_or_geo(kind, rng, salt)


def _document_or_geo(kind: str, rng: random.Random, salt: str) -> dict[str, Any]:
    if kind == "doc_bbox":
        box = _box(rng, 500)
        return {"page": rng.randint(1, PAGE_COUNT), **box, "page_h": 792.0, "page_w": 612.0}
    if kind == "doc_entity":
        start = rng.randrange(0, len(CORPUS) - 40)
        text = CORPUS[start : start + rng.randint(10, 40)]
        n = len(text.split())
        return {
            "page": rng.randint(1, PAGE_COUNT),
            "group_id": hashed_uuid(salt, "group"),
            "tokens": [hashed_uuid(salt, "token", i) for i in range(max(n, 1))],
            "text": text,
        }
    if kind == "geo_point":
        return {"coordinates": _lnglat(rng, 1)[0]}
    if kind == "geo_line":
        return {"coordinates": _lnglat(rng, rng.randint(2, 4))}
    ring = _lnglat(rng, 4 if kind == "geo_rect" else rng.randint(3, 5))
    return {"coordinates": [[*ring, ring[0]]]}


def frame_geometry(kind: str, rng: random.Random) -> dict[str, Any]:
    """Neutral geometry of a frame object on one keyframe."""
    if kind == "video_bbox":
        return _box(rng)
    if kind == "video_point":
        x, y = _points(rng, 1)[0]
        return {"x": x, "y": y}
    if kind == "dicom_mask":
        return {"color": (rng.randrange(256), rng.randrange(256), rng.randrange(256))}
    return {"points": _points(rng, 3)}


def segments(rng: random.Random, frame_count: int) -> list[tuple[int, int]]:
    """One or two inclusive ``(start, end)`` frame ranges."""
    first = rng.randint(1, frame_count // 2)
    seg1 = (first, min(frame_count, first + rng.randint(0, 4)))
    if rng.random() < 0.5:
        return [seg1]
    start2 = min(frame_count, seg1[1] + rng.randint(2, 10))
    return [seg1, (start2, min(frame_count, start2 + rng.randint(0, 3)))]


def interpolate(a: dict[str, Any], b: dict[str, Any], f: float) -> dict[str, Any]:
    """Geometry a fraction ``f`` of the way from keyframe ``a`` to keyframe ``b``."""
    if "color" in a:  # a mask: the same raster reference on every frame
        return dict(a)
    if "points" in a:
        if len(a["points"]) != len(b["points"]):
            return {"points": list(a["points"])}
        pairs = zip(a["points"], b["points"], strict=True)
        pts = [
            (round(x + (x2 - x) * f, 3), round(y + (y2 - y) * f, 3)) for (x, y), (x2, y2) in pairs
        ]
        return {"points": pts}
    if "x" in a:
        return {k: round(a[k] + (b[k] - a[k]) * f, 3) for k in ("x", "y")}
    return {k: round(a[k] + (b[k] - a[k]) * f) for k in ("top", "left", "height", "width")}
