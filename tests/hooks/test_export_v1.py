"""Export v1 request text matches what the spec recorded from SDK 3.78.1, byte for byte."""

from __future__ import annotations

import pytest
from labelbox_provider.exceptions import LabelboxConfigError
from labelbox_provider.hooks.export_v1 import parse_v1_answer, v1_query, validate_v1_filters

pytestmark = pytest.mark.unit

# spec 2.2: recorded body for export_labels(start="2021-01-01", end="2021-01-02 10:00:00",
# last_activity_start="2021-01-01")
RECORDED_V1 = (
    "mutation GetLabelExportUrlPyApi($projectId: ID!)\n            {exportLabels(data:{projectId: "
    '$projectId, filters: {labelCreatedAt: {start: "2021-01-01",end: "2021-01-02 10:00:00"},'
    'lastActivityAt: {start: "2021-01-01"} }}) {downloadUrl createdAt shouldPoll} }\n        '
)
RECORDED_V1_PLAIN = (
    "mutation GetLabelExportUrlPyApi($projectId: ID!)\n            {exportLabels(data:{projectId: "
    "$projectId}) {downloadUrl createdAt shouldPoll} }\n        "
)


def test_v1_query_with_filters_is_the_recorded_text() -> None:
    filters = validate_v1_filters("2021-01-01", "2021-01-02 10:00:00", "2021-01-01", None)
    assert v1_query(filters) == RECORDED_V1


def test_v1_query_without_filters() -> None:
    assert v1_query(validate_v1_filters()) == RECORDED_V1_PLAIN


def test_v1_end_only_and_iso() -> None:
    text = v1_query(validate_v1_filters(last_activity_end="2021-01-02T03:04:05+0100"))
    assert 'filters: {lastActivityAt: {end: "2021-01-02T02:04:05+0000"} }' in text


def test_v1_validation_happens_before_anything() -> None:
    with pytest.raises(LabelboxConfigError, match="last_activity_start"):
        validate_v1_filters(last_activity_start="2021-01-01T00:00")


def test_v1_answer_parsing_hides_the_url() -> None:
    url = "https://storage.googleapis.com/b/export.json?GoogleAccessId=x&Expires=1&Signature=SIG"
    status = parse_v1_answer(
        "p1", {"exportLabels": {"downloadUrl": url, "createdAt": "2024-01-01", "shouldPoll": False}}
    )
    assert status.ready
    assert status.download_url == url
    assert "SIG" not in repr(status)
    assert status.download_url_redacted == "https://storage.googleapis.com/b/export.json?<redacted>"
    polling = parse_v1_answer("p1", {"exportLabels": {"downloadUrl": None, "shouldPoll": True}})
    assert not polling.ready
    done_without_url = parse_v1_answer(
        "p1", {"exportLabels": {"downloadUrl": None, "shouldPoll": False}}
    )
    assert not done_without_url.ready
