"""Flatten one export file with two processes: this one reads the first part, a worker the rest.

The file is split at a record boundary near its middle (:func:`split_point`): after a newline
for NDJSON; for a v1 array (one record per line or a single line), before a ``{"<first key>":``
that follows ``}`` ``,`` and opens a valid object. This process flattens the bytes before the
boundary (closed by a ``]`` for an array) into part files numbered from 0; a worker started
with ``python -m labelbox_provider.io.flatten_worker`` flattens the bytes after it (opened by a
``[``) into part files numbered from :data:`WORKER_FIRST_PART`, each process with
:data:`SHARE` of the sink's buffers. The worker numbers its records from 0; this process then
adds its own record count to the worker's ``rejects.position`` (the only column that holds a
record's position in the file), to the unknown kinds' positions and to a truncated file's
message.

The boundary is proved by this process's range: for NDJSON any newline is one (records are
lines); for an array, every record of the range must be valid JSON (then its last one ends at
the top level of the array, and the one-process reading of those bytes is the same record by
record). A record of the range that is not valid JSON stops both processes and the file is
flattened by this process alone, as is a file without a boundary, a gzip file, a bare v1
object and, in automatic mode, a small file, a process allowed one core or a busy machine.
On any failure (the worker's or this process's, Ctrl-C included) the worker is killed and
waited for and every part file of the call removed; a worker's error is raised here with its
own type when it is one of the provider's (``TruncatedExportError``...), else as
``FlattenProcessError``.
"""

from __future__ import annotations

import logging
import os
import pickle
import site
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import msgspec

from labelbox_provider import exceptions
from labelbox_provider.exceptions import FlattenProcessError, TruncatedExportError
from labelbox_provider.transforms.common import Lineage
from labelbox_provider.transforms.legacy import is_legacy_record

from .flatten import (
    READ_BUFFER_BYTES,
    FlattenResult,
    _part_files,
    _UnknownKinds,
    flatten_stream,
    remove_new_parts,
    source_format_of,
)
from .jsonstream import Decoded, detect_format, iter_decoded, shift_truncated
from .parquet import PART_NAME, shift_positions

log = logging.getLogger(__name__)

SPLIT_MIN_BYTES = 256 << 20  # automatic mode: smaller files take one process (measured)
IDLE_CORES = 1.5  # automatic mode: idle cores needed (this process's own and the worker's)
IDLE_SAMPLE_SECONDS = 0.2  # how long idle time is sampled before deciding
WORKER_FIRST_PART = 50000  # the worker's part files: part-50000.parquet, part-50001...
SHARE = 0.3  # each process's share of the sink's buffers (0.5: 292 MB summed at 200,000 labels)
SCAN_BYTES = 64 << 20  # how far past the middle a boundary is looked for
_CHUNK = 1 << 20
_SKIP = msgspec.json.Decoder(msgspec.Raw).decode
_WS = b" \t\r\n"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class SplitPoint:
    """Where a file is cut: this process reads ``[0, end)``, the worker ``[start, EOF)``."""

    end: int  # end of this process's range (just after a record)
    start: int  # first byte of the worker's first record
    line_records: bool  # a v1 array laid out one record per line (see jsonstream)


class _NotSplittable(Exception):
    """This process's range does not prove the boundary: one process flattens the file."""


def wanted(processes: int | None, size: int) -> bool:
    """Whether ``processes`` asks for two processes for a file of ``size`` bytes: ``None``
    (automatic) does for a file of :data:`SPLIT_MIN_BYTES` or more when this process may run
    on two cores or more (its CPU affinity, and its cgroup's CPU quota: :func:`cpu_quota`) and
    :data:`IDLE_CORES` of them are idle (:func:`idle_cores`): with
    one core free, the measured second process only added CPU time and memory."""
    if processes is None:
        if size < SPLIT_MIN_BYTES:
            return False
        cpus = os.sched_getaffinity(0)
        quota = cpu_quota()  # a container's CPU limit: affinity still shows the host's cores
        allowed = len(cpus) if quota is None else min(len(cpus), quota)
        idle = idle_cores(cpus) if allowed >= 2 else None  # not sampled below 2 CPUs
        if idle is not None and idle >= IDLE_CORES:
            return True
        log.info(
            "flattening %.0f MB in one process: %g CPU(s) allowed%s%s (two processes need 2 "
            "allowed and %g idle)",
            size / 1e6,
            allowed,
            "" if quota is None else f" (cgroup quota {quota:g})",
            "" if idle is None else f", {idle:.1f} idle",
            IDLE_CORES,
        )
        return False
    return processes == 2


