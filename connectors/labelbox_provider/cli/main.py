"""``labelbox-export``: a thin argparse dispatcher; each subcommand lives in its own module.

To add a subcommand, write a module in this package with ``register(subparsers)`` (which
adds a parser and sets ``func`` to a ``(args) -> int`` handler) and list it in
:data:`SUBCOMMAND_MODULES`. Modules are imported lazily, only when the command line runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMAND_MODULES: tuple[str, ...] = (
    "labelbox_provider.cli.flatten",  # labelbox-export flatten PATH --out DIR
    "labelbox_provider.cli.pull",  # labelbox-export pull (a window, or catch up to now)
    "labelbox_provider.cli.ledger",  # labelbox-export ledger (batches, watermark, gaps)
    "labelbox_provider.cli.backfill",  # labelbox-export backfill-command (fills the gaps)
    "labelbox_provider.cli.query",  # labelbox-export query (print, CSV or Parquet)
    "labelbox_provider.cli.delta",  # labelbox-export delta rebuild|update|history
    "labelbox_provider.cli.compact",  # labelbox-export compact (compacted base, retention)
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="labelbox-export", description="Incremental Parquet mirror of Labelbox exports."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return its exit code."""
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
