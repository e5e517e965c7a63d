"""Export filters, record iteration over a snapshot, and ground-truth rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from labelbox_provider.emulator.world.content import iter_answers
from labelbox_provider.emulator.world.timeline import LIVE, TASKS, ProjectState
from labelbox_provider.emulator.world.views import LabelView, ProjectCtx, RowView

if TYPE_CHECKING:
    from labelbox_provider.emulator.world.api import ExportFilter

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INF = 1 << 62


def to_ms(dt: datetime) -> int:
    """Milliseconds since the epoch (naive datetimes are taken as UTC), truncated."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def to_dt(ms: int) -> datetime:
    """The aware UTC datetime of ``ms``."""
    return _EPOCH + timedelta(milliseconds=ms)


def _us_bounds(pair: tuple[datetime | None, datetime | None] | None) -> tuple[int, int] | None:
    """Inclusive bounds in microseconds (exact comparison against ms * 1000)."""
    if pair is None:
        return None
    lo, hi = pair

    def us(dt: datetime) -> int:
        aware = dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
        return (aware - _EPOCH) // timedelta(microseconds=1)

    return (-_INF if lo is None else us(lo), _INF if hi is None else us(hi))


@dataclass
class Matcher:
    """A compiled :class:`ExportFilter` for one snapshot."""

    flt: ExportFilter
    ctx: ProjectCtx
    st: ProjectState

    def __post_init__(self) -> None:
        self.created = _us_bounds(self.flt.label_created)
        self.activity = _us_bounds(self.flt.last_activity)

    def row(self, d: int) -> bool:
        """Does data row ``d`` pass the data-row level filters?"""
        st, flt = self.st, self.flt
        if st.d_state[d] != LIVE:
            return False
        if self.activity and not (self.activity[0] <= st.d_activity[d] * 1000 <= self.activity[1]):
            return False
        if flt.workflow_status is not None and TASKS[st.d_task[d]][1] != flt.workflow_status:
            return False
        return self._row_ids(d)

    def _row_ids(self, d: int) -> bool:
        flt = self.flt
        view = RowView(self.ctx, self.st, d)
        if flt.data_row_ids is not None and view.id not in flt.data_row_ids:
            return False
        if flt.global_keys is not None and view.global_key not in flt.global_keys:
            return False
        return flt.batch_ids is None or view.batch[0] in flt.batch_ids

    def label(self, i: int) -> bool:
        """Does label ``i`` (live, created in range) pass, ignoring its data row?"""
        if self.st.l_state[i] != LIVE:
            return False
        return not self.created or (
            self.created[0] <= self.st.l_created[i] * 1000 <= self.created[1]
        )


def iter_v1_views(ctx: ProjectCtx, st: ProjectState, flt: ExportFilter) -> Iterator[LabelView]:
    """Views of every label a v1 export returns, in label order."""
    m = Matcher(flt, ctx, st)
    rows: dict[int, bool] = {}
    for i in range(st.n_labels):
        if not m.label(i):
            continue
        d = st.l_dr[i]
        ok = rows.get(d)
        if ok is None:
            ok = rows[d] = m.row(d)
            if len(rows) > 4096:
                rows.clear()
                rows[d] = ok
        if ok:
            yield LabelView(ctx, st, i, RowView(ctx, st, d))


def iter_v2_views(
    ctx: ProjectCtx, st: ProjectState, flt: ExportFilter
) -> Iterator[tuple[RowView, list[LabelView]]]:
    """(data row, its current labels) for every data row a v2 export returns."""
    m = Matcher(flt, ctx, st)
    for d in range(st.n_rows):
        if not m.row(d):
            continue
        row = RowView(ctx, st, d)
        labels = [i for i in st.labels_of(d) if st.l_state[i] == LIVE]
        if m.created and not any(m.label(i) for i in labels):
            continue
        yield row, [LabelView(ctx, st, i, row) for i in labels]


def _sort_key(item: list[Any]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in item)


def _truth_content(view: LabelView) -> dict[str, Any]:
    """Objects, frame pairs, answers and relationships of a label for the ground truth."""
    content = view.content
    objects: list[Any] = []
    interpolated: list[list[Any]] = []
    answers = {tuple(a) for a in iter_answers(content.classifications, None)}
    for obj in content.objects:
        if obj.frames:
            objects += [[f.frame, obj.feature_id] for f in obj.frames if f.keyframe]
            interpolated += [[f.frame, obj.feature_id] for f in obj.frames if not f.keyframe]
        else:
            objects.append(obj.feature_id)
        answers.update(iter_answers(obj.classifications, obj.feature_id))
    for items in content.frame_classifications.values():
        answers.update(iter_answers(items, None))
    return {
        "object_feature_ids": sorted(
            objects, key=lambda o: _sort_key(o if isinstance(o, list) else [o])
        ),
        "interpolated_frame_pairs": sorted(interpolated, key=_sort_key),
        "answers": sorted((list(a) for a in answers), key=_sort_key),
        "relationships": sorted(
            ([r.source, r.target, r.type] for r in content.relationships), key=_sort_key
        ),
        "message_evaluations": sorted(_evaluations(content.objects), key=_sort_key),
    }


def _evaluations(objects: list[Any]) -> list[list[Any]]:
    """``[feature_id, message_id, model_config, rank]`` of each chat-evaluation message (rank
    None for a selection)."""
    out = []
    for obj in objects:
        if obj.tool.kind.startswith("mmc_"):
            ranking = obj.tool.kind == "mmc_ranking"
            for n, (message, config) in enumerate(obj.geometry["messages"], start=1):
                out.append([obj.feature_id, message, config, n if ranking else None])
    return out


def truth_row(view: LabelView) -> dict[str, Any]:
    """The ground-truth dict of one label (see ``World.ground_truth``)."""
    st, i, row = view.st, view.i, view.row
    return {
        "project_id": view.ctx.id,
        "label_id": view.id,
        "data_row_id": row.id,
        "global_key": row.global_key,
        "created_at": to_dt(st.l_created[i]),
        "updated_at": to_dt(st.l_updated[i]),
        "skipped": bool(st.l_skipped[i]),
        "data_row_last_activity_at": to_dt(st.d_activity[row.d]),
        **_truth_content(view),
        "review_ids": sorted(r.id for r in view.reviews()),
        "workflow_history": [
            {
                "action": s.action,
                "created_at": to_dt(s.at),
                "previous_task_id": None if s.prev is None else view.ctx.task_id(s.prev),
                "next_task_id": None if s.next is None else view.ctx.task_id(s.next),
            }
            for s in row.steps()
        ],
        "workflow_status": TASKS[st.d_task[row.d]][1],
        "has_open_issues": st.l_issues[i] > 0,
        "content_version": st.l_version[i],
    }
