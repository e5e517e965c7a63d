"""Request texts and variables match what the spec recorded from SDK 3.78.1, byte for byte."""

from __future__ import annotations

import pytest
from labelbox_provider.exceptions import LabelboxConfigError, LabelboxServerError
from labelbox_provider.hooks import _v2
from labelbox_provider.hooks._v1 import parse_v1_answer, v1_query, validate_v1_filters

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


def test_v2_variables_match_the_recorded_shape() -> None:
    # spec 4.2 (the hook always sends timezone UTC and streamable=true)
    search = _v2.build_search_query(
        last_activity=("2000-01-01 00:00:00", "2050-01-01 00:00:00"),
        label_created=("2000-01-01", None),
        workflow_status="Done",
    )
    params = _v2.build_params(
        {
            "label_details": True,
            "project_details": True,
            "performance_details": True,
            "data_row_details": True,
            "metadata_fields": True,
            "attachments": True,
        }
    )
    assert _v2.create_variables("proj1", "tn", search, params) == {
        "input": {
            "taskName": "tn",
            "isStreamableReady": True,
            "filters": {
                "projectId": "proj1",
                "searchQuery": {
                    "scope": None,
                    "query": [
                        {
                            "type": "data_row_last_activity_at",
                            "value": {
                                "operator": "BETWEEN",
                                "timezone": "UTC",
                                "value": {
                                    "min": "2000-01-01 00:00:00",
                                    "max": "2050-01-01 00:00:00",
                                },
                            },
                        },
                        {
                            "type": "labeled_at",
                            "value": {
                                "operator": "GREATER_THAN_OR_EQUAL",
                                "timezone": "UTC",
                                "value": "2000-01-01",
                            },
                        },
                        {"type": "task_queue_status", "status": "Done"},
                    ],
                },
            },
            "params": {
                "mediaTypeOverride": None,
                "includeAttachments": True,
                "includeEmbeddings": False,
                "includeMetadata": True,
                "includeDataRowDetails": True,
                "includeProjectDetails": True,
                "includePerformanceDetails": True,
                "includeLabelDetails": True,
                "includeInterpolatedFrames": False,
            },
            "streamable": True,
        }
    }


def test_v2_end_only_and_id_filters() -> None:
    search = _v2.build_search_query(last_activity=(None, "2024-01-01"), global_keys=["k1", "k2"])
    assert search == [
        {
            "type": "data_row_last_activity_at",
            "value": {"operator": "LESS_THAN_OR_EQUAL", "timezone": "UTC", "value": "2024-01-01"},
        },
        {"ids": ["k1", "k2"], "operator": "is", "type": "global_key"},
    ]
    assert _v2.build_search_query(data_row_ids=["d"]) == [
        {"ids": ["d"], "operator": "is", "type": "data_row_id"}
    ]
    assert _v2.build_search_query(workflow_status="ToLabel") == [{"type": "task_queue_not_exist"}]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"data_row_ids": ["a"], "global_keys": ["b"]}, "not both"),
        ({"data_row_ids": []}, "non-empty"),
        ({"data_row_ids": "abc"}, "non-empty list"),
        ({"global_keys": [str(i) for i in range(2001)]}, "2000 at most"),
        ({"workflow_status": "DONE"}, "one of ToLabel"),
        ({"last_activity": ("2024-01-02", "2024-01-01")}, "after end"),
        ({"label_created": ("2024-01-02T00:00:00", None)}, "needs an offset"),
    ],
)
def test_v2_filter_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(LabelboxConfigError, match=match):
        _v2.build_search_query(**kwargs)  # type: ignore[arg-type]


def test_v2_unknown_param_is_an_error() -> None:
    with pytest.raises(LabelboxConfigError, match="include_labels"):
        _v2.build_params({"include_labels": True})
    assert _v2.build_params({"media_type_override": "IMAGE"})["mediaTypeOverride"] == "IMAGE"


def test_chunk_parsing_checks_offsets() -> None:
    data = {
        "task": {
            "exportFileFromOffset": {
                "offsets": {"start": 10, "end": 19},
                "lines": {"start": 1, "end": 2},
                "file": "http://h/f?sig=SECRET",
            }
        }
    }
    chunk = _v2.parse_chunk(data, 10)
    assert chunk.size == 10
    assert "SECRET" not in repr(chunk)
    with pytest.raises(LabelboxServerError, match="asked at offset 0"):
        _v2.parse_chunk(data, 0)


def test_header_and_task_parsing() -> None:
    assert _v2.parse_header({"task": {"exportMetadataHeader": None}}) is None
    header = _v2.parse_header(
        {"task": {"exportMetadataHeader": {"totalSize": "5", "totalLines": 1}}}
    )
    assert header == _v2.StreamHeader(5, 1)
    task = _v2.parse_task(
        "t1",
        {
            "user": {
                "createdTasks": [{"status": "FAILED", "completionPercentage": 40, "errors": "bad"}]
            }
        },
    )
    assert task.done and task.status == "FAILED" and task.completion == 40.0
    assert "bad" in task.message
