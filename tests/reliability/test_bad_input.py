"""Corrupted export files and hostile records: no crash, every record flattened or rejected
with a reason, counts conserved, and a truncated file never looks complete.

Each corrupted layout goes through the real entry points: ``io.flatten.flatten_file``, the
``labelbox-export flatten`` CLI, and (for a download that arrives cut) the operator in both
modes, whose retry must download the export again. Hypothesis example counts are small here,
larger with ``LBX_SOAK=1`` (``make soak``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from labelbox_provider.cli.main import main as cli_main
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.exceptions import ExportFormatError, TruncatedExportError
from labelbox_provider.io.flatten import flatten_file
from labelbox_provider.pipeline import run as pipeline_run
from labelbox_provider.state.ledger import Ledger

from tests.io.test_flatten import LINEAGE as _LINEAGE
from tests.io.test_flatten_fuzz import VALUES
from tests.reliability import kit

pytestmark = pytest.mark.integration

FIXTURES = kit.REPO / "tests" / "fixtures" / "exports"
FUZZ_CASES = 400 if kit.SOAK else 15  # hypothesis examples per property
CUTS = 300 if kit.SOAK else 20
V1 = [json.loads(line.rstrip(",")) for line in (FIXTURES / "v1_image.json").read_text().split(
    "\n") if line.startswith("{")]  # fmt: skip
V2 = [json.loads(line) for line in (FIXTURES / "v2_image.ndjson").read_text().splitlines()]
MAIN_TABLE = {"v1": "labels", "v2": "data_rows"}  # one row per flattened record
GARBAGE = "{not json at all"
LINEAGE = dataclasses.replace(_LINEAGE, project_id="")  # the project of each record, as the CLI


def v1_per_line(records: list[Any]) -> str:
    return "[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]\n"


def v1_single_line(records: list[Any]) -> str:
    return json.dumps(records, separators=(",", ":"))


def ndjson(records: list[Any]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def v1_objects(records: list[Any]) -> str:
    return "\n".join(json.dumps(r, indent=2) for r in records) + "\n"


LAYOUTS: dict[str, tuple[str, Callable[[list[Any]], str]]] = {
    "v1-array-per-line": ("v1", v1_per_line),
    "v1-array-single-line": ("v1", v1_single_line),
    "v1-object": ("v1", v1_objects),
    "ndjson": ("v2", ndjson),
}


def flatten_both(
    src: Path, out: Path, expect: type[ExportFormatError] = TruncatedExportError
) -> tuple[dict[str, int] | None, str]:
    """Flatten ``src`` with ``flatten_file`` and with the CLI (into ``out/api``, ``out/cli``).

    Returns the counts (None when it failed with ``expect``) and the error text; both entry
    points must agree on counts or on failing, and a failure must leave no table file behind.
    """
    try:
        counts: dict[str, int] | None = dict(flatten_file(src, out / "api", LINEAGE))
        error = ""
    except expect as exc:
        counts, error = None, str(exc)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = cli_main(["flatten", str(src), "--out", str(out / "cli")])
    if counts is None:
        assert status == 2 and error in stderr.getvalue(), stderr.getvalue()
        for folder in ("api", "cli"):
            assert not list((out / folder).glob("*/*.parquet")), "a partial table was left"
    else:
        assert status == 0, stderr.getvalue()
        assert json.loads(stdout.getvalue()) == counts
    return counts, error


def rows_on_disk(out: Path, table: str) -> int:
    return sum(pq.read_metadata(p).num_rows for p in (out / table).glob("*.parquet"))


def assert_conserved(counts: dict[str, int], out: Path, records_in: int, fmt: str) -> None:
    """Records in = records flattened + rejects, on disk as in the counts, each with a reason."""
    main = MAIN_TABLE[fmt]
    assert counts[main] + counts["rejects"] == records_in, counts
    for table in (main, "rejects"):
        assert rows_on_disk(out / "api", table) == counts[table]
    rejects = pq.read_table(out / "api" / "rejects").to_pylist() if counts["rejects"] else []
    assert all(r["error"] for r in rejects)


# -- corrupted files, one by one ---------------------------------------------------------------

CUT_FILES: dict[str, Callable[[], str]] = {
    "v1-array-per-line-no-closing-bracket": lambda: v1_per_line(V1).rstrip()[:-1],
    "v1-array-single-line-no-closing-bracket": lambda: v1_single_line(V1)[:-1],
    "v1-array-per-line-cut-mid-record": lambda: v1_per_line(V1)[: len(v1_per_line(V1)) // 2],
    "v1-array-single-line-cut-mid-record": lambda: v1_single_line(V1)[:-40],
    "v1-array-cut-after-a-comma": lambda: v1_per_line(V1).rsplit("\n", 2)[0],
    "v1-object-cut-mid-record": lambda: v1_objects(V1)[:-30],
    "ndjson-cut-mid-record": lambda: ndjson(V2)[:-30],
    "ndjson-cut-in-a-number": lambda: ndjson(V2).split(".0,")[0] + ".",
    "v1-array-cut-just-after-an-inner-bracket": lambda: v1_per_line(V1).rstrip()[:-1].rsplit(
        "]", 1)[0] + "]",
}  # fmt: skip


@pytest.mark.parametrize("name", list(CUT_FILES))
def test_a_truncated_file_is_an_error_and_leaves_nothing(name: str, tmp_path: Path) -> None:
    src = tmp_path / "export.json"
    src.write_text(CUT_FILES[name](), encoding="utf-8")
    counts, error = flatten_both(src, tmp_path / "out")
    assert counts is None, f"{name}: a truncated export looked complete: {counts}"
    assert "download the export again" in error


GARBLED: dict[str, tuple[str, Callable[[], str], int]] = {
    # name: (format, file text, records in the file)
    "ndjson-garbage-line": ("v2", lambda: ndjson(V2[:1]) + GARBAGE + "\n" + ndjson(V2[1:]), 4),
    "ndjson-garbage-first-line": ("v2", lambda: GARBAGE + "\n" + ndjson(V2), 4),
    "ndjson-garbage-last-line": ("v2", lambda: ndjson(V2) + "garbage\n", 4),
    "ndjson-cut-line-then-more": ("v2", lambda: ndjson(V2)[:-30] + "\n" + ndjson(V2[:1]), 4),
    "v1-array-garbage-line": (
        "v1", lambda: "[\n" + json.dumps(V1[0]) + ",\n" + GARBAGE + "\n]", 2,
    ),
    "v1-array-garbage-first": (
        "v1", lambda: "[\n" + GARBAGE + ",\n" + json.dumps(V1[0]) + "\n]", 2,
    ),
    "v1-array-stray-bracket": (
        "v1", lambda: "[" + json.dumps(V1[0]) + ",],\n" + json.dumps(V1[1]) + "]", 3,
    ),
    "v1-array-wrong-types": ("v1", lambda: v1_per_line([7, None, "x", [V1[0]], V1[1]]), 5),
    # a malformed bracketed line (Python's json writes inf as Infinity) keeps its own ']'
    "v1-array-malformed-list-line": (
        "v1", lambda: "[\n" + json.dumps(V1[0]) + ",\n[Infinity]\n]\n", 2,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(GARBLED))
def test_a_garbled_file_rejects_what_it_cannot_read(name: str, tmp_path: Path) -> None:
    fmt, text, records_in = GARBLED[name]
    src = tmp_path / "export.json"
    src.write_text(text(), encoding="utf-8")
    counts, error = flatten_both(src, tmp_path / "out")
    assert counts is not None, error
    assert counts["rejects"] >= 1
    assert_conserved(counts, tmp_path / "out", records_in, fmt)


# -- hypothesis: hostile records in every layout, and files cut anywhere ------------------------


@st.composite
def hostile_v2(draw: st.DrawFn) -> Any:
    """A v2 record with keys dropped or given wrong types, nulls, deep values; or not a dict."""
    record = json.loads(json.dumps(draw(st.sampled_from(V2))))
    for key in draw(st.lists(st.sampled_from([*record, "data_row.id"]), max_size=3)):
        target, _, sub = key.partition(".")
        holder = record.get(target) if sub else record
        name = sub or target
        if not isinstance(holder, dict):
            continue
        if draw(st.booleans()):
            holder.pop(name, None)
        else:
            holder[name] = draw(VALUES)
    return record if draw(st.integers(0, 9)) else draw(VALUES)


@st.composite
def hostile_v1(draw: st.DrawFn) -> Any:
    from tests.io.test_flatten_fuzz import hostile

    return draw(hostile())


@pytest.mark.timeout(3000 if kit.SOAK else 300)
@settings(
    max_examples=FUZZ_CASES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    layout=st.sampled_from(list(LAYOUTS)),
    data=st.data(),
    garbage_at=st.none() | st.integers(0, 6),
)
def test_hostile_records_are_flattened_or_rejected_counts_conserved(
    tmp_path_factory: pytest.TempPathFactory, layout: str, data: Any, garbage_at: int | None
) -> None:
    fmt, render = LAYOUTS[layout]
    records = data.draw(st.lists(hostile_v2() if fmt == "v2" else hostile_v1(), max_size=6))
    if layout == "v1-object":  # bare values back to back: only objects are separable
        records = [r for r in records if isinstance(r, dict)]
    text = render(records)
    lines = len(records)
    if garbage_at is not None and layout != "v1-array-single-line":
        parts = text.split("\n")
        if layout == "ndjson":
            parts.insert(min(garbage_at, len(parts) - 1), GARBAGE)
        elif layout == "v1-array-per-line":  # between '[' and ']'
            parts.insert(1 + garbage_at % (len(parts) - 2), GARBAGE + ",")
        if len(parts) > len(text.split("\n")):
            text, lines = "\n".join(parts), lines + 1
    tmp = tmp_path_factory.mktemp("hostile")
    src = tmp / "export.json"
    src.write_text(text, encoding="utf-8")
    first = text.lstrip()[:1]
    counts, error = flatten_both(src, tmp / "out", ExportFormatError)
    if layout == "ndjson" and first == "[":
        return  # an NDJSON file whose first record is a list reads as a v1 array: ambiguous
    if layout == "ndjson" and first not in ("{", ""):  # first record not an object: refused
        assert counts is None and "starts with" in error
        return
    assert counts is not None, error  # nothing here is truncated
    if not records and lines == 0:
        return
    assert_conserved(counts, tmp / "out", lines, fmt)


@pytest.mark.timeout(3000 if kit.SOAK else 300)
@settings(
    max_examples=CUTS, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(layout=st.sampled_from(list(LAYOUTS)), cut=st.floats(0.0, 1.0, exclude_max=True))
def test_a_file_cut_anywhere_is_refused_or_fully_accounted(
    tmp_path_factory: pytest.TempPathFactory, layout: str, cut: float
) -> None:
    """A v1 array cut anywhere is refused; NDJSON or bare objects cut inside a record are
    refused; cut between records, what is left is complete and every record is counted."""
    fmt, render = LAYOUTS[layout]
    records = V2 if fmt == "v2" else V1
    whole = render(records).rstrip("\n")
    kept = whole[: int(len(whole) * cut)]
    tmp = tmp_path_factory.mktemp("cut")
    src = tmp / "export.json"
    src.write_text(kept, encoding="utf-8")
    if not kept.strip():
        return  # an empty file is an empty export (tested in tests/io)
    counts, error = flatten_both(src, tmp / "out")
    texts = [json.dumps(r, indent=2 if layout == "v1-object" else None) for r in records]
    if layout.startswith("v1-array"):
        assert counts is None, f"a v1 array cut at {len(kept)}/{len(whole)} bytes looked complete"
        return
    whole_records = sum(1 for t in texts if kept.find(t) != -1)
    ends_on_a_record = any(kept.rstrip().endswith(t) for t in texts)
    if ends_on_a_record:
        assert counts is not None, error
        assert_conserved(counts, tmp / "out", whole_records, fmt)
        assert counts["rejects"] == 0
    else:
        assert counts is None, f"{layout} cut inside a record looked complete: {counts}"


# -- a cut download through the operator: nothing committed, the retry downloads it again ------


def _cut_once(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The first export downloaded arrives cut (a proxy dropped its end with a consistent
    length, which no byte check can see): v1 loses its closing ']', v2 half its last line."""
    cut: list[Path] = []
    real = pipeline_run.download_export

    def download(*args: Any, **kwargs: Any) -> Path:
        path: Path = real(*args, **kwargs)
        data = path.read_bytes().rstrip()
        if not cut and data:
            path.write_bytes(data[:-1] if data.endswith(b"]") else data[: -len(data) // 6])
            cut.append(path)
        return path

    monkeypatch.setattr(pipeline_run, "download_export", download)
    return cut


@pytest.mark.parametrize("deferrable", [False, True], ids=["plain", "deferrable"])
@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_a_cut_download_fails_the_try_and_the_retry_downloads_again(
    fmt: str,
    deferrable: bool,
    *,
    emulator: EmulatorServer,
    reference: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LABELBOX_DEFAULT", kit.connection_json(emulator))
    project = emulator.projects[0]["id"]
    cut = _cut_once(monkeypatch)
    events: list[dict[str, Any]] = []
    with pytest.raises(TruncatedExportError) as failed:
        kit.run_task(kit.operator(emulator, tmp_path, fmt, deferrable=deferrable), emulator, events)
    assert cut, "the download was never cut: the test proved nothing"
    ledger = Ledger(str(tmp_path), project)
    assert ledger.manifests() == [] and ledger.watermark() is None  # nothing committed
    assert ledger.pending_exports(), "the pending export was forgotten: the retry re-exports"
    downloads_before = _downloads(emulator)
    result = kit.run_task(
        kit.operator(emulator, tmp_path, fmt, deferrable=deferrable), emulator, events
    )  # the retry
    assert _downloads(emulator) > downloads_before, "the retry did not download again"
    assert kit.comparable(tmp_path, emulator) == reference[fmt]
    kit.assert_ledger_consistent(tmp_path, project)
    committed = {m.window for m in Ledger(str(tmp_path), project).manifests()}
    assert len(emulator.exports_created()) <= len(committed), "the retry exported again"
    text = caplog.text + str(failed.value) + json.dumps(events) + json.dumps(result, default=str)
    assert emulator.api_key not in text and "Signature=" not in text


def _downloads(emu: EmulatorServer) -> int:
    return sum(1 for e in emu.request_log() if e.get("kind") == "download")
