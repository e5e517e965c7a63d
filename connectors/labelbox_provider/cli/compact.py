"""``labelbox-export compact``: fold a project's batches into a compacted base; expire old raw
batches with ``--expire-raw-after``."""

from __future__ import annotations

import argparse
import json
import re
from datetime import timedelta
from typing import Any

from labelbox_provider.cli._common import add_project_arg, add_root_arg, guarded
from labelbox_provider.exceptions import CliError
from labelbox_provider.io.compact import compact
from labelbox_provider.state.ledger import Ledger, list_projects

_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def duration_arg(text: str) -> timedelta:
    """``30d``, ``12h`` or ``90m`` as a timedelta (a clear error otherwise).

    >>> duration_arg("30d")
    datetime.timedelta(days=30)
    """
    match = re.fullmatch(r"(\d+)([dhm])", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 30d, 12h or 90m")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def register(subparsers: Any) -> None:
    """Register ``compact`` on the dispatcher's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "compact",
        help="fold committed batches into a compacted base (and expire old raw batches)",
        description="Fold the committed batches of a project into a compacted base so the "
        "current view reads the base plus the batches since; atomic and idempotent.",
    )
    add_root_arg(p)
    add_project_arg(p, required=False)
    p.add_argument(
        "--expire-raw-after",
        type=duration_arg,
        default=None,
        help="delete the raw files of folded batches committed longer ago than this (30d, 12h)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    """Entry point of ``labelbox-export compact``."""
    projects = [args.project] if args.project else list_projects(args.root)
    if not projects:
        raise CliError(f"no project under {args.root}")
    results = [
        compact(Ledger(args.root, pid), expire_raw_after=args.expire_raw_after) for pid in projects
    ]
    if args.json:
        print(json.dumps([r.__dict__ for r in results], indent=2, sort_keys=True))
        return 0
    for r in results:
        rows = sum(r.rows.values())
        print(
            f"{r.project_id}: folded {r.folded_batches} batches (through seq {r.through_seq}), "
            f"base {rows} rows, expired {r.expired_batches} raw batches"
        )
    return 0
