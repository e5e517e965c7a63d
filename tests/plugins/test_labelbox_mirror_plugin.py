"""The mirror status plugin: JSON and HTML views over a small committed mirror."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import labelbox_mirror_plugin as plugin
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from labelbox_provider.io.batch import commit_batch
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import Window, batch_id_for, isoformat
from labelbox_provider.transforms.tables import SCHEMAS

pytestmark = pytest.mark.unit

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def iso(hour: int) -> str:
    """How the ledger writes ``T0 + hour``."""
    return isoformat(T0 + timedelta(hours=hour))


def _commit(root: Path, project: str, hours: tuple[int, int], rows: int) -> str:
    window = Window(T0 + timedelta(hours=hours[0]), T0 + timedelta(hours=hours[1]))
    batch_id = batch_id_for(project, window, "v2")
    staging = root.parent / f"stage-{project}-{hours[0]}"
    (staging / "labels").mkdir(parents=True)
    lineage = {
        "batch_id": batch_id,
        "extracted_at": window.end,
        "window_start": window.start,
        "window_end": window.end,
        "source_format": "v2",
    }
    labels = [
        {"project_id": project, "label_id": f"l{i}", "data_row_id": "d", **lineage}
        for i in range(rows)
    ]
    pq.write_table(
        pa.Table.from_pylist(labels, schema=SCHEMAS["labels"]), staging / "labels/a.parquet"
    )
    commit_batch(
        Ledger(str(root), project),
        staging_dir=staging,
        batch_id=batch_id,
        window=window,
        source_format="v2",
        export_id="exp-1",
        extracted_at=window.end,
        counts={"labels": rows},
        initial_start=T0,
        mode="incremental",
    )
    return batch_id


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    root = tmp_path / "mirror"
    _commit(root, "p1", (0, 1), 2)
    _commit(root, "p1", (2, 3), 3)  # hour 1-2 is missing: a gap
    _commit(root, "p2", (0, 1), 1)
    monkeypatch.setenv(plugin.ROOT_ENV, str(root))
    return TestClient(plugin.build_app())


def test_projects_json_shows_watermark_and_gaps(client: TestClient) -> None:
    found = {p["project_id"]: p for p in client.get("/api/projects").json()}
    assert set(found) == {"p1", "p2"}
    p1 = found["p1"]
    assert (p1["batches"], p1["rows"], p1["pending_exports"]) == (2, 5, 0)
    assert p1["watermark"] == iso(1)  # stops at the gap
    assert p1["gaps"] == [{"start": iso(1), "end": iso(2)}]
    assert found["p2"]["gaps"] == [] and found["p2"]["rows"] == 1


def test_project_ledger_and_unknown_project(client: TestClient) -> None:
    detail = client.get("/api/projects/p1").json()
    assert [b["counts"] for b in detail["ledger"]] == [{"labels": 2}, {"labels": 3}]
    assert detail["ledger"][0]["window"] == {"start": iso(0), "end": iso(1)}
    missing = client.get("/api/projects/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def test_html_table_lists_projects(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count("<tr>") == 3  # header + two projects
    assert "<td>p1</td>" in page.text and f"<td>{iso(1)}</td>" in page.text


def test_plugin_registers_app_and_nav_link() -> None:
    (app,) = plugin.LabelboxMirrorPlugin.fastapi_apps
    assert app["url_prefix"] == "/labelbox-mirror"
    routes = {getattr(r, "path", "") for r in app["app"].routes}
    assert {"/", "/api/projects", "/api/projects/{project_id}"} <= routes
    (view,) = plugin.LabelboxMirrorPlugin.external_views
    assert view["href"] == "/labelbox-mirror/" and view["destination"] == "nav"
