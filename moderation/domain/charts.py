"""Chart geometry for server-rendered SVG: numbers in, rectangles and ticks out.

The templates draw what these return (``<rect>``, ``<line>``, ``<text>``), coloured by CSS
classes: no script, no inline style, nothing fetched, so the page's CSP stays strict. Pure
Python, tested without an app.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Room for the axis labels, in the SVG's own units.
LEFT, RIGHT, TOP, BOTTOM = 44.0, 8.0, 10.0, 26.0


@dataclass(frozen=True)
class Bar:
    """One rectangle: where it is, which series it draws, and what it says on hover."""

    x: float
    y: float
    width: float
    height: float
    series: str
    label: str


@dataclass(frozen=True)
class Tick:
    """A labelled position along an axis."""

    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    """What a template draws: the canvas, the bars, and both axes' ticks."""

    width: float
    height: float
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (at least 1): the axis' top."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _value_ticks(top: int, plot_top: float, plot_bottom: float, count: int = 4) -> list[Tick]:
    """``count + 1`` evenly spaced ticks from 0 to ``top`` (whole numbers only)."""
    ticks = []
    for index in range(count + 1):
        value = top * index / count
        if value != int(value):
            continue
        position = plot_bottom - (plot_bottom - plot_top) * index / count
        ticks.append(Tick(round(position, 1), f"{int(value):,}"))
    return ticks


def stacked_columns(
    categories: Sequence[str],
    series: Sequence[str],
    values: Sequence[Mapping[str, int]],
    *,
    width: float = 720,
    height: float = 240,
    label_every: int = 1,
) -> Chart:
    """One column per category, ``series`` stacked bottom up in the order given.
    ``values[i][name]`` is category i's amount of series ``name``; every ``label_every``-th
    category is named under the axis."""
    plot_left, plot_right = LEFT, width - RIGHT
    plot_top, plot_bottom = TOP, height - BOTTOM
    top = nice_ceiling(max((sum(row.get(name, 0) for name in series) for row in values), default=0))
    slot = (plot_right - plot_left) / max(len(categories), 1)
    bar_width = max(slot * 0.7, 1.0)
    scale = (plot_bottom - plot_top) / top
    bars, x_ticks = [], []
    for index, (category, row) in enumerate(zip(categories, values, strict=True)):
        x = plot_left + slot * index + (slot - bar_width) / 2
        base = plot_bottom
        for name in series:
            amount = row.get(name, 0)
            if amount <= 0:
                continue
            size = amount * scale
            base -= size
            bars.append(
                Bar(
                    round(x, 1),
                    round(base, 1),
                    round(bar_width, 1),
                    round(size, 1),
                    name,
                    f"{category}: {amount:,} {name}",
                )
            )
        if index % max(label_every, 1) == 0:
            x_ticks.append(Tick(round(x + bar_width / 2, 1), category))
    return Chart(
        width,
        height,
        bars,
        x_ticks,
        _value_ticks(top, plot_top, plot_bottom),
        plot_left,
        plot_right,
        plot_top,
        plot_bottom,
    )


def horizontal_bars(
    rows: Sequence[tuple[str, int]],
    *,
    series: str = "bar",
    width: float = 720,
    row_height: float = 26,
    label_width: float = 170,
) -> Chart:
    """One bar per (label, amount) row, top to bottom, lengths on a shared scale; the
    labels go in the left margin (``x_ticks`` carry them, at each bar's middle)."""
    plot_left, plot_right = label_width, width - RIGHT - 60  # room for the amount
    plot_top = TOP
    plot_bottom = plot_top + row_height * max(len(rows), 1)
    top = nice_ceiling(max((amount for _, amount in rows), default=0))
    scale = (plot_right - plot_left) / top
    bars, labels = [], []
    for index, (label, amount) in enumerate(rows):
        y = plot_top + row_height * index
        bars.append(
            Bar(
                plot_left,
                round(y + row_height * 0.15, 1),
                round(max(amount * scale, 0), 1),
                round(row_height * 0.7, 1),
                series,
                f"{label}: {amount:,}",
            )
        )
        labels.append(Tick(round(y + row_height / 2, 1), label))
    return Chart(
        width,
        plot_bottom + BOTTOM / 2,
        bars,
        labels,
        [],
        plot_left,
        plot_right,
        plot_top,
        plot_bottom,
    )


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` percentile of ``values`` (linear between neighbours; ``None`` when
    there are none): 0.5 is the median."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)
