"""Compaction: the base keeps exactly what the current view needs (a property over random
histories), publishing is atomic and idempotent, re-committing a folded batch falls back to the
raw batches, retention expires raw files only after they are folded."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from labelbox_provider.io.compact import compact
from labelbox_provider.io.current import current_tables
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import Window

from .mirror_kit import Mirror, Spec, hours

pytestmark = pytest.mark.integration

OWNER = {"l1": "d1", "l2": "d1", "l3": "d2", "l4": "d3"}  # label -> its data row


def view(mirror: Mirror, *, compacted: bool) -> dict[str, list[tuple[Any, ...]]]:
    """Every current table, rows sorted (comparable across layouts)."""
    tables = current_tables(mirror.root, "p1", compacted=compacted)
    return {
        name: sorted((tuple(sorted(r.items())) for r in t.to_pylist()), key=repr)
        for name, t in tables.items()
    }


@st.composite
def batches(draw: Any) -> dict[str, Any]:
    labels = draw(st.dictionaries(st.sampled_from(sorted(OWNER)), st.sampled_from("abc")))
    rows: dict[str, dict[str, str]] = {}
    for dr in draw(st.sets(st.sampled_from(["d1", "d2", "d3"]))):
        rows[dr] = {}
    for lab, version in labels.items():
        rows.setdefault(OWNER[lab], {})[lab] = version
    tombs = draw(st.lists(st.sampled_from(sorted(OWNER)), max_size=2, unique=True))
    when = draw(st.integers(0, 8))
    flow = [(OWNER[lab], lab, f"act-{when}") for lab in labels] + [
        (dr, None, f"dr-{when}") for dr in rows if draw(st.booleans())
    ]
    return {
        "spec": Spec(
            rows,
            tombstones=[(lab, OWNER[lab], hours(draw(st.integers(0, 8)))) for lab in tombs],
            workflow=flow,
        ),
        "fmt": draw(st.sampled_from(["v1", "v2"])),
        "at": when,
    }


def _commit(mirror: Mirror, b: dict[str, Any], slot: int) -> None:
    w = Window(hours(slot), hours(slot + 1))  # a batch id of its own: no re-commit here
    mirror.commit(b["spec"], w, extracted_at=hours(b["at"]), fmt=b["fmt"])


def _versions_of_one_label(mirror: Mirror, n: int) -> None:
    """``n`` hourly batches, batch ``i`` holding version ``v<i>`` of label l1 of data row d1."""
    for i in range(n):
        mirror.commit(
            Spec({"d1": {"l1": f"v{i}"}}), Window(hours(i), hours(i + 1)), extracted_at=hours(i + 1)
        )


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    history=st.lists(batches(), min_size=1, max_size=7),
    cuts=st.lists(st.integers(0, 6), min_size=1, max_size=2),
)
def test_the_view_over_base_and_later_batches_equals_the_view_over_every_batch(
    history: list[dict[str, Any]], cuts: list[int]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = str(Path(tmp) / "m")
        mirror = Mirror(Ledger(root, "p1"), root, Path(tmp))
        points = {1 + c % len(history) for c in cuts}  # compact after that many batches
        for i, b in enumerate(history):
            _commit(mirror, b, i)
            if i + 1 in points:
                compact(mirror.ledger)
        comp = mirror.ledger.checkpoint().compaction
        assert comp is not None and not comp.stale  # the base is really read
        assert view(mirror, compacted=True) == view(mirror, compacted=False)


def test_compaction_is_idempotent_and_reads_base_plus_later_batches(mirror: Mirror) -> None:
    _versions_of_one_label(mirror, 6)
    before = view(mirror, compacted=False)
    first = compact(mirror.ledger)
    assert first.folded_batches == 6 and first.rows["labels"] == 1 and first.rows["data_rows"] == 1
    again = compact(mirror.ledger)
    assert again.folded_batches == 0 and again.generation == first.generation  # nothing new
    from labelbox_provider.io.current import project_files

    assert all(p.startswith("_compacted/") for p in project_files(mirror.ledger))
    assert view(mirror, compacted=True) == before
    mirror.commit(Spec({"d2": {"l3": "x"}}), Window(hours(6), hours(7)), extracted_at=hours(9))
    files = project_files(mirror.ledger)
    assert sum(not p.startswith("_compacted/") for p in files) > 0  # the new batch, raw
    assert view(mirror, compacted=True) == view(mirror, compacted=False)


def test_recommitting_a_folded_batch_makes_the_base_stale_until_the_next_compaction(
    mirror: Mirror,
) -> None:
    w = Window(hours(0), hours(1))
    mirror.commit(Spec({"d1": {"l1": "a", "l2": "a"}}), w, extracted_at=hours(1))
    compact(mirror.ledger)
    mirror.commit(Spec({"d1": {"l1": "b"}}), w, extracted_at=hours(2))  # same batch id again
    assert mirror.ledger.checkpoint().compaction.stale  # type: ignore[union-attr]
    labels = current_tables(mirror.root, "p1")["labels"].to_pylist()
    assert [(r["label_id"], r["version"]) for r in labels] == [("l1", "b")]  # l2 went with a
    result = compact(mirror.ledger)
    assert result.folded_batches == 1 and not mirror.ledger.checkpoint().compaction.stale  # type: ignore[union-attr]
    assert view(mirror, compacted=True) == view(mirror, compacted=False)


def test_retention_expires_only_folded_old_batches(mirror: Mirror) -> None:
    _versions_of_one_label(mirror, 3)
    before = view(mirror, compacted=True)
    assert compact(mirror.ledger, expire_raw_after=timedelta(days=1)).expired_batches == 0  # young
    mirror.commit(Spec({"d2": {"l3": "x"}}), Window(hours(3), hours(4)), extracted_at=hours(5))
    entries = mirror.ledger.batches()
    later = max(e.committed_at for e in entries) + timedelta(days=2)
    result = compact(mirror.ledger, expire_raw_after=timedelta(days=1), now=later)
    assert result.expired_batches == 4  # the fourth was folded by this compaction first
    for e in entries:
        assert not any(mirror.ledger.fs.exists(mirror.ledger.path(p)) for p in e.paths())
    assert mirror.ledger.manifest(entries[0].batch_id) is not None  # the audit trail stays
    assert view(mirror, compacted=True) != before  # d2/l3 arrived
    labels = current_tables(mirror.root, "p1")["labels"].to_pylist()
    assert sorted((r["label_id"], r["version"]) for r in labels) == [("l1", "v2"), ("l3", "x")]
