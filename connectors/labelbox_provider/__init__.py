"""Airflow provider: an incremental Parquet mirror of Labelbox label exports."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def get_provider_info() -> dict[str, Any]:
    """Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""
    return {
        "package-name": "airflow-provider-labelbox-export",
        "name": "Labelbox Export",
        "description": "Incremental, warehouse-ready Parquet mirror of Labelbox label exports.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "labelbox",
                "hook-class-name": "labelbox_provider.hooks.labelbox.LabelboxHook",
            }
        ],
        "hooks": [
            {
                "integration-name": "Labelbox",
                "python-modules": ["labelbox_provider.hooks.labelbox"],
            }
        ],
        "operators": [
            {
                "integration-name": "Labelbox",
                "python-modules": ["labelbox_provider.operators.labelbox"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Labelbox",
                "python-modules": ["labelbox_provider.triggers.labelbox"],
            }
        ],
        "integrations": [
            {
                "integration-name": "Labelbox",
                "external-doc-url": "https://docs.labelbox.com/reference/label-export",
                "tags": ["software"],
            }
        ],
    }
