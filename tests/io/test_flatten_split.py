"""flatten_file(processes=2) against one process: the same tables, rows, counts and errors.

Each case flattens one file twice, into ``one/`` with one process and into ``two/`` with two,
and compares every table's rows in order (part files read in name order); a split is proved by
the worker's part files (``part-50000.parquet``). Files are small: ``processes=2`` splits any
file with a record boundary past its middle.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from labelbox_provider.exceptions import (
    FlattenProcessError,
    LabelboxConfigError,
    TruncatedExportError,
)
from labelbox_provider.io import split
from labelbox_provider.io.flatten import FlattenResult, flatten_file
from labelbox_provider.transforms import TABLES, Lineage

from tests.io.test_flatten import LINEAGE
from tests.transforms._transform_helpers import LEGACY_FILES

pytestmark = pytest.mark.unit

WORKER_PART = "part-50000.parquet"
LAYOUTS = ("v1_lines", "v1_single_line", "v2_ndjson")


def rows(out: Path) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, its part files read in name order."""
    tables = {}
    for table in TABLES:
        parts = sorted((out / table).glob("part-*.parquet"))
        tables[table] = pa.concat_tables(pq.read_table(p) for p in parts).to_pylist()
    return tables


def split_happened(out: Path) -> bool:
    return any(out.glob(f"*/{WORKER_PART}"))


def both(src: Path, tmp_path: Path, lineage: Lineage = LINEAGE, **kwargs: Any) -> FlattenResult:
    """Flatten ``src`` with one and with two processes; assert the same result; the second."""
    one = flatten_file(src, tmp_path / "one", lineage, processes=1, **kwargs)
    two = flatten_file(src, tmp_path / "two", lineage, processes=2, **kwargs)
    assert dict(two) == dict(one)
    assert two.stats == one.stats
    assert rows(tmp_path / "two") == rows(tmp_path / "one")
    assert not split_happened(tmp_path / "one")
    return two


def v1_records(own_fixtures: Path, copies: int = 20) -> list[bytes]:
    records = json.loads((own_fixtures / "v1_image.json").read_text())
    return [json.dumps(r, separators=(",", ":")).encode() for r in records] * copies


def v2_records(own_fixtures: Path, copies: int = 20) -> list[bytes]:
    lines = (own_fixtures / "v2_image.ndjson").read_bytes().splitlines()
    return [line for line in lines if line.strip()] * copies


def write(path: Path, layout: str, records: list[bytes]) -> Path:
    """``records`` in a layout: v1 array one per line or on a single line, or NDJSON."""
    if layout == "v1_lines":
        path.write_bytes(b"[\n" + b",\n".join(records) + b"\n]\n")
    elif layout == "v1_single_line":
        path.write_bytes(b"[" + b",".join(records) + b"]")
    else:
        path.write_bytes(b"".join(r + b"\n" for r in records))
    return path


def records_of(own_fixtures: Path, layout: str) -> list[bytes]:
    return v2_records(own_fixtures) if layout == "v2_ndjson" else v1_records(own_fixtures)


def lineage_of(layout: str) -> Lineage:
    if layout == "v2_ndjson":  # the own v2 fixture's project
        return Lineage("lbx-project-v2-streets", "b-0001", LINEAGE.extracted_at, None, None, "v2")
    return LINEAGE


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("fast", [True, False])
def test_two_processes_give_the_same_tables(
    layout: str, fast: bool, own_fixtures: Path, tmp_path: Path
) -> None:
    src = write(tmp_path / "export", layout, records_of(own_fixtures, layout))
    counts = both(src, tmp_path, lineage_of(layout), fast=fast)
    assert counts["labels"] > 0
    assert split_happened(tmp_path / "two")


