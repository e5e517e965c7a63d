"""Compact per-project state of the simulated world, and its initial history.

All times are integer **milliseconds since the Unix epoch** (UTC). State lives in ``array``
columns indexed by label number and data-row number, so a project of 1,000,000 labels costs a
few tens of megabytes and a consistent snapshot for an export is a handful of memcpy's.

Labels of a data row: the initial ones are contiguous (``d_start``/``d_count``); labels created
later by events are listed in ``d_more``. Reviews and workflow steps of the initial history are
kept in arrays (at most one review per label, at most one review step per data row) and rebuilt
on render; those added by events are kept as tuples in ``l_reviews`` / ``d_steps``.
"""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass
from typing import TypeVar

LIVE, DELETED, HIDDEN = 0, 1, 2  # l_state / d_state values (HIDDEN: not yet visible to exports)
TO_LABEL, IN_REVIEW, IN_REWORK, DONE = 0, 1, 2, 3  # d_task values (index into TASKS)
# task index -> (task name, workflow status filter value, v2 ``workflow_status``)
TASKS: tuple[tuple[str, str, str], ...] = (
    ("Initial labeling task", "ToLabel", "TO_LABEL"),
    ("Initial review task", "InReview", "IN_REVIEW"),
    ("Rework task", "InRework", "IN_REWORK"),
    ("Done", "Done", "DONE"),
)
MOVE_IN_MS = 527  # first workflow step (Move into labeling) after the first label's creation
MOVE_ON_MS = 552  # second step (Move labeling -> review) after the first label's creation


@dataclass(frozen=True, slots=True)
class Review:
    """A review added by an event (the initial ones are rebuilt from arrays)."""

    id: str  # review id (v1 ``Reviews[].id``)
    score: int  # +1 approve, -1 reject
    at: int  # epoch ms
    by: int  # user number (see World.users)


@dataclass(frozen=True, slots=True)
class Step:
    """One workflow history step of a data row."""

    action: str  # "Move" | "Approve" | "Reject"
    at: int  # epoch ms
    prev: int | None  # previous task index
    next: int | None  # next task index
    by: int  # user number


T = TypeVar("T")
# (updated, version, state, issues, event reviews) of a label, saved for undo
LabelValues = tuple[int, int, int, int, tuple[Review, ...] | None]
# (activity, task, metadata version, updated, event steps, later labels) of a data row
RowValues = tuple[int, int, int, int, tuple[Step, ...] | None, tuple[int, ...] | None]


class ProjectState:
    """The mutable state of one project (see the module docstring for the layout)."""

    def __init__(self, salt: str = "") -> None:
        self.salt = salt  # (seed, project) salt for ids minted by events
        self.l_dr = array("i")  # data-row number of each label
        self.l_created = array("q")  # created at (ms)
        self.l_updated = array("q")  # updated at (ms)
        self.l_version = array("i")  # content version (bumped by label_updated)
        self.l_state = array("b")  # LIVE / DELETED / HIDDEN
        self.l_skipped = array("b")  # 1 when the labeler skipped the data row
        self.l_issues = array("i")  # open issues on the label
        self.l_rev_at = array("q")  # initial review time (0: no initial review)
        self.l_rev_score = array("b")  # initial review score (+1 / -1)
        self.l_by = array("b")  # labeler (user number)
        self.l_reviews: dict[int, tuple[Review, ...]] = {}  # reviews added by events
        self.d_start = array("i")  # first initial label
        self.d_count = array("b")  # number of initial labels
        self.d_created = array("q")  # data row created at (ms)
        self.d_updated = array("q")  # data row updated at (ms; metadata updates)
        self.d_activity = array("q")  # last_activity_at (ms)
        self.d_task = array("b")  # current workflow task (TASKS index)
        self.d_review_at = array("q")  # initial Approve/Reject step time (0: none)
        self.d_meta = array("i")  # metadata version
        self.d_state = array("b")  # LIVE / HIDDEN
        self.d_more: dict[int, tuple[int, ...]] = {}  # labels added later by events
        self.d_steps: dict[int, tuple[Step, ...]] = {}  # workflow steps added by events

    def copy(self) -> ProjectState:
        """A deep copy (arrays memcpy'd, dicts of immutable tuples shallow-copied)."""
        new = ProjectState.__new__(ProjectState)
        for name, value in vars(self).items():
            if isinstance(value, array):
                setattr(new, name, value[:])
            elif isinstance(value, dict):
                setattr(new, name, dict(value))
            else:
                setattr(new, name, value)
        return new

    @property
    def n_labels(self) -> int:
        """Labels ever created (live, deleted or hidden)."""
        return len(self.l_dr)

    @property
    def n_rows(self) -> int:
        """Data rows ever created."""
        return len(self.d_start)

    def labels_of(self, d: int) -> list[int]:
        """Every label number of data row ``d`` (whatever its state), oldest first."""
        start = self.d_start[d]
        own = list(range(start, start + self.d_count[d]))
        return own + list(self.d_more.get(d, ()))

    def label_values(self, i: int) -> LabelValues:
        """The mutable values of label ``i`` (for undo)."""
        return (
            self.l_updated[i],
            self.l_version[i],
            self.l_state[i],
            self.l_issues[i],
            self.l_reviews.get(i),
        )

    def restore_label(self, i: int, values: LabelValues | None) -> None:
        """Undo to ``values`` (None: the label did not exist yet)."""
        if values is None:
            self.l_state[i] = HIDDEN
            return
        upd, ver, state, issues, reviews = values
        self.l_updated[i], self.l_version[i] = upd, ver
        self.l_state[i], self.l_issues[i] = state, issues
        _put(self.l_reviews, i, reviews)

    def row_values(self, d: int) -> RowValues:
        """The mutable values of data row ``d`` (for undo)."""
        return (
            self.d_activity[d],
            self.d_task[d],
            self.d_meta[d],
            self.d_updated[d],
            self.d_steps.get(d),
            self.d_more.get(d),
        )

    def restore_row(self, d: int, values: RowValues | None) -> None:
        """Undo to ``values`` (None: the data row did not exist yet)."""
        if values is None:
            self.d_state[d] = HIDDEN
            return
        act, task, meta, upd, steps, more = values
        self.d_activity[d], self.d_task[d] = act, task
        self.d_meta[d], self.d_updated[d] = meta, upd
        _put(self.d_steps, d, steps)
        _put(self.d_more, d, more)

    def steps_of(self, d: int) -> list[Step]:
        """Workflow history of data row ``d``, **oldest first**."""
        first_label = self.d_start[d]
        first, who = self.l_created[first_label], self.l_by[first_label]
        steps = [
            Step("Move", first + MOVE_IN_MS, None, TO_LABEL, who),
            Step("Move", first + MOVE_ON_MS, TO_LABEL, IN_REVIEW, who),
        ]
        review_at = self.d_review_at[d]
        if review_at and initial_outcome(d) == DONE:
            steps.append(Step("Approve", review_at, IN_REVIEW, None, 0))
        elif review_at:
            steps.append(Step("Reject", review_at, IN_REVIEW, IN_REWORK, 0))
        return steps + list(self.d_steps.get(d, ()))


