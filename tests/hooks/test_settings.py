"""The connection -> settings rules: endpoint forms, typed and checked extras."""

from __future__ import annotations

import pytest
from labelbox_provider.exceptions import LabelboxConfigError
from labelbox_provider.hooks.settings import build_settings, resolve_endpoint

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("host", "port", "schema", "endpoint"),
    [
        (None, None, None, "https://api.labelbox.com/graphql"),
        ("", None, None, "https://api.labelbox.com/graphql"),
        ("https://api.labelbox.com", None, None, "https://api.labelbox.com/graphql"),
        ("https://api.labelbox.com/", None, None, "https://api.labelbox.com/graphql"),
        ("http://127.0.0.1:8080/graphql", None, None, "http://127.0.0.1:8080/graphql"),
        ("http://proxy.test/labelbox", None, None, "http://proxy.test/labelbox/graphql"),
        ("127.0.0.1", 8080, "graphql", "http://127.0.0.1:8080/graphql"),
        ("api.labelbox.com", None, None, "https://api.labelbox.com/graphql"),
    ],
)
def test_endpoint_forms(
    host: str | None, port: int | None, schema: str | None, endpoint: str
) -> None:
    assert resolve_endpoint(host, port, schema) == endpoint


def test_extras_are_typed_and_checked() -> None:
    settings = build_settings(
        host=None,
        api_key="k" * 10,
        extras={"timeout": "12.5", "frames_workers": "3", "verify_ssl": "false"},
        overrides={"timeout": 20},
    )
    assert (settings.timeout, settings.frames_workers, settings.verify_ssl) == (20.0, 3, False)
    assert "kkkkkkkkkk" not in repr(settings)
    for extras, match in (
        ({"timeout": "soon"}, "must be a float"),
        ({"frames_workers": 0}, "must be positive"),
        ({"verify_ssl": "maybe"}, "must be a bool"),
        ({"retries": 3}, "unknown Labelbox setting 'retries'"),
    ):
        with pytest.raises(LabelboxConfigError, match=match):
            build_settings(host=None, api_key="k" * 10, extras=extras, overrides={})