def _bad_v1(record: bytes, n: int) -> bytes:
    """A valid JSON record the flattener rejects (a wrong type), with its own id."""
    value = json.loads(record)
    value["ID"], value["Created At"] = f"bad{n}", "yesterday"
    return json.dumps(value, separators=(",", ":")).encode()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_rejects_in_both_halves_keep_their_file_positions(
    layout: str, own_fixtures: Path, tmp_path: Path
) -> None:
    records = records_of(own_fixtures, layout)
    if layout == "v2_ndjson":
        bad = [b'{"data_row": broken', b'{"data_row": {"id": 7}}', b"42"]
    else:
        bad = [_bad_v1(records[0], n) for n in range(3)]
    at = [3, len(records) // 2 + 5, len(records) - 2]  # first half, second half, near the end
    for i, where in enumerate(at):
        records.insert(where + i, bad[i])
    src = write(tmp_path / "export", layout, records)
    counts = both(src, tmp_path, lineage_of(layout))
    assert split_happened(tmp_path / "two")
    rejects = rows(tmp_path / "two")["rejects"]
    assert counts["rejects"] == 3
    by_position = {r["position"]: r["raw"].encode() for r in rejects}  # in the order found
    assert by_position == {where + i: bad[i] for i, where in enumerate(at)}


@pytest.mark.parametrize("layout", ["v1_lines", "v1_single_line"])
def test_invalid_json_in_the_first_half_of_an_array_takes_one_process(
    layout: str, own_fixtures: Path, tmp_path: Path
) -> None:
    records = v1_records(own_fixtures)
    records.insert(2, b'{"ID": broken')
    src = write(tmp_path / "export", layout, records)
    counts = both(src, tmp_path)
    assert counts["rejects"] == 1
    assert not split_happened(tmp_path / "two")  # the boundary is not proved: one process


@pytest.mark.parametrize("layout", ["v1_lines", "v1_single_line"])
def test_invalid_json_in_the_second_half_of_an_array_is_split(
    layout: str, own_fixtures: Path, tmp_path: Path
) -> None:
    records = v1_records(own_fixtures)
    records.insert(len(records) - 3, b'{"ID": broken')
    src = write(tmp_path / "export", layout, records)
    counts = both(src, tmp_path)
    assert counts["rejects"] == 1
    assert split_happened(tmp_path / "two")


def _raises_alike(src: Path, tmp_path: Path) -> str:
    """One and two processes raise the same error and leave no part file; its message."""
    with pytest.raises(TruncatedExportError) as one:
        flatten_file(src, tmp_path / "one", LINEAGE, processes=1)
    with pytest.raises(TruncatedExportError) as two:
        flatten_file(src, tmp_path / "two", LINEAGE, processes=2)
    assert type(two.value) is type(one.value)
    assert str(two.value) == str(one.value)
    assert not list(tmp_path.glob("*/*/part-*.parquet"))
    return str(one.value)


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda data: data.rstrip()[:-1], id="v1-without-closing-bracket"),
        pytest.param(lambda data: data[: len(data) - 40], id="v1-cut-inside-a-record"),
    ],
)
@pytest.mark.parametrize("layout", ["v1_lines", "v1_single_line"])
def test_a_cut_array_raises_as_one_process_does(
    layout: str, cut: Any, own_fixtures: Path, tmp_path: Path
) -> None:
    src = write(tmp_path / "export", layout, v1_records(own_fixtures))
    src.write_bytes(cut(src.read_bytes()))
    message = _raises_alike(src, tmp_path)
    counted = int(re.search(r"(?:after|inside record) (\d+)", message)[1])  # type: ignore[index]
    assert counted >= len(v1_records(own_fixtures)) - 1  # counted from the file's start


def test_a_cut_ndjson_raises_as_one_process_does(own_fixtures: Path, tmp_path: Path) -> None:
    src = write(tmp_path / "export.ndjson", "v2_ndjson", v2_records(own_fixtures))
    src.write_bytes(src.read_bytes()[:-30])
    message = _raises_alike(src, tmp_path)
    assert f"inside record {len(v2_records(own_fixtures)) - 1}" in message


@pytest.mark.real_corpus
@pytest.mark.parametrize("name", LEGACY_FILES)
@pytest.mark.parametrize("layout", ["v1_lines", "v1_single_line"])
def test_legacy_era_files_split_like_one_process(
    name: str, layout: str, real_fixtures: Path, tmp_path: Path
) -> None:
    """The era is decided from the file's first record and passed to the worker: a legacy
    record (``"Label": {}`` is an empty submission there) is read the same in both halves."""
    records = json.loads((real_fixtures / name).read_text())
    records = records if isinstance(records, list) else [records]
    raw = [json.dumps(r, separators=(",", ":")).encode() for r in records] * 12
    src = write(tmp_path / "export", layout, raw)
    both(src, tmp_path)
    assert split_happened(tmp_path / "two")


