"""``labelbox-export query``: read the current tables with DuckDB; print them or write a file.

Writing goes through DuckDB's ``COPY ... TO``, which streams, so exporting a large table to
CSV or Parquet never holds it in memory. Printing fetches only ``--limit`` rows.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelbox_provider.cli._common import (
    add_project_arg,
    add_root_arg,
    guarded,
    parse_time,
    positive_int,
    render_table,
)
from labelbox_provider.exceptions import CliError
from labelbox_provider.io.current import TABLES, register_current_views

if TYPE_CHECKING:
    import duckdb

OUT_FORMATS = {".csv": "csv", ".parquet": "parquet"}  # file suffix -> DuckDB COPY format
DEFAULT_LIMIT = 20  # rows printed when no --limit is given


def _table_arg(text: str) -> str:
    if text.removeprefix("raw_") not in TABLES:
        known = ", ".join(TABLES)
        raise argparse.ArgumentTypeError(
            f"unknown table {text!r}; known: {known} (prefix raw_ for every committed copy)"
        )
    return text


def _columns_arg(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise argparse.ArgumentTypeError("--columns needs at least one column name")
    return names


def build_sql(table: str | None, sql: str | None, columns: list[str] | None) -> str:
    """The SELECT to run: ``--sql`` as given, else the table (optionally some columns)."""
    if sql is not None:
        return sql.strip().rstrip(";")
    if table is None:
        raise CliError("give --table or --sql")
    cols = "*" if not columns else ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    return f"SELECT {cols} FROM {table}"


def output_format(out: Path, explicit: str | None) -> str:
    """COPY format of ``out`` (from ``--format`` or the file suffix); refused when unknown."""
    if explicit is not None:
        return explicit
    fmt = OUT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise CliError(f"cannot tell the format of {out.name!r}: use .csv or .parquet, or --format")
    return fmt


def connect(
    root: str, project_id: str | None, *, delta: bool = False, **as_of: Any
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (UTC) with ``<table>`` and ``raw_<table>`` views over the mirror;
    with ``delta``, ``<table>`` reads the Delta current tables instead (``as_of``: ``version``
    or ``as_of``, time travel)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if delta:
        _register_delta(con, root, project_id, **as_of)
    else:
        register_current_views(con, root, project_id)
    return con


def _register_delta(
    con: duckdb.DuckDBPyConnection, root: str, project_id: str | None, **as_of: Any
) -> None:
    from labelbox_provider.exceptions import DeltaTableError
    from labelbox_provider.io.delta import register_delta_views
    from labelbox_provider.state.ledger import Ledger, list_projects

    projects = [project_id] if project_id else list_projects(root)
    try:
        found = register_delta_views(con, [Ledger(root, p) for p in projects], **as_of)
    except DeltaTableError as exc:
        raise CliError(str(exc)) from None
    if not found:
        raise CliError(f"no Delta tables under {root} (run: labelbox-export delta rebuild)")


def write_query(con: duckdb.DuckDBPyConnection, sql: str, out: Path, fmt: str) -> int:
    """Stream the result of ``sql`` to ``out``; returns the number of rows written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    target = str(out).replace("'", "''")
    options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER"
    con.execute(f"COPY ({sql}) TO '{target}' ({options})")
    row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
    return int(row[0]) if row else 0


def print_query(con: duckdb.DuckDBPyConnection, sql: str, limit: int) -> str:
    """The first ``limit`` rows of ``sql`` as a text table, with the total row count."""
    rel = con.sql(sql)
    rows = rel.limit(limit).fetchall()
    total_row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
    total = int(total_row[0]) if total_row else 0
    shown = f"showing {len(rows)} of {total} rows" if total > len(rows) else f"{total} rows"
    return render_table(rel.columns, rows) + f"\n({shown})"


def register(subparsers: Any) -> None:
    """Register ``query`` on the dispatcher's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "query",
        help="query the current tables (print, or write CSV/Parquet)",
        description=(
            "Query the mirror with DuckDB. Views: one per table with the current state "
            f"({', '.join(TABLES)}) and raw_<table> with every committed copy."
        ),
    )
    add_root_arg(p)
    add_project_arg(p, required=False)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--table", type=_table_arg, help="a table (current view) or raw_<table>")
    what.add_argument("--sql", help="any SELECT over the views, e.g. 'SELECT count(*) FROM labels'")
    p.add_argument("--columns", type=_columns_arg, help="comma-separated columns (with --table)")
    p.add_argument("--limit", type=positive_int, default=DEFAULT_LIMIT, help="rows to print")
    p.add_argument("--out", type=Path, help="write every row to this .csv or .parquet file")
    p.add_argument("--format", choices=sorted(set(OUT_FORMATS.values())), help="format of --out")
    p.add_argument("--delta", action="store_true", help="read the Delta tables (docs/delta.md)")
    when = p.add_mutually_exclusive_group()
    when.add_argument(
        "--as-of-version", type=int, metavar="N", help="with --delta: each table at version N"
    )
    when.add_argument("--as-of", type=parse_time, help="with --delta: the tables as of this time")
    p.set_defaults(func=guarded(run))


def _check_delta_args(args: argparse.Namespace) -> dict[str, Any]:
    """Time-travel options of ``connect`` (refused without ``--delta``)."""
    travel = args.as_of_version is not None or args.as_of is not None
    if travel and not args.delta:
        raise CliError("--as-of-version and --as-of read Delta tables: add --delta")
    if args.as_of_version is not None and not args.project:
        raise CliError("--as-of-version needs --project (each project has its own versions)")
    if args.delta and args.table and args.table.startswith("raw_"):
        raise CliError("raw_ tables are not kept in Delta: drop --delta to read them")
    return {"version": args.as_of_version, "as_of": args.as_of}


def run(args: argparse.Namespace) -> int:
    """Entry point of ``labelbox-export query``."""
    if args.columns and args.sql:
        raise CliError("--columns goes with --table, not --sql")
    fmt = output_format(args.out, args.format) if args.out is not None else None
    sql = build_sql(args.table, args.sql, args.columns)
    as_of = _check_delta_args(args)
    import duckdb

    con = connect(args.root, args.project, delta=args.delta, **as_of)
    try:
        if args.out is not None and fmt is not None:
            rows = write_query(con, sql, args.out, fmt)
            print(f"wrote {rows} rows to {args.out}")
        else:
            print(print_query(con, sql, args.limit))
    except duckdb.Error as exc:
        raise CliError(f"query failed: {exc}") from None
    finally:
        con.close()
    return 0
