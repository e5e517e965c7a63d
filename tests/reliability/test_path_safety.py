"""Ids and names from the user or the API never take a write outside the destination root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labelbox_provider.exceptions import LabelboxConfigError, LabelboxError
from labelbox_provider.hooks.labelbox import LabelboxHook
from labelbox_provider.pipeline.run import MirrorPipeline

EVIL_IDS = [
    "../escape",
    "../../etc/passwd",
    "/absolute/path",
    "a/b",
    "a\\b",
    "..",
    ".",
    "%2e%2e%2fescape",
    "..%2F..%2Fescape",
    "%2fabs",
    "cl1\x00x",
    "",
]


@pytest.mark.unit
@pytest.mark.parametrize("project_id", EVIL_IDS)
def test_a_project_id_that_is_not_one_path_component_is_refused(tmp_path: Path, project_id):
    hook = LabelboxHook.from_credentials("k", "http://127.0.0.1:9/graphql")
    with pytest.raises(LabelboxConfigError, match="not a Labelbox project id"):
        MirrorPipeline(hook, str(tmp_path / "root"), project_id)
    assert not any(tmp_path.rglob("*")), "something was written for a refused id"


@pytest.mark.integration
@pytest.mark.parametrize("label_id", ["../../escape", "/tmp/abs", "..%2Fx", "a/../../b"])
def test_an_api_label_id_cannot_name_a_frames_file_outside(labelbox_emulator, tmp_path, label_id):
    hook = LabelboxHook.from_credentials(labelbox_emulator.api_key, labelbox_emulator.url)
    export = tmp_path / "export.json"
    frames_url = f"{labelbox_emulator.base_url}/frames/x"
    export.write_text(json.dumps([{"ID": label_id, "Label": {"frames": frames_url}}]))
    frames_dir = tmp_path / "root" / "frames"
    frames_dir.mkdir(parents=True)
    with pytest.raises(LabelboxError, match="not a safe file name"):
        hook.download_v1_frames(export, frames_dir, max_workers=1)
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and p != export]
    assert outside == [], outside
