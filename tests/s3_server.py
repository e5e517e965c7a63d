"""A real S3 API for tests and benchmarks: a ``moto_server`` process on loopback.

The one S3 launcher of the project. ``moto_s3()`` starts moto's server (the ``moto[server]``
dev dependency, through ``tests/moto_atomic.py``, which makes its conditional writes atomic as
they are on S3) on a free port of ``PORTS`` and yields its endpoint URL; its log (werkzeug's,
one line per request served) goes to a file, so a benchmark can count the requests it made
(``request_count``). Registered as a pytest plugin in ``tests/conftest.py``: the session-wide
fixture ``s3_endpoint`` runs one server for the whole test session and ``s3_mirror`` gives each
test a fresh bucket and the s3fs options that reach it (``S3Mirror.root`` is an ``s3://`` URL
for ``MirrorPipeline``, ``storage_options`` its fsspec options). Nothing leaves the machine.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PORTS = range(5210, 5299)  # this project's range for its S3 servers
KEY, SECRET, REGION = "testing", "testing", "us-east-1"  # moto accepts any credentials
READY = " * Running on http://127.0.0.1:{port}"  # werkzeug logs it once the port is bound


def free_port(ports: range = PORTS) -> int:
    """The first port of ``ports`` nothing on loopback is bound to."""
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports}")


@contextmanager
def moto_s3(log: Path | None = None) -> Iterator[str]:
    """A moto S3 server on loopback; yields its endpoint URL.

    The server's log goes to ``log`` (a temporary file when not given). It is ready once it
    logs that it runs on its port: the log is its own, so another process that took the port
    between the free-port probe and the bind is not mistaken for it (the next port is tried).
    """
    launcher = Path(__file__).with_name("moto_atomic.py")  # moto, conditional writes atomic
    with ExitStack() as stack:
        if log is None:
            log = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "moto.log"
        for _attempt in range(3):
            port = free_port()
            with log.open("ab") as out:
                start = log.stat().st_size
                proc = subprocess.Popen(
                    [sys.executable, str(launcher), "-H", "127.0.0.1", "-p", str(port)],
                    stdout=subprocess.DEVNULL,
                    stderr=out,
                )
            try:
                if _wait_ready(proc, log, start, port):
                    yield f"http://127.0.0.1:{port}"
                    return
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        raise RuntimeError(f"moto_server did not start; its log: {log.read_text()[-2000:]}")


def _wait_ready(proc: subprocess.Popen[bytes], log: Path, start: int, port: int) -> bool:
    """Whether the server logged (after byte ``start`` of its log) that it runs on ``port``;
    False when it exited first (the port was taken). Raises after 30 s without either."""
    ready = READY.format(port=port).encode()
    deadline = time.monotonic() + 30
    while True:
        with log.open("rb") as f:
            f.seek(start)
            if ready in f.read():
                return True
        if proc.poll() is not None:
            return False
        if time.monotonic() > deadline:
            raise RuntimeError(f"moto_server on port {port} not ready after 30 s")
        time.sleep(0.05)


def request_count(log: Path) -> int:
    """Requests the server has served so far, from its log (werkzeug writes a request's line
    before its response, so every request answered is counted)."""
    with log.open("rb") as f:
        return sum(1 for line in f if b'"' in line)


def storage_options(endpoint: str) -> dict[str, Any]:
    """s3fs options for the moto server at ``endpoint`` (dummy credentials; no cached fs)."""
    return {
        "key": KEY,
        "secret": SECRET,
        "client_kwargs": {"endpoint_url": endpoint, "region_name": REGION},
        "skip_instance_cache": True,
    }


def s3_client(endpoint: str) -> Any:
    """A boto3 client of the moto server at ``endpoint`` (to inspect or prepare buckets)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        region_name=REGION,
    )


@dataclass(frozen=True)
class S3Mirror:
    """A bucket on the moto server and the options that reach it."""

    endpoint: str
    bucket: str

    @property
    def root(self) -> str:
        """The mirror's destination URL."""
        return f"s3://{self.bucket}/mirror"

    @property
    def storage_options(self) -> dict[str, Any]:
        """s3fs options of the destination (what a user passes as ``storage_options``)."""
        return storage_options(self.endpoint)

    def client(self) -> Any:
        """A boto3 client of the server (to inspect or prepare the bucket)."""
        return s3_client(self.endpoint)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """One moto server for the whole test session (each test gets its own bucket)."""
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture
def s3_mirror(s3_endpoint: str) -> S3Mirror:
    """A fresh, empty bucket per test."""
    mirror = S3Mirror(s3_endpoint, f"mirror-{uuid.uuid4().hex[:12]}")
    mirror.client().create_bucket(Bucket=mirror.bucket)
    return mirror
