"""The current view: latest wins, snapshots delete, tombstones delete, overlaps collapse."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from labelbox_provider.io.current import (
    TABLES,
    current_tables,
    current_view_sql,
    register_current_views,
)
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import Window, advance_watermark, plan_incremental

from .mirror_kit import Mirror, Spec, hours

pytestmark = pytest.mark.integration

W1 = Window(hours(0), hours(1))
W2 = Window(hours(1), hours(2))
W3 = Window(hours(2), hours(3))


def labels(mirror: Mirror) -> dict[str, tuple[str, str]]:
    """Current labels as label_id -> (version, batch_id); fails on a duplicate label."""
    table = current_tables(mirror.root, "p1", tables=("labels",))["labels"]
    rows = table.to_pylist()
    assert len(rows) == len({r["label_id"] for r in rows}), "duplicate label in current view"
    return {r["label_id"]: (r["version"], r["batch_id"]) for r in rows}


def versions(mirror: Mirror) -> dict[str, str]:
    """Current labels as label_id -> version."""
    return {k: v for k, (v, _) in labels(mirror).items()}


def children(mirror: Mirror, table: str) -> list[tuple[str, str]]:
    """(label_id, item) rows of a child table in the current view, sorted."""
    rows = current_tables(mirror.root, "p1", tables=(table,))[table].to_pylist()
    return sorted((r["label_id"], r["item"]) for r in rows)


def test_an_update_replaces_the_label_and_its_children(mirror: Mirror) -> None:
    mirror.commit(Spec({"d1": {"l1": "a", "l2": "a"}}), W1, extracted_at=hours(1))
    second = mirror.commit(Spec({"d1": {"l1": "b", "l2": "a"}}), W2, extracted_at=hours(2))
    assert labels(mirror) == {"l1": ("b", second.batch_id), "l2": ("a", second.batch_id)}
    for table in ("objects", "classifications", "relationships", "reviews"):
        assert children(mirror, table) == [("l1", "b"), ("l2", "a")]
    data_rows = current_tables(mirror.root, "p1", tables=("data_rows",))["data_rows"]
    assert data_rows.column("batch_id").to_pylist() == [second.batch_id]


def test_a_v2_snapshot_without_a_label_deletes_it(mirror: Mirror) -> None:
    mirror.commit(
        Spec({"d1": {"l1": "a", "l2": "a"}, "d2": {"l3": "a"}}), W1, extracted_at=hours(1)
    )
    mirror.commit(Spec({"d1": {"l1": "a"}}), W2, extracted_at=hours(2))
    assert versions(mirror) == {"l1": "a", "l3": "a"}  # d2 untouched keeps its label
    assert children(mirror, "objects") == [("l1", "a"), ("l3", "a")]
    mirror.commit(Spec({"d1": {}}), W3, extracted_at=hours(3))  # every label of d1 deleted
    assert versions(mirror) == {"l3": "a"}
    data_rows = current_tables(mirror.root, "p1", tables=("data_rows",))["data_rows"]
    assert sorted(data_rows.column("data_row_id").to_pylist()) == ["d1", "d2"]  # row stays


def test_v1_labels_survive_partial_exports_until_a_tombstone(mirror: Mirror) -> None:
    mirror.commit(Spec({"d1": {"l1": "a", "l2": "a"}}), W1, extracted_at=hours(1), fmt="v1")
    mirror.commit(Spec({"d1": {"l1": "b"}}), W2, extracted_at=hours(2), fmt="v1")
    assert versions(mirror) == {"l1": "b", "l2": "a"}  # v1 returns labels, not whole data rows
    reconcile = Spec({}, tombstones=[("l2", "d1", hours(3))])
    mirror.commit(reconcile, Window(hours(0), hours(3)), extracted_at=hours(3), mode="reconcile")
    assert versions(mirror) == {"l1": "b"}
    assert children(mirror, "reviews") == [("l1", "b")]
    tombstones = current_tables(mirror.root, "p1", tables=("tombstones",))["tombstones"]
    assert tombstones.column("label_id").to_pylist() == ["l2"]  # exposed raw


def test_a_tombstone_older_than_the_latest_copy_does_not_delete(mirror: Mirror) -> None:
    mirror.commit(Spec({}, tombstones=[("l1", "d1", hours(1))]), W1, extracted_at=hours(1))
    mirror.commit(Spec({"d1": {"l1": "a"}}), W2, extracted_at=hours(2))
    assert versions(mirror) == {"l1": "a"}


def test_overlapping_windows_collapse_duplicates(mirror: Mirror) -> None:
    spec = Spec({"d1": {"l1": "a"}, "d2": {"l2": "a"}})
    mirror.commit(spec, Window(hours(0), hours(2)), extracted_at=hours(2))
    mirror.commit(spec, Window(hours(1), hours(3)), extracted_at=hours(3))  # lookback overlap
    assert versions(mirror) == {"l1": "a", "l2": "a"}
    assert children(mirror, "classifications") == [("l1", "a"), ("l2", "a")]
    data_rows = current_tables(mirror.root, "p1", tables=("data_rows",))["data_rows"]
    assert sorted(data_rows.column("data_row_id").to_pylist()) == ["d1", "d2"]


def test_latest_extraction_wins_across_backfills(mirror: Mirror) -> None:
    mirror.commit(Spec({"d1": {"l1": "b"}}), W2, extracted_at=hours(5))
    # a backfill of an older window taken later holds the newer state: it wins
    late = mirror.commit(Spec({"d1": {"l1": "c"}}), W1, extracted_at=hours(6), mode="backfill")
    assert labels(mirror) == {"l1": ("c", late.batch_id)}
    # a backfill taken earlier (older extraction) does not override
    mirror.commit(Spec({"d1": {"l1": "z"}}), W3, extracted_at=hours(4), mode="backfill")
    assert versions(mirror) == {"l1": "c"}


def test_equal_extraction_times_break_ties_by_batch_id(mirror: Mirror) -> None:
    a = mirror.commit(Spec({"d1": {"l1": "x"}}), W1, extracted_at=hours(5))
    b = mirror.commit(Spec({"d1": {"l1": "y"}}), W2, extracted_at=hours(5))
    winner = max((a, b), key=lambda m: m.batch_id)
    assert labels(mirror)["l1"][1] == winner.batch_id


def test_workflow_history_follows_snapshot_or_label(mirror: Mirror) -> None:
    v2_old = Spec({"d1": {"l1": "a"}}, workflow=[("d1", None, "old-step")])
    v2_new = Spec({"d1": {"l1": "a"}}, workflow=[("d1", None, "new-step")])
    mirror.commit(v2_old, W1, extracted_at=hours(1))
    mirror.commit(v2_new, W2, extracted_at=hours(2))
    v1 = Spec(
        {"d9": {"l8": "a", "l9": "a"}}, workflow=[("d9", "l8", "v1-l8"), ("d9", "l9", "v1-l9")]
    )
    mirror.commit(v1, W1, extracted_at=hours(1), fmt="v1")
    mirror.commit(Spec({"d9": {"l9": "b"}}), W2, extracted_at=hours(2), fmt="v1")
    repeated = [("d7", None, "v1-d7"), ("d7", None, "v1-d7")]  # once per label record
    mirror.commit(
        Spec({"d7": {"l6": "a", "l7": "a"}}, workflow=repeated), W3, extracted_at=hours(3), fmt="v1"
    )
    rows = current_tables(mirror.root, "p1", tables=("workflow_history",))["workflow_history"]
    assert sorted(rows.column("action").to_pylist()) == ["new-step", "v1-d7", "v1-l8"]


def test_rejects_are_raw_and_uncommitted_files_are_invisible(mirror: Mirror) -> None:
    mirror.commit(Spec({"d1": {"l1": "a"}}, rejects=["e1"]), W1, extracted_at=hours(1))
    mirror.commit(Spec({"d1": {"l1": "a"}}, rejects=["e2"]), W2, extracted_at=hours(2))
    stray = pa.table({"label_id": ["ghost"], "data_row_id": ["d1"], "version": ["x"]})
    ledger = mirror.ledger
    ledger.fs.makedirs(ledger.path("labels/batch=uncommitted"), exist_ok=True)
    with ledger.fs.open(ledger.path("labels/batch=uncommitted/part-1-00000.parquet"), "wb") as f:
        pq.write_table(stray, f)
    rejects = current_tables(mirror.root, "p1", tables=("rejects",))["rejects"]
    assert sorted(rejects.column("error").to_pylist()) == ["e1", "e2"]
    assert "ghost" not in versions(mirror)


def test_sql_views_and_function_agree(mirror: Mirror, tmp_path: Path) -> None:
    mirror.commit(Spec({"d1": {"l1": "a", "l2": "a"}}), W1, extracted_at=hours(1))
    mirror.commit(Spec({"d1": {"l1": "b"}}), W2, extracted_at=hours(2))
    con = duckdb.connect()
    register_current_views(con, mirror.root, "p1")
    assert con.sql("SELECT label_id, version FROM labels").fetchall() == [("l1", "b")]
    assert con.sql("SELECT count(*) FROM raw_labels").fetchall() == [(3,)]
    if mirror.root.startswith("memory://"):
        return  # self-contained SQL on a remote root needs the filesystem registered (above)
    sql = current_view_sql(mirror.root, "p1")
    assert set(sql) == set(TABLES)
    fresh = duckdb.connect()
    assert fresh.sql(sql["labels"]).fetchall() == con.sql("SELECT * FROM labels").fetchall()


def test_an_empty_mirror_gives_empty_typed_tables(tmp_path: Path) -> None:
    tables = current_tables(str(tmp_path / "nothing"), "p1")
    assert set(tables) == set(TABLES)
    assert all(t.num_rows == 0 for t in tables.values())
    assert tables["labels"].schema.field("extracted_at").type == pa.timestamp("us", tz="UTC")


def test_projects_are_kept_apart(mirror: Mirror) -> None:
    mirror.commit(Spec({"d1": {"l1": "a"}}), W1, extracted_at=hours(1))
    other = Mirror(Ledger(mirror.root, "p2"), mirror.root, mirror.tmp)
    other.commit(Spec({"d1": {"l9": "a"}}), W2, extracted_at=hours(2))  # same data row id
    both = current_tables(mirror.root, None, tables=("labels",))["labels"].to_pylist()
    assert sorted((r["project_id"], r["label_id"]) for r in both) == [("p1", "l1"), ("p2", "l9")]


# -- property: scheduled runs with lookback over a changing world -------------------------------

events = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=6 * 3600),  # when (seconds after T0)
        st.sampled_from(["d1", "d2"]),  # data row (few ids: updates and deletes collide often)
        st.sampled_from(["l1", "l2"]),  # label (suffix: the id is unique per data row)
        st.sampled_from(["put", "delete"]),
    ),
    max_size=12,
)


def _world_at(
    history: list[tuple[int, str, str, str]], until: datetime
) -> dict[str, dict[str, str]]:
    """Data rows -> labels -> version as they are at ``until`` (exclusive)."""
    state: dict[str, dict[str, str]] = {}
    for sec, dr, lab, op in sorted(history):
        if hours(0) + timedelta(seconds=sec) >= until:
            break
        labels_of = state.setdefault(dr, {})
        if op == "put":
            labels_of[f"{dr}{lab}"] = f"v{sec}"
        else:
            labels_of.pop(f"{dr}{lab}", None)
    return state


def _export(history: list[tuple[int, str, str, str]], w: Window, at: datetime) -> Spec:
    """A v2 export at ``at``: data rows with activity inside ``w``'s filter, as they are now."""
    lo, hi = w.filter_bounds()
    active = {dr for sec, dr, _, _ in history if lo <= hours(0) + timedelta(seconds=sec) <= hi}
    world = _world_at(history, at)
    return Spec({dr: world.get(dr, {}) for dr in sorted(active)}, tables=("data_rows", "labels"))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@example([(60, "d1", "l1", "put"), (61, "d1", "l2", "put"), (5000, "d1", "l2", "delete")], [3600])
@given(events, st.lists(st.integers(min_value=600, max_value=3 * 3600), min_size=1, max_size=4))
def test_lookback_overlap_never_duplicates_and_converges(
    tmp_path: Path, history: list[tuple[int, str, str, str]], gaps_s: list[int]
) -> None:
    root = str(tmp_path / f"m{abs(hash((tuple(history), tuple(gaps_s))))}")
    mirror = Mirror(Ledger(root, "p1"), root, tmp_path)
    now, watermark = hours(0), None
    for step in [*gaps_s, 8 * 3600]:
        now += timedelta(seconds=step)
        plan = plan_incremental(
            watermark=watermark,
            initial_start=hours(0),
            now=now,
            settle_lag=timedelta(seconds=30),
            lookback=timedelta(minutes=20),
            max_span=timedelta(hours=2),
        )
        for w in plan:
            mirror.commit(_export(history, w, now), w, extracted_at=now)
        watermark = mirror.ledger.watermark()
        assert watermark == advance_watermark(None, mirror.ledger.covered(), hours(0))
    expected = {lab: v for labs in _world_at(history, now).values() for lab, v in labs.items()}
    assert versions(mirror) == expected  # labels() inside also proves there is no duplicate
