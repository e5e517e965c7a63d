"""Pure helpers of the CLI: time parsing, tables, the progress bar."""

from __future__ import annotations

import argparse
import io
from datetime import UTC, datetime

import pytest
from labelbox_provider.cli._common import parse_time, project_id_arg, render_table
from labelbox_provider.cli.progress import Progress, render_bar

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2024-03-01", datetime(2024, 3, 1, tzinfo=UTC), id="date"),
        pytest.param("2024-03-01T05:06:07Z", datetime(2024, 3, 1, 5, 6, 7, tzinfo=UTC), id="z"),
        pytest.param("2024-03-01T05:00:00-01:00", datetime(2024, 3, 1, 6, tzinfo=UTC), id="off"),
        pytest.param("2024-03-01 05:00", datetime(2024, 3, 1, 5, tzinfo=UTC), id="naive-is-utc"),
    ],
)
def test_parse_time(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected


def test_parse_time_now_is_aware() -> None:
    assert parse_time("now").tzinfo is not None


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01", ""])
def test_parse_time_refuses(bad: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="is not a time"):
        parse_time(bad)


@pytest.mark.parametrize("bad", ["", "a/b", "has space", "x" * 65])
def test_project_id_refuses(bad: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        project_id_arg(bad)


def test_render_table_cuts_long_cells() -> None:
    text = render_table(["c"], [("x" * 100,)])
    assert text.splitlines()[2] == "x" * 39 + "…"


def test_progress_is_silent_when_not_a_tty() -> None:
    stream = io.StringIO()  # isatty() is False
    with Progress(3, "windows", stream=stream) as bar:
        bar.advance()
        bar.note("exporting")
    assert stream.getvalue() == ""


def test_progress_draws_when_enabled() -> None:
    stream = io.StringIO()
    with Progress(2, "windows", stream=stream, enabled=True) as bar:
        bar.advance(2)
    final = stream.getvalue().split("\r")[-1]
    assert final.strip() == render_bar(2, 2, "windows").strip()
    assert final.endswith("\n")
    assert "#" * 28 in final
