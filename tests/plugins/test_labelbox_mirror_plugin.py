"""The page's app over small committed mirrors (local and fsspec memory://), auth set aside.

Who may see the page is proven against a real api-server (test_mirror_page_server.py); here
the reader dependency is replaced by a fixed user so the content can be checked in detail.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import labelbox_mirror_plugin as plugin
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from labelbox_provider.cli.backfill import gap_commands
from labelbox_provider.io.batch import commit_batch
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import Window, batch_id_for, isoformat
from labelbox_provider.transforms.tables import SCHEMAS
from labelbox_provider.ui import status
from labelbox_provider.ui.app import build_app, require_reader

pytestmark = pytest.mark.unit

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SIGNED = "https://storage.example/f.json?X-Goog-Signature=s3cr3tsig"  # in a reject reason


def iso(hour: int) -> str:
    """How the ledger writes ``T0 + hour``."""
    return isoformat(T0 + timedelta(hours=hour))


def _commit(root: str, project: str, hours: tuple[int, int], rows: int, rejects: int = 0) -> None:
    window = Window(T0 + timedelta(hours=hours[0]), T0 + timedelta(hours=hours[1]))
    batch_id = batch_id_for(project, window, "v2")
    staging = Path(tempfile.mkdtemp(prefix="lbx-ui-stage-"))
    (staging / "labels").mkdir(parents=True)
    lineage = {"batch_id": batch_id, "extracted_at": window.end, "window_start": window.start}
    lineage |= {"window_end": window.end, "source_format": "v2"}
    labels = [
        {"project_id": project, "label_id": f"l{i}", "data_row_id": "d", **lineage}
        for i in range(rows)
    ]
    pq.write_table(
        pa.Table.from_pylist(labels, schema=SCHEMAS["labels"]), staging / "labels/a.parquet"
    )
    counts = {"labels": rows}
    if rejects:
        (staging / "rejects").mkdir()
        bad = [
            {
                "project_id": project,
                "position": i,
                "error": f"bad geometry at {SIGNED}",
                "raw": "{}",
                **lineage,
            }
            for i in range(rejects)
        ]
        pq.write_table(
            pa.Table.from_pylist(bad, schema=SCHEMAS["rejects"]), staging / "rejects/a.parquet"
        )
        counts["rejects"] = rejects
    commit_batch(
        Ledger(root, project),
        staging_dir=staging,
        batch_id=batch_id,
        window=window,
        source_format="v2",
        export_id="exp-1",
        extracted_at=window.end,
        counts=counts,
        initial_start=T0,
        mode="incremental",
    )


class _User:
    def get_name(self) -> str:
        return "tester"


def _client(monkeypatch: pytest.MonkeyPatch, root: str, **env: str) -> TestClient:
    monkeypatch.setenv(status.ROOT_ENV, root)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = build_app()
    app.dependency_overrides[require_reader] = _User
    return TestClient(app)


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    root = str(tmp_path / "mirror")
    _commit(root, "p1", (0, 1), 2)
    _commit(root, "p1", (2, 3), 3, rejects=2)  # hour 1-2 is missing: a gap
    _commit(root, "p2", (0, 1), 1)
    Ledger(root, "p1").record_export_started(
        Window(T0 + timedelta(hours=3), T0 + timedelta(hours=4)), "v2", "exp-9"
    )
    return _client(monkeypatch, root)


def test_projects_json_shows_watermark_gaps_commands_and_pending(client: TestClient) -> None:
    body = client.get("/api/projects").json()
    found = {p["project_id"]: p for p in body["projects"]}
    assert set(found) == {"p1", "p2"} and body["user"] == "tester"
    p1 = found["p1"]
    assert (p1["batches"], p1["rows"], p1["rejects"]) == (2, 5, 2)
    assert p1["watermark"] == iso(1) and p1["stale"] is True  # 2024 is long past 24 hours
    (gap,) = p1["gaps"]
    window = Window(T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert (gap["start"], gap["end"]) == (iso(1), iso(2))
    assert [gap["command"]] == gap_commands([window], "labelbox_backfill", {"project_ids": ["p1"]})
    assert [e["export_id"] for e in p1["pending_exports"]] == ["exp-9"]
    assert found["p2"]["gaps"] == [] and found["p2"]["pending_exports"] == []


def test_freshness_threshold_is_configurable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = str(tmp_path / "m")
    _commit(root, "p1", (0, 1), 1)
    age = (datetime.now(UTC) - (T0 + timedelta(hours=1))).total_seconds() / 3600
    fresh = _client(monkeypatch, root, LABELBOX_MIRROR_STALE_AFTER_HOURS=str(age + 48))
    (p,) = fresh.get("/api/projects").json()["projects"]
    assert p["stale"] is False and p["freshness_seconds"] == pytest.approx(age * 3600, abs=60)
    assert "badge ok' data-testid='freshness'" in fresh.get("/").text


def test_batches_newest_first_paginated_with_redacted_reasons(client: TestClient) -> None:
    detail = client.get("/api/projects/p1", params={"limit": 1}).json()
    (newest,) = detail["last_batches"]
    assert newest["window"] == {"start": iso(2), "end": iso(3)} and newest["rows"] == 3
    assert newest["reject_reasons"] == [
        {"reason": "bad geometry at https://storage.example/f.json?<redacted>", "count": 2}
    ]
    older = client.get("/api/projects/p1", params={"offset": 1, "limit": 1}).json()
    assert [b["window"]["start"] for b in older["last_batches"]] == [iso(0)]
    assert [p["rows"] for p in detail["chart"]] == [2, 3]  # oldest first
    assert client.get("/api/projects/nope").status_code == 404
    assert client.get("/api/projects/p1", params={"limit": 10_000}).status_code == 422


def test_html_shows_each_project_and_hides_secrets(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert text.count("data-testid='project'") == 2 and "data-testid='gap-command'" in text
    assert "s3cr3tsig" not in text and "X-Goog-Signature" not in text
    assert text.count('<rect class="bar"') == 3
    one = client.get("/projects/p1").text
    assert one.count("data-testid='project'") == 1 and "batches 1&ndash;2 of 2" in one


def test_object_storage_root_with_options_and_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """An fsspec URL and storage options are used, never shown; user info never either."""
    root = f"memory://lbx-ui-{uuid.uuid4().hex}/mirror"
    _commit(root, "p1", (0, 1), 4, rejects=1)
    options = json.dumps({"skip_instance_cache": True, "note": "opt-s3cr3t"})
    with_creds = "s3://user:pa55word@bucket/mirror?token=abc"
    assert status.display_location(with_creds) == "s3://bucket/mirror"
    client = _client(monkeypatch, root, LABELBOX_MIRROR_STORAGE_OPTIONS=options)
    body = client.get("/api/projects").json()
    assert body["root"] == root and body["projects"][0]["rows"] == 4
    detail = client.get("/api/projects/p1").json()
    assert detail["last_batches"][0]["reject_reasons"][0]["count"] == 1
    for text in (json.dumps(body), json.dumps(detail), client.get("/").text):
        assert "opt-s3cr3t" not in text and "sha256" not in text


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="LABELBOX_MIRROR_STORAGE_OPTIONS must be a JSON object"):
        status.PageSettings.from_env({status.OPTIONS_ENV: "[1]"})


def test_plugin_registers_app_and_nav_entry() -> None:
    (app,) = plugin.LabelboxMirrorPlugin.fastapi_apps
    assert app["url_prefix"] == "/labelbox-mirror"
    routes = {getattr(r, "path", "") for r in app["app"].routes}
    assert {"/", "/projects/{project_id}", "/api/projects", "/api/projects/{project_id}"} <= routes
    (view,) = plugin.LabelboxMirrorPlugin.external_views
    expected: dict[str, Any] = {"href": "/labelbox-mirror/", "destination": "nav"}
    expected |= {"url_route": "labelbox-mirror", "nav_top_level": True}
    assert {k: view[k] for k in expected} == expected


def test_every_data_route_requires_the_reader() -> None:
    """Every route but the nav icon depends on the reader check."""
    from fastapi.routing import APIRoute

    routes = [r for r in build_app().routes if isinstance(r, APIRoute)]
    guarded = {
        r.path for r in routes if require_reader in [d.call for d in r.dependant.dependencies]
    }
    assert {r.path for r in routes} - guarded == {"/icon.svg"}
