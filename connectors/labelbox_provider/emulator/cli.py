"""``labelbox-emulator``: run the Labelbox API emulator from the command line.

``labelbox-emulator serve`` prints exactly one JSON line on stdout once the server accepts
requests -- ``{"url", "api_key", "projects": [{"id", "name", "media_type"}], "control_url",
"base_url"}`` -- and then serves until SIGINT/SIGTERM. Logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["build_parser", "main"]


def _project(text: str) -> dict[str, Any]:
    media, sep, labels = text.partition(":")
    if not sep or not labels.isdigit():
        raise argparse.ArgumentTypeError(f"expected MEDIA:LABELS (e.g. IMAGE:10000), got {text!r}")
    return {"media_type": media.strip().upper(), "labels": int(labels)}


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--start is not ISO 8601: {exc}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _faults(text: str) -> list[dict[str, Any]]:
    raw = Path(text[1:]).read_text() if text.startswith("@") else text
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"--faults is not valid JSON: {exc}") from exc
    rules = data.get("rules", data) if isinstance(data, dict) else data
    if not isinstance(rules, list):
        raise argparse.ArgumentTypeError("--faults expects a JSON list of rules")
    return rules


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    parser = argparse.ArgumentParser(prog="labelbox-emulator", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the emulated API until interrupted")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    serve.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    serve.add_argument("--seed", type=int, default=0, help="world and fault seed")
    serve.add_argument("--labels-per-project", type=int, default=None)
    serve.add_argument(
        "--media-types", default=None, help="comma separated, e.g. IMAGE,VIDEO (one project each)"
    )
    serve.add_argument(
        "--project",
        action="append",
        type=_project,
        default=None,
        metavar="MEDIA:LABELS",
        help="a project (repeatable); overrides media types",
    )
    serve.add_argument("--history-days", type=int, default=None)
    serve.add_argument(
        "--clock",
        choices=["wall", "fixed"],
        default="wall",
        help="wall (default): the clock follows real time and the history ends now; "
        "fixed: reproducible, moves only through the control endpoint (see --start)",
    )
    serve.add_argument(
        "--start",
        type=_instant,
        default=None,
        help="history start, ISO 8601 (default: fixed 2026-01-01; wall: now - history days)",
    )
    serve.add_argument("--index-lag-seconds", type=float, default=None)
    serve.add_argument(
        "--v1-era",
        choices=["2019", "2020", "2021", "2022", "2023"],
        default=None,
        help="key set of v1 records",
    )
    serve.add_argument("--user-timezone", default=None, help="the API user's timezone (IANA)")
    serve.add_argument("--v1-polls", type=int, default=None)
    serve.add_argument("--v2-polls", type=int, default=None)
    serve.add_argument("--chunk-size", type=int, default=None, help="bytes per v2 chunk")
    serve.add_argument("--url-ttl-seconds", type=float, default=None)
    serve.add_argument("--v1-cache-seconds", type=float, default=None)
    serve.add_argument("--auth-mode", choices=["graphql", "http401"], default=None)
    serve.add_argument(
        "--faults", type=_faults, default=[], help="JSON list of fault rules, or @file"
    )
    serve.add_argument(
        "--api-key",
        default=None,
        help="accept this API key instead of the seed's (e.g. a key preset in docker-compose)",
    )
    serve.add_argument(
        "--public-url",
        default=None,
        help="base URL clients reach the server at, used in the URLs it hands out "
        "(default http://<bound host>:<port>; set it when binding 0.0.0.0 in a container)",
    )
    serve.add_argument("--log-level", default="WARNING")
    return parser


def _server_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "seed": args.seed,
        "faults": args.faults,
        "clock": args.clock,
    }
    optional = {
        "labels_per_project": args.labels_per_project,
        "projects": args.project,
        "history_days": args.history_days,
        "start": args.start,
        "index_lag_seconds": args.index_lag_seconds,
        "v1_era": args.v1_era,
        "user_timezone": args.user_timezone,
        "v1_polls": args.v1_polls,
        "v2_polls": args.v2_polls,
        "chunk_size": args.chunk_size,
        "url_ttl_seconds": args.url_ttl_seconds,
        "v1_cache_seconds": args.v1_cache_seconds,
        "auth_mode": args.auth_mode,
        "api_key": args.api_key,
        "public_url": args.public_url,
    }
    if args.media_types:
        optional["media_types"] = tuple(m.strip().upper() for m in args.media_types.split(","))
    kwargs.update({k: v for k, v in optional.items() if v is not None})
    return kwargs


def serve(args: argparse.Namespace) -> int:
    """Start the server, print the ready line, wait for a signal."""
    from labelbox_provider.emulator.server.runner import EmulatorServer

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with EmulatorServer(**_server_kwargs(args)) as emu:
        ready = {
            "url": emu.url,
            "api_key": emu.api_key,
            "projects": emu.projects,
            "control_url": emu.control_url,
            "base_url": emu.base_url,
        }
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        logging.getLogger("labelbox_provider.emulator").info("serving on %s", emu.base_url)
        stop.wait()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``labelbox-emulator`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
