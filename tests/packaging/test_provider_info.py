"""What Airflow reads through the ``apache_airflow_provider`` entry point is valid and current."""

from __future__ import annotations

import importlib
import json
from importlib.resources import files

import jsonschema
import pytest
from labelbox_provider import __version__, get_provider_info

from .conftest import DIST_NAME

pytestmark = pytest.mark.unit


def test_provider_info_fits_airflows_schema() -> None:
    schema = json.loads(files("airflow").joinpath("provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    assert info["package-name"] == DIST_NAME
    assert info["versions"][0] == __version__


def test_provider_info_names_importable_classes_and_modules() -> None:
    info = get_provider_info()
    for conn in info["connection-types"]:
        module, _, name = conn["hook-class-name"].rpartition(".")
        hook = getattr(importlib.import_module(module), name)
        assert hook.conn_type == conn["connection-type"] == "labelbox"
    for kind in ("hooks", "operators", "triggers"):
        for entry in info[kind]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
