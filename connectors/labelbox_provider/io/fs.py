"""Small fsspec helpers shared by the ledger, the batch commit and the readers.

Every path handled here is a *filesystem path* as fsspec returns it from ``url_to_fs`` (no
protocol prefix); :func:`full_url` turns one back into a URL that DuckDB or another process can
open. Writes stream in chunks: nothing reads a whole Parquet file into memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import fsspec
from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

CHUNK = 1 << 20  # bytes per read/write when streaming a file (1 MiB)


def get_fs(
    root: str, storage_options: Mapping[str, Any] | None = None
) -> tuple[AbstractFileSystem, str]:
    """Filesystem and root path (no protocol, no trailing slash) for a local path or URL."""
    fs, path = fsspec.core.url_to_fs(str(root), **dict(storage_options or {}))
    if is_local(fs):
        path = os.path.abspath(path)
    return fs, path.rstrip("/") or "/"


def is_local(fs: AbstractFileSystem) -> bool:
    """True for the local filesystem (where rename is atomic); wrappers that proxy it count."""
    protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
    return isinstance(fs, LocalFileSystem) or "file" in protocols


def join(*parts: str) -> str:
    """Join path parts with ``/`` (fsspec paths are POSIX-style on every filesystem)."""
    return posixpath.join(*parts)


def full_url(fs: AbstractFileSystem, path: str) -> str:
    """A URL for ``path`` that opens the same file from outside this filesystem object."""
    if is_local(fs):
        return path
    return str(fs.unstrip_protocol(path))


def list_files(fs: AbstractFileSystem, path: str) -> list[str]:
    """Paths of the files directly under ``path`` (sorted); empty when it does not exist."""
    if not fs.exists(path):
        return []
    entries = fs.ls(path, detail=True)
    return sorted(str(e["name"]) for e in entries if e.get("type") == "file")


def list_dirs(fs: AbstractFileSystem, path: str) -> list[str]:
    """Base names of the directories directly under ``path`` (sorted)."""
    if not fs.exists(path):
        return []
    entries = fs.ls(path, detail=True)
    names = (posixpath.basename(str(e["name"]).rstrip("/")) for e in entries)
    kinds = (e.get("type") for e in entries)
    return sorted(n for n, k in zip(names, kinds, strict=True) if k == "directory")


def remove(fs: AbstractFileSystem, path: str, *, recursive: bool = False) -> None:
    """Delete a file or directory; a missing path is not an error."""
    if fs.exists(path):
        fs.rm(path, recursive=recursive)


def read_json(fs: AbstractFileSystem, path: str) -> dict[str, Any] | None:
    """Parsed JSON object at ``path``, or None when the file does not exist."""
    try:
        with fs.open(path, "rb") as handle:
            data = json.loads(handle.read())
    except FileNotFoundError:
        return None
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


def write_json_atomic(fs: AbstractFileSystem, path: str, data: Mapping[str, Any]) -> None:
    """Write JSON so that readers see the old file or the whole new one, never a part.

    Locally the bytes go to a temporary sibling that is then renamed over the target (rename is
    atomic). Object stores (s3, gcs, abfs, memory) publish a single PUT atomically, so there the
    file is written in one call: a copy-then-delete "move" would add no atomicity.
    """
    payload = json.dumps(data, indent=1, sort_keys=True).encode()
    parent = posixpath.dirname(path)
    fs.makedirs(parent, exist_ok=True)
    if not is_local(fs):
        fs.pipe_file(path, payload)
        return
    tmp = join(parent, f".tmp-{uuid.uuid4().hex}-{posixpath.basename(path)}")
    try:
        fs.pipe_file(tmp, payload)
        fs.mv(tmp, path)
    finally:
        remove(fs, tmp)


def upload_file(fs: AbstractFileSystem, local: Path, path: str) -> tuple[int, str]:
    """Stream a local file to ``path``; return its size in bytes and its sha256 (hex)."""
    digest = hashlib.sha256()
    size = 0
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    with local.open("rb") as src, fs.open(path, "wb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def move_file(fs: AbstractFileSystem, src: str, dst: str) -> None:
    """Move one file, creating the target's parent directory first."""
    fs.makedirs(posixpath.dirname(dst), exist_ok=True)
    fs.mv(src, dst)
