"""``labelbox-export delta``: the Delta Lake current tables of a mirror (docs/delta.md).

``delta rebuild`` writes every table from the whole current view (for a mirror that enables
Delta late, or after a schema change); ``delta update`` applies the committed batches the
tables have not seen (what each commit does when Delta is enabled); ``delta history`` lists a
table's versions with the batch each one applied (the versions ``query --as-of-version`` reads).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from labelbox_provider.cli._common import (
    add_project_arg,
    add_root_arg,
    guarded,
    positive_int,
    render_table,
)
from labelbox_provider.exceptions import CliError, DeltaTableError
from labelbox_provider.io.current import TABLES

ACTIONS = ("rebuild", "update", "history")


def register(subparsers: Any) -> None:
    """Register ``delta`` on the dispatcher's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "delta",
        help="Delta Lake current tables: rebuild, update (catch up) or show their history",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    p.add_argument("action", choices=ACTIONS, help="what to do")
    add_root_arg(p)
    add_project_arg(p, required=False)
    p.add_argument("--table", choices=TABLES, default="labels", help="table (history; labels)")
    p.add_argument("--limit", type=positive_int, default=20, help="versions shown (history; 20)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=guarded(run))


def _projects(args: argparse.Namespace) -> list[str]:
    from labelbox_provider.state.ledger import list_projects

    projects = [args.project] if args.project else list_projects(args.root)
    if not projects:
        raise CliError(f"no project under {args.root}")
    return projects


def history_rows(root: str, project_id: str, table: str, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` versions of one Delta table: version, time, operation, batch."""
    from datetime import UTC, datetime

    from labelbox_provider.io.delta import META, open_delta_table
    from labelbox_provider.state.ledger import Ledger

    dt = open_delta_table(Ledger(root, project_id), table)
    if dt is None:
        raise CliError(f"project {project_id} has no Delta table {table} (run delta rebuild)")
    return [
        {
            "version": h["version"],
            "timestamp": datetime.fromtimestamp(h["timestamp"] / 1000, UTC),
            "operation": h.get(META + "operation", h.get("operation")),
            "batch_id": h.get(META + "batch_id"),
            "attempt": h.get(META + "attempt"),
        }
        for h in dt.history(limit)
    ]


def _print_history(args: argparse.Namespace, project_id: str) -> None:
    from labelbox_provider.state.codec import to_builtins

    rows = history_rows(args.root, project_id, args.table, args.limit)
    if args.json:
        print(json.dumps(to_builtins({"project_id": project_id, "versions": rows})))
        return
    print(f"project {project_id}, Delta table {args.table}:")
    print(render_table(list(rows[0]) if rows else [], [list(r.values()) for r in rows]))


def _write(args: argparse.Namespace, project_id: str) -> None:
    from labelbox_provider.io.delta import rebuild_delta_tables, update_delta_tables
    from labelbox_provider.state.ledger import Ledger

    act = rebuild_delta_tables if args.action == "rebuild" else update_delta_tables
    done = act(Ledger(args.root, project_id))
    summary = {"rebuilt": done.rebuilt, "applied": {t: len(b) for t, b in done.applied.items()}}
    print(json.dumps({"project_id": project_id, "action": args.action, **summary}))


def run(args: argparse.Namespace) -> int:
    """Entry point of ``labelbox-export delta``."""
    for project_id in _projects(args):
        try:
            if args.action == "history":
                _print_history(args, project_id)
            else:
                _write(args, project_id)
        except DeltaTableError as exc:
            raise CliError(str(exc)) from None
    return 0
