"""A horizontal bar chart drawn with plain characters, for terminals and logs."""

from __future__ import annotations

from collections.abc import Sequence

CHART_WIDTH = 40  # characters of the longest bar
BAR_CHAR = "#"  # plain ASCII so the chart survives any terminal, log or e-mail


def bar_chart(rows: Sequence[tuple[str, int]], *, width: int = CHART_WIDTH, unit: str = "") -> str:
    """One line per ``(label, value)``: the label, a bar scaled to the largest value, the value.

    A non-zero value always gets at least one character, so small days stay visible.

    >>> print(bar_chart([("mon", 4), ("tue", 0), ("wed", 2)], width=4))
    mon  #### 4
    tue       0
    wed  ##   2
    """
    if not rows:
        return "(no data)"
    top = max(value for _, value in rows)
    label_width = max(len(label) for label, _ in rows)
    lines = []
    for label, value in rows:
        length = 0 if top <= 0 or value <= 0 else max(1, round(width * value / top))
        bar = (BAR_CHAR * length).ljust(width)
        suffix = f" {unit}" if unit else ""
        lines.append(f"{label.ljust(label_width)}  {bar} {value}{suffix}")
    return "\n".join(lines)
