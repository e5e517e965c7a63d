"""``labelbox-export flatten``: export files to Parquet tables.

``flatten FILE --out DIR`` flattens one export file (v1 JSON array or object, v2 NDJSON, either
gzip-compressed; the layout is detected) into one folder per table, and prints one JSON line
mapping each table to its row count. ``flatten PATH... --root MIRROR`` loads files and folders
of archived exports into a mirror (``query``, the current view and the warehouse loads read it
like any other): each file one batch recorded in the ledger with its name and checksum, so a
re-run skips what is loaded and a changed file replaces its batch; one JSON line per file.
``--processes 2`` flattens each file with two processes (``auto``, the default: for a file of
256 MB or more when a second core is idle; see ``flatten_file``).
Exit code 0, or 2 if a file is not an export (the other files are still loaded).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from labelbox_provider.exceptions import ExportFormatError, FlattenProcessError
from labelbox_provider.io.jsonstream import FORMATS


def register(subparsers: Any) -> None:
    """Add the ``flatten`` subcommand to the dispatcher."""
    parser = subparsers.add_parser(
        "flatten",
        help="flatten export files (v1 JSON, v2 NDJSON, gzip) into Parquet tables or a mirror",
        description=__doc__,
    )
    parser.add_argument("paths", nargs="+", type=Path, help="export files or folders of them")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="output folder of one file (one per table)")
    where.add_argument("--root", help="mirror to load the files into (folder or fsspec URL)")
    parser.add_argument(
        "--project-id",
        default="",
        help="project id (default: v1 from 'View Label', v2 the record's only project)",
    )
    parser.add_argument("--format", default="auto", choices=("auto", *FORMATS))
    parser.add_argument("--frames-dir", type=Path, help="v1 video frames as <label id>.ndjson")
    parser.add_argument("--batch-id", default="cli", help="lineage batch id of --out (cli)")
    parser.add_argument(
        "--delta", action="store_true", help="with --root: also update the Delta current tables"
    )
    parser.add_argument(
        "--processes",
        choices=("auto", "1", "2"),
        default="auto",
        help="processes flattening one file: 2 splits it at a record near its middle (~75 MB "
        "more memory); auto (default) takes 2 for a file of 256 MB or more when two cores are "
        "allowed and 1.5 of them idle",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Flatten one file into ``--out``, or load every file into ``--root``."""
    if args.root is not None:
        return _load(args)
    if len(args.paths) != 1 or args.paths[0].is_dir():
        print(
            "labelbox-export flatten: --out takes one file; use --root for several", file=sys.stderr
        )
        return 2
    return _flatten_one(args, args.paths[0])


def _flatten_one(args: argparse.Namespace, path: Path) -> int:
    from labelbox_provider.io.flatten import flatten_file
    from labelbox_provider.transforms import Lineage

    lineage = Lineage(
        project_id=args.project_id,
        batch_id=args.batch_id,
        extracted_at=datetime.now(UTC),  # CLI use only: operators pass the export's time
        window_start=None,
        window_end=None,
    )
    try:
        counts = flatten_file(
            path,
            args.out,
            lineage,
            fmt=args.format,
            frames_dir=args.frames_dir,
            processes=processes_of(args),
        )
    except (ExportFormatError, FlattenProcessError, FileNotFoundError, IsADirectoryError) as exc:
        print(f"labelbox-export flatten: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(counts))
    return 0


def processes_of(args: argparse.Namespace) -> int | None:
    """``--processes`` as ``flatten_file`` takes it (None: automatic)."""
    return None if args.processes == "auto" else int(args.processes)


def _load(args: argparse.Namespace) -> int:
    from labelbox_provider.exceptions import DeltaTableError, LabelboxConfigError

    if args.delta:
        from labelbox_provider.io.delta import require_deltalake

        try:
            require_deltalake()  # before any file is loaded
        except LabelboxConfigError as exc:
            print(f"labelbox-export flatten: {exc}", file=sys.stderr)
            return 2
    try:
        return _load_files(args)
    except DeltaTableError as exc:  # that file's batch is committed; its Delta update failed
        print(f"labelbox-export flatten: {exc}", file=sys.stderr)
        return 1


def _load_files(args: argparse.Namespace) -> int:
    from labelbox_provider.cli.progress import Progress
    from labelbox_provider.pipeline.archive import archive_files, load_archive

    try:
        files = archive_files(args.paths)
    except FileNotFoundError as exc:
        print(f"labelbox-export flatten: {exc}", file=sys.stderr)
        return 2
    failed = 0
    with Progress(len(files), "files") as bar:
        loads = load_archive(
            args.root,
            files,
            project_id=args.project_id or None,
            delta_tables=args.delta,
            processes=processes_of(args),
        )
        for result in loads:
            bar.advance()
            if isinstance(result, tuple):
                item, error = result
                failed += 1
                print(f"labelbox-export flatten: {item.name}: {error}", file=sys.stderr)
                continue
            bar.note(f"{result.status} {result.name}")
            line = {"file": result.name, "status": result.status, "batch_id": result.batch_id}
            print(json.dumps({**line, "project_id": result.project_id, "counts": result.counts}))
    return 2 if failed else 0