CGROUP_ROOT = Path("/sys/fs/cgroup")


def cpu_quota(
    root: Path = CGROUP_ROOT, self_cgroup: Path = Path("/proc/self/cgroup")
) -> float | None:
    """The CPUs this process's cgroups may use (quota / period, the tightest on the way from its
    cgroup up to the root), or None when none sets a limit or none can be read.

    cgroup v2 (``0::<path>``): ``cpu.max`` (``max 100000`` or ``<quota> <period>``) under
    ``root`` or, on a hybrid host, ``root/unified``; cgroup v1 (a line naming the ``cpu``
    controller): ``cpu.cfs_quota_us`` (``-1``: none) and ``cpu.cfs_period_us`` under
    ``root/<controllers>`` or ``root/cpu``. A container usually sees its own cgroup as the root.
    """
    try:
        lines = self_cgroup.read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and not controllers:
            bases = [root, root / "unified"]
        elif "cpu" in controllers.split(","):
            bases = [root / controllers, root / "cpu"]
        else:
            continue
        for base in bases:
            folder = base / path.strip("/")
            while True:
                limit = _v2_limit(folder) if hierarchy == "0" else _v1_limit(folder)
                if limit is not None:
                    limits.append(limit)
                if folder == base or base not in folder.parents:
                    break
                folder = folder.parent
    return min(limits) if limits else None


