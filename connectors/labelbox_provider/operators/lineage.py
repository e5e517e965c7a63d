"""OpenLineage facets of the mirror operators, built only when the provider is installed."""

from __future__ import annotations

from typing import Any

from labelbox_provider.transforms.tables import TABLES

NAMESPACE = "labelbox"  # OpenLineage namespace of Labelbox projects (the input side)


def output_namespace(destination: str) -> tuple[str, str]:
    """``(namespace, base path)`` of a destination, e.g. ``("s3://bucket", "mirror")``."""
    if "://" in destination:
        scheme, rest = destination.split("://", 1)
        bucket, _, path = rest.partition("/")
        return f"{scheme}://{bucket}", path.strip("/")
    return "file", destination.rstrip("/")


def lineage_of(project_id: str, destination: str) -> Any:
    """``OperatorLineage`` (project in, one dataset per table out), or None without OpenLineage."""
    try:
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage
    except ImportError:
        return None
    namespace, base = output_namespace(destination)
    outputs = [
        Dataset(namespace=namespace, name=f"{base}/project={project_id}/{table}")
        for table in TABLES
    ]
    return OperatorLineage(
        inputs=[Dataset(namespace=NAMESPACE, name=f"projects/{project_id}")], outputs=outputs
    )
