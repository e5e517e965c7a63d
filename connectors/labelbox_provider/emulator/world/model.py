"""The emulator's simulated world: organisation, projects, labels, a clock and a timeline.

Everything is a pure function of ``seed`` and the sequence of calls made on the world. Project
state is built lazily on first use and kept in compact arrays (``timeline``); records are
rendered one at a time while an export streams (``v1_records``/``v2_records``), never up front.

Clock: the history of each project spans ``[start, start + history_days]`` and the clock starts
at its end. ``advance`` moves it forward and spreads generated events over the elapsed time.
``clock="fixed"`` (the default here, for reproducible tests; ``start`` defaults to
``FIXED_START``) moves only through ``advance`` and ``add_event``. ``clock="wall"`` also runs with
the wall clock, and ``start`` defaults to ``history_days`` before the wall-clock time, so the clock
starts at "now" (what a real Airflow beside the emulator plans its windows on); ``advance`` then
jumps it ahead of the wall clock by ``seconds``.

Index lag: an event at ``at`` becomes visible to exports at
``at + max(index_lag_seconds, visible_after)``. Until then exports see each touched label and
data row as they were just before their oldest not-yet-visible event (the whole index entry is
stale, including later changes to the same entity). The initial history is always visible.
Ground truth can be asked either way.

Filters: bounds are inclusive at both ends, at millisecond precision. ``last_activity`` is on
the data row, so every current label of a touched data row comes back. In v2 a data row is
returned when its row-level filters pass and, with ``label_created``, when at least one of its
current labels was created in range; it then carries *all* its current labels (the snapshot
of a data row defines its label set). A data row whose labels were all deleted still comes
back in v2 with ``"labels": []`` (and its task moves back to ToLabel); v1 has no record for it.

URLs the HTTP server must own start with the literal placeholder ``{base_url}`` (v1 frames URLs
``{base_url}/v1/frames/<label id>``, v1 ``instanceURI`` ``{base_url}/masks/feature/<feature
id>?token=...``, v2 mask URLs ``{base_url}/api/v1/projects/<project id>/annotations/<feature
id>/mask``). ``View Label`` stays the real editor URL and row data are signed-URL lookalikes on
``storage.labelbox.com``: nothing fetches them.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from labelbox_provider.emulator.world import query as q
from labelbox_provider.emulator.world.api import (
    ALL_MEDIA_TYPES,
    EVENT_KINDS,
    V1_ERAS,
    ExportFilter,
    ProjectInfo,
    V2Params,
)
from labelbox_provider.emulator.world.events import Effect, apply_event, undo
from labelbox_provider.emulator.world.setup import Setup, WorldConfig
from labelbox_provider.emulator.world.timeline import ProjectState
from labelbox_provider.emulator.world.v1_records import mask_token, render_frames, render_record
from labelbox_provider.emulator.world.v2_records import render_row
from labelbox_provider.emulator.world.views import LabelView, ProjectCtx, RowView

__all__ = ["CLOCKS", "FIXED_START", "World"]

FIXED_START = datetime(2026, 1, 1, tzinfo=UTC)  # history start of the reproducible fixed clock
CLOCKS = ("fixed", "wall")  # "fixed": moves only when told; "wall": also runs with real time


def _wall_ms() -> int:
    return round(time.time() * 1000)


class World:
    """A deterministic simulated Labelbox organisation (see the module docstring)."""

    def __init__(
        self,
        *,
        seed: int = 0,
        media_types: Sequence[str] = ALL_MEDIA_TYPES,
        labels_per_project: int = 40,
        projects: Sequence[Mapping[str, Any]] | None = None,
        start: datetime | None = None,
        history_days: float = 30,
        clock: str = "fixed",
        v1_era: str = "2023",
        index_lag_seconds: float = 0.0,
        user_timezone: str = "UTC",
    ) -> None:
        if v1_era not in V1_ERAS:
            raise ValueError(f"v1_era must be one of {V1_ERAS}, got {v1_era!r}")
        if clock not in CLOCKS:
            raise ValueError(f"clock must be one of {CLOCKS}, got {clock!r}")
        if start is None:
            wall = datetime.fromtimestamp(_wall_ms() / 1000, UTC)
            start = FIXED_START if clock == "fixed" else wall - timedelta(days=history_days)
        specs = projects or [{"media_type": m, "labels": labels_per_project} for m in media_types]
        cfg = WorldConfig(seed, list(specs), start, history_days, user_timezone)
        self._setup = Setup(cfg)
        self.seed = seed
        self.v1_era = v1_era
        self.index_lag_seconds = index_lag_seconds
        self.api_key: str = self._setup.api_key
        self.organization: dict[str, Any] = self._setup.organization
        self.user: dict[str, Any] = self._setup.users[0]
        self.users: list[dict[str, Any]] = self._setup.users
        self._lock = threading.RLock()
        self.clock = clock
        self._clock_ms = q.to_ms(start) + round(history_days * 86_400_000)
        # wall clock: now = wall time + offset (advance and future events grow the offset)
        self._offset_ms = self._clock_ms - _wall_ms() if clock == "wall" else None
        self._rng = random.Random(seed * 1_000_003 + 17)
        self._log: list[tuple[dict[str, Any], ProjectCtx, Effect, int]] = []
        # project id -> (cache key, snapshot): exports share a snapshot while nothing changed
        self._snapshots: dict[str, tuple[tuple[int, ...], ProjectState]] = {}

    # ----------------------------------------------------------------- clock and projects
    @property
    def _now(self) -> int:
        """The clock in epoch milliseconds (never goes back)."""
        if self._offset_ms is None:
            return self._clock_ms
        self._clock_ms = max(self._clock_ms, _wall_ms() + self._offset_ms)
        return self._clock_ms

    @_now.setter
    def _now(self, value: int) -> None:
        self._clock_ms = value
        if self._offset_ms is not None:
            self._offset_ms = max(self._offset_ms, value - _wall_ms())

    def now(self) -> datetime:
        """The simulated clock (aware UTC)."""
        with self._lock:
            return q.to_dt(self._now)

    def _ctx(self, project_id: str) -> ProjectCtx | None:
        return self._setup.by_id.get(project_id)

    def _state(self, ctx: ProjectCtx) -> ProjectState:
        with self._lock:
            return self._setup.populated(ctx)

    def projects(self) -> list[ProjectInfo]:
        """Every project, in creation order."""
        return [self._info(ctx) for ctx in self._setup.ctxs]

    def get_project(self, project_id: str) -> ProjectInfo | None:
        """One project, or None when the id is unknown."""
        ctx = self._ctx(project_id)
        return None if ctx is None else self._info(ctx)

    def _info(self, ctx: ProjectCtx) -> ProjectInfo:
        with self._lock:
            st = self._state(ctx)
            rows, labels = st.n_rows, sum(1 for s in st.l_state if s == 0)
            last = max(st.d_activity) if rows else ctx.created_at
        return ProjectInfo(
            id=ctx.id,
            name=ctx.name,
            media_type=ctx.media_type,
            created_at=q.to_dt(ctx.created_at),
            ontology_id=ctx.ontology.id,
            description=f"Simulated {ctx.media_type.lower()} project",
            dataset_id=ctx.dataset_id,
            dataset_name=ctx.dataset_name,
            data_row_count=rows,
            label_count=labels,
            last_activity_time=q.to_dt(last),
        )

    # ----------------------------------------------------------------- snapshots and exports
    def _snapshot(self, project_id: str, visible: bool = True) -> tuple[ProjectCtx, ProjectState]:
        """A private, read-only copy of a project's state (index lag applied if ``visible``)."""
        ctx = self._ctx(project_id)
        if ctx is None:
            raise KeyError(f"unknown project {project_id!r}")
        with self._lock:
            hidden = [
                (n, effect)
                for n, (_, ev_ctx, effect, visible_at) in enumerate(self._log)
                if visible and ev_ctx is ctx and visible_at > self._now
            ]
            key = (len(self._log), int(visible), *(n for n, _ in hidden))
            cached = self._snapshots.get(ctx.id)
            if cached is not None and cached[0] == key:
                return ctx, cached[1]
            st = self._state(ctx).copy()
            for _, effect in reversed(hidden):
                undo(st, effect)
            self._snapshots[ctx.id] = (key, st)
        return ctx, st

    def count_labels(self, project_id: str, flt: ExportFilter) -> int:
        """Number of records a v1 export with ``flt`` returns."""
        ctx, st = self._snapshot(project_id)
        return sum(1 for _ in q.iter_v1_views(ctx, st, flt))

    def iter_v1(self, project_id: str, flt: ExportFilter) -> Iterator[dict[str, Any]]:
        """One v1 record per current label (spec 3), from a snapshot taken now."""
        ctx, st = self._snapshot(project_id)
        token, era = mask_token(ctx), self.v1_era
        return (render_record(v, era, token) for v in q.iter_v1_views(ctx, st, flt))

    def iter_v2(
        self, project_id: str, flt: ExportFilter, params: V2Params
    ) -> Iterator[dict[str, Any]]:
        """One v2 line per data row (spec 4.7), from a snapshot taken now."""
        ctx, st = self._snapshot(project_id)
        return (render_row(row, labels, params) for row, labels in q.iter_v2_views(ctx, st, flt))

    def v2_errors(self, project_id: str, flt: ExportFilter) -> Iterator[dict[str, Any]]:
        """Lines of the v2 ERRORS stream: one per requested data row id that does not exist."""
        ctx, _ = self._snapshot(project_id)
        missing = sorted(rid for rid in (flt.data_row_ids or ()) if ctx.rows.parse(rid) is None)
        return iter([{"data_row_id": rid, "error": "Data row not found"} for rid in missing])

    def v1_frames(self, label_id: str) -> list[dict[str, Any]] | None:
        """Frames NDJSON lines of a video/DICOM label (spec 3.7); None if not one / unknown."""
        found = self.find_label(label_id)
        if found is None:
            return None
        ctx, i = found
        if ctx.media_type not in ("VIDEO", "DICOM"):
            return None
        _, st = self._snapshot(ctx.id)
        return render_frames(LabelView(ctx, st, i, RowView(ctx, st, st.l_dr[i])))

    def find_label(self, label_id: str) -> tuple[ProjectCtx, int] | None:
        """(project context, label number) of an existing label id, or None."""
        for ctx in self._setup.ctxs:
            i = ctx.labels.parse(label_id)
            if i is not None and i < self._state(ctx).n_labels:
                return ctx, i
        return None

    # ----------------------------------------------------------------- timeline
    def advance(
        self, seconds: float = 0.0, events: Mapping[str, int] | None = None
    ) -> list[dict[str, Any]]:
        """Move the clock forward; N events of each kind happen at deterministic times spread
        evenly over ``(old_now, new_now]`` (all at ``now`` when ``seconds`` is 0)."""
        if seconds < 0:
            raise ValueError("the clock never goes back")
        kinds = [k for k, n in (events or {}).items() for _ in range(_check_kind(k, n))]
        with self._lock:
            old = self._now
            new = old + round(seconds * 1000)
            self._rng.shuffle(kinds)
            out = []
            for j, kind in enumerate(kinds):
                at = old + (j + 1) * (new - old) // len(kinds)
                ctx = self._rng.choice(self._setup.ctxs)
                out.append(self._apply(kind, at, ctx, None, 0.0))
            self._now = new
            return out

    def add_event(
        self,
        kind: str,
        at: datetime,
        *,
        project_id: str | None = None,
        target: str | None = None,
        visible_after: float = 0.0,
    ) -> dict[str, Any]:
        """One event at an exact time; ``target`` is a label id or a data row id. An ``at``
        later than ``now()`` moves the clock to ``at``."""
        _check_kind(kind, 1)
        at_ms = q.to_ms(at)
        with self._lock:
            ctx, index = self._resolve(project_id, target)
            self._now = max(self._now, at_ms)
            return self._apply(kind, at_ms, ctx, index, visible_after)

    def _resolve(self, project_id: str | None, target: str | None) -> tuple[ProjectCtx, int | None]:
        if target is not None:
            for ctx in self._setup.ctxs:
                if project_id is not None and ctx.id != project_id:
                    continue
                st = self._state(ctx)
                i = ctx.labels.parse(target)
                if i is not None and i < st.n_labels:
                    return ctx, i
                d = ctx.rows.parse(target)
                if d is not None and d < st.n_rows:
                    live = RowView(ctx, st, d).live_labels()
                    return ctx, (live or st.labels_of(d))[0]
            raise KeyError(f"unknown target {target!r}")
        if project_id is None:
            return self._rng.choice(self._setup.ctxs), None
        found = self._ctx(project_id)
        if found is None:
            raise KeyError(f"unknown project {project_id!r}")
        return found, None

    def _apply(
        self, kind: str, at: int, ctx: ProjectCtx, index: int | None, visible_after: float
    ) -> dict[str, Any]:
        st = self._state(ctx)
        effect = apply_event(st, kind, at, self._rng, index)
        lag = max(self.index_lag_seconds, visible_after)
        visible_at = at + round(lag * 1000)
        record = {
            "seq": len(self._log) + 1,
            "kind": kind,
            "at": q.to_dt(at),
            "visible_at": q.to_dt(visible_at),
            "project_id": ctx.id,
            "label_id": ctx.labels.make(effect.label),
            "data_row_id": ctx.rows.make(effect.row),
            **effect.details,
        }
        self._log.append((record, ctx, effect, visible_at))
        return dict(record)

    def activity_log(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """Events applied so far (oldest first), optionally for one project."""
        with self._lock:
            return [dict(r) for r, ctx, _, _ in self._log if project_id in (None, ctx.id)]

    def ground_truth(self, project_id: str, *, visible: bool = False) -> Iterator[dict[str, Any]]:
        """One dict per current (non-deleted) label, label order.

        Keys: ``label_id``, ``data_row_id``, ``global_key``, ``created_at``/``updated_at`` (aware
        datetimes, ms precision), ``skipped``, ``data_row_last_activity_at``,
        ``object_feature_ids`` (sorted feature ids; video/DICOM: sorted ``[frame, feature_id]``
        pairs of keyframes, the in-between frames being in ``interpolated_frame_pairs``),
        ``answers`` (sorted ``[parent, question_feature_id, answer]``: ``parent`` is None for
        global and frame classifications, the object's feature id for an object's top-level
        questions, and the enclosing answer's feature id for nested questions; ``answer`` is
        the selected answer's feature id or the free text; each triple once, even when a video
        object repeats its classifications on several keyframes), ``relationships`` (sorted
        ``[source, target, type]``), ``message_evaluations`` (chat evaluation: sorted
        ``[feature_id, message_id, model_config_name, rank]``, rank None for selections),
        ``review_ids`` (sorted), ``workflow_history`` (the data
        row's steps, newest first: ``action``, ``created_at``, ``previous_task_id``,
        ``next_task_id`` with None when absent), ``workflow_status`` (``ToLabel`` |
        ``InReview`` | ``InRework`` | ``Done``), ``has_open_issues``, ``project_id`` and
        ``content_version``. With ``visible=True`` the rows are what an export made now would
        show (index lag applied); by default they are the true current state.
        """
        ctx, st = self._snapshot(project_id, visible=visible)
        return (q.truth_row(v) for v in q.iter_v1_views(ctx, st, ExportFilter()))


def _check_kind(kind: str, n: int) -> int:
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}; expected one of {EVENT_KINDS}")
    if n < 0:
        raise ValueError(f"negative event count for {kind!r}")
    return n
