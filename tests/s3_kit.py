"""A real S3 API for the tests: one moto server on loopback per test session, a bucket per test.

``s3_mirror`` gives a test an empty ``s3://`` root and the fsspec storage options that reach it
(s3fs against the moto server). Ports come from 5100-5199 (the first free one).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

PORTS = range(5100, 5200)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 5100-5199 for the moto server")


@dataclass(frozen=True)
class S3Mirror:
    """An empty bucket on the moto server: ``root`` and the ``storage_options`` to reach it."""

    endpoint: str
    bucket: str

    @property
    def root(self) -> str:
        return f"s3://{self.bucket}/mirror"

    @property
    def storage_options(self) -> dict[str, Any]:
        return storage_options(self.endpoint)


def storage_options(endpoint: str) -> dict[str, Any]:
    """s3fs options for the moto server at ``endpoint`` (dummy credentials; no cached fs)."""
    return {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        "skip_instance_cache": True,
    }


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a moto S3 server running for the whole session."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_mirror(s3_endpoint: str) -> S3Mirror:
    """A fresh bucket for one test."""
    import boto3

    bucket = f"mirror-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)
    return S3Mirror(s3_endpoint, bucket)
