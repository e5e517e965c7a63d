"""Export v2 request variables match what the spec recorded from SDK 3.78.1; answer parsing."""

from __future__ import annotations

import pytest
from labelbox_provider.exceptions import LabelboxConfigError, LabelboxServerError
from labelbox_provider.hooks import export_v2

pytestmark = pytest.mark.unit


def test_v2_variables_match_the_recorded_shape() -> None:
    # spec 4.2 (the hook always sends timezone UTC and streamable=true)
    search = export_v2.build_search_query(
        last_activity=("2000-01-01 00:00:00", "2050-01-01 00:00:00"),
        label_created=("2000-01-01", None),
        workflow_status="Done",
    )
    params = export_v2.build_params(
        {
            "label_details": True,
            "project_details": True,
            "performance_details": True,
            "data_row_details": True,
            "metadata_fields": True,
            "attachments": True,
        }
    )
    assert export_v2.create_variables("proj1", "tn", search, params) == {
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
    search = export_v2.build_search_query(
        last_activity=(None, "2024-01-01"), global_keys=["k1", "k2"]
    )
    assert search == [
        {
            "type": "data_row_last_activity_at",
            "value": {"operator": "LESS_THAN_OR_EQUAL", "timezone": "UTC", "value": "2024-01-01"},
        },
        {"ids": ["k1", "k2"], "operator": "is", "type": "global_key"},
    ]
    assert export_v2.build_search_query(data_row_ids=["d"]) == [
        {"ids": ["d"], "operator": "is", "type": "data_row_id"}
    ]
    assert export_v2.build_search_query(workflow_status="ToLabel") == [
        {"type": "task_queue_not_exist"}
    ]


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
        export_v2.build_search_query(**kwargs)  # type: ignore[arg-type]


def test_v2_unknown_param_is_an_error() -> None:
    with pytest.raises(LabelboxConfigError, match="include_labels"):
        export_v2.build_params({"include_labels": True})
    assert export_v2.build_params({"media_type_override": "IMAGE"})["mediaTypeOverride"] == "IMAGE"


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
    chunk = export_v2.parse_chunk(data, 10)
    assert chunk.size == 10
    assert "SECRET" not in repr(chunk)
    with pytest.raises(LabelboxServerError, match="asked at offset 0"):
        export_v2.parse_chunk(data, 0)


def test_header_and_task_parsing() -> None:
    assert export_v2.parse_header({"task": {"exportMetadataHeader": None}}) is None
    header = export_v2.parse_header(
        {"task": {"exportMetadataHeader": {"totalSize": "5", "totalLines": 1}}}
    )
    assert header == export_v2.StreamHeader(5, 1)
    task = export_v2.parse_task(
        "t1",
        {
            "user": {
                "createdTasks": [{"status": "FAILED", "completionPercentage": 40, "errors": "bad"}]
            }
        },
    )
    assert task.done and task.status == "FAILED" and task.completion == 40.0
    assert "bad" in task.message
