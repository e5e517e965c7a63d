"""A real S3 API for tests: a moto server on loopback, started and stopped by the test.

``moto_s3()`` starts ``moto_server`` (the ``moto[server]`` dev dependency) on a free port of
``PORTS``; the fixture ``s3_mirror`` gives a fresh bucket and the s3fs options that reach it
(``S3Mirror.root`` is an ``s3://`` URL for ``MirrorPipeline``, ``storage_options`` its fsspec
options). Nothing leaves the machine.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PORTS = range(5210, 5299)  # this suite's range for its S3 servers
KEY, SECRET, REGION = "testing", "testing", "us-east-1"  # moto accepts any credentials


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


@contextmanager
def moto_s3() -> Iterator[str]:
    """A moto S3 server on loopback; yields its endpoint URL."""
    port = _free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
        return {
            "key": KEY,
            "secret": SECRET,
            "client_kwargs": {"endpoint_url": self.endpoint, "region_name": REGION},
        }

    def client(self) -> Any:
        """A boto3 client of the server (to inspect or prepare the bucket)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            region_name=REGION,
        )


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """One moto server per test module."""
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture
def s3_mirror(s3_endpoint: str) -> S3Mirror:
    """A fresh, empty bucket per test."""
    mirror = S3Mirror(s3_endpoint, f"mirror-{uuid.uuid4().hex[:12]}")
    mirror.client().create_bucket(Bucket=mirror.bucket)
    return mirror
