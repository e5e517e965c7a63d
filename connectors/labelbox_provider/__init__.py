"""Airflow provider: an incremental Parquet mirror of Labelbox label exports."""

from __future__ import annotations

import os
import sys
from typing import Any

# Arrow's default pool on jemalloc, as the Parquet sink's own pool (io.parquet.POOL): a few
# Arrow calls take no pool argument, and the first allocation on the default mimalloc pool
# keeps 35-45 MB resident for the life of the process. Read by Arrow when pyarrow loads.
if "pyarrow" not in sys.modules:
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")

__version__ = "0.1.0"

# The connection form. Airflow >= 3.2 builds it from these two provider-info entries without
# importing the hook; older versions call ``LabelboxHook.get_ui_field_behaviour`` (same content).
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port", "login"],
    "relabeling": {"host": "API endpoint", "password": "API key"},
    "placeholders": {
        "host": "https://api.labelbox.com (or the emulator's http://127.0.0.1:PORT/graphql)",
        "password": "Labelbox API key",
        "extra": '{"timeout": 60, "max_retry_seconds": 300, "poll_interval": 2}',
    },
}


def _number_field(label: str, description: str, default: float) -> dict[str, Any]:
    schema = {"type": ["number", "null"], "default": default, "exclusiveMinimum": 0}
    return {"label": label, "description": description, "schema": schema}


# Extra fields of the form (stored in the connection's extra under these names).
CONN_FIELDS: dict[str, Any] = {
    "timeout": _number_field("Request timeout (s)", "Read timeout of one HTTP request.", 60),
    "max_retry_seconds": _number_field(
        "Retry budget (s)", "Total time one API operation may spend retrying.", 300
    ),
    "poll_interval": _number_field("Poll interval (s)", "Seconds between export status polls.", 2),
}


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
                "hook-name": "Labelbox",
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
                "conn-fields": CONN_FIELDS,
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
