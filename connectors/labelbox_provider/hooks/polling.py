"""The one polling schedule: start fast, double, cap at the poll interval.

An export that finishes in a second costs about a second, not a whole ``poll_interval``; a
long export is still polled only every ``poll_interval`` seconds once the delays reach it.
Used by the hook's own waits and by the export lifecycle (both modes).
"""

from __future__ import annotations

from collections.abc import Iterator

FIRST_POLL_DELAY = 0.5  # seconds before the second status call (then doubling)


def poll_delays(poll_interval: float, first: float = FIRST_POLL_DELAY) -> Iterator[float]:
    """Seconds to wait between status calls: ``first``, doubling, capped at ``poll_interval``.

    >>> from itertools import islice
    >>> list(islice(poll_delays(5.0), 6))
    [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    >>> list(islice(poll_delays(0.1), 3))
    [0.1, 0.1, 0.1]
    """
    delay = min(first, poll_interval)
    while True:
        yield delay
        delay = min(delay * 2, poll_interval)
