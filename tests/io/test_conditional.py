"""Compare-and-swap writes on local disk, on a real S3 API (moto) and in memory: a stale token
or an existing object is a conflict, and racing writers never lose an update."""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec import AbstractFileSystem
from labelbox_provider.exceptions import ConditionalWriteConflict
from labelbox_provider.io import fs as fsu
from labelbox_provider.io.conditional import create_exclusive, read_versioned, write_if

from tests.s3_server import S3Mirror

pytestmark = pytest.mark.integration


@pytest.fixture(params=["local", "s3", "memory"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[AbstractFileSystem, str]:
    """A filesystem and an empty folder on it."""
    if request.param == "local":
        return fsu.get_fs(str(tmp_path))
    if request.param == "s3":
        s3: S3Mirror = request.getfixturevalue("s3_mirror")
        return fsu.get_fs(s3.root, s3.storage_options)
    fs = fsspec.filesystem("memory")
    return fs, f"/cas-{tmp_path.name}"


def test_create_then_swap_then_a_stale_token_conflicts(place: tuple[Any, str]) -> None:
    fs, root = place
    path = f"{root}/state/x.json"
    assert read_versioned(fs, path).data is None
    first = write_if(fs, path, b"1", None)
    with pytest.raises(ConditionalWriteConflict):
        write_if(fs, path, b"2", None)  # it exists now
    found = read_versioned(fs, path)
    assert found.data == b"1" and found.token == first
    second = write_if(fs, path, b"2", first)
    assert second != first
    with pytest.raises(ConditionalWriteConflict):
        write_if(fs, path, b"3", first)  # stale
    assert read_versioned(fs, path).data == b"2"
    assert create_exclusive(fs, f"{root}/claims/1.json") is True
    assert create_exclusive(fs, f"{root}/claims/1.json") is False


def _increment(fs: Any, path: str, times: int) -> int:
    conflicts = 0
    for _ in range(times):
        while True:
            found = read_versioned(fs, path)
            value = json.loads(found.data)["n"]
            try:
                write_if(fs, path, json.dumps({"n": value + 1}).encode(), found.token)
                break
            except ConditionalWriteConflict:
                conflicts += 1
    return conflicts


def test_racing_threads_never_lose_an_increment(place: tuple[Any, str]) -> None:
    fs, root = place
    path = f"{root}/counter.json"
    write_if(fs, path, b'{"n": 0}', None)
    conflicts: list[int] = []
    run: Callable[[], None] = lambda: conflicts.append(_increment(fs, path, 15))  # noqa: E731
    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert json.loads(read_versioned(fs, path).data)["n"] == 60


def _process_increments(root: str, options: dict[str, Any], times: int) -> None:
    fs, base = fsu.get_fs(root, options)
    _increment(fs, f"{base}/counter.json", times)


@pytest.mark.parametrize("where", ["local", "s3"])
def test_racing_processes_never_lose_an_increment(
    where: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if where == "s3":
        s3: S3Mirror = request.getfixturevalue("s3_mirror")
        root, options = s3.root, s3.storage_options
    else:
        root, options = str(tmp_path), {}
    fs, base = fsu.get_fs(root, options)
    write_if(fs, f"{base}/counter.json", b'{"n": 0}', None)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_increments, args=(root, options, 10)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert json.loads(read_versioned(fs, f"{base}/counter.json").data)["n"] == 30
