"""The connection form is declared in the provider info (what Airflow >= 3.2 reads, without
importing the hook) and agrees with ``LabelboxHook.get_ui_field_behaviour`` (older Airflow)."""

from __future__ import annotations

import json
from pathlib import Path

import airflow
import jsonschema
import pytest
from labelbox_provider import get_provider_info

pytestmark = pytest.mark.unit

SCHEMA = Path(airflow.__file__).parent / "provider.yaml.schema.json"


def _connection_type() -> dict:
    (conn,) = get_provider_info()["connection-types"]
    return conn


def test_connection_type_validates_against_airflows_provider_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    item = schema["properties"]["connection-types"]["items"]
    jsonschema.validate(_connection_type(), {**item, "definitions": schema.get("definitions", {})})


def test_form_metadata_is_declared() -> None:
    conn = _connection_type()
    assert conn["hook-name"] == "Labelbox"
    behaviour = conn["ui-field-behaviour"]
    assert behaviour["relabeling"] == {"host": "API endpoint", "password": "API key"}
    assert set(behaviour["hidden-fields"]) == {"schema", "port", "login"}
    assert conn["conn-fields"]["timeout"]["schema"]["default"] == 60


def test_hook_keeps_the_same_behaviour_for_older_airflow() -> None:
    from labelbox_provider.hooks.labelbox import LabelboxHook

    old = LabelboxHook.get_ui_field_behaviour()  # the keys Airflow < 3.2 expects
    assert set(old) == {"hidden_fields", "relabeling", "placeholders"}
    assert old["relabeling"] == _connection_type()["ui-field-behaviour"]["relabeling"]
    assert old["hidden_fields"] == ["schema", "port", "login"]


def test_extra_fields_are_settings_the_hook_reads() -> None:
    from labelbox_provider.hooks.settings import TUNABLE

    assert set(_connection_type()["conn-fields"]) <= set(TUNABLE)
