"""The mapping of one GraphQL answer to data or a typed error (the retry table is in test_retry)."""

from __future__ import annotations

import pytest
from labelbox_provider import exceptions as ex
from labelbox_provider.hooks.errors import parse_graphql_response

from .test_retry import _gql_error

pytestmark = pytest.mark.unit


def test_server_message_is_carried() -> None:
    body = _gql_error("INTERNAL_SERVER_ERROR", 426, "LBU limit exceeded, upgrade to continue")
    with pytest.raises(ex.LabelboxPlanLimitError, match="LBU limit exceeded, upgrade to continue"):
        parse_graphql_response(200, "OK", {}, body)


def test_data_is_returned() -> None:
    assert parse_graphql_response(200, "OK", {}, b'{"data": {"a": 1}}') == {"a": 1}
