"""What each kind of activity does to a project's state.

Every handler takes the state, the event time (ms), a random generator and an optional forced
target, mutates the state, and returns an :class:`Effect` that names the label and data row it
touched, the values they had before (for the index-lag snapshots) and details for the activity
log. Every event bumps its data row's ``last_activity_at`` to the event time (never backwards).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from labelbox_provider.emulator.world.ids import hashed_id
from labelbox_provider.emulator.world.timeline import (
    DELETED,
    DONE,
    IN_REVIEW,
    IN_REWORK,
    LIVE,
    MOVE_IN_MS,
    MOVE_ON_MS,
    TASKS,
    TO_LABEL,
    LabelValues,
    ProjectState,
    Review,
    RowValues,
    Step,
)

# task index -> task a workflow_moved event sends the data row to
NEXT_TASK = {TO_LABEL: IN_REVIEW, IN_REVIEW: DONE, IN_REWORK: IN_REVIEW, DONE: IN_REWORK}
_TRIES = 64  # random picks before falling back to a scan


class NoTarget(LookupError):
    """No label of the project can take this event (e.g. every label is deleted)."""


@dataclass
class Effect:
    """What one event did."""

    label: int  # label number touched
    row: int  # data row number touched
    label_undo: list[tuple[int, LabelValues | None]] = field(default_factory=list)
    row_undo: list[tuple[int, RowValues | None]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def pick_label(
    st: ProjectState, rng: random.Random, want: Callable[[int], bool] | None = None
) -> int:
    """A random live label (satisfying ``want`` when possible)."""
    n = st.n_labels
    if n == 0:
        raise NoTarget("the project has no labels")
    for _ in range(_TRIES):
        i = rng.randrange(n)
        if st.l_state[i] == LIVE and (want is None or want(i)):
            return i
    start = rng.randrange(n)
    live = None
    for k in range(n):
        i = (start + k) % n
        if st.l_state[i] == LIVE:
            if want is None or want(i):
                return i
            live = i if live is None else live
    if live is None:
        raise NoTarget("every label of the project is deleted")
    return live


def _touch(st: ProjectState, eff: Effect, at: int, label: bool = True) -> None:
    """Record undo values, then bump the data row's last activity."""
    if label:
        eff.label_undo.append((eff.label, st.label_values(eff.label)))
    eff.row_undo.append((eff.row, st.row_values(eff.row)))
    st.d_activity[eff.row] = max(st.d_activity[eff.row], at)


