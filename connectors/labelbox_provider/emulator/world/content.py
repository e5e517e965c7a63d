"""The neutral content model of a label and its procedural generator.

A label's content (objects, classification trees, relationships, video frames) is a pure
function of (seed, label id, content version, ontology). Both renderers (``v1_records`` and
``v2_annotations``) read this one model, so the same label exported as v1 and as v2 carries the
same feature ids, schema ids, geometry values and answers.

Geometry is kept neutral (plain numbers) and each renderer spells it in its own format:

=============  ==========================================================================
kind           ``Obj.geometry``
=============  ==========================================================================
bbox           ``{"top", "left", "height", "width"}`` (ints, pixels)
polygon/line   ``{"points": [(x, y), ...]}`` (open polygon; v2 closes it)
point          ``{"x", "y"}``
mask           ``{"color": (r, g, b)}``
entity         ``{"start", "end", "token"}``
conv_entity    ``{"message_id", "start", "end"}``
doc_bbox       ``{"page" (1-based), "top", "left", "height", "width", "page_h", "page_w"}``
doc_entity     ``{"page", "group_id", "tokens": [uuid, ...], "text"}``
geo_*          ``{"coordinates": ...}`` GeoJSON-style lng/lat
mmc_*          ``{"parent": prompt id, "messages": [(message id, model config), ...]}``
               (chat evaluation; a ranking lists them best first)
frame kinds    per frame in ``Obj.frames`` (bbox / point / points / DICOM mask color as above)
=============  ==========================================================================
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from labelbox_provider.emulator.world.geometry import (
    CORPUS,
    MESSAGE_COUNT,
    PROMPT_ID,
    flat_geometry,
    frame_geometry,
    interpolate,
    message_id,
    segments,
)
from labelbox_provider.emulator.world.ids import digest, feature_id, feature_id_base
from labelbox_provider.emulator.world.ontology import FRAME_KINDS, Ontology, Option, Question, Tool

VIDEO_FRAME_COUNT = 120  # frames per simulated video (frames are numbered from 1)
DICOM_FRAME_COUNT = 40  # frames per simulated DICOM plane
DICOM_PLANES = ("Axial", "Sagittal", "Coronal")  # DICOM groups, in export order
# media type -> (min objects, max objects) per label
_OBJECT_RANGE: dict[str, tuple[int, int]] = {
    "IMAGE": (2, 6),
    "VIDEO": (1, 3),
    "TEXT": (1, 4),
    "GEOSPATIAL_TILE": (2, 4),
    "AUDIO": (0, 0),
    "PDF": (1, 4),
    "CONVERSATIONAL": (1, 3),
    "DICOM": (1, 2),
    "HTML": (0, 0),
    "LLM_PROMPT_CREATION": (0, 0),
    "LLM_PROMPT_RESPONSE_CREATION": (0, 0),
    "LLM_RESPONSE_CREATION": (0, 0),
    "MODEL_CHAT_EVALUATION": (1, 3),
}


@dataclass(slots=True)
class Answer:
    """One selected option (radio, checklist, dropdown) with its nested questions."""

    feature_id: str
    option: Option
    classifications: list[Classification]


@dataclass(slots=True)
class Classification:
    """One answered question: ``answers`` for choice kinds, ``text`` for free text."""

    feature_id: str
    question: Question
    answers: list[Answer]
    text: str | None = None
    message_id: str | None = None


@dataclass(slots=True)
class FrameGeom:
    """An object's geometry on one frame; ``keyframe`` is False for interpolated frames."""

    frame: int
    keyframe: bool
    geometry: dict[str, Any]


@dataclass(slots=True)
class Obj:
    """One annotation object. Frame kinds fill ``frames``/``segments`` instead of ``geometry``."""

    feature_id: str
    tool: Tool
    geometry: dict[str, Any]
    classifications: list[Classification]
    frames: list[FrameGeom] = field(default_factory=list)
    segments: list[tuple[int, int]] = field(default_factory=list)
    group: str | None = None  # DICOM plane


@dataclass(slots=True)
class Relationship:
    """A relationship between two objects of the same label."""

    feature_id: str
    source: str
    target: str
    type: str  # "unidirectional" | "bidirectional"


@dataclass(slots=True)
class LabelContent:
    """Everything inside one label, independent of the export format."""

    objects: list[Obj]
    classifications: list[Classification]
    relationships: list[Relationship]
    frame_classifications: dict[int, list[Classification]]
    checklist_quirk: bool  # v1 wraps nested classifications containing a checklist in a list


