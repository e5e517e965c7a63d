"""The page and its API in a real ``airflow api-server``: who may read it, and what it says.

The mirror was made from the emulator by the operator (``build_mirror.py``); the numbers the
API returns are checked against the provider's ledger reader, and the metrics the operator
sent while making it against the batches it committed.
"""

from __future__ import annotations

import re

import pytest
from labelbox_provider.cli.backfill import gap_commands
from labelbox_provider.cli.ledger import ledger_status
from labelbox_provider.state.ledger import Ledger

from tests.plugins.conftest import PageMirror, http_get, token

pytestmark = pytest.mark.integration

API = "/labelbox-mirror/api/projects"
PAGES = ("/labelbox-mirror/", API)


def test_anonymous_is_refused(api_server: str, page_mirror: PageMirror) -> None:
    status, body, _ = http_get(f"{api_server}{API}")
    assert status == 401 and body == {"detail": "Not authenticated"}
    assert http_get(f"{api_server}{API}/{page_mirror.project}")[0] == 401
    status, _, headers = http_get(f"{api_server}/labelbox-mirror/")
    assert status == 307 and headers["location"] == "/auth/login?next=%2Flabelbox-mirror%2F"


def test_an_invalid_token_is_refused(api_server: str) -> None:
    assert http_get(f"{api_server}{API}", token="not-a-jwt")[0] == 403


@pytest.mark.parametrize("user", ["nobody", "denied"])
def test_users_who_may_not_read_dags_are_refused(api_server: str, user: str) -> None:
    jwt = token(api_server, user)
    for path in PAGES:
        status, body, _ = http_get(f"{api_server}{path}", token=jwt)
        assert status == 403, (user, path, body)


@pytest.mark.parametrize("user", ["admin", "viewer"])
def test_readers_see_what_the_ledger_says(
    api_server: str, page_mirror: PageMirror, user: str
) -> None:
    status, body, _ = http_get(f"{api_server}{API}", token=token(api_server, user))
    assert status == 200 and body["user"] == user
    (shown,) = body["projects"]
    state = ledger_status(Ledger(page_mirror.root, page_mirror.project))
    assert shown["project_id"] == page_mirror.project
    assert shown["batches"] == len(state.batches) == 3
    assert shown["watermark"] == state.to_dict()["watermark"]
    assert shown["stale"] is True  # the watermark is days old, the threshold 24 hours
    conf = {"project_ids": [page_mirror.project]}
    expected = [gap_commands([g], "labelbox_backfill", conf)[0] for g in state.gaps]
    assert [g["command"] for g in shown["gaps"]] == expected and len(expected) == 1
    assert len(shown["pending_exports"]) == 1
    assert shown["rejects"] == sum(m.counts.get("rejects", 0) for m in state.batches) > 0


def test_project_detail_pages_batches_with_reject_reasons(
    api_server: str, page_mirror: PageMirror
) -> None:
    url = f"{api_server}{API}/{page_mirror.project}?limit=2"
    status, body, _ = http_get(url, token=token(api_server, "viewer"))
    assert status == 200 and len(body["last_batches"]) == 2
    state = ledger_status(Ledger(page_mirror.root, page_mirror.project))
    newest = max(state.batches, key=lambda m: (m.window, m.batch_id))
    first = body["last_batches"][0]
    assert first["batch_id"] == newest.batch_id and first["counts"] == dict(newest.counts)
    with_rejects = [b for b in body["last_batches"] if b["rejects"]]
    assert with_rejects, "the emulator's malformed records should have made rejects"
    for batch in with_rejects:
        assert sum(r["count"] for r in batch["reject_reasons"]) <= batch["rejects"]
        assert all(r["reason"] for r in batch["reject_reasons"])
    missing = http_get(f"{api_server}{API}/nope", token=token(api_server, "viewer"))
    assert missing[0] == 404


def test_the_operator_sent_its_metrics(page_mirror: PageMirror) -> None:
    """Two backfill runs committed two batches: one freshness gauge and counters per run."""
    stat = re.compile(r"^airflow\.(labelbox\.mirror\.\w+),project_id=([^:]+):([\d.]+)\|(\w+)$")
    found: dict[str, list[float]] = {}
    for packet in page_mirror.packets:
        for line in packet.splitlines():
            if (m := stat.match(line)) and m[2] == page_mirror.project:
                found.setdefault(f"{m[1]}|{m[4]}", []).append(float(m[3]))
    backfills = [
        m for m in Ledger(page_mirror.root, page_mirror.project).manifests() if m.mode == "backfill"
    ]
    assert found["labelbox.mirror.batches|c"] == [1.0, 1.0] and len(backfills) == 2
    rows = sum(n for m in backfills for t, n in m.counts.items() if t != "rejects")
    assert sum(found["labelbox.mirror.rows|c"]) == rows
    rejects = sum(m.counts.get("rejects", 0) for m in backfills)
    assert sum(found["labelbox.mirror.rejects|c"]) == rejects
    assert len(found["labelbox.mirror.freshness_seconds|g"]) == 2
    assert all(v > 86_400 for v in found["labelbox.mirror.freshness_seconds|g"])