def _created(st: ProjectState, rng: random.Random, at: int, target: int | None) -> Effect:
    i = st.n_labels
    new_row = target is None and (st.n_rows == 0 or rng.random() < 0.7)
    d = (
        st.n_rows
        if new_row
        else (st.l_dr[target] if target is not None else rng.randrange(st.n_rows))
    )
    eff = Effect(i, d)
    eff.label_undo.append((i, None))
    if new_row:
        eff.row_undo.append((d, None))
        for arr, value in (
            (st.d_start, i), (st.d_count, 1), (st.d_created, at - 3_600_000),
            (st.d_updated, at - 3_600_000), (st.d_activity, at + MOVE_ON_MS),
            (st.d_task, IN_REVIEW), (st.d_review_at, 0), (st.d_meta, 0), (st.d_state, LIVE),
        ):  # fmt: skip
            arr.append(value)
    else:
        eff.row_undo.append((d, st.row_values(d)))
        st.d_more[d] = (*st.d_more.get(d, ()), i)
        st.d_activity[d] = max(st.d_activity[d], at)
        if st.d_task[d] == TO_LABEL:  # labeled again: on to review
            st.d_steps[d] = (*st.d_steps.get(d, ()), Step("Move", at, TO_LABEL, IN_REVIEW, 0))
            st.d_task[d] = IN_REVIEW
    for arr, value in (
        (st.l_dr, d), (st.l_created, at // 1000 * 1000), (st.l_updated, at), (st.l_version, 0),
        (st.l_state, LIVE), (st.l_skipped, int(rng.random() < 0.05)), (st.l_issues, 0),
        (st.l_rev_at, 0), (st.l_rev_score, 1), (st.l_by, 1 + rng.randrange(3)),
    ):  # fmt: skip
        arr.append(value)
    eff.details = {"new_data_row": new_row, "moves_at_ms": (at + MOVE_IN_MS, at + MOVE_ON_MS)}
    return eff


def _updated(st: ProjectState, eff: Effect, at: int, rng: random.Random) -> None:
    _touch(st, eff, at)
    st.l_version[eff.label] += 1
    st.l_updated[eff.label] = at
    eff.details = {"version": st.l_version[eff.label]}


def _deleted(st: ProjectState, eff: Effect, at: int, rng: random.Random) -> None:
    """Delete a label; a data row left without labels goes back to the labeling queue."""
    _touch(st, eff, at)
    st.l_state[eff.label] = DELETED
    d = eff.row
    if st.d_task[d] != TO_LABEL and all(st.l_state[i] != LIVE for i in st.labels_of(d)):
        st.d_steps[d] = (*st.d_steps.get(d, ()), Step("Move", at, st.d_task[d], TO_LABEL, 0))
        st.d_task[d] = TO_LABEL


def _review(st: ProjectState, eff: Effect, at: int, rng: random.Random) -> None:
    _touch(st, eff, at)
    i, d = eff.label, eff.row
    score = 1 if rng.random() < 0.7 else -1
    n = len(st.l_reviews.get(i, ())) + 1
    review = Review(hashed_id(st.salt, "event-review", i, n, at), score, at, 0)
    st.l_reviews[i] = (*st.l_reviews.get(i, ()), review)
    via_workflow = st.d_task[d] == IN_REVIEW
    if via_workflow:
        step = (
            Step("Approve", at, IN_REVIEW, None, 0)
            if score > 0
            else Step("Reject", at, IN_REVIEW, IN_REWORK, 0)
        )
        st.d_steps[d] = (*st.d_steps.get(d, ()), step)
        st.d_task[d] = DONE if score > 0 else IN_REWORK
    eff.details = {"review_id": review.id, "score": score, "via_workflow": via_workflow}


def _moved(st: ProjectState, eff: Effect, at: int, rng: random.Random) -> None:
    _touch(st, eff, at, label=False)
    d = eff.row
    prev = st.d_task[d]
    nxt = NEXT_TASK[prev]
    st.d_steps[d] = (*st.d_steps.get(d, ()), Step("Move", at, prev, nxt, 0))
    st.d_task[d] = nxt
    eff.details = {"from_task": TASKS[prev][0], "to_task": TASKS[nxt][0]}


def _issue(delta: int) -> Callable[[ProjectState, Effect, int, random.Random], None]:
    def apply(st: ProjectState, eff: Effect, at: int, rng: random.Random) -> None:
        _touch(st, eff, at)
        st.l_issues[eff.label] = max(0, st.l_issues[eff.label] + delta)
        eff.details = {"open_issues": st.l_issues[eff.label]}

    return apply


def _metadata(st: ProjectState, eff: Effect, at: int, rng: random.Random) -> None:
    _touch(st, eff, at, label=False)
    st.d_meta[eff.row] += 1
    st.d_updated[eff.row] = at
    eff.details = {"metadata_version": st.d_meta[eff.row]}


# kind -> handler for events on an existing label
HANDLERS: dict[str, Callable[[ProjectState, Effect, int, random.Random], None]] = {
    "label_updated": _updated,
    "label_deleted": _deleted,
    "review_applied": _review,
    "workflow_moved": _moved,
    "issue_created": _issue(+1),
    "issue_updated": _issue(0),
    "issue_deleted": _issue(-1),
    "comment_created": _issue(0),
    "comment_updated": _issue(0),
    "comment_deleted": _issue(0),
    "metadata_updated": _metadata,
}


def apply_event(
    st: ProjectState, kind: str, at: int, rng: random.Random, target: int | None = None
) -> Effect:
    """Apply one event of ``kind`` at ``at`` ms; ``target`` forces the label number."""
    if kind == "label_created":
        return _created(st, rng, at, target)
    want = (lambda i: st.l_issues[i] > 0) if kind in ("issue_updated", "issue_deleted") else None
    i = target if target is not None else pick_label(st, rng, want)
    eff = Effect(i, st.l_dr[i])
    HANDLERS[kind](st, eff, at, rng)
    return eff


def undo(st: ProjectState, effect: Effect) -> None:
    """Restore what ``effect`` changed (on a snapshot copy), newest change first."""
    for i, label_values in reversed(effect.label_undo):
        st.restore_label(i, label_values)
    for d, row_values in reversed(effect.row_undo):
        st.restore_row(d, row_values)