def initial_outcome(d: int) -> int:
    """The task a data row with an initial review step ended in (Done 60%, Rework 40%)."""
    return DONE if (d * 2_654_435_761 >> 7) % 5 < 3 else IN_REWORK


def _put(store: dict[int, T], key: int, value: T | None) -> None:
    if value is None:
        store.pop(key, None)
    else:
        store[key] = value


def populate(state: ProjectState, rng: random.Random, n_labels: int, t0: int, span: int) -> None:
    """Create ``n_labels`` labels whose history spans ``[t0, t0 + span]`` ms (sequential draws).

    About 5% of data rows carry 3 labels and 10% carry 2 (consensus); half of the data rows
    were reviewed (Approve -> Done or Reject -> Rework), the others wait in review. 20% of the
    labels were edited after creation, 30% carry a review, 5% are skipped, 3% have an issue.
    """
    end = t0 + span
    d = 0
    while state.n_labels < n_labels:
        r = rng.random()
        count = min(1 + (r < 0.15) + (r < 0.05), n_labels - state.n_labels)
        first = state.n_labels
        created = t0 + int(span * 0.9 * (first + rng.random()) / n_labels)
        _add_row(state, rng, d, first=first, count=count, created=created, end=end)
        activity = state.d_activity[d]
        for k in range(count):
            at = created + k * 61_000 + int(rng.random() * 1000)
            activity = max(activity, _add_label(state, rng, d, at, end))
        state.d_activity[d] = activity
        d += 1


def _add_row(
    state: ProjectState,
    rng: random.Random,
    d: int,
    *,
    first: int,
    count: int,
    created: int,
    end: int,
) -> None:
    born = created - 3_600_000 - int(rng.random() * 3_600_000)
    if rng.random() < 0.5:
        review_at = min(end, created + 60_000 + int(rng.random() * 86_400_000))
        task = initial_outcome(d)
    else:
        review_at, task = 0, IN_REVIEW
    state.d_start.append(first)
    state.d_count.append(count)
    state.d_created.append(born)
    state.d_updated.append(born)
    state.d_meta.append(0)
    state.d_state.append(LIVE)
    state.d_review_at.append(review_at)
    state.d_task.append(task)
    state.d_activity.append(max(review_at, created + MOVE_ON_MS))


def _add_label(state: ProjectState, rng: random.Random, d: int, created: int, end: int) -> int:
    """Append one label; returns the latest activity it caused (ms)."""
    rand = rng.random
    created = min(created, end) // 1000 * 1000  # Created At has whole seconds (spec 3.1)
    updated = created + int(rand() * 1000)
    if rand() < 0.2:
        updated = min(end, created + int(rand() * 3 * 86_400_000))
    rev_at, score = 0, 1
    if rand() < 0.3:
        rev_at = min(end, updated + int(rand() * 86_400_000))
        score = 1 if rand() < 0.8 else -1
    state.l_dr.append(d)
    state.l_created.append(created)
    state.l_updated.append(updated)
    state.l_version.append(0)
    state.l_state.append(LIVE)
    state.l_skipped.append(rand() < 0.05)
    state.l_issues.append(rand() < 0.03)
    state.l_rev_at.append(rev_at)
    state.l_rev_score.append(score)
    state.l_by.append(1 + int(rand() * 3))
    return max(updated, rev_at)
