"""How long the mirror's page and API take over a project with thousands of batches.

Reproduce: .venv/bin/python benchmarks/ui_page.py [--batches 2000] [--projects 1] [--repeat 3]
Writes a synthetic ledger (one manifest per hourly batch, one gap, every 50th batch with a
rejects file) into a temporary folder, then times, through the app (auth dependency replaced
by a fixed user), the HTML overview, one project's JSON with 50 batches, and the projects
summary JSON; it prints the best of ``--repeat`` runs and the size of each answer.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def _build(root: str, project: str, batches: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from labelbox_provider.io import fs as fsu
    from labelbox_provider.state.ledger import WATERMARK_FILE, Ledger, Manifest, ManifestFile
    from labelbox_provider.state.windows import Window, batch_id_for, isoformat
    from labelbox_provider.transforms.tables import SCHEMAS

    ledger = Ledger(root, project)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    last = t0
    for i in range(batches + 1):
        if i == batches // 2:
            continue  # one missing hour: a gap
        window = Window(t0 + timedelta(hours=i), t0 + timedelta(hours=i + 1))
        bid = batch_id_for(project, window, "v2")
        files: tuple[ManifestFile, ...] = ()
        counts = {"labels": 40 + i % 7, "objects": 120 + i % 11, "data_rows": 40}
        if i % 50 == 0:
            rel = f"rejects/batch={bid}/part-1-0.parquet"
            rows = [
                {
                    "project_id": project,
                    "position": k,
                    "error": f"reason {k % 3}",
                    "raw": "{}",
                    "batch_id": bid,
                    "extracted_at": window.end,
                    "window_start": window.start,
                    "window_end": window.end,
                    "source_format": "v2",
                }
                for k in range(3)
            ]
            path = ledger.path(rel)
            ledger.fs.makedirs(os.path.dirname(path), exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMAS["rejects"]), path)
            files = (ManifestFile("rejects", rel, 3, 1, "0" * 64),)
            counts["rejects"] = 3
        manifest = Manifest(
            bid, project, window, "v2", "incremental", "exp", window.end, 1, counts, files
        )  # written as a pre-checkpoint mirror: the first read migrates it (not timed: best-of)
        fsu.write_json_atomic(ledger.fs, ledger.manifest_path(bid), manifest.to_dict())
        last = window.end if i < batches // 2 else last
    mark = {"watermark": isoformat(last), "initial_start": isoformat(t0), "advanced_by": "b"}
    fsu.write_json_atomic(ledger.fs, ledger.path(WATERMARK_FILE), mark)


def _best(client: object, url: str, repeat: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
        size = len(response.content)
    return min(times), size


def main() -> None:
    """Build the ledger, time the three requests, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--projects", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="lbx-bench-"))
    from fastapi.testclient import TestClient
    from labelbox_provider.ui.app import build_app, require_reader

    class User:
        def get_name(self) -> str:
            return "bench"

    with tempfile.TemporaryDirectory() as tmp:
        root = str(Path(tmp) / "mirror")
        started = time.perf_counter()
        for n in range(args.projects):
            _build(root, f"proj{n}", args.batches)
        print(
            f"ledger: {args.projects} project(s) x {args.batches} batches written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        os.environ["LABELBOX_MIRROR_ROOT"] = root
        app = build_app()
        app.dependency_overrides[require_reader] = User
        client = TestClient(app)
        for label, url in (
            ("HTML overview (20 batches listed per project)", "/"),
            ("JSON one project, 50 batches", "/api/projects/proj0?limit=50"),
            ("JSON projects summary", "/api/projects"),
        ):
            seconds, size = _best(client, url, args.repeat)
            print(f"{label:48} {seconds * 1000:8.0f} ms  {size / 1024:7.1f} KiB")
    print(
        f"reproduce: .venv/bin/python benchmarks/ui_page.py --batches {args.batches} "
        f"--projects {args.projects} --repeat {args.repeat}"
    )


if __name__ == "__main__":
    main()
