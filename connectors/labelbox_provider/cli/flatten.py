"""``labelbox-export flatten PATH --out DIR``: flatten one export file to Parquet tables.

The layout (v1 array, v1 single object, v2 NDJSON) is detected. One JSON line is printed on
stdout mapping each table to its row count. Exit code 0, or 2 if the file is not an export.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from labelbox_provider.exceptions import ExportFormatError
from labelbox_provider.io.jsonstream import FORMATS


def register(subparsers: Any) -> None:
    """Add the ``flatten`` subcommand to the dispatcher."""
    parser = subparsers.add_parser(
        "flatten",
        help="flatten an export file (v1 JSON or v2 NDJSON) into Parquet tables",
        description=__doc__,
    )
    parser.add_argument("path", type=Path, help="export file (v1 JSON array/object, v2 NDJSON)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (one per table)")
    parser.add_argument(
        "--project-id",
        default="",
        help="project id (default: v1 from 'View Label', v2 the record's only project)",
    )
    parser.add_argument("--format", default="auto", choices=("auto", *FORMATS))
    parser.add_argument("--frames-dir", type=Path, help="v1 video frames as <label id>.ndjson")
    parser.add_argument("--batch-id", default="cli", help="lineage batch id (default: cli)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Flatten ``args.path`` and print the row counts as one JSON line."""
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
            args.path, args.out, lineage, fmt=args.format, frames_dir=args.frames_dir
        )
    except (ExportFormatError, FileNotFoundError, IsADirectoryError) as exc:
        print(f"labelbox-export flatten: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(counts))
    return 0
