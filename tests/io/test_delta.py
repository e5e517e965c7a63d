"""Delta current tables, the parts that need no mirror: options, the extra's check."""

from __future__ import annotations

import sys

import pytest
from labelbox_provider.exceptions import LabelboxConfigError
from labelbox_provider.io.delta import delta_storage_options, require_deltalake
from labelbox_provider.pipeline.config import PipelineConfig

pytestmark = pytest.mark.unit


def test_s3fs_options_become_deltalake_options() -> None:
    options = {
        "key": "AKIA",
        "secret": "s3cr3t",
        "client_kwargs": {"endpoint_url": "http://127.0.0.1:9000", "region_name": "eu-west-1"},
    }
    assert delta_storage_options("s3://bucket/mirror", options) == {
        "AWS_ACCESS_KEY_ID": "AKIA",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_REGION": "eu-west-1",
        "AWS_ALLOW_HTTP": "true",  # a plain-http endpoint (MinIO, moto) must be allowed
    }
    https = {"endpoint_url": "https://s3.example.com", "token": "t"}
    assert delta_storage_options("s3://b/m", https) == {
        "AWS_ENDPOINT_URL": "https://s3.example.com",
        "AWS_SESSION_TOKEN": "t",
    }
    assert delta_storage_options("/data/mirror", options) == {}  # local: nothing to pass


def test_missing_extra_is_a_clear_error_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "deltalake", None)  # as if not installed
    with pytest.raises(LabelboxConfigError, match=r"\[delta\]"):
        require_deltalake()
    with pytest.raises(LabelboxConfigError, match="deltalake"):
        PipelineConfig(project_id="p1", root="/tmp/m", delta_tables=True)
    PipelineConfig(project_id="p1", root="/tmp/m")  # Delta off: the extra is not needed


def test_delta_tables_must_be_a_bool() -> None:
    with pytest.raises(LabelboxConfigError, match="delta_tables"):
        PipelineConfig(project_id="p1", root="/tmp/m", delta_tables="yes")  # type: ignore[arg-type]