class _Gen:
    """Draws one label's content from a seeded generator."""

    def __init__(self, seed: int, label_id: str, version: int) -> None:
        self.rng = random.Random(digest(seed, label_id, version))
        self.base = feature_id_base(label_id, version)
        self.label_id = label_id
        self.next = 0

    def fid(self) -> str:
        self.next += 1
        return feature_id(self.base, self.next)

    def classify(self, q: Question, message_id: str | None = None) -> Classification:
        cls = Classification(self.fid(), q, [], message_id=message_id)
        if q.kind == "text":
            start = self.rng.randrange(0, len(CORPUS) - 40)
            cls.text = CORPUS[start : start + self.rng.randrange(5, 40)].strip() or "n/a"
            return cls
        if q.kind == "checklist":
            chosen = self.rng.sample(q.options, self.rng.randint(1, len(q.options)))
            chosen.sort(key=q.options.index)
        else:
            chosen = [self.rng.choice(q.options)]
        for opt in chosen:
            nested = [self.classify(n, message_id) for n in opt.classifications]
            cls.answers.append(Answer(self.fid(), opt, nested))
        return cls

    def nested_for(self, tool: Tool) -> list[Classification]:
        return [self.classify(q) for q in tool.classifications if self.rng.random() < 0.85]

    def message_for(self, onto: Ontology) -> str:
        """The message a message-scoped question is answered on: any message of a
        conversation; the prompt of a chat evaluation."""
        if onto.media_type == "MODEL_CHAT_EVALUATION":
            return PROMPT_ID
        return message_id(self.rng.randrange(MESSAGE_COUNT))

    def globals_for(self, onto: Ontology) -> list[Classification]:
        out = []
        for i, q in enumerate(onto.classifications):
            if i == 0 or _always_answered(onto, q) or self.rng.random() < 0.75:
                msg = self.message_for(onto) if q.message_scoped else None
                out.append(self.classify(q, msg))
        return out


def _always_answered(onto: Ontology, q: Question) -> bool:
    """The prompt and the response of an LLM creation project are always written."""
    return onto.media_type.startswith("LLM_") and q.kind == "text"


def _flat_object(tool: Tool, g: _Gen) -> Obj:
    fid = g.fid()
    return Obj(fid, tool, flat_geometry(tool.kind, g.rng, fid), g.nested_for(tool))


def _framed_object(tool: Tool, g: _Gen) -> Obj:
    dicom = tool.kind.startswith("dicom_")
    frame_count = DICOM_FRAME_COUNT if dicom else VIDEO_FRAME_COUNT
    obj = Obj(g.fid(), tool, {}, g.nested_for(tool))
    obj.segments = segments(g.rng, frame_count)
    obj.group = g.rng.choice(DICOM_PLANES) if dicom else None
    for start, end in obj.segments:
        first = frame_geometry(tool.kind, g.rng)
        last = frame_geometry(tool.kind, g.rng) if end > start else first
        for frame in range(start, end + 1):
            if frame in (start, end):
                geometry = first if frame == start else last
            else:
                geometry = interpolate(first, last, (frame - start) / (end - start))
            obj.frames.append(FrameGeom(frame, frame in (start, end), geometry))
    return obj


def generate(seed: int, label_id: str, version: int, onto: Ontology, skipped: bool) -> LabelContent:
    """The content of ``label_id`` at ``version`` (empty when the label is skipped)."""
    if skipped:
        return LabelContent([], [], [], {}, False)
    g = _Gen(seed, label_id, version)
    lo, hi = _OBJECT_RANGE[onto.media_type]
    objects: list[Obj] = []
    for _ in range(g.rng.randint(lo, hi)):
        tool = g.rng.choice(onto.tools)
        if tool.kind in FRAME_KINDS:
            objects.append(_framed_object(tool, g))
        else:
            objects.append(_flat_object(tool, g))
    relationships = []
    flat = [o for o in objects if not o.frames and not o.tool.kind.startswith("mmc_")]
    if len(flat) >= 2 and g.rng.random() < 0.6:
        kind = g.rng.choice(("unidirectional", "bidirectional"))
        relationships.append(Relationship(g.fid(), flat[0].feature_id, flat[1].feature_id, kind))
    frame_cls: dict[int, list[Classification]] = {}
    for q in onto.frame_classifications:
        for frame in sorted(g.rng.sample(range(1, VIDEO_FRAME_COUNT + 1), 2)):
            frame_cls.setdefault(frame, []).append(g.classify(q))
    return LabelContent(
        objects, g.globals_for(onto), relationships, frame_cls, g.rng.random() < 0.4
    )


def iter_answers(
    classifications: list[Classification], parent: str | None
) -> list[tuple[str | None, str, str]]:
    """Flatten a classification tree to ``(parent feature id, question feature id, answer)``.

    ``answer`` is the answer's feature id, or the text for free-text questions. ``parent`` is the
    object's feature id (or None for global ones) for top-level questions, and the feature id of
    the enclosing *answer* for nested ones.
    """
    out: list[tuple[str | None, str, str]] = []
    for cls in classifications:
        if cls.text is not None:
            out.append((parent, cls.feature_id, cls.text))
        for ans in cls.answers:
            out.append((parent, cls.feature_id, ans.feature_id))
            out.extend(iter_answers(ans.classifications, ans.feature_id))
    return out