def test_v1_video_frames_in_both_halves(own_fixtures: Path, tmp_path: Path) -> None:
    records = json.loads((own_fixtures / "v1_video.json").read_text())
    raw = [json.dumps(r, separators=(",", ":")).encode() for r in records] * 10
    src = write(tmp_path / "export", "v1_lines", raw)
    counts = both(src, tmp_path, frames_dir=own_fixtures / "frames")
    assert counts["objects"] > 0
    assert split_happened(tmp_path / "two")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_file_too_small_to_split_takes_one_process(
    layout: str, own_fixtures: Path, tmp_path: Path
) -> None:
    src = write(tmp_path / "export", layout, records_of(own_fixtures, layout)[:1])
    counts = both(src, tmp_path, lineage_of(layout))
    assert counts["labels"] >= 1
    assert not split_happened(tmp_path / "two")


def test_automatic_mode_splits_large_files_only(
    own_fixtures: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=split.__name__)
    src = write(tmp_path / "export", "v1_lines", v1_records(own_fixtures))
    flatten_file(src, tmp_path / "small", LINEAGE)
    assert not split_happened(tmp_path / "small")  # below SPLIT_MIN_BYTES
    monkeypatch.setattr(split, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(split.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(split, "idle_cores", lambda cpus: 1.9)
    monkeypatch.setattr(split, "cpu_quota", lambda: None)  # no cgroup limit
    flatten_file(src, tmp_path / "two_cores", LINEAGE)
    assert split_happened(tmp_path / "two_cores")
    assert f"flattening {src.name} " in caplog.text and "in two processes" in caplog.text
    caplog.clear()
    monkeypatch.setattr(split, "cpu_quota", lambda: 1.5)  # a container limited to 1.5 CPUs
    flatten_file(src, tmp_path / "quota", LINEAGE)
    assert not split_happened(tmp_path / "quota")
    assert "in one process: 1.5 CPU(s) allowed (cgroup quota 1.5)" in caplog.text
    monkeypatch.setattr(split, "cpu_quota", lambda: 8.0)  # a quota above the affinity's 2
    assert split.wanted(None, 1)
    monkeypatch.setattr(split, "idle_cores", lambda cpus: 1.1)  # another process holds a core
    flatten_file(src, tmp_path / "busy", LINEAGE)
    assert not split_happened(tmp_path / "busy")
    monkeypatch.setattr(split, "idle_cores", lambda cpus: 2.0)
    monkeypatch.setattr(split.os, "sched_getaffinity", lambda pid: {0})
    flatten_file(src, tmp_path / "one_core", LINEAGE)
    assert not split_happened(tmp_path / "one_core")


def test_idle_cores_are_counted_on_the_allowed_cpus_only() -> None:
    cpus = os.sched_getaffinity(0)
    idle = split.idle_cores(cpus)
    assert 0.0 <= idle <= len(cpus) + 0.01
    assert split.idle_cores({max(cpus)}) <= 1.01  # one CPU: at most one idle core


def _cgroups(tmp_path: Path, membership: str, files: dict[str, str]) -> float | None:
    """cpu_quota() over a fake /sys/fs/cgroup (``files``: relative path -> text) and a fake
    /proc/self/cgroup (``membership``)."""
    root = tmp_path / "cgroup"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (tmp_path / "self").write_text(membership)
    return split.cpu_quota(root, tmp_path / "self")


@pytest.mark.parametrize(
    ("membership", "files", "cpus"),
    [("0::/\n", {"cpu.max": "150000 100000\n"}, 1.5),  # v2, a container's own root
     ("0::/\n", {"cpu.max": "max 100000\n"}, None),  # v2, no limit
     ("0::/kubepods/pod1/c1\n",  # v2: the tightest on the way up, here the pod's
      {"kubepods/pod1/c1/cpu.max": "max 100000", "kubepods/pod1/cpu.max": "100000 100000",
       "kubepods/cpu.max": "400000 100000"}, 1.0),
     ("1:cpu,cpuacct:/docker/abc\n0::/\n",  # v1 (a hybrid host): quota and period in us
      {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "200000",
       "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000"}, 2.0),
     ("1:cpu:/\n0::/\n",  # v1 and the hybrid unified tree: the tighter one
      {"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000",
       "unified/cpu.max": "50000 100000"}, 0.5),
     ("4:memory:/x\n1:cpu:/\n", {"cpu/cpu.cfs_quota_us": "-1"}, None),  # no period: no limit
     ("garbage\n", {}, None)],
)  # fmt: skip
def test_a_cgroup_cpu_quota_is_read_as_cpus(
    tmp_path: Path, membership: str, files: dict[str, str], cpus: float | None
) -> None:
    assert _cgroups(tmp_path, membership, files) == cpus


def test_no_cgroup_file_means_no_quota(tmp_path: Path) -> None:
    assert split.cpu_quota(tmp_path, tmp_path / "absent") is None


def test_gzip_files_take_one_process(own_fixtures: Path, tmp_path: Path) -> None:
    import gzip

    src = write(tmp_path / "export", "v1_lines", v1_records(own_fixtures))
    packed = tmp_path / "export.gz"
    packed.write_bytes(gzip.compress(src.read_bytes()))
    both(packed, tmp_path)
    assert not split_happened(tmp_path / "two")


def test_unknown_kinds_of_both_halves_are_counted_and_warned_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    future = {"feature_id": "f", "annotation_kind": "ImageHologram", "hologram": {"z": 1}}
    other = {"feature_id": "g", "annotation_kind": "ImageTesseract", "t": {}}
    records = [
        {
            "data_row": {"id": f"d{i}"},
            "projects": {
                "p": {
                    "labels": [
                        {"id": f"l{i}", "annotations": {"objects": [future if i < 5 else other]}}
                    ]
                }
            },
        }
        for i in range(20)
    ]
    src = tmp_path / "export.ndjson"
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    lineage = Lineage("p", "b-1", LINEAGE.extracted_at, None, None, "v2")
    with caplog.at_level(logging.WARNING, logger="labelbox_provider.io.flatten"):
        counts = both(src, tmp_path, lineage)
    assert split_happened(tmp_path / "two")
    assert counts.stats == {"unknown_annotation_kinds": 20}
    warned = [r.getMessage() for r in caplog.records]
    assert "unknown annotation kind 'ImageTesseract' (record 5)" in "\n".join(warned)
    assert sum("(record 5)" in m for m in warned) == 2  # once per run, the position in the file


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The worker processes the test's flatten_file calls start."""
    started: list[Any] = []
    original = split._Worker.__init__

    def record(self: Any, job: Any) -> None:
        original(self, job)
        started.append(self.proc)

    monkeypatch.setattr(split._Worker, "__init__", record)
    return started


def _inject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Run ``code`` at the start of every new interpreter (the worker's) via sitecustomize."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(code)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), *sys.path]))


def test_a_worker_that_crashes_leaves_no_part_files(
    own_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: list[Any]
) -> None:
    crash = "import os, sys\nsys.stderr.write('injected crash')\nsys.stderr.flush()\nos._exit(3)\n"
    _inject(tmp_path, monkeypatch, crash)
    src = write(tmp_path / "export", "v1_lines", v1_records(own_fixtures))
    with pytest.raises(FlattenProcessError, match="exited with code 3: injected crash"):
        flatten_file(src, tmp_path / "out", LINEAGE, processes=2)
    assert not list((tmp_path / "out").glob("*/part-*.parquet"))
    assert [proc.poll() for proc in workers] == [3]


def test_what_the_worker_prints_does_not_disturb_its_outcome(
    own_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _inject(tmp_path, monkeypatch, "print('chatter on stdout')\n")
    src = write(tmp_path / "export", "v1_lines", v1_records(own_fixtures))
    both(src, tmp_path)
    assert split_happened(tmp_path / "two")


def test_a_worker_error_is_raised_and_leaves_no_part_files(
    own_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: list[Any]
) -> None:
    code = (
        "import labelbox_provider.io.parquet as p\n"
        "def close(self):\n    raise OSError('disk full (injected)')\n"
        "p.TableSink.close = close\n"
    )
    _inject(tmp_path, monkeypatch, code)
    src = write(tmp_path / "export", "v2_ndjson", v2_records(own_fixtures))
    with pytest.raises(FlattenProcessError, match="failed: OSError: disk full"):
        flatten_file(src, tmp_path / "out", lineage_of("v2_ndjson"), processes=2)
    assert not list((tmp_path / "out").glob("*/part-*.parquet"))
    assert workers and all(proc.poll() == 0 for proc in workers)


def test_a_failure_here_kills_the_worker_and_leaves_no_part_files(
    own_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: list[Any]
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    _inject(tmp_path, monkeypatch, "import time\ntime.sleep(30)\n")  # a worker still running
    monkeypatch.setattr(split, "flatten_stream", interrupted)
    src = write(tmp_path / "export", "v1_lines", v1_records(own_fixtures))
    with pytest.raises(KeyboardInterrupt):
        flatten_file(src, tmp_path / "out", LINEAGE, processes=2)
    assert not list((tmp_path / "out").glob("*/part-*.parquet"))
    assert len(workers) == 1
    assert workers[0].poll() is not None  # killed and waited for, not left running


def _state(pid: int) -> str:
    """The process state letter (R, S, Z...), or "" once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_worker_dies_with_a_killed_parent(
    own_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal
    import subprocess
    import time

    slow = (  # in every new interpreter; only the worker calls run_worker
        "import time\n"
        "import labelbox_provider.io.split as s\n"
        "s.run_worker = lambda job: time.sleep(60)\n"
    )
    _inject(tmp_path, monkeypatch, slow)  # the worker hangs once its death signal is set
    src = write(tmp_path / "export", "v1_lines", v1_records(own_fixtures))
    code = (
        "import sys\nfrom datetime import UTC, datetime\nfrom pathlib import Path\n"
        "from labelbox_provider.io.flatten import flatten_file\n"
        "from labelbox_provider.transforms import Lineage\n"
        "lineage = Lineage('p', 'b', datetime.now(UTC), None, None)\n"
        "flatten_file(Path(sys.argv[1]), Path(sys.argv[2]), lineage, processes=2)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code, str(src), str(tmp_path / "out")])
    children = Path(f"/proc/{parent.pid}/task/{parent.pid}/children")
    deadline = time.monotonic() + 30
    workers: list[int] = []
    while not workers and time.monotonic() < deadline:
        workers = [int(c) for c in children.read_text().split()] if children.exists() else []
        time.sleep(0.05)
    assert workers, "the parent never started its worker"
    time.sleep(1.0)  # the worker has set its death signal (it hangs after that)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _state(workers[0]) not in ("", "Z", "X") and time.monotonic() < deadline:
        time.sleep(0.05)
    state = _state(workers[0])
    if state not in ("", "Z", "X"):  # an orphan: do not leave it running
        os.kill(workers[0], signal.SIGKILL)
    assert state in ("", "Z", "X")  # gone (or a zombie awaiting its reaper)


@pytest.mark.parametrize("bad", [0, 3, "2", True, 1.5, 2.0])
def test_processes_must_be_none_1_or_2(bad: object, tmp_path: Path) -> None:
    with pytest.raises(LabelboxConfigError, match="processes="):
        flatten_file(tmp_path / "missing", tmp_path / "out", LINEAGE, processes=bad)  # type: ignore[arg-type]


def test_the_worker_imports_neither_numpy_nor_pandas(tmp_path: Path) -> None:
    """What keeps the second process small: its imports (checked in a fresh interpreter)."""
    import subprocess

    code = (
        "import sys\n"
        "from labelbox_provider.io import flatten_worker\n"
        "flatten_worker._block()\n"
        "import labelbox_provider.io.split\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'airflow', 'fsspec', 'httpx', "
        "'pyarrow._s3fs') if sys.modules.get(m) is not None))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
