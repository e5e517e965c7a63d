"""Ontologies of the simulated projects: tools, classifications and nested answer trees.

One ontology per media type, built from compact literal trees below. Every node gets a schema id
that is a pure function of (seed, project key, path in the tree), so the same project always has
the same schema ids. Classification trees nest to depth 4 (question -> option -> question ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from labelbox_provider.emulator.world.ids import hashed_id

# A tree spec: (kind, name, [(option name, [nested question specs]), ...]).
QSpec = tuple[str, str, list[tuple[str, list["QSpec"]]]]


@dataclass(frozen=True, slots=True)
class Option:
    """An answer option of a radio, checklist or dropdown question."""

    name: str  # v1 ``title`` / v2 ``name``
    value: str  # snake-case value (v1 ``value`` / v2 ``value``)
    schema_id: str  # v1 ``schemaId`` / v2 ``feature_schema_id``
    classifications: tuple[Question, ...]  # questions nested under this option


@dataclass(frozen=True, slots=True)
class Question:
    """A classification question (radio, checklist, dropdown or free text)."""

    kind: str  # "radio" | "checklist" | "dropdown" | "text"
    name: str  # v1 ``title`` / v2 ``name``
    value: str  # snake-case value
    schema_id: str  # ontology feature schema id
    options: tuple[Option, ...]  # empty for free text
    message_scoped: bool = False  # conversational: answered per message (``messageId``)


@dataclass(frozen=True, slots=True)
class Tool:
    """An object tool (bounding box, polygon, entity ...)."""

    kind: str  # geometry kind, a key of ANNOTATION_KINDS
    name: str  # v1 ``title`` / v2 ``name``
    value: str  # snake-case value
    color: str  # v1 ``color``
    schema_id: str  # ontology feature schema id
    classifications: tuple[Question, ...]  # questions nested under each object


@dataclass(frozen=True, slots=True)
class Ontology:
    """Everything a project's labels may use."""

    id: str  # ontology id (v2 ``project_details.ontology_id``)
    media_type: str  # one of ALL_MEDIA_TYPES
    tools: tuple[Tool, ...]  # object tools
    classifications: tuple[Question, ...]  # global classifications
    frame_classifications: tuple[Question, ...]  # per-frame classifications (video)
    relationship_schema_id: str  # schema id of the relationship tool


# geometry kind -> v2 ``annotation_kind`` (the v1 shape follows from the kind too).
ANNOTATION_KINDS: dict[str, str] = {
    "bbox": "ImageBoundingBox",  # image rectangle
    "polygon": "ImagePolygon",  # image polygon
    "line": "ImagePolyline",  # image polyline
    "point": "ImagePoint",  # image point
    "mask": "ImageSegmentationMask",  # image raster mask (URL only)
    "video_bbox": "VideoBoundingBox",  # video rectangle, per frame
    "video_point": "VideoPoint",  # video point, per frame
    "video_line": "VideoPolyline",  # video polyline, per frame
    "entity": "TextEntity",  # text span
    "conv_entity": "ConversationalTextEntity",  # span inside one conversation message
    "doc_bbox": "DocumentBoundingBox",  # rectangle on a PDF page
    "doc_entity": "DocumentEntityToken",  # token groups on a PDF page
    "geo_point": "ImagePoint",  # tiled imagery point (lng/lat) [inferred v2 kind]
    "geo_line": "ImagePolyline",  # tiled imagery polyline [inferred v2 kind]
    "geo_polygon": "ImagePolygon",  # tiled imagery polygon [inferred v2 kind]
    "geo_rect": "ImageBoundingBox",  # tiled imagery rectangle [inferred v2 kind]
    "dicom_line": "DICOMPolyline",  # DICOM polyline on one plane and frame
    "dicom_mask": "DICOMSegmentationMask",  # DICOM mask on one plane and frame [inferred kind]
    "mmc_single": "MessageSingleSelection",  # chat evaluation: the best response
    "mmc_multi": "MessageMultiSelection",  # chat evaluation: the acceptable responses
    "mmc_ranking": "MessageRanking",  # chat evaluation: responses ranked, 1 = best
}
# Relationship kinds as the API names them: the media family, then the direction. Seen:
# TextUnidirectionalRelationship (docs, conversational); the others follow its pattern
# [inferred] (docs/export-shapes.md).
RELATIONSHIP_FAMILY: dict[str, str] = {
    "TEXT": "Text",
    "CONVERSATIONAL": "Text",
    "PDF": "Document",
}
RELATIONSHIP_TOOL = "relation"  # name of every ontology's relationship tool


