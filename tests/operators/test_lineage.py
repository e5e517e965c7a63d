"""OpenLineage facets of the operator (the provider is in the dev extra)."""

from __future__ import annotations

import pytest
from labelbox_provider.operators.labelbox import LabelboxIncrementalExportOperator
from labelbox_provider.operators.lineage import output_namespace
from labelbox_provider.transforms.tables import TABLES

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        pytest.param("s3://bucket/mirror/", ("s3://bucket", "mirror"), id="object-store"),
        pytest.param("gs://bucket", ("gs://bucket", ""), id="bucket-root"),
        pytest.param("/data/mirror/", ("file", "/data/mirror"), id="local"),
    ],
)
def test_output_namespace(destination: str, expected: tuple[str, str]) -> None:
    assert output_namespace(destination) == expected


def test_facets_name_the_project_and_one_dataset_per_table() -> None:
    op = LabelboxIncrementalExportOperator(
        task_id="mirror", project_id="proj1", destination="memory://bucket/mirror"
    )
    lineage = op.get_openlineage_facets_on_complete(task_instance=None)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [("labelbox", "projects/proj1")]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [
        ("memory://bucket", f"mirror/project=proj1/{table}") for table in TABLES
    ]
