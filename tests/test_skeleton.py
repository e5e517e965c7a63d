from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit


def test_provider_info_names_the_hook() -> None:
    from labelbox_provider import get_provider_info

    info = get_provider_info()
    assert info["connection-types"][0]["connection-type"] == "labelbox"
    assert info["connection-types"][0]["hook-class-name"].endswith("LabelboxHook")