def relationship_kind(media_type: str, direction: str) -> str:
    """``TextUnidirectionalRelationship``, ``ImageBidirectionalRelationship``..."""
    family = RELATIONSHIP_FAMILY.get(media_type, "Image")
    return f"{family}{direction.capitalize()}Relationship"


# Kinds whose objects live on frames (video and DICOM).
FRAME_KINDS = frozenset({"video_bbox", "video_point", "video_line", "dicom_line", "dicom_mask"})

_DEEP_RADIO: QSpec = (
    "radio",
    "weather",
    [
        (
            "sunny",
            [
                (
                    "radio",
                    "sun_strength",
                    [
                        (
                            "strong",
                            [("checklist", "sun_effects", [("glare", []), ("shadows", [])])],
                        ),
                        ("weak", [("text", "sun_note", [])]),
                    ],
                )
            ],
        ),
        ("cloudy", []),
        ("rainy", [("dropdown", "rain_level", [("light", []), ("heavy", [])])]),
    ],
)
_GLOBALS: list[QSpec] = [
    _DEEP_RADIO,
    ("checklist", "tags", [("blurry", []), ("dark", [("text", "dark_note", [])]), ("crowded", [])]),
    ("dropdown", "scene", [("urban", []), ("rural", [])]),
    ("text", "caption", []),
]
_OBJECT_NESTED: list[QSpec] = [
    (
        "radio",
        "occluded",
        [
            (
                "yes",
                [
                    (
                        "checklist",
                        "parts",
                        [("front", [("text", "part_note", [])]), ("rear", []), ("side", [])],
                    )
                ],
            ),
            ("no", []),
        ],
    ),
    ("checklist", "attributes", [("moving", []), ("parked", []), ("damaged", [])]),
    ("text", "comment", []),
]
_SHORT_NESTED: list[QSpec] = [("radio", "confidence", [("high", []), ("low", [])])]

