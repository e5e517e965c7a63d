"""Redaction of secrets in text and in log records."""

from __future__ import annotations

import logging

import pytest
from labelbox_provider.hooks.redact import RedactingFilter, redact, redact_url, register_secret

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "GET https://storage.googleapis.com/b/e.json?GoogleAccessId=a&Expires=1&Signature=x",
            "GET https://storage.googleapis.com/b/e.json?<redacted>",
            id="gcs-url",
        ),
        pytest.param(
            'http://127.0.0.1:80 "GET /exports/v1/x.json?Expires=1&Signature=abc HTTP/1.1" 200',
            'http://127.0.0.1:80 "GET /exports/v1/x.json?<redacted> HTTP/1.1" 200',
            id="urllib3-request-line",
        ),
        pytest.param("Authorization: Bearer abc.def-ghi", "Authorization: Bearer ***", id="bearer"),
        pytest.param("mask?token=eyJhbGci.x.y", "mask?<redacted>", id="jwt-token"),
        pytest.param("Signature=abc&x=1 in prose", "Signature=***&x=1 in prose", id="bare-param"),
        pytest.param("what? nothing here", "what? nothing here", id="plain-question"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_registered_key_is_masked_everywhere() -> None:
    register_secret("my-very-secret-key-42")
    assert redact("key=my-very-secret-key-42 and my-very-secret-key-42") == "key=*** and ***"
    register_secret("abc")  # too short to replace safely: ignored
    assert redact("abc") == "abc"


def test_redact_url_drops_userinfo_and_query() -> None:
    assert redact_url("https://u:p@h.test:8443/a/b?x=1#f") == "https://h.test:8443/a/b?<redacted>"
    assert redact_url("https://h.test/a") == "https://h.test/a"
    assert redact_url(None) == ""


def test_logging_filter_rewrites_records() -> None:
    record = logging.LogRecord(
        "urllib3", logging.DEBUG, "f", 1, "GET %s", ("/p?Signature=s",), None
    )
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "GET /p?<redacted>"