def _v2_limit(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text(encoding="ascii").split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _v1_limit(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text(encoding="ascii"))
        period = int((folder / "cpu.cfs_period_us").read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def idle_cores(cpus: set[int]) -> float:
    """How many of ``cpus`` were idle over the last :data:`IDLE_SAMPLE_SECONDS` (Linux
    ``/proc/stat``, this process sleeping meanwhile); elsewhere the cores less the 1-minute
    load average."""
    try:
        before = _cpu_times(cpus)
        time.sleep(IDLE_SAMPLE_SECONDS)
        after = _cpu_times(cpus)
    except (OSError, ValueError):
        return len(cpus) - os.getloadavg()[0]
    idle = 0.0
    for cpu, (idle0, total0) in before.items():
        idle1, total1 = after.get(cpu, (idle0, total0))
        idle += (idle1 - idle0) / (total1 - total0) if total1 > total0 else 1.0
    return idle


def _cpu_times(cpus: set[int]) -> dict[int, tuple[int, int]]:
    """``cpu -> (idle + iowait, total)`` clock ticks of ``cpus`` from ``/proc/stat``."""
    times = {}
    with open("/proc/stat", encoding="ascii") as fp:
        for line in fp:
            name, *values = line.split()
            if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
                ticks = [int(v) for v in values[:8]]  # user nice system idle iowait irq ...
                times[int(name[3:])] = (ticks[3] + ticks[4], sum(ticks))
    if not times:
        raise ValueError("no per-CPU lines in /proc/stat")
    return times


def split_point(src: Path, file_format: str) -> SplitPoint | None:
    """A record boundary near the middle of ``src``, or None (no boundary found)."""
    size = src.stat().st_size
    with src.open("rb") as fp:
        if fp.read(2) == _GZIP_MAGIC:
            return None
        if file_format == "ndjson":
            return _line_boundary(fp, size)
        if file_format == "v1_array":
            return _array_boundary(fp, size)
    return None


def _windows(fp: BinaryIO, size: int, overlap: int) -> Iterator[tuple[int, bytes]]:
    """``(offset, bytes)`` windows from the middle of the file on, overlapping a little."""
    offset = size // 2
    while offset < min(size, size // 2 + SCAN_BYTES):
        fp.seek(offset)
        data = fp.read(_CHUNK + overlap)
        if not data:
            return
        yield offset, data
        offset += _CHUNK


def _line_boundary(fp: BinaryIO, size: int) -> SplitPoint | None:
    for offset, data in _windows(fp, size, 1):
        newline = data.find(b"\n")
        while newline != -1 and newline + 1 < len(data):
            if data[newline + 1] == 0x7B:  # the next line opens an object
                start = offset + newline + 1
                return SplitPoint(start, start, False)
            newline = data.find(b"\n", newline + 1)
    return None


def _first_key(fp: BinaryIO) -> bytes | None:
    """How the array's first record opens (``{"ID":``), or None if unusual."""
    fp.seek(0)
    head = fp.read(1 << 16).removeprefix(b"\xef\xbb\xbf").lstrip(_WS)
    head = head[1:].lstrip(_WS) if head[:1] == b"[" else b""
    colon = head.find(b'":', 2)
    if head[:2] != b'{"' or colon == -1 or b"\\" in head[:colon]:
        return None
    return head[: colon + 2]


def _array_boundary(fp: BinaryIO, size: int) -> SplitPoint | None:
    key = _first_key(fp)
    if key is None:
        return None
    for offset, data in _windows(fp, size, 4 << 20):
        found = data.find(key, 1)
        while found != -1 and found < _CHUNK:
            point = _after_record(data, found)
            if point is not None:
                return SplitPoint(offset + point[0], offset + found, point[1])
            found = data.find(key, found + 1)
    return None


def _after_record(data: bytes, found: int) -> tuple[int, bool] | None:
    """If ``data[found:]`` opens a valid object after ``}`` ws ``,`` ws: the end of the
    record before it and whether a newline separates them; else None."""
    j = found - 1
    while j > 0 and data[j] in _WS:
        j -= 1
    if data[j] != 0x2C:  # ','
        return None
    j -= 1
    while j > 0 and data[j] in _WS:
        j -= 1
    if data[j] != 0x7D:  # '}'
        return None
    try:
        _SKIP(memoryview(data)[found:])
    except msgspec.DecodeError as exc:  # "trailing characters": a whole value, then more
        if "trailing characters" not in str(exc):
            return None
    else:
        return None
    return j + 1, b"\n" in data[j + 1 : found]


class _Range:
    """The bytes ``[start, end)`` of a file as a stream, with ``prefix`` before and
    ``suffix`` after (a ``[`` or ``]`` that makes a range of an array an array)."""

    def __init__(self, path: Path, start: int, end: int | None, prefix: bytes, suffix: bytes):
        self._fp = path.open("rb", buffering=READ_BUFFER_BYTES)
        self._fp.seek(start)
        self._left = (path.stat().st_size if end is None else end) - start
        self._prefix = prefix
        self._suffix = suffix

    def read(self, n: int = -1) -> bytes:
        head, self._prefix = self._prefix, b""
        want = self._left if n < 0 else max(0, min(n - len(head), self._left))
        body = self._fp.read(want) if want else b""
        self._left -= len(body)
        if not self._left and (n < 0 or len(head) + len(body) < n):
            tail, self._suffix = self._suffix, b""
            return head + body + tail
        return head + body

    def readline(self) -> bytes:
        if self._prefix:
            return self.read(len(self._prefix))
        line = self._fp.readline(self._left) if self._left > 0 else b""
        self._left -= len(line)
        if not line:
            line, self._suffix = self._suffix, b""
        return line

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def close(self) -> None:
        self._fp.close()

    def __enter__(self) -> BinaryIO:
        return cast(BinaryIO, self)

    def __exit__(self, *exc: object) -> None:
        self.close()


class _RangeCheck:
    """Counts the records of this process's range; for an array, stops at the first that is
    not valid JSON (the boundary would not be proved)."""

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.records = 0

    def __call__(self, records: Iterator[Decoded]) -> Iterator[Decoded]:
        strict = self.strict
        for record in records:
            if strict and record.error is not None:
                raise _NotSplittable(f"record {record.position} is not valid JSON")
            self.records = record.position + 1
            yield record


@dataclass(frozen=True)
class WorkerJob:
    """What the worker flattens: ``src`` from byte ``start``, with the file's decisions."""

    src: Path
    start: int
    file_format: str
    line_records: bool
    out_dir: Path
    lineage: Lineage
    frames_dir: Path | None
    fast: bool
    legacy_era: bool | None


def _flatten_range(
    job: WorkerJob, fp: BinaryIO, unknown: _UnknownKinds, **options: Any
) -> FlattenResult:
    """Flatten one process's range of ``job``'s file (``options``: the range's own
    :func:`~labelbox_provider.io.flatten.flatten_stream` arguments)."""
    return flatten_stream(
        fp,
        job.file_format,
        job.out_dir,
        job.lineage,
        frames_dir=job.frames_dir,
        fast=job.fast,
        legacy_era=job.legacy_era,
        unknown=unknown,
        **options,
    )


def run_worker(job: WorkerJob) -> dict[str, Any]:
    """The worker's part: flatten ``job``'s range; the outcome as plain values."""
    unknown = _UnknownKinds(quiet=True)
    prefix = b"[" if job.file_format == "v1_array" else b""
    options = {"share": SHARE, "first_part": WORKER_FIRST_PART, "empty_files": False}
    try:
        with _Range(job.src, job.start, None, prefix, b"") as fp:
            counts = _flatten_range(
                job, fp, unknown, line_records=job.line_records, sink_options=options
            )
    except BaseException as exc:  # reported to the parent, which raises it
        error = {"module": type(exc).__module__, "type": type(exc).__name__, "message": str(exc)}
        return {"error": error}
    return {"counts": dict(counts), "kinds": dict(unknown.kinds), "first": unknown.first}


class _Worker:
    """The worker process; its outcome and its output (stdout and stderr) in temporary files."""

    def __init__(self, job: WorkerJob) -> None:
        self.out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self.err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        # -P: the working directory is not put on the worker's path (nothing there shadows)
        module, fd = "labelbox_provider.io.flatten_worker", self.out.fileno()
        cmd = [sys.executable, "-P", "-m", module, str(os.getpid()), str(fd)]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=self.err,
            stderr=self.err,
            env=_worker_env(),
            pass_fds=(fd,),
        )
        assert self.proc.stdin is not None
        with self.proc.stdin as stdin:
            pickle.dump(job, stdin)
        self.start = job.start

    def outcome(self) -> dict[str, Any]:
        """Wait for the worker; its outcome, or FlattenProcessError if it died."""
        code = self.proc.wait()
        self.out.seek(0)
        data = self.out.read()
        if code != 0 or not data:
            self.err.seek(0)
            tail = self.err.read()[-2000:].decode("utf-8", errors="replace").strip()
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            raise FlattenProcessError(
                f"the second flatten process (records from byte {self.start}) {how}"
                + (f": {tail}" if tail else "")
            )
        return cast(dict[str, Any], pickle.loads(data))

    def stop(self) -> None:
        """Kill the worker (if still running) and wait for it: no orphan is left."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.close()

    def close(self) -> None:
        self.out.close()
        self.err.close()


def _worker_env() -> dict[str, str]:
    """This process's environment; PYTHONPATH leads to this package unless it is installed
    in a site folder (which the worker has anyway: put first, it would shadow the stdlib)."""
    env = dict(os.environ)
    package = str(Path(__file__).resolve().parents[2])  # the folder holding labelbox_provider
    sites = [*site.getsitepackages(), site.USER_SITE]
    installed = {str(Path(p).resolve()) for p in sites if p}
    if package not in installed:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package, env.get("PYTHONPATH")]))
    return env


def _raise_worker_error(error: dict[str, str], records: int, start: int) -> None:
    """Raise the worker's error here: the provider's own type and message (a truncated
    file's positions counted from the file's start), or FlattenProcessError."""
    kind = getattr(exceptions, error["type"], None)
    message = error["message"]
    if error["module"] == exceptions.__name__ and isinstance(kind, type):
        if issubclass(kind, TruncatedExportError):
            raise kind(shift_truncated(message, records))
        if issubclass(kind, exceptions.LabelboxProviderError):
            raise kind(message)
    raise FlattenProcessError(
        f"the second flatten process (records from byte {start}) failed: {error['type']}: {message}"
    )


def _legacy_of(src: Path, file_format: str) -> bool:
    """Whether the file's first record is of the legacy era (as one process decides)."""
    with src.open("rb", buffering=READ_BUFFER_BYTES) as fp:
        first = next(iter_decoded(fp, file_format), None)
    return first is not None and isinstance(first.value, dict) and is_legacy_record(first.value)


def flatten_split(
    src: Path,
    out_dir: Path,
    lineage: Lineage,
    *,
    fmt: str,
    frames_dir: Path | None,
    fast: bool,
    processes: int | None,
) -> FlattenResult | None:
    """Flatten ``src`` with two processes, or None if one process should (see the module)."""
    if not wanted(processes, src.stat().st_size):
        return None
    with src.open("rb") as probe:
        if probe.read(2) == _GZIP_MAGIC:
            return None
        probe.seek(0)
        file_format = detect_format(probe) if fmt == "auto" else fmt
    point = split_point(src, file_format)
    if point is None:
        log.info("no record boundary near the middle of %s: one process flattens it", src.name)
        return None
    log.info(
        "flattening %s (%.0f MB) in two processes: this one up to byte %d, a worker from %d",
        src.name,
        src.stat().st_size / 1e6,
        point.end,
        point.start,
    )
    source_format = lineage.source_format or source_format_of(file_format)
    legacy = _legacy_of(src, file_format) if source_format == "v1" else None
    job = WorkerJob(
        src,
        point.start,
        file_format,
        point.line_records,
        out_dir,
        lineage,
        frames_dir,
        fast,
        legacy,
    )
    before = _part_files(out_dir)
    worker = _Worker(job)
    try:
        return _two_parts(job, point, worker)
    except _NotSplittable as reason:
        worker.stop()
        remove_new_parts(out_dir, before)
        log.info("%s: %s; one process flattens it after all", src.name, reason)
        return None
    except BaseException:
        worker.stop()
        remove_new_parts(out_dir, before)
        raise
    finally:
        worker.close()


def _two_parts(job: WorkerJob, point: SplitPoint, worker: _Worker) -> FlattenResult:
    """This process's range, then the worker's outcome merged into one result."""
    array = job.file_format == "v1_array"
    check = _RangeCheck(strict=array)
    unknown = _UnknownKinds(quiet=True)
    with _Range(job.src, 0, point.end, b"", b"]" if array else b"") as fp:
        first = _flatten_range(job, fp, unknown, sink_options={"share": SHARE}, wrap=check)
    outcome = worker.outcome()
    if "error" in outcome:
        _raise_worker_error(outcome["error"], check.records, job.start)
    counts = dict(first)
    for table, rows in outcome["counts"].items():
        counts[table] = counts.get(table, 0) + rows
    if outcome["counts"].get("rejects"):
        _shift_rejects(job.out_dir, check.records)
    unknown.merge(outcome["kinds"], outcome["first"], check.records)
    unknown.report()
    return FlattenResult(counts, unknown.stats())


def _shift_rejects(out_dir: Path, records: int) -> None:
    """The worker's rejects get their position in the whole file."""
    first = PART_NAME.format(WORKER_FIRST_PART)
    for path in sorted((out_dir / "rejects").glob("part-*.parquet")):
        if path.name >= first:
            shift_positions(path, "rejects", records)
