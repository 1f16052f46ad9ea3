"""A bar chart's geometry for the reports, computed here and drawn by the template as inline SVG: no chart library,
no script, no inline style (the console's CSP allows neither); the SVG uses presentation attributes only.

Every bar has its label and value, so the same data gives the chart's text alternative (a table beside it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 320  # the viewBox: the chart scales to the page's width (a 360 px phone, or wider)
HEIGHT = 160
AXIS = 18  # room under the bars for the labels
TOP = 14  # room above the tallest bar for its value


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    show_label: bool  # every label when they fit, else every few (24 hours: 0, 3, 6, ...)

    @property
    def middle(self) -> float:
        return round(self.x + self.width / 2, 2)


@dataclass(frozen=True)
class BarChart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    baseline: float
    peak: int


def bar_chart(
    labels: Sequence[str], values: Sequence[int], *, width: int = WIDTH, height: int = HEIGHT
) -> BarChart:
    """Bars of equal width with a small gap, heights in proportion to the largest value (all zero: no height)."""
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels for {len(values)} values")
    if any(v < 0 for v in values):
        raise ValueError("a bar chart counts things: no negative values")
    count = len(values)
    peak = max(values, default=0)
    baseline = float(height - AXIS)
    room = baseline - TOP
    slot = width / count if count else 0.0
    gap = min(2.0, slot * 0.2)
    every = max(1, -(-count // 12))  # at most 12 labels under the axis
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        tall = room * value / peak if peak else 0.0
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(i * slot + gap / 2, 2),
                y=round(baseline - tall, 2),
                width=round(slot - gap, 2),
                height=round(tall, 2),
                show_label=i % every == 0,
            )
        )
    return BarChart(tuple(bars), width, height, baseline, peak)
