"""A tiny progress bar on stderr, silent when stderr is not a terminal.

No dependency: one line redrawn with ``\\r``. When the stream is not a TTY (CI logs, pipes,
tests) nothing is drawn, so captured output holds only the real results.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 28  # characters of the bar itself
MIN_REDRAW_SECONDS = 0.1  # redraw at most this often (a redraw per record would be slow)


def render_bar(done: int, total: int | None, label: str, width: int = BAR_WIDTH) -> str:
    """One line of progress text.

    >>> render_bar(1, 4, "windows", width=8)
    'windows [##......]   1/4'
    >>> render_bar(3, None, "records")
    'records 3'
    """
    if not total:
        return f"{label} {done}"
    filled = min(width, (width * done) // total)
    bar = "#" * filled + "." * (width - filled)
    digits = len(str(total))
    return f"{label} [{bar}] {done:>{digits + 2}}/{total}"


class Progress:
    """Counts work units and redraws one line on ``stream`` (stderr by default).

    Use as a context manager; :meth:`advance` adds units and :meth:`note` sets a short status
    text shown after the bar. ``enabled`` defaults to "is the stream a TTY".
    """

    def __init__(
        self,
        total: int | None,
        label: str,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._status = ""
        self._last_draw = 0.0
        self._width = 0

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, units: int = 1) -> None:
        """Add ``units`` of completed work and redraw (rate-limited)."""
        self.done += units
        self._draw(force=self.total is not None and self.done >= self.total)

    def note(self, status: str) -> None:
        """Show ``status`` after the bar (e.g. the window being exported)."""
        self._status = status
        self._draw(force=True)

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False

    def _draw(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < MIN_REDRAW_SECONDS:
            return
        self._last_draw = now
        text = render_bar(self.done, self.total, self.label)
        if self._status:
            text = f"{text}  {self._status}"
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
