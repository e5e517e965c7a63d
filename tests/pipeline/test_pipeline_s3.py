"""The whole pipeline on ``s3://`` against a real S3 API (a moto server on loopback): pull,
commit, ledger, compaction, current tables, warehouse load and the UI's ledger reading; and two
writers committing the same batch at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from labelbox_provider.cli.ledger import ledger_status
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.io.compact import compact
from labelbox_provider.io.current import current_tables
from labelbox_provider.io.warehouse.duckdb import DuckDBWarehouse
from labelbox_provider.pipeline.run import MirrorPipeline
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.transforms.tables import SCHEMAS
from labelbox_provider.ui.status import PageSettings, project_view, read_ledger

from tests.io.warehouse.warehouse_world import canonical
from tests.s3_server import S3Mirror

pytestmark = pytest.mark.integration


def _pipeline(make_pipeline: Callable[..., MirrorPipeline], s3: S3Mirror) -> MirrorPipeline:
    """The pipeline fixture's pipeline (same defaults), its mirror in the bucket."""
    return make_pipeline(root=s3.root, storage_options=s3.storage_options)


def _view(s3: S3Mirror, project: str, **kw: Any) -> dict[str, list[str]]:
    tables = current_tables(s3.root, project, storage_options=s3.storage_options, **kw)
    return {t: canonical(tables[t].to_pylist(), list(SCHEMAS[t].names)) for t in SCHEMAS}


def _held(db: Path) -> dict[str, list[str]]:
    with duckdb.connect(str(db)) as con:
        return {
            t: canonical(
                con.sql(f'SELECT * FROM main."{t}"').to_arrow_table().to_pylist(), list(s.names)
            )
            for t, s in SCHEMAS.items()
        }


@pytest.mark.timeout(900)  # DuckDB reads every file through s3fs: slow on a loaded machine
def test_the_whole_pipeline_on_s3(
    emu: EmulatorServer,
    make_pipeline: Callable[..., MirrorPipeline],
    s3_mirror: S3Mirror,
    tmp_path: Path,
) -> None:
    pipe = _pipeline(make_pipeline, s3_mirror)
    project = pipe.config.project_id
    first = pipe.catch_up(emu.world.now())
    assert first.batches and pipe.ledger.watermark() is not None
    ledger = Ledger(s3_mirror.root, project, s3_mirror.storage_options)
    assert ledger.fs.exists(ledger.path("_state/checkpoint.json"))
    assert not ledger.fs.exists(ledger.path("_staging"))  # no rename-based staging on S3
    # warehouse: load what is pending, equal to the current view
    wh = DuckDBWarehouse(tmp_path / "wh.duckdb")
    opts = s3_mirror.storage_options
    for ref in wh.pending(s3_mirror.root, project, opts):
        wh.load(ref, storage_options=opts)
    # compaction: the view over base + later batches equals the raw one; loads keep working
    result = compact(ledger)
    assert result.folded_batches == len(ledger.batches()) > 0
    emu.add_event(
        "label_deleted", project_id=project, target=emu.ground_truth(project)[0]["label_id"]
    )
    emu.advance(3 * 3600)
    later = pipe.catch_up(emu.world.now())
    assert later.batches
    for ref in wh.pending(s3_mirror.root, project, opts):
        wh.load(ref, storage_options=opts)
    assert wh.pending(s3_mirror.root, project, opts) == []
    compacted = _view(s3_mirror, project)  # base + the batches since
    assert compacted == _view(s3_mirror, project, compacted=False)
    assert _held(tmp_path / "wh.duckdb") == compacted
    # the ledger CLI's reader and the UI page read the same checkpoint
    status = ledger_status(ledger)
    assert status.watermark == ledger.watermark() and len(status.batches) == len(ledger.batches())
    settings = PageSettings(root=s3_mirror.root, storage_options=opts)
    _, page_status = read_ledger(settings, project)
    assert page_status.watermark == status.watermark
    view = project_view(settings, project, emu.world.now())
    assert view["batches"] == len(status.batches) and "testing" not in repr(view)


def test_two_writers_of_one_batch_on_s3_end_consistent(
    emu: EmulatorServer, make_pipeline: Callable[..., MirrorPipeline], s3_mirror: S3Mirror
) -> None:
    pipes = [_pipeline(make_pipeline, s3_mirror) for _ in range(2)]
    window = pipes[0].plan(emu.world.now())[0]
    errors: list[BaseException] = []
    results: list[Any] = []

    def run(pipe: MirrorPipeline) -> None:
        try:
            results.append(pipe.run_window(window))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in pipes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and len(results) == 2
    ledger = pipes[0].ledger
    (entry,) = ledger.batches()
    manifest = ledger.manifest(entry.batch_id)
    assert manifest is not None and manifest.attempt == entry.attempt
    for f in manifest.files:  # every listed file whole
        assert ledger.fs.info(ledger.path(f.path))["size"] == f.size
    listed = {ledger.path(p) for p in entry.paths()}
    stray = [p for p in ledger.fs.find(ledger.project_path) if "/batch=" in p and p not in listed]
    assert stray == []  # the losing attempt removed its files
    assert ledger.watermark() == window.end
