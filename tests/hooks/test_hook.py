"""The hook over a fake wire: connection handling, v2 chunk resume, v1 resume, redaction."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests
from labelbox_provider import exceptions as ex
from labelbox_provider.hooks.labelbox import LabelboxHook

from .hook_fakes import KEY, SIG, FakeAPI, breaking, data, file_url, set_connection

pytestmark = pytest.mark.unit

RECORDS = [{"data_row": {"id": f"dr{i}"}, "projects": {}, "n": "é" * i} for i in range(7)]
PAYLOAD = b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in RECORDS)


def test_connection_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, "https://api.labelbox.com", KEY, timeout="7")
    hook = LabelboxHook(poll_interval=3)
    assert hook.settings.endpoint == "https://api.labelbox.com/graphql"
    assert hook.settings.timeout == 7.0 and hook.settings.poll_interval == 3.0
    assert KEY not in repr(hook) and KEY not in repr(hook.settings)
    monkeypatch.setenv("AIRFLOW_CONN_LABELBOX_DEFAULT", f"labelbox://:{KEY}@127.0.0.1:8123/graphql")
    assert LabelboxHook().settings.endpoint == "http://127.0.0.1:8123/graphql"
    monkeypatch.setenv(
        "AIRFLOW_CONN_LABELBOX_DEFAULT", json.dumps({"conn_type": "labelbox", "password": KEY})
    )
    assert LabelboxHook().settings.endpoint == "https://api.labelbox.com/graphql"


def test_connection_errors_are_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_LABELBOX_DEFAULT", json.dumps({"conn_type": "labelbox", "host": "x.test"})
    )
    with pytest.raises(ex.LabelboxConfigError, match="password field"):
        LabelboxHook().settings  # noqa: B018
    set_connection(monkeypatch, "https://x.test", KEY, tiemout=3)
    with pytest.raises(ex.LabelboxConfigError, match="unknown Labelbox setting 'tiemout'"):
        LabelboxHook().settings  # noqa: B018
    set_connection(monkeypatch, "ftp://x.test", KEY)
    with pytest.raises(ex.LabelboxConfigError, match="not an http"):
        LabelboxHook().settings  # noqa: B018


def test_nothing_is_fetched_in_init(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_LABELBOX_DEFAULT", raising=False)
    hook = LabelboxHook(labelbox_conn_id="does_not_exist")  # no connection lookup yet
    assert hook.labelbox_conn_id == "does_not_exist"


def test_ui_field_behaviour() -> None:
    ui = LabelboxHook.get_ui_field_behaviour()
    assert ui["relabeling"] == {"host": "API endpoint", "password": "API key"}
    assert "login" in ui["hidden_fields"]


def test_test_connection(fake_api: tuple[LabelboxHook, FakeAPI]) -> None:
    hook, api = fake_api
    api.on("GetUserPyApi", lambda v: data({"user": {"id": "u1", "email": "me@x.test"}}))
    assert hook.test_connection() == (
        True,
        "Connected to http://api.fake.test/graphql as me@x.test",
    )
    assert api.calls[0][0] == "graphql"
    body = {
        "errors": [{"message": "Invalid API key", "extensions": {"code": "AUTHENTICATION_ERROR"}}]
    }
    api.on("GetUserPyApi", lambda v: (200, {}, json.dumps(body).encode()))
    ok, message = hook.test_connection()
    assert not ok and "LabelboxAuthenticationError: Invalid API key" in message


def _serve_chunks(api: FakeAPI, chunk: int, faults: dict[int, list[object]]) -> None:
    api.on(
        "GetExportMetadataHeaderPyApi",
        lambda v: data(
            {
                "task": {
                    "exportMetadataHeader": {"totalSize": len(PAYLOAD), "totalLines": len(RECORDS)}
                }
            }
        ),
    )

    def chunk_answer(v: dict[str, object]) -> tuple[int, dict[str, str], bytes]:
        start = int(str(v["offset"]))
        end = min(start + chunk, len(PAYLOAD)) - 1
        url = file_url(f"/chunk/{start}")
        return data(
            {
                "task": {
                    "exportFileFromOffset": {
                        "offsets": {"start": start, "end": end},
                        "lines": {"start": 0, "end": 0},
                        "file": url,
                    }
                }
            }
        )

    api.on("GetExportFileFromOffsetPyApi", chunk_answer)
    for start in range(0, len(PAYLOAD), chunk):
        body = PAYLOAD[start : start + chunk]
        plan = faults.get(start, [])

        def handler(
            request: requests.PreparedRequest, body: bytes = body, plan: list[object] = plan
        ) -> object:
            assert "Authorization" not in request.headers  # signed URLs never get the key
            return plan.pop(0) if plan else (200, {}, body)

        api.on_file(f"/chunk/{start}", handler)  # type: ignore[arg-type]


def test_v2_download_resumes_at_the_failed_chunk(
    fake_api: tuple[LabelboxHook, FakeAPI], tmp_path: Path
) -> None:
    hook, api = fake_api
    chunk = 100
    short = (200, {}, PAYLOAD[chunk : chunk + 10])  # a short chunk: size check must catch it
    expired = (403, {}, b"<Error>ExpiredToken</Error>")
    reset = requests.ConnectionError(f"reset while reading {file_url('/chunk/200')}")
    _serve_chunks(api, chunk, {100: [short, expired], 200: [reset, (503, {}, b"busy")]})
    dest = tmp_path / "out.ndjson"
    result = hook.download_export_v2("task1", dest)
    assert result is not None
    assert dest.read_bytes() == PAYLOAD
    assert result.size == len(PAYLOAD) and result.lines == len(RECORDS)
    assert result.failed_fetches == 4
    offsets = [int(v["offset"]) for v in api.graphql_calls("GetExportFileFromOffsetPyApi")]
    # each failed chunk asked again at its own offset (fresh URL), nothing before it re-fetched
    assert offsets == [0, 100, 100, 100, 200, 200, 200, *range(300, len(PAYLOAD), chunk)]
    assert api.graphql_calls("GetExportFileFromOffsetPyApi")[0]["offset"] == "0"  # a string


def test_v2_resume_across_calls(fake_api: tuple[LabelboxHook, FakeAPI], tmp_path: Path) -> None:
    _, api = fake_api
    hook = LabelboxHook(max_retry_seconds=0.3)  # keyword tuning overrides the extras
    hook.transport.session.mount("http://", api)
    _serve_chunks(api, 100, {300: [(403, {}, b"expired")] * 10_000})
    dest = tmp_path / "out.ndjson"
    with pytest.raises(ex.LabelboxRetryBudgetExceeded):
        hook.download_export_v2("task1", dest, stream_type="RESULT")
    assert (tmp_path / "out.ndjson.offset").read_text().endswith(" 300")
    _serve_chunks(api, 100, {})
    api.calls.clear()
    result = hook.download_export_v2("task1", dest)
    assert result is not None and dest.read_bytes() == PAYLOAD
    offsets = [int(v["offset"]) for v in api.graphql_calls("GetExportFileFromOffsetPyApi")]
    assert offsets[0] == 300  # resumed, not started over
    assert not (tmp_path / "out.ndjson.offset").exists()
    # a mark left by another task is not trusted: that download starts at 0
    (tmp_path / "other.ndjson.part").write_bytes(b"x" * 300)
    (tmp_path / "other.ndjson.offset").write_text(f"task1/RESULT/{len(PAYLOAD)} 300")
    api.calls.clear()
    assert hook.download_export_v2("task2", tmp_path / "other.ndjson") is not None
    assert (tmp_path / "other.ndjson").read_bytes() == PAYLOAD
    assert api.graphql_calls("GetExportFileFromOffsetPyApi")[0]["offset"] == "0"


def test_iter_export_v2_and_missing_stream(fake_api: tuple[LabelboxHook, FakeAPI]) -> None:
    hook, api = fake_api
    _serve_chunks(api, 64, {})
    assert [r["data_row"]["id"] for r in hook.iter_export_v2("t")] == [f"dr{i}" for i in range(7)]
    api.on("GetExportMetadataHeaderPyApi", lambda v: data({"task": {"exportMetadataHeader": None}}))
    assert list(hook.iter_export_errors("t")) == []
    assert api.graphql_calls("GetExportMetadataHeaderPyApi")[-1]["streamType"] == "ERRORS"


V1_BODY = json.dumps([{"ID": f"l{i}", "Label": {}} for i in range(50)]).encode()


def _serve_v1(api: FakeAPI, plan: list[object], created: list[str]) -> None:
    def export(v: dict[str, object]) -> tuple[int, dict[str, str], bytes]:
        url = file_url("/v1/export.json")
        stamp = created.pop(0) if len(created) > 1 else created[0]
        return data({"exportLabels": {"downloadUrl": url, "createdAt": stamp, "shouldPoll": False}})

    def get(request: requests.PreparedRequest) -> object:
        if plan:
            return plan.pop(0)
        rng = request.headers.get("Range")
        if rng:
            start = int(rng.split("=")[1].rstrip("-"))
            headers = {"Content-Range": f"bytes {start}-{len(V1_BODY) - 1}/{len(V1_BODY)}"}
            return 206, headers, V1_BODY[start:]
        return 200, {}, V1_BODY

    api.on("GetLabelExportUrlPyApi", export)
    api.on_file("/v1/export.json", get)  # type: ignore[arg-type]


def test_v1_download_resumes_with_range(
    fake_api: tuple[LabelboxHook, FakeAPI], tmp_path: Path
) -> None:
    hook, api = fake_api
    _serve_v1(api, [(200, {}, breaking(V1_BODY[:300]))], ["2024-01-01T00:00:00Z"])
    result = hook.download_export_v1("p1", tmp_path / "v1.json", start="2024-01-01")
    assert (tmp_path / "v1.json").read_bytes() == V1_BODY
    ranges = [h.get("Range") for h in api.gets("/v1/export.json")]
    assert ranges == [None, "bytes=300-"]
    assert result.failed_fetches == 1 and result.export_id == "2024-01-01T00:00:00Z"
    assert len(api.graphql_calls("GetLabelExportUrlPyApi")) == 2  # a fresh URL was asked for


def test_v1_new_export_file_restarts(
    fake_api: tuple[LabelboxHook, FakeAPI], tmp_path: Path
) -> None:
    hook, api = fake_api
    _serve_v1(api, [(200, {}, breaking(V1_BODY[:300]))], ["first", "second"])
    hook.download_export_v1("p1", tmp_path / "v1.json")
    assert (tmp_path / "v1.json").read_bytes() == V1_BODY
    assert [h.get("Range") for h in api.gets("/v1/export.json")] == [None, None]


def test_v1_truncated_file_is_refetched(
    fake_api: tuple[LabelboxHook, FakeAPI], tmp_path: Path
) -> None:
    hook, api = fake_api
    _serve_v1(api, [(200, {}, V1_BODY[:-40])], ["one"])  # complete transfer of a cut file
    records = list(hook.label_generator("p1"))
    assert [r["ID"] for r in records] == [f"l{i}" for i in range(50)]


def test_v1_poll_deadline_is_an_error(
    fake_api: tuple[LabelboxHook, FakeAPI], tmp_path: Path
) -> None:
    hook, api = fake_api
    api.on(
        "GetLabelExportUrlPyApi",
        lambda v: data(
            {"exportLabels": {"downloadUrl": None, "createdAt": None, "shouldPoll": True}}
        ),
    )
    with pytest.raises(ex.LabelboxExportTimeoutError, match=r"not ready after 0\.05s"):
        hook.download_export_v1("p1", tmp_path / "x.json", timeout=0.05, poll_interval=0.01)
    assert len(api.graphql_calls("GetLabelExportUrlPyApi")) >= 2


def test_bad_dates_fail_before_any_request(
    fake_api: tuple[LabelboxHook, FakeAPI], tmp_path: Path
) -> None:
    hook, api = fake_api
    with pytest.raises(ex.LabelboxConfigError, match="start/end"):
        hook.request_export_v1("p1", start="2024-02-30")
    with pytest.raises(ex.LabelboxConfigError, match="last_activity"):
        hook.create_export_v2("p1", last_activity=("yesterday", None))
    assert api.calls == []


def test_secrets_never_leak(
    fake_api: tuple[LabelboxHook, FakeAPI], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, api = fake_api
    hook = LabelboxHook(max_retry_seconds=0.3)
    hook.transport.session.mount("http://", api)
    caplog.set_level(logging.DEBUG)
    leak = requests.ConnectionError(
        f"HTTPConnectionPool: Max retries exceeded with url: {file_url('/chunk/0')} Bearer {KEY}"
    )
    _serve_chunks(api, 100, {0: [leak] * 10_000})
    with pytest.raises(ex.LabelboxRetryBudgetExceeded) as info:
        hook.download_export_v2("t", tmp_path / "o.ndjson")
    texts = [str(info.value), repr(info.value), str(info.value.__cause__), caplog.text, repr(hook)]
    for text in texts:
        assert SIG not in text and KEY not in text
    assert "?<redacted>" in str(info.value)


def test_label_generator_names_a_malformed_record(fake_api: tuple[LabelboxHook, FakeAPI]) -> None:
    hook, api = fake_api
    body = b'[{"ID": "l0", "Label": {}}, {"ID": "l1", "Label": {nope}}]'
    api.on(
        "GetLabelExportUrlPyApi",
        lambda v: data(
            {"exportLabels": {"downloadUrl": file_url("/v1/bad.json"), "shouldPoll": False}}
        ),
    )
    api.on_file("/v1/bad.json", lambda request: (200, {}, body))
    records = hook.label_generator("p1")
    assert next(records)["ID"] == "l0"
    with pytest.raises(ex.LabelboxError, match="v1 record 1 is not JSON"):
        next(records)
