"""Helpers shared by the ``labelbox-export`` subcommands: arguments, times, plain-text tables."""

from __future__ import annotations

import argparse
import functools
import io
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from labelbox_provider.exceptions import CliError
from labelbox_provider.state.windows import isoformat
from labelbox_provider.utc import to_utc

MAX_CELL = 40  # widest a cell is printed before it is cut with an ellipsis
_PROJECT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # Labelbox cuids and the emulator's ids


Handler = Callable[[argparse.Namespace], int]


def guarded(handler: Handler) -> Handler:
    """Turn user errors into ``labelbox-export: error: ...`` on stderr and an exit status.

    Argument and configuration errors exit with 2 (nothing was sent); errors talking to
    Labelbox exit with 1. Messages from the hook are already redacted; they are passed through
    :func:`~labelbox_provider.hooks.redact.redact` again in case a URL slipped in.
    """

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        from labelbox_provider.exceptions import LabelboxConfigError, LabelboxError, WindowError
        from labelbox_provider.hooks.redact import redact

        try:
            return handler(args)
        except (CliError, LabelboxConfigError, WindowError) as exc:
            print(f"labelbox-export: error: {redact(str(exc))}", file=sys.stderr)
            return 2
        except LabelboxError as exc:
            print(f"labelbox-export: {type(exc).__name__}: {redact(str(exc))}", file=sys.stderr)
            return 1
        except BrokenPipeError:  # e.g. piped into `head`: stop quietly, like other tools
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1

    return run


def quiet_airflow_import(verbose: bool) -> None:
    """Before Airflow's first import: its start-up logs below WARNING only with ``--verbose``."""
    import os

    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO" if verbose else "WARNING")


class _CurrentStderr(io.TextIOBase):
    """A text stream that writes to whatever ``sys.stderr`` is at the time of each write.

    Logging set up on it keeps working when ``sys.stderr`` is later replaced (by a test
    runner's capture, say) instead of writing to a stream that has since been closed.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def route_logs(verbose: bool) -> None:
    """Keep stdout for results: logs go to stderr, and below WARNING only with ``--verbose``.

    Importing Airflow sets its logging up on stdout at INFO; this redoes that setup on stderr.
    Call it once per process, from a command's entry point (it changes process-wide logging).
    """
    from airflow.sdk.log import configure_logging

    configure_logging(
        output=_CurrentStderr(),
        log_level="INFO" if verbose else "WARNING",
    )


def parse_time(text: str) -> datetime:
    """A command-line time: ``now``, ``YYYY-MM-DD`` or ISO 8601; no offset means UTC.

    >>> parse_time("2024-03-01").isoformat()
    '2024-03-01T00:00:00+00:00'
    >>> parse_time("2024-03-01T12:30:00+02:00").isoformat()
    '2024-03-01T10:30:00+00:00'
    """
    value = text.strip()
    if value.lower() == "now":
        return datetime.now(UTC).replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: use now, YYYY-MM-DD or ISO 8601 (e.g. 2024-03-01T00:00:00Z)"
        ) from None
    return to_utc(parsed, naive_is_utc=True)


def project_id_arg(text: str) -> str:
    """Validate a project id before any request (no slashes, spaces or empty ids)."""
    if not _PROJECT_ID.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a Labelbox project id (letters, digits, '-' and '_' only)"
        )
    return text


def positive_int(text: str) -> int:
    """A strictly positive integer argument."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def add_root_arg(parser: argparse.ArgumentParser) -> None:
    """``--root``: where the mirror lives (local folder or fsspec URL)."""
    parser.add_argument(
        "--root",
        required=True,
        help="mirror location: a local folder or an fsspec URL (s3://bucket/prefix, gs://...)",
    )


def add_project_arg(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """``--project``: one Labelbox project id."""
    parser.add_argument(
        "--project",
        required=required,
        type=project_id_arg,
        help="Labelbox project id" + ("" if required else " (default: every project in --root)"),
    )


def add_gap_range_args(parser: argparse.ArgumentParser) -> None:
    """``--start`` / ``--until``: the range searched for gaps."""
    parser.add_argument(
        "--start", type=parse_time, help="look for gaps from here (default: the initial start)"
    )
    parser.add_argument(
        "--until", type=parse_time, help="look for gaps up to here (default: the last batch end)"
    )


def fmt_time(value: datetime | None) -> str:
    """A timestamp for humans and for copy-paste (ISO, UTC, ``Z``), or ``-``."""
    if value is None:
        return "-"
    text = isoformat(value)
    return text.replace(".000000Z", "Z")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return fmt_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value).replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def render_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows as an aligned plain-text table with a header rule.

    >>> print(render_table(["a", "bb"], [(1, "x"), (22, None)]))
    a   bb
    --  --
    1   x
    22
    """
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
