"""``labelbox-export query`` on a hand-made mirror: printing, CSV and Parquet output."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.integration

PROJECT = "proj-cli-1"  # the project of the gappy_mirror fixture

Runner = Callable[..., tuple[int, str, str]]


def test_query_prints_current_labels(gappy_mirror: Path, run_cli: Runner) -> None:
    code, out, _ = run_cli(
        "query", "--root", str(gappy_mirror), "--table", "labels",
        "--columns", "label_id,data_row_id",
    )  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["label_id", "data_row_id"]
    assert sorted(line.split()[0] for line in lines[2:-1]) == ["L1", "L3", "L4"]
    assert lines[-1] == "(3 rows)"  # L2 left D1's later snapshot


def test_query_limit_and_raw_view(gappy_mirror: Path, run_cli: Runner) -> None:
    code, out, _ = run_cli(
        "query", "--root", str(gappy_mirror), "--project", PROJECT,
        "--table", "raw_labels", "--limit", "2",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines()[-1] == "(showing 2 of 5 rows)"  # L1 twice in the raw table


def test_query_sql_to_csv(gappy_mirror: Path, tmp_path: Path, run_cli: Runner) -> None:
    out_file = tmp_path / "out" / "per_row.csv"
    sql = "SELECT data_row_id, count(*) AS n FROM labels GROUP BY 1 ORDER BY 1"
    code, out, _ = run_cli(
        "query", "--root", str(gappy_mirror), "--sql", sql, "--out", str(out_file)
    )
    assert code == 0
    assert out.strip() == f"wrote 3 rows to {out_file}"
    with out_file.open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [
        {"data_row_id": "D1", "n": "1"},
        {"data_row_id": "D2", "n": "1"},
        {"data_row_id": "D3", "n": "1"},
    ]


def test_query_table_to_parquet(gappy_mirror: Path, tmp_path: Path, run_cli: Runner) -> None:
    out_file = tmp_path / "labels.parquet"
    code, _, _ = run_cli(
        "query", "--root", str(gappy_mirror), "--table", "labels", "--out", str(out_file)
    )
    assert code == 0
    table = pq.read_table(out_file)
    assert sorted(table.column("label_id").to_pylist()) == ["L1", "L3", "L4"]
    batch_of = dict(zip(table["label_id"].to_pylist(), table["batch_id"].to_pylist(), strict=True))
    assert batch_of["L1"].startswith("incremental-v2-20240302T")  # the day-1 copy won


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        pytest.param(["--table", "nope"], "unknown table 'nope'", id="unknown-table"),
        pytest.param(
            ["--table", "labels", "--out", "x.xlsx"], "cannot tell the format", id="bad-out"
        ),
        pytest.param(["--table", "labels", "--limit", "0"], "must be positive", id="bad-limit"),
        pytest.param(["--sql", "SELECT * FROM nowhere"], "query failed", id="bad-sql"),
        pytest.param(["--sql", "SELECT 1", "--columns", "a"], "--columns goes with", id="cols-sql"),
    ],
)
def test_query_bad_arguments(
    gappy_mirror: Path, run_cli: Runner, argv: list[str], needle: str
) -> None:
    code, out, err = run_cli("query", "--root", str(gappy_mirror), *argv)
    assert code == 2
    assert needle in err
    assert out == ""
