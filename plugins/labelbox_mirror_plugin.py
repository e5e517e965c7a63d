"""Airflow UI plugin: the state of the Labelbox mirror, per project (ledger, watermark, gaps).

The api-server mounts a small FastAPI app under ``/labelbox-mirror`` and the UI gets a nav
entry to it. It reads only the mirror's own files under ``LABELBOX_MIRROR_ROOT`` (a folder or
any fsspec URL), so it shows ids, windows, counts and times, never keys or signed URLs.

* ``GET /labelbox-mirror/`` -- an HTML table, one row per project;
* ``GET /labelbox-mirror/api/projects`` -- the same as JSON;
* ``GET /labelbox-mirror/api/projects/{project_id}`` -- every committed batch of a project.
"""

from __future__ import annotations

import html
import os
from typing import Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse

ROOT_ENV = "LABELBOX_MIRROR_ROOT"  # where the mirror lives (same variable as the example DAGs)
DEFAULT_ROOT = "/tmp/labelbox-mirror"  # the example DAGs' default
URL_PREFIX = "/labelbox-mirror"  # where the api-server mounts the app


def _root() -> str:
    return os.environ.get(ROOT_ENV, DEFAULT_ROOT)


def project_summary(root: str, project_id: str) -> dict[str, Any]:
    """Watermark, coverage gaps and batch counts of one project (JSON-ready)."""
    from labelbox_provider.io import fs as fsu
    from labelbox_provider.state.ledger import WATERMARK_FILE, Ledger
    from labelbox_provider.state.windows import isoformat, parse_iso

    ledger = Ledger(root, project_id)
    manifests = ledger.manifests()
    mark = fsu.read_json(ledger.fs, ledger.path(WATERMARK_FILE)) or {}
    covered = ledger.covered()
    gaps = []
    if mark.get("initial_start") and covered:
        gaps = [w.to_dict() for w in ledger.gaps(parse_iso(mark["initial_start"]), covered[-1].end)]
    latest = max(manifests, key=lambda m: m.extracted_at, default=None)
    return {
        "project_id": project_id,
        "watermark": mark.get("watermark"),
        "initial_start": mark.get("initial_start"),
        "batches": len(manifests),
        "rows": sum(sum(m.counts.values()) for m in manifests),
        "gaps": gaps,
        "pending_exports": len(ledger.pending_exports()),
        "last_extracted_at": isoformat(latest.extracted_at) if latest else None,
    }


def project_batches(root: str, project_id: str) -> list[dict[str, Any]]:
    """Every committed batch of a project: id, mode, format, window, extraction time, counts."""
    from labelbox_provider.state.ledger import Ledger
    from labelbox_provider.state.windows import isoformat

    return [
        {
            "batch_id": m.batch_id,
            "mode": m.mode,
            "source_format": m.source_format,
            "window": m.window.to_dict(),
            "extracted_at": isoformat(m.extracted_at),
            "counts": dict(sorted(m.counts.items())),
        }
        for m in Ledger(root, project_id).manifests()
    ]


def _html(rows: list[dict[str, Any]], root: str) -> str:
    head = ("project", "watermark", "batches", "rows", "gaps", "pending exports", "last batch")
    cells = [
        (
            r["project_id"],
            r["watermark"],
            r["batches"],
            r["rows"],
            len(r["gaps"]),
            r["pending_exports"],
            r["last_extracted_at"],
        )
        for r in rows
    ]
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(str(c if c is not None else '-'))}</td>" for c in row)
        + "</tr>"
        for row in cells
    )
    header = "".join(f"<th>{h}</th>" for h in head)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Labelbox mirror</title></head>"
        f"<body><h1>Labelbox mirror</h1><p>root: <code>{html.escape(root)}</code></p>"
        f"<table border='1' cellpadding='4'><tr>{header}</tr>{body}</table></body></html>"
    )


def build_app() -> FastAPI:
    """The FastAPI app (the root is read from the environment at each request)."""
    from labelbox_provider.state.ledger import list_projects

    app = FastAPI(title="Labelbox mirror", description=__doc__)

    @app.get("/api/projects")
    def projects() -> list[dict[str, Any]]:
        root = _root()
        return [project_summary(root, p) for p in list_projects(root)]

    @app.get("/api/projects/{project_id}")
    def project(project_id: str) -> dict[str, Any]:
        root = _root()
        if project_id not in list_projects(root):
            raise HTTPException(status_code=404, detail=f"no mirrored project {project_id!r}")
        return {**project_summary(root, project_id), "ledger": project_batches(root, project_id)}

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        root = _root()
        return _html([project_summary(root, p) for p in list_projects(root)], root)

    return app


class LabelboxMirrorPlugin(AirflowPlugin):
    """Mounts the mirror status app on the api-server and links it from the UI's nav bar."""

    name = "labelbox_mirror"
    fastapi_apps = [{"app": build_app(), "url_prefix": URL_PREFIX, "name": "Labelbox mirror"}]
    external_views = [
        {"name": "Labelbox mirror", "href": f"{URL_PREFIX}/", "destination": "nav"},
    ]
