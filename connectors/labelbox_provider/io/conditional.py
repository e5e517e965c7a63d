"""Conditional writes (compare-and-swap) on local disk, S3 and, per process, other filesystems.

Two primitives, the only ones the ledger's checkpoint and attempt claims need:

* :func:`read_versioned`: an object's bytes and a *token* naming that version;
* :func:`write_if`: replace the object only if its current version is ``token`` (``None``: only if
  it does not exist yet); raises :class:`ConditionalWriteConflict` otherwise.
* :func:`create_exclusive`: create an object only if it does not exist (True) or say it did.

Per filesystem:

* **local disk**: the token is the SHA-256 of the bytes; ``write_if`` holds an exclusive
  ``flock`` on a sibling ``.<name>.lock`` file while it compares and renames a temporary file over
  the target (readers never lock: a rename is atomic). ``create_exclusive`` is ``O_CREAT|O_EXCL``.
  (``flock`` is not reliable on every network filesystem: use object storage there.)
* **S3** (s3fs): the token is the ETag; ``PutObject`` with ``If-Match: <etag>`` or
  ``If-None-Match: *``, which S3 (since 2024) and moto honour; HTTP 412/409 is a conflict.
* **anything else** (``memory://`` in tests, GCS, Azure): compare and write under a lock held in
  this process only. GCS (``if_generation_match``) and Azure (ETag ``If-Match``) support true
  conditional writes; wiring them is a follow-up (docs/storage.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import posixpath
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fsspec import AbstractFileSystem

from labelbox_provider.exceptions import ConditionalWriteConflict
from labelbox_provider.io import fs as fsu

log = logging.getLogger(__name__)

_PROCESS_LOCK = threading.Lock()  # the fallback's lock (and local writers' threads)
_WARNED: set[str] = set()


@dataclass(frozen=True)
class Versioned:
    """An object's bytes (None: it does not exist) and the token of that version."""

    data: bytes | None
    token: str | None


def _protocols(fs: AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return tuple(protocol) if isinstance(protocol, tuple | list) else (str(protocol),)


def _is_s3(fs: AbstractFileSystem) -> bool:
    return bool({"s3", "s3a"} & set(_protocols(fs))) and hasattr(fs, "call_s3")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_versioned(fs: AbstractFileSystem, path: str) -> Versioned:
    """The object at ``path`` and its version token (``Versioned(None, None)`` when absent)."""
    if _is_s3(fs):
        return _s3_read(fs, path)
    try:
        with fs.open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return Versioned(None, None)
    return Versioned(data, _digest(data))


def write_if(fs: AbstractFileSystem, path: str, data: bytes, token: str | None) -> str:
    """Write ``data`` at ``path`` if the object is still at version ``token``; return the new
    token. ``token=None`` means "only if it does not exist". Raises
    :class:`ConditionalWriteConflict` when another writer got there first."""
    if _is_s3(fs):
        return _s3_put(fs, path, data, token)
    if fsu.is_local(fs):
        return _local_write_if(path, data, token)
    _warn_once(fs)
    with _PROCESS_LOCK:
        current = read_versioned(fs, path)
        if current.token != token:
            raise ConditionalWriteConflict(f"{posixpath.basename(path)} changed since it was read")
        fs.makedirs(posixpath.dirname(path), exist_ok=True)
        fs.pipe_file(path, data)
    return _digest(data)


def create_exclusive(fs: AbstractFileSystem, path: str, data: bytes = b"{}") -> bool:
    """Create ``path`` holding ``data`` unless it exists; True when this call created it."""
    try:
        write_if(fs, path, data, None)
    except ConditionalWriteConflict:
        return False
    return True


# -- local disk ------------------------------------------------------------------------------


@contextlib.contextmanager
def _flocked(path: str) -> Iterator[None]:
    lock = posixpath.join(posixpath.dirname(path), f".{posixpath.basename(path)}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        with _PROCESS_LOCK:  # flock is per open file: threads of one process need this too
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _local_write_if(path: str, data: bytes, token: str | None) -> str:
    parent = posixpath.dirname(path)
    os.makedirs(parent, exist_ok=True)
    if token is None:  # create-only: O_EXCL is atomic by itself; a temp file keeps it whole
        tmp = posixpath.join(parent, f".tmp-{uuid.uuid4().hex}")
        with open(tmp, "wb") as handle:
            handle.write(data)
        try:
            os.link(tmp, path)  # fails if path exists, atomically
        except FileExistsError as exc:
            raise ConditionalWriteConflict(f"{posixpath.basename(path)} already exists") from exc
        finally:
            os.unlink(tmp)
        return _digest(data)
    with _flocked(path):
        try:
            with open(path, "rb") as handle:
                current: str | None = _digest(handle.read())
        except FileNotFoundError:
            current = None
        if current != token:
            raise ConditionalWriteConflict(f"{posixpath.basename(path)} changed since it was read")
        tmp = posixpath.join(parent, f".tmp-{uuid.uuid4().hex}")
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    return _digest(data)


# -- S3 --------------------------------------------------------------------------------------


def _split(fs: Any, path: str) -> tuple[str, str]:
    bucket, key, _ = fs.split_path(path)
    return str(bucket), str(key)


def _client_error_code(exc: BaseException) -> tuple[str, int]:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def _s3_read(fs: Any, path: str) -> Versioned:
    from fsspec.asyn import sync

    bucket, key = _split(fs, path)

    async def get() -> Versioned:
        client = await fs.set_session()
        try:
            response = await client.get_object(Bucket=bucket, Key=key)
        except Exception as exc:
            code, status = _client_error_code(exc)
            if code in ("NoSuchKey", "404") or status == 404:
                return Versioned(None, None)
            raise
        async with response["Body"] as body:
            data = await body.read()
        return Versioned(data, str(response["ETag"]))

    result: Versioned = sync(fs.loop, get)
    return result


def _s3_put(fs: Any, path: str, data: bytes, token: str | None) -> str:
    from fsspec.asyn import sync

    bucket, key = _split(fs, path)
    condition = {"IfNoneMatch": "*"} if token is None else {"IfMatch": token}

    async def put() -> str:
        client = await fs.set_session()
        try:
            response = await client.put_object(Bucket=bucket, Key=key, Body=data, **condition)
        except Exception as exc:
            code, status = _client_error_code(exc)
            if status in (409, 412) or code in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise ConditionalWriteConflict(
                    f"{posixpath.basename(key)} changed since it was read ({code or status})"
                ) from None
            raise
        return str(response["ETag"])

    etag: str = sync(fs.loop, put)
    fs.invalidate_cache(path)
    return etag


def _warn_once(fs: AbstractFileSystem) -> None:
    name = _protocols(fs)[0]
    if name not in _WARNED and name != "memory":
        _WARNED.add(name)
        log.warning(
            "conditional writes on %s:// are guarded in this process only; run one writer per "
            "project at a time there (docs/storage.md)",
            name,
        )
