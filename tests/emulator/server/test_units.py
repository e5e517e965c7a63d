"""Pure pieces of the emulator server: GraphQL reader, filters, faults, ranges, URL signing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from labelbox_provider.emulator.faults import FaultPlan, FaultRule
from labelbox_provider.emulator.server.graphql_parser import GraphQLSyntaxError, parse, project
from labelbox_provider.emulator.server.responses import parse_range
from labelbox_provider.emulator.server.signing import UrlSigner, redact_url

pytestmark = pytest.mark.unit

# The exact text SDK 3.78.1 sends for export_labels(start=..., end=..., last_activity_start=...)
V1_QUERY = (
    "mutation GetLabelExportUrlPyApi($projectId: ID!)\n            {exportLabels(data:{projectId:"
    ' $projectId, filters: {labelCreatedAt: {start: "2021-01-01",end: "2021-01-02 10:00:00"},'
    'lastActivityAt: {start: "2021-01-01"} }}) {downloadUrl createdAt shouldPoll} }\n        '
)


def test_parses_the_sdk_v1_query_with_spliced_filters() -> None:
    op = parse(V1_QUERY, {"projectId": "proj1"})
    assert (op.kind, op.name) == ("mutation", "GetLabelExportUrlPyApi")
    (field,) = op.fields
    assert field.name == "exportLabels"
    assert field.args == {
        "data": {
            "projectId": "proj1",
            "filters": {
                "labelCreatedAt": {"start": "2021-01-01", "end": "2021-01-02 10:00:00"},
                "lastActivityAt": {"start": "2021-01-01"},
            },
        }
    }
    assert [c.name for c in field.children] == ["downloadUrl", "createdAt", "shouldPoll"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("{a: {}}", {}, id="empty-object"),
        pytest.param('{a: {start: "2021-01-01"}}', {"start": "2021-01-01"}, id="start-only"),
        pytest.param('{a: {end: "x\\"y\\u00e9"}}', {"end": 'x"yé'}, id="escapes"),
    ],
)
def test_argument_values(text: str, expected: object) -> None:
    op = parse(f"mutation M {{f(data: {text}) {{x}} }}")
    assert op.fields[0].args["data"]["a"] == expected


def test_arguments_without_commas_lists_and_scalars() -> None:
    op = parse('query Q{t(where: {id: "a"} skip: 0 first: 1.5 flag: true e: ENUM l: [1 2]){x}}')
    assert op.fields[0].args == {
        "where": {"id": "a"},
        "skip": 0,
        "first": 1.5,
        "flag": True,
        "e": "ENUM",
        "l": [1, 2],
    }


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("query Q { a ", id="unclosed"),
        pytest.param("query Q { ...F }", id="fragment"),
        pytest.param("hello { a }", id="bad-keyword"),
        pytest.param("query Q { a } query R { b }", id="two-operations"),
        pytest.param("query Q { a(x: ) }", id="missing-value"),
    ],
)
def test_syntax_errors(text: str) -> None:
    with pytest.raises(GraphQLSyntaxError):
        parse(text)


def test_projection_keeps_selected_fields_and_fills_nulls() -> None:
    op = parse("query Q { user { id createdTasks { id status } } }")
    value = {"id": "u", "secret": 1, "createdTasks": [{"id": "t", "status": "DONE", "x": 2}]}
    assert project(value, op.fields[0].children) == {
        "id": "u",
        "createdTasks": [{"id": "t", "status": "DONE"}],
    }
    assert project({}, op.fields[0].children) == {"id": None, "createdTasks": None}


def test_fault_count_and_after_fire_exactly_on_the_chosen_requests() -> None:
    plan = FaultPlan(seed=3, rules=[{"kind": "http_5xx", "target": "Op", "count": 2, "after": 1}])
    fired = [plan.decide(["graphql", "Op"]) is not None for _ in range(5)]
    assert fired == [False, True, True, False, False]
    assert plan.decide(["graphql", "Other"]) is None
    assert plan.counts() == {"http_5xx": 2}
    plan.reset_counts()
    assert plan.counts() == {}


def test_fault_probability_is_deterministic_per_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        plan = FaultPlan(seed=seed, rules=[FaultRule(kind="reset", probability=0.3)])
        return [plan.decide(["download"]) is not None for _ in range(200)]

    first = pattern(7)
    assert first == pattern(7)
    assert first != pattern(8)
    assert 30 <= sum(first) <= 90


def test_fault_kinds_filter_and_validation() -> None:
    plan = FaultPlan(rules=[{"kind": "stuck", "target": "export:v2"}])
    assert plan.decide(["export", "export:v2"], kinds=["http_429"]) is None
    rule = plan.decide(["export", "export:v2"], kinds=["stuck"])
    assert rule is not None and rule.kind == "stuck"
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultRule(kind="explode")
    with pytest.raises(ValueError, match="probability"):
        FaultRule(kind="reset", probability=2.0)


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        pytest.param(None, 10, None, id="none"),
        pytest.param("bytes=0-4", 10, (0, 4), id="span"),
        pytest.param("bytes=6-", 10, (6, 9), id="open-end"),
        pytest.param("bytes=-3", 10, (7, 9), id="suffix"),
        pytest.param("bytes=8-100", 10, (8, 9), id="clipped"),
        pytest.param("bytes=10-", 10, "bad", id="past-end"),
        pytest.param("bytes=5-2", 10, "bad", id="reversed"),
        pytest.param("items=0-1", 10, "bad", id="unit"),
        pytest.param("bytes=0-1,3-4", 10, "bad", id="multi"),
    ],
)
def test_parse_range(header: str | None, size: int, expected: object) -> None:
    assert parse_range(header, size) == expected


def test_signed_urls_check_path_extras_and_expiry() -> None:
    signer = UrlSigner(ttl_seconds=60, secret=b"k")
    url = signer.sign("/exports/v2/t/result.ndjson", {"start": "0", "end": "9"})
    path, _, query = url.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    assert signer.check(path, params) == "ok"
    assert signer.check(path, {**params, "end": "99"}) == "bad"
    assert signer.check("/other", params) == "bad"
    assert UrlSigner(secret=b"other").check(path, params) == "bad"
    old = signer.sign("/p", ttl=-5)
    assert signer.check("/p", dict(p.split("=", 1) for p in old.split("?")[1].split("&"))) == (
        "expired"
    )
    assert "Signature" not in redact_url("http://h" + url)


def test_filters_v1_date_forms() -> None:
    from labelbox_provider.emulator.server.filters import v1_filter

    flt = v1_filter(
        {
            "labelCreatedAt": {"start": "2021-01-01", "end": "2021-01-02 10:00:00"},
            "lastActivityAt": {"end": "2021-03-04T05:06:07+0200"},
        }
    )
    assert flt.label_created == (
        datetime(2021, 1, 1, tzinfo=UTC),
        datetime(2021, 1, 2, 10, tzinfo=UTC),
    )
    assert flt.last_activity == (None, datetime(2021, 3, 4, 3, 6, 7, tzinfo=UTC))
    assert v1_filter({"labelCreatedAt": {}}).label_created == (None, None)
    assert v1_filter(None).label_created is None


def test_filters_v2_timezone_ids_and_workflow() -> None:
    from labelbox_provider.emulator.server.filters import FilterError, v2_filter, v2_params

    tz = "America/New_York"
    flt = v2_filter(
        {
            "query": [
                {
                    "type": "data_row_last_activity_at",
                    "value": {
                        "operator": "BETWEEN",
                        "timezone": tz,
                        "value": {"min": "2026-01-01 00:00:00", "max": "2026-01-02"},
                    },
                },
                {
                    "type": "labeled_at",
                    "value": {
                        "operator": "LESS_THAN_OR_EQUAL",
                        "timezone": "UTC",
                        "value": "2026-01-05",
                    },
                },
                {"ids": ["b1"], "operator": "is", "type": "batch"},
                {"type": "task_queue_not_exist"},
            ]
        }
    )
    start, end = flt.last_activity
    assert start == datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert end is not None and end.isoformat().startswith("2026-01-03T04:59:59.999999")
    assert flt.label_created[0] is None
    assert flt.batch_ids == frozenset({"b1"})
    assert flt.workflow_status == "ToLabel"
    both = [{"ids": ["a"], "type": "data_row_id"}, {"ids": ["k"], "type": "global_key"}]
    with pytest.raises(FilterError, match="cannot both"):
        v2_filter({"query": both})
    with pytest.raises(FilterError, match="at most 2000"):
        v2_filter({"query": [{"ids": [str(i) for i in range(2001)], "type": "data_row_id"}]})
    with pytest.raises(FilterError, match="timezone"):
        v2_filter(
            {
                "query": [
                    {
                        "type": "labeled_at",
                        "value": {
                            "operator": "GREATER_THAN_OR_EQUAL",
                            "timezone": "Mars/Base",
                            "value": "2026-01-01",
                        },
                    }
                ]
            }
        )
    params = v2_params({"includeLabelDetails": True, "mediaTypeOverride": "IMAGE"})
    assert params.include_label_details is True
    assert params.include_attachments is False
