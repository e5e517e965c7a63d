"""The dlt contender of ``make bench``: the same records loaded by dlt to a local filesystem
destination as Parquet, with dlt's default nesting (child tables). Runs in its own venv
(``.venv-dlt``, made by ``make bench``); it imports only dlt, msgspec and, to split a
single-line array as cheaply as the flattener does, this project's ``io/jsonstream.py``.

    .venv-dlt/bin/python benchmarks/dlt_contender.py --src FILE --out DIR [--workers N]

Prints one JSON line: seconds in total and per dlt step, and rows per table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "connectors"))

import dlt
import msgspec
import pyarrow.parquet  # noqa: F401
from labelbox_provider.io.jsonstream import iter_decoded

# v2 metadata values are numbers, strings, ISO timestamps or {schema_id, schema_name} enums in
# the same column: left to inference, dlt types the strings' variant column as a timestamp from
# the first one it sees and then fails on "cam-0" (CannotCoerceColumnException on
# labels__metadata_fields.value__v_text). Declared text, every scalar lands in one column, as
# the flattener's metadata table keeps it. v1 files have no such nested table: the hint is unused.
NESTED_HINTS: dict[str | tuple[str, ...], Any] = {
    "metadata_fields": dlt.mark.make_nested_hints(columns=[{"name": "value", "data_type": "text"}])
}


def records(path: Path) -> Iterator[Any]:
    """Each record of the file: one per line (a decode each), or split from any array."""
    decode = msgspec.json.Decoder().decode
    with path.open("rb", buffering=1 << 20) as fp:
        head = fp.read(1 << 16).lstrip()
        fp.seek(0)
        if head[:1] == b"[" and b"\n" not in head.rstrip(b"\n"):  # a single-line array
            yield from (r.value for r in iter_decoded(fp, "v1_array") if r.error is None)
            return
        for line in fp:
            record = line.strip().rstrip(b",")
            if record[:1] == b"{":
                yield decode(record)


def main() -> None:
    """Extract, normalize and load the file with dlt; print the figures."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--src", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--workers", type=int, default=1, help="dlt normalize workers (its default)")
    a = p.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    a.out.mkdir(parents=True)
    t0, cpu0 = time.perf_counter(), time.process_time()
    pipe = dlt.pipeline(
        pipeline_name="lbx_bench",
        pipelines_dir=str(a.out / ".dlt"),
        destination=dlt.destinations.filesystem(bucket_url=(a.out / "data").as_uri()),
        dataset_name="lbx",
    )
    resource = dlt.resource(
        records(a.src),
        name="labels",
        write_disposition="append",
        nested_hints=NESTED_HINTS,
    )
    pipe.extract(resource, loader_file_format="parquet")
    t1 = time.perf_counter()
    norm = pipe.normalize(workers=a.workers)
    t2 = time.perf_counter()
    pipe.load()
    t3 = time.perf_counter()
    rows = getattr(norm, "row_counts", {}) or {}
    result = {
        "dlt": dlt.__version__,
        "seconds": t3 - t0,
        "cpu": time.process_time() - cpu0,
        "extract_s": t1 - t0,
        "normalize_s": t2 - t1,
        "load_s": t3 - t2,
        "rows": sum(v for k, v in rows.items() if not k.startswith("_dlt")),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