# media type -> [(tool kind, tool name, nested question specs)]
_TOOLS: dict[str, list[tuple[str, str, list[QSpec]]]] = {
    "IMAGE": [
        ("bbox", "vehicle", _OBJECT_NESTED),
        ("polygon", "building", _SHORT_NESTED),
        ("line", "lane", []),
        ("point", "keypoint", []),
        ("mask", "sky", []),
    ],
    "VIDEO": [
        ("video_bbox", "car", _SHORT_NESTED),
        ("video_point", "ball", []),
        ("video_line", "track", []),
    ],
    "TEXT": [("entity", "person", _OBJECT_NESTED), ("entity", "organisation", [])],
    "GEOSPATIAL_TILE": [
        ("geo_point", "well", []),
        ("geo_line", "road", []),
        ("geo_polygon", "field", _SHORT_NESTED),
        ("geo_rect", "parcel", []),
    ],
    "AUDIO": [],
    "PDF": [("doc_bbox", "figure", _SHORT_NESTED), ("doc_entity", "phrase", [])],
    "CONVERSATIONAL": [("conv_entity", "intent", _SHORT_NESTED)],
    "DICOM": [("dicom_line", "vessel", []), ("dicom_mask", "lesion", [])],
    "HTML": [],
    "LLM_PROMPT_CREATION": [],
    "LLM_PROMPT_RESPONSE_CREATION": [],
    "LLM_RESPONSE_CREATION": [],
    "MODEL_CHAT_EVALUATION": [
        ("mmc_single", "best_response", []),
        ("mmc_multi", "acceptable_responses", []),
        ("mmc_ranking", "response_ranking", []),
    ],
}
# LLM projects: the prompt and the response are free-text classifications (SDK fixtures).
_LLM_RATING: list[QSpec] = [
    ("radio", "quality", [("good", []), ("bad", [])]),
    ("checklist", "issues", [("factual_error", []), ("unsafe", []), ("off_topic", [])]),
]
_GLOBAL_SPECS: dict[str, list[QSpec]] = {
    "LLM_PROMPT_CREATION": [("text", "prompt-text", []), *_LLM_RATING],
    "LLM_PROMPT_RESPONSE_CREATION": [
        ("text", "prompt-text", []),
        ("text", "response-text", []),
        *_LLM_RATING,
    ],
    "LLM_RESPONSE_CREATION": [("text", "response-text", []), *_LLM_RATING],
    "MODEL_CHAT_EVALUATION": [("text", "overall_comment", []), *_LLM_RATING],
}
_FRAME_QUESTIONS: dict[str, list[QSpec]] = {
    "VIDEO": [("radio", "lighting", [("day", []), ("night", [])])],
}
_MESSAGE_QUESTIONS: list[QSpec] = [
    ("radio", "message_tone", [("polite", []), ("rude", [])]),
    ("checklist", "message_topics", [("billing", []), ("shipping", [])]),
    ("text", "message_summary", []),
]
_COLORS = ("#ff0000", "#1CE6FF", "#FF34FF", "#006FA6", "#a23030", "#00ff00", "#0000ff")


def _snake(name: str) -> str:
    return name.lower().replace(" ", "_").replace("-", "_")


class _Builder:
    def __init__(self, seed: int, project_key: str) -> None:
        self._salt = (seed, project_key)

    def sid(self, path: str) -> str:
        return hashed_id(*self._salt, "schema", path)

    def question(self, spec: QSpec, path: str, message_scoped: bool = False) -> Question:
        kind, name, options = spec
        qpath = f"{path}/{name}"
        built = tuple(
            Option(
                name=o_name,
                value=_snake(o_name),
                schema_id=self.sid(f"{qpath}={o_name}"),
                classifications=tuple(self.question(s, f"{qpath}={o_name}") for s in nested),
            )
            for o_name, nested in options
        )
        return Question(kind, name, _snake(name), self.sid(qpath), built, message_scoped)


def build_ontology(seed: int, project_key: str, media_type: str) -> Ontology:
    """The ontology of one project (pure function of its arguments)."""
    b = _Builder(seed, project_key)
    tools = tuple(
        Tool(
            kind=kind,
            name=name,
            value=_snake(name),
            color=_COLORS[i % len(_COLORS)],
            schema_id=b.sid(f"tool/{name}"),
            classifications=tuple(b.question(s, f"tool/{name}") for s in nested),
        )
        for i, (kind, name, nested) in enumerate(_TOOLS[media_type])
    )
    globals_ = [b.question(s, "global") for s in _GLOBAL_SPECS.get(media_type, _GLOBALS)]
    if media_type in ("CONVERSATIONAL", "MODEL_CHAT_EVALUATION"):
        globals_ += [b.question(s, "message", message_scoped=True) for s in _MESSAGE_QUESTIONS]
    frame_qs = tuple(b.question(s, "frame") for s in _FRAME_QUESTIONS.get(media_type, []))
    return Ontology(
        id=hashed_id(seed, project_key, "ontology"),
        media_type=media_type,
        tools=tools,
        classifications=tuple(globals_),
        frame_classifications=frame_qs,
        relationship_schema_id=b.sid("relationship"),
    )
