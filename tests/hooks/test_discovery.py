"""The hook is discoverable by Airflow from the installed provider's metadata."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_providers_manager_lists_the_hook() -> None:
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    info = ProvidersManagerTaskRuntime().hooks.get("labelbox")
    assert info is not None
    assert info.hook_class_name == "labelbox_provider.hooks.labelbox.LabelboxHook"
    assert info.connection_id_attribute_name == "labelbox_conn_id"
    assert info.hook_name == "Labelbox"
    assert info.connection_testable  # test_connection() is offered in the UI


def test_hook_declares_its_connection_once() -> None:
    from labelbox_provider.hooks.labelbox import LabelboxHook

    assert (LabelboxHook.conn_name_attr, LabelboxHook.default_conn_name) == (
        "labelbox_conn_id",
        "labelbox_default",
    )
    assert (LabelboxHook.conn_type, LabelboxHook.hook_name) == ("labelbox", "Labelbox")
