"""The simulated world: determinism, filters, clock, events, index lag, ground truth."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from labelbox_provider.emulator.world import EVENT_KINDS, ExportFilter, V2Params, World

pytestmark = pytest.mark.unit

ALL = V2Params(*([True] * 8))


def _image_world(**kw: object) -> tuple[World, str]:
    w = World(seed=7, projects=[{"media_type": "IMAGE", "labels": 30}], **kw)  # type: ignore[arg-type]
    return w, w.projects()[0].id


def _truth(w: World, pid: str) -> dict[str, dict]:
    return {t["label_id"]: t for t in w.ground_truth(pid)}


def test_same_seed_same_world_different_seed_different_world() -> None:
    a, b, c = World(seed=3), World(seed=3), World(seed=4)
    assert a.api_key == b.api_key != c.api_key
    for pa, pb in zip(a.projects(), b.projects(), strict=True):
        assert pa == pb
        assert json.dumps(list(a.iter_v1(pa.id, ExportFilter()))) == json.dumps(
            list(b.iter_v1(pb.id, ExportFilter()))
        )
        assert list(a.iter_v2(pa.id, ExportFilter(), ALL)) == list(
            b.iter_v2(pb.id, ExportFilter(), ALL)
        )
    assert [p.id for p in a.projects()] != [p.id for p in c.projects()]
    ev_a = a.advance(3600, {"label_updated": 3, "review_applied": 2})
    ev_b = b.advance(3600, {"label_updated": 3, "review_applied": 2})
    assert ev_a == ev_b


def test_world_has_every_media_type_and_requested_sizes() -> None:
    w = World(seed=1, labels_per_project=25)
    infos = w.projects()
    assert sorted(p.media_type for p in infos) == sorted(
        [
            "IMAGE",
            "VIDEO",
            "TEXT",
            "GEOSPATIAL_TILE",
            "AUDIO",
            "PDF",
            "CONVERSATIONAL",
            "DICOM",
            "HTML",
        ]
    )
    for p in infos:
        assert p.label_count == 25
        assert w.count_labels(p.id, ExportFilter()) == 25
        assert 0 < p.data_row_count <= 25
    assert w.get_project("nope") is None
    assert w.user["email"].endswith(".example.com") and w.user["timezone"] == "UTC"


def test_label_created_filter_is_inclusive_at_both_ends() -> None:
    w, pid = _image_world()
    truth = list(w.ground_truth(pid))
    t = truth[10]["created_at"]
    same = {x["label_id"] for x in truth if x["created_at"] == t}
    got = {r["ID"] for r in w.iter_v1(pid, ExportFilter(label_created=(t, t)))}
    assert got == same and truth[10]["label_id"] in got
    after = {
        r["ID"]
        for r in w.iter_v1(pid, ExportFilter(label_created=(t + timedelta(milliseconds=1), None)))
    }
    assert truth[10]["label_id"] not in after
    assert after == {x["label_id"] for x in truth if x["created_at"] > t}


def test_last_activity_filter_is_on_the_data_row_and_inclusive() -> None:
    w, pid = _image_world()
    truth = list(w.ground_truth(pid))
    t = truth[5]["data_row_last_activity_at"]
    got = list(w.iter_v1(pid, ExportFilter(last_activity=(t, t))))
    expected = {x["label_id"] for x in truth if x["data_row_last_activity_at"] == t}
    assert {r["ID"] for r in got} == expected
    # every current label of the touched data row comes back
    assert expected == {x["label_id"] for x in truth if x["data_row_id"] == truth[5]["data_row_id"]}
    v2 = list(
        w.iter_v2(
            pid, ExportFilter(last_activity=(None, t - timedelta(milliseconds=1))), V2Params()
        )
    )
    assert truth[5]["data_row_id"] not in {r["data_row"]["id"] for r in v2}


def test_id_key_status_and_batch_filters() -> None:
    w, pid = _image_world()
    truth = list(w.ground_truth(pid))
    one = truth[3]
    by_id = list(
        w.iter_v2(pid, ExportFilter(data_row_ids=frozenset({one["data_row_id"]})), V2Params())
    )
    assert [r["data_row"]["id"] for r in by_id] == [one["data_row_id"]]
    keyed = next(x for x in truth if x["global_key"])
    by_key = list(w.iter_v1(pid, ExportFilter(global_keys=frozenset({keyed["global_key"]}))))
    assert {r["DataRow ID"] for r in by_key} == {keyed["data_row_id"]}
    for status in ("ToLabel", "InReview", "InRework", "Done"):
        got = {r["ID"] for r in w.iter_v1(pid, ExportFilter(workflow_status=status))}
        assert got == {x["label_id"] for x in truth if x["workflow_status"] == status}
    batch = next(iter(w.iter_v2(pid, ExportFilter(), ALL)))["projects"][pid]["project_details"][
        "batch_id"
    ]
    assert w.count_labels(pid, ExportFilter(batch_ids=frozenset({batch}))) == len(truth)
    assert w.count_labels(pid, ExportFilter(batch_ids=frozenset({"other"}))) == 0
    errors = list(w.v2_errors(pid, ExportFilter(data_row_ids=frozenset({"cnotarealid"}))))
    assert errors and errors[0]["data_row_id"] == "cnotarealid"


def test_advance_moves_the_clock_and_spreads_events() -> None:
    w, _ = _image_world()
    before = w.now()
    events = w.advance(86_400, {k: 1 for k in EVENT_KINDS})
    assert w.now() - before == timedelta(days=1)
    assert sorted(e["kind"] for e in events) == sorted(EVENT_KINDS)
    times = [e["at"] for e in events]
    assert all(before < t <= w.now() for t in times) and times == sorted(times)
    assert times[-1] == w.now()
    assert len(w.activity_log()) == len(EVENT_KINDS)
    with pytest.raises(ValueError):
        w.advance(1, {"bogus": 1})


def _event(w: World, pid: str, kind: str, target: str | None = None) -> dict:
    at = w.now() + timedelta(hours=1)
    return w.add_event(kind, at, project_id=pid, target=target)


def test_delete_removes_label_and_empty_row_stays_in_v2() -> None:
    w, pid = _image_world()
    truth = _truth(w, pid)
    victim = next(t for t in truth.values())
    row_labels = [
        t["label_id"] for t in truth.values() if t["data_row_id"] == victim["data_row_id"]
    ]
    for lid in row_labels:
        ev = _event(w, pid, "label_deleted", lid)
    after = _truth(w, pid)
    assert not set(row_labels) & set(after)
    assert victim["label_id"] not in {r["ID"] for r in w.iter_v1(pid, ExportFilter())}
    rows = {r["data_row"]["id"]: r for r in w.iter_v2(pid, ExportFilter(), ALL)}
    emptied = rows[victim["data_row_id"]]["projects"][pid]
    assert emptied["labels"] == []
    assert emptied["project_details"]["workflow_status"] == "TO_LABEL"  # back in the queue
    assert emptied["project_details"]["workflow_history"][0]["next_task_name"] == (
        "Initial labeling task"
    )
    flt = ExportFilter(workflow_status="ToLabel")
    assert [r["data_row"]["id"] for r in w.iter_v2(pid, flt, V2Params())] == [victim["data_row_id"]]
    flt = ExportFilter(last_activity=(ev["at"], ev["at"]))
    assert [r["data_row"]["id"] for r in w.iter_v2(pid, flt, V2Params())] == [victim["data_row_id"]]


def test_update_bumps_updated_at_version_and_content() -> None:
    w, pid = _image_world()
    lid, old = next((k, v) for k, v in _truth(w, pid).items() if not v["skipped"])
    ev = _event(w, pid, "label_updated", lid)
    new = _truth(w, pid)[lid]
    assert new["updated_at"] == ev["at"] == new["data_row_last_activity_at"]
    assert new["content_version"] == old["content_version"] + 1
    assert new["object_feature_ids"] != old["object_feature_ids"]
    assert new["created_at"] == old["created_at"]


def test_review_workflow_issue_comment_metadata_events() -> None:
    w, pid = _image_world()
    lid, old = next(iter(_truth(w, pid).items()))
    ev = _event(w, pid, "review_applied", lid)
    new = _truth(w, pid)[lid]
    assert set(new["review_ids"]) == set(old["review_ids"]) | {ev["review_id"]}
    assert new["data_row_last_activity_at"] == ev["at"] and new["updated_at"] == old["updated_at"]
    grown = len(new["workflow_history"]) - len(old["workflow_history"])
    assert grown == (1 if ev["via_workflow"] else 0)
    if ev["via_workflow"]:  # review through the workflow: Approve -> Done, Reject -> Rework
        step = new["workflow_history"][0]
        assert step["action"] == ("Approve" if ev["score"] > 0 else "Reject")
        assert new["workflow_status"] == ("Done" if ev["score"] > 0 else "InRework")
    ev = _event(w, pid, "workflow_moved", lid)
    moved = _truth(w, pid)[lid]
    assert moved["workflow_history"][0]["action"] == "Move"
    assert moved["workflow_history"][0]["created_at"] == ev["at"]
    assert len(moved["workflow_history"]) == len(new["workflow_history"]) + 1
    assert moved["workflow_status"] != new["workflow_status"]
    _event(w, pid, "issue_created", lid)
    assert _truth(w, pid)[lid]["has_open_issues"]
    before = _truth(w, pid)[lid]
    ev = _event(w, pid, "comment_created", lid)
    after = _truth(w, pid)[lid]
    assert after["data_row_last_activity_at"] == ev["at"]
    assert {k: v for k, v in after.items() if k != "data_row_last_activity_at"} == {
        k: v for k, v in before.items() if k != "data_row_last_activity_at"
    }
    ev = _event(w, pid, "metadata_updated", new["data_row_id"])
    assert ev["label_id"] in _truth(w, pid)
    row = next(
        iter(w.iter_v2(pid, ExportFilter(data_row_ids=frozenset({new["data_row_id"]})), ALL))
    )
    assert {"schema_name": "revision", "value": "rev-1"}.items() <= row["metadata_fields"][
        -1
    ].items()
    assert row["data_row"]["details"]["last_activity_at"].startswith(
        ev["at"].strftime("%Y-%m-%dT%H:%M:%S")
    )


def test_label_created_appears_everywhere() -> None:
    w, pid = _image_world()
    ev = _event(w, pid, "label_created")
    truth = _truth(w, pid)
    assert ev["label_id"] in truth
    assert truth[ev["label_id"]]["created_at"] == ev["at"].replace(microsecond=0)
    assert w.count_labels(pid, ExportFilter()) == 31


def test_index_lag_hides_fresh_activity_until_visible() -> None:
    w, pid = _image_world(index_lag_seconds=60)
    lid = next(iter(_truth(w, pid)))
    at = w.now() + timedelta(seconds=1)
    w.add_event("label_deleted", at, project_id=pid, target=lid)
    assert lid not in _truth(w, pid)  # the truth knows at once
    assert lid in {r["ID"] for r in w.iter_v1(pid, ExportFilter())}  # exports lag behind
    assert lid in {t["label_id"] for t in w.ground_truth(pid, visible=True)}
    w.advance(59)
    assert lid in {r["ID"] for r in w.iter_v1(pid, ExportFilter())}
    w.advance(1)
    assert lid not in {r["ID"] for r in w.iter_v1(pid, ExportFilter())}


def test_visible_after_on_a_day_boundary() -> None:
    w, pid = _image_world()
    boundary = (w.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    ev = w.add_event("label_updated", boundary, project_id=pid, visible_after=300)
    flt = ExportFilter(last_activity=(boundary, boundary))
    assert list(w.iter_v1(pid, flt)) == []
    w.advance(300)
    got = {r["ID"] for r in w.iter_v1(pid, flt)}
    assert ev["label_id"] in got


def test_iterators_work_from_a_snapshot() -> None:
    w, pid = _image_world()
    it = w.iter_v1(pid, ExportFilter())
    first = next(it)
    w.advance(10, {"label_deleted": 20})
    rest = list(it)
    assert 1 + len(rest) == 30 and first["ID"] not in {r["ID"] for r in rest}


def test_v2_label_created_filter_keeps_whole_data_rows() -> None:
    w, pid = _image_world()
    truth = list(w.ground_truth(pid))
    consensus = next(
        x for x in truth if sum(y["data_row_id"] == x["data_row_id"] for y in truth) > 1
    )
    t = consensus["created_at"]
    rows = list(w.iter_v2(pid, ExportFilter(label_created=(t, t)), V2Params()))
    row = next(r for r in rows if r["data_row"]["id"] == consensus["data_row_id"])
    got = {lab["id"] for lab in row["projects"][pid]["labels"]}
    assert got == {x["label_id"] for x in truth if x["data_row_id"] == consensus["data_row_id"]}
    assert all(
        any(x["created_at"] == t and x["data_row_id"] == r["data_row"]["id"] for x in truth)
        for r in rows
    )


def test_exports_and_advance_from_several_threads() -> None:
    import threading

    w, pid = _image_world()
    errors: list[BaseException] = []
    counts: list[int] = []

    def export() -> None:
        try:
            for _ in range(5):
                counts.append(sum(1 for _ in w.iter_v2(pid, ExportFilter(), ALL)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=export) for _ in range(3)]
    for t in threads:
        t.start()
    for _ in range(20):
        w.advance(60, {"label_created": 1, "label_updated": 1, "metadata_updated": 1})
    for t in threads:
        t.join()
    assert errors == [] and len(counts) == 15
    assert len(w.activity_log(pid)) == 60
    assert w.count_labels(pid, ExportFilter()) == 50
