"""Export v1 records (spec section 3) rendered from label views.

Key sets follow the era chosen for the world (spec 3.1): ``"2020"`` is exactly the 2020 key set
(and a Label without ``relationships``), ``"2021"`` adds metadata, media attributes, open issues,
skipped and data split, ``"2022"`` adds ``Global Key``, ``"2023"`` adds ``Seconds to Review``,
``Seconds to Create`` and ``DataRow Workflow Info``. URLs served by the emulator itself (frames,
``instanceURI``) start with ``{base_url}``.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from labelbox_provider.emulator.world.content import Classification, FrameGeom, Obj
from labelbox_provider.emulator.world.timeline import TASKS, Step
from labelbox_provider.emulator.world.v1_legacy import LEGACY_MEDIA, render_legacy_label
from labelbox_provider.emulator.world.views import BASE_URL, LabelView, ProjectCtx

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KEYS_2020 = (
    "ID", "DataRow ID", "Labeled Data", "Label", "Created By", "Project Name", "Created At",
    "Updated At", "Seconds to Label", "External ID", "Agreement", "Benchmark Agreement",
    "Benchmark ID", "Dataset Name", "Reviews", "View Label",
)  # fmt: skip
_KEYS_2021 = (
    "ID", "DataRow ID", "DataRow Metadata", "Media Attributes", "Labeled Data", "Label",
    "Created By", "Project Name", "Created At", "Updated At", "Seconds to Label", "External ID",
    "Agreement", "Benchmark Agreement", "Benchmark ID", "Dataset Name", "Reviews", "View Label",
    "Has Open Issues", "Skipped", "Data Split",
)  # fmt: skip
_KEYS_2022 = tuple(
    k for key in _KEYS_2021 for k in ((key, "Global Key") if key == "External ID" else (key,))
)
_KEYS_2023 = (
    *(
        k
        for key in _KEYS_2022
        for k in (
            (key, "Seconds to Review", "Seconds to Create") if key == "Seconds to Label" else (key,)
        )
    ),
    "DataRow Workflow Info",
)
# era -> ordered top-level keys of a v1 record (2019: the 2020 set, Label class keyed)
ERA_KEYS: dict[str, tuple[str, ...]] = {
    "2019": _KEYS_2020,
    "2020": _KEYS_2020,
    "2021": _KEYS_2021,
    "2022": _KEYS_2022,
    "2023": _KEYS_2023,
}
_GEO_TYPES = {"geo_point": "point", "geo_line": "polyline", "geo_polygon": "polygon"}
_FLAT_KINDS_WITH_URI = ("IMAGE", "TEXT", "PDF", "CONVERSATIONAL")


def ts_v1(ms: int, whole_seconds: bool = False) -> str:
    """``2021-07-15T22:57:30.268Z`` (``.000`` when ``whole_seconds``, as ``Created At`` is)."""
    dt = _EPOCH + timedelta(milliseconds=ms)
    frac = 0 if whole_seconds else ms % 1000
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{frac:03d}Z"


def mask_token(ctx: ProjectCtx) -> str:
    """A JWT-looking (unsigned, fake) token for ``instanceURI`` query strings."""

    def part(obj: dict[str, Any]) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    iat = ctx.created_at // 1000
    head = part({"alg": "HS256", "typ": "JWT"})
    body = part({"userId": ctx.users[0]["id"], "organizationId": ctx.org_id, "iat": iat})
    return f"{head}.{body}.{part({'emulator': ctx.key})[:43]}"


def render_answer_tree(cls: Classification, wrap_quirk: bool = False) -> dict[str, Any]:
    """One classification (with nested answers) in v1 shape."""
    q = cls.question
    out: dict[str, Any] = {
        "featureId": cls.feature_id,
        "schemaId": q.schema_id,
        "title": q.name,
        "value": q.value,
    }
    if cls.message_id is not None:
        out["messageId"] = cls.message_id
    if cls.text is not None:
        out["answer"] = cls.text
        return out
    answers = []
    for ans in cls.answers:
        item: dict[str, Any] = {
            "featureId": ans.feature_id,
            "schemaId": ans.option.schema_id,
            "title": ans.option.name,
            "value": ans.option.value,
        }
        if ans.classifications:
            item["classifications"] = render_classifications(ans.classifications, wrap_quirk)
        answers.append(item)
    if q.kind == "checklist":
        out["answers"] = answers
    else:
        out["answer"] = answers if q.kind == "dropdown" else answers[0]
    return out


def render_classifications(items: list[Classification], wrap_quirk: bool = False) -> list[Any]:
    """A list of classifications; with ``wrap_quirk`` a list holding a checklist gets wrapped
    in an extra list (``[[...]]``), as some real v1 exports do."""
    rendered = [render_answer_tree(c, wrap_quirk) for c in items]
    if wrap_quirk and any(c.question.kind == "checklist" for c in items):
        return [rendered]
    return rendered


def _geometry(obj: Obj) -> dict[str, Any]:
    g, kind = obj.geometry, obj.tool.kind
    if kind == "bbox":
        return {"bbox": dict(g)}
    if kind in ("polygon", "line"):
        return {kind: [{"x": x, "y": y} for x, y in g["points"]]}
    if kind == "point":
        return {"point": {"x": g["x"], "y": g["y"]}}
    if kind == "entity":
        return {"data": {"location": {"end": g["end"], "start": g["start"]}}, **_TEXT_FORMAT}
    if kind == "conv_entity":
        loc = {"start": g["start"], "end": g["end"], "messageId": g["message_id"]}
        return {"data": {"location": loc}, **_TEXT_FORMAT}
    if kind == "doc_bbox":
        box = {k: float(g[k]) for k in ("top", "left", "height", "width")}
        return {"bbox": box, "page": g["page"] - 1, "unit": "POINTS"}
    if kind == "doc_entity":
        sel = {"groupId": g["group_id"], "tokenIds": list(g["tokens"]), "page": g["page"] - 1}
        return {"textSelections": [sel]}
    if kind.startswith("geo_"):
        geo_type = _GEO_TYPES.get(kind, "rectangle")
        return {"type": geo_type, "geometry": {"coordinates": g["coordinates"]}}
    return {}  # mask: only instanceURI


_TEXT_FORMAT = {"format": "text.location", "version": 1}


def render_object(obj: Obj, ctx: ProjectCtx, token: str, quirk: bool) -> dict[str, Any]:
    """A non-frame object of ``Label.objects``."""
    tool = obj.tool
    out: dict[str, Any] = {
        "featureId": obj.feature_id,
        "schemaId": tool.schema_id,
        "color": tool.color,
        "title": tool.name,
        "value": tool.value,
    }
    out.update(_geometry(obj))
    if ctx.media_type in _FLAT_KINDS_WITH_URI:
        out["instanceURI"] = f"{BASE_URL}/masks/feature/{obj.feature_id}?token={token}"
    if obj.classifications:
        out["classifications"] = render_classifications(obj.classifications, quirk)
    return out


def render_relationships(view: LabelView) -> list[dict[str, Any]]:
    """``Label.relationships`` (spec 3.4, image / newer text form)."""
    schema = view.ctx.ontology.relationship_schema_id
    return [
        {
            "featureId": r.feature_id,
            "schemaId": schema,
            "data": {"source": r.source, "target": r.target},
            "relationshipType": r.type,
            "version": 1,
        }
        for r in view.content.relationships
    ]


def render_label(view: LabelView, era: str, token: str) -> Any:
    """The ``Label`` value: ``{}`` when skipped; a frames URL for video and DICOM."""
    if era == "2019" and view.ctx.media_type in LEGACY_MEDIA:
        return render_legacy_label(view)
    if view.st.l_skipped[view.i]:
        return {}
    content = view.content
    framed = view.ctx.media_type in ("VIDEO", "DICOM")
    # v1 (legacy) predates chat evaluation: its selections and rankings have no v1 shape
    objects = [] if framed else [o for o in content.objects if not o.tool.kind.startswith("mmc_")]
    quirk = content.checklist_quirk
    label: dict[str, Any] = {
        "objects": [render_object(o, view.ctx, token, quirk) for o in objects],
        "classifications": render_classifications(content.classifications),
    }
    if era not in ("2019", "2020"):
        label["relationships"] = render_relationships(view)
    if framed:
        label["frames"] = f"{BASE_URL}/v1/frames/{view.id}"
    return label


def _frame_object(obj: Obj, fg: FrameGeom) -> dict[str, Any]:
    tool = obj.tool
    g = fg.geometry
    if "points" in g:
        geom: dict[str, Any] = {"line": [{"x": x, "y": y} for x, y in g["points"]]}
    elif "color" in g:  # a DICOM mask: only its raster URL [inferred]
        geom = {"instanceURI": f"{BASE_URL}/masks/feature/{obj.feature_id}"}
    elif "x" in g:
        geom = {"point": {"x": g["x"], "y": g["y"]}}
    else:
        geom = {"bbox": dict(g)}
    nested = render_classifications(obj.classifications) if fg.keyframe else []
    return {
        "featureId": obj.feature_id,
        "schemaId": tool.schema_id,
        "title": tool.name,
        "value": tool.value,
        "color": tool.color,
        "keyframe": fg.keyframe,
        **geom,
        "classifications": nested,
    }


def render_frames(view: LabelView) -> list[dict[str, Any]]:
    """The frames NDJSON lines of a video/DICOM label (spec 3.7), frame order."""
    frames: dict[int, dict[str, Any]] = {}
    content = view.content
    for obj in content.objects:
        for fg in obj.frames:
            line = frames.setdefault(fg.frame, _empty_frame(fg.frame))
            line["objects"].append(_frame_object(obj, fg))
    for frame, items in content.frame_classifications.items():
        frames.setdefault(frame, _empty_frame(frame))["classifications"] = render_classifications(
            items
        )
    return [frames[f] for f in sorted(frames)]


def _empty_frame(frame: int) -> dict[str, Any]:
    return {"frameNumber": frame, "classifications": [], "objects": []}


def _step(ctx: ProjectCtx, step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {
        "actorId": ctx.users[step.by % len(ctx.users)]["id"],
        "action": step.action,
        "createdAt": ts_v1(step.at),
    }
    if step.prev is not None:
        out["previousTaskId"] = ctx.task_id(step.prev)
        out["previousTaskName"] = TASKS[step.prev][0]
    if step.next is not None:
        out["nextTaskId"] = ctx.task_id(step.next)
        out["nextTaskName"] = TASKS[step.next][0]
    return out


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _metadata_value(value: Any) -> Any:
    """A metadata value as v1 writes it: an enum as its option, a datetime as ISO text."""
    if isinstance(value, tuple):
        return {"schemaId": value[0], "schemaName": value[1]}
    return ts_v1(value) if isinstance(value, int) else value


def render_record(view: LabelView, era: str, token: str) -> dict[str, Any]:
    """One v1 record (one label), keys in the era's order."""
    ctx, st, row, i = view.ctx, view.st, view.row, view.i
    agreement, bench_agreement, bench_id = view.agreement()
    values: dict[str, Any] = {
        "ID": view.id,
        "DataRow ID": row.id,
        "DataRow Metadata": [
            {"schemaId": sid, "schemaName": name, "value": _metadata_value(value)}
            for sid, name, value in row.metadata()
        ],
        "Media Attributes": {_camel(k): v for k, v in row.media_attributes().items()},
        "Labeled Data": row.row_data,
        "Label": render_label(view, era, token),
        "Created By": view.created_by,
        "Project Name": ctx.name,
        "Created At": ts_v1(st.l_created[i], whole_seconds=True),
        "Updated At": ts_v1(st.l_updated[i]),
        "Seconds to Label": view.seconds_to_label,
        "Seconds to Review": view.seconds_to_review,
        "Seconds to Create": view.seconds_to_label,
        "External ID": row.external_id,
        "Global Key": row.global_key,
        "Agreement": agreement,
        "Benchmark Agreement": bench_agreement,
        "Benchmark ID": bench_id,
        "Dataset Name": ctx.dataset_name,
        "Reviews": [
            {
                "score": r.score,
                "id": r.id,
                "createdAt": ts_v1(r.at),
                "createdBy": ctx.email(r.by),
                "labelId": view.id,
            }
            for r in view.reviews()
        ],
        "View Label": f"https://editor.labelbox.com?project={ctx.id}&label={view.id}",
        "Has Open Issues": st.l_issues[i],
        "Skipped": bool(st.l_skipped[i]),
        "Data Split": None,
    }
    if era == "2023":
        values["DataRow Workflow Info"] = {
            "taskName": TASKS[st.d_task[row.d]][0],
            "Workflow History": [_step(ctx, s) for s in row.steps()],
        }
    return {key: values[key] for key in ERA_KEYS[era]}
