"""Airflow Assets of the mirror: one Asset per Labelbox project, and the events' ``extra``.

A downstream DAG schedules on ``mirror_asset(project_id)``; each committed batch emits one
event whose ``extra`` names exactly the new batch (window, batch id, per-table row counts,
manifest location), so the consumer loads that batch and nothing else::

    @dag(schedule=[mirror_asset("cl1234")])
    def load():
        @task
        def load_new(triggering_asset_events=None):
            for event in triggering_asset_events[mirror_asset("cl1234")]:
                load_batch(event.extra["manifest"])

The URI uses the ``x-`` scheme prefix, which Airflow 3 accepts as-is (no provider-registered
normalizer needed). Operators mapped over many projects emit through :data:`MIRROR_ALIAS`, so
the concrete Asset can be decided at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import Asset, AssetAlias

    from labelbox_provider.pipeline.types import BatchResult

ASSET_SCHEME = "x-labelbox-mirror"  # URI scheme of mirror assets ("x-": no normalizer needed)
MIRROR_ALIAS = "labelbox_mirror"  # name of the AssetAlias operators emit through
EVENT_KEYS = (
    "project_id",  # the mirrored project
    "batch_id",  # the committed batch
    "mode",  # incremental | backfill | reconcile
    "source_format",  # v1 | v2
    "window",  # {"start", "end"}: half-open, ISO 8601 UTC
    "counts",  # rows per table in this batch
    "manifest",  # where the batch manifest lives (lists every file of the batch)
    "extracted_at",  # the batch's "latest wins" time
    "export_id",  # server-side export id
)


def asset_name(project_id: str) -> str:
    """Name of the project's mirror Asset."""
    return f"labelbox_mirror_{project_id}"


def asset_uri(project_id: str) -> str:
    """URI of the project's mirror Asset."""
    return f"{ASSET_SCHEME}://{project_id}"


def mirror_asset(project_id: str) -> Asset:
    """The Asset that gets one event per committed batch of ``project_id``."""
    from airflow.sdk import Asset

    return Asset(name=asset_name(project_id), uri=asset_uri(project_id), group="labelbox")


def mirror_alias() -> AssetAlias:
    """The alias through which operators emit events on project Assets."""
    from airflow.sdk import AssetAlias

    return AssetAlias(MIRROR_ALIAS, group="labelbox")


def event_extra(project_id: str, batch: BatchResult) -> dict[str, Any]:
    """The ``extra`` of one Asset event: ids, window, counts, manifest (no secrets)."""
    data = batch.to_dict()
    extra = {"project_id": project_id, **data}
    return {key: extra[key] for key in EVENT_KEYS}
