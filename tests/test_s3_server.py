"""The tests' S3 launcher (``tests/s3_server.py``): a port someone else took between the probe and
the bind is not taken for the server, and the request count of its log is exact."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import s3_server

pytestmark = pytest.mark.integration


def test_a_port_taken_after_the_probe_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()  # answers connections: a readiness check by connecting would be fooled
    taken = squatter.getsockname()[1]
    probes: Iterator[int] = iter([taken, s3_server.free_port()])
    monkeypatch.setattr(s3_server, "free_port", lambda: next(probes))
    log = tmp_path / "moto.log"
    try:
        with s3_server.moto_s3(log) as endpoint:
            assert endpoint != f"http://127.0.0.1:{taken}"
            client = s3_server.s3_client(endpoint)
            client.create_bucket(Bucket="bucket-1")
            assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["bucket-1"]
            port = int(endpoint.rsplit(":", 1)[1])
    finally:
        squatter.close()
    assert next(probes, None) is None  # both ports were tried: the first server left
    text = log.read_text()
    assert s3_server.READY.format(port=port) in text
    assert s3_server.READY.format(port=taken) not in text


def test_request_count_counts_every_answered_request(tmp_path: Path) -> None:
    log = tmp_path / "moto.log"
    with s3_server.moto_s3(log) as endpoint:
        client = s3_server.s3_client(endpoint)
        before = s3_server.request_count(log)
        client.create_bucket(Bucket="bucket-1")
        for i in range(3):
            client.put_object(Bucket="bucket-1", Key=f"k{i}", Body=b"x")
        assert s3_server.request_count(log) - before == 4  # read right after the last answer


def _overlap(environs: list[dict[str, str]]) -> int:
    """How many of ``environs``' requests the middleware let run at once (a slow fake app)."""
    import contextlib
    import threading

    from tests.moto_atomic import AtomicConditionalWrites

    state = {"now": 0, "most": 0}
    guard = threading.Lock()
    # every request waits (up to 1 s) for the others to be inside too: served concurrently they
    # all are, however late a thread starts; served one at a time the wait runs out
    together = threading.Barrier(len(environs), timeout=1)

    def app(environ: dict[str, str], start_response: object) -> list[bytes]:
        with guard:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait()
        with guard:
            state["now"] -= 1
        return [b"ok"]

    wrapped = AtomicConditionalWrites(app)
    answers: list[object] = []
    threads = [
        threading.Thread(target=lambda e=e: answers.append(wrapped(e, None))) for e in environs
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [[b"ok"]] * len(environs)
    return state["most"]


def test_conditional_writes_are_served_one_at_a_time_and_the_rest_concurrently() -> None:
    put_if = {"REQUEST_METHOD": "PUT", "HTTP_IF_MATCH": '"etag"'}
    create = {"REQUEST_METHOD": "PUT", "HTTP_IF_NONE_MATCH": "*"}
    assert _overlap([put_if, create, put_if]) == 1
    get = {"REQUEST_METHOD": "GET", "HTTP_IF_MATCH": '"etag"'}
    assert _overlap([get, {"REQUEST_METHOD": "PUT"}, get]) == 3
