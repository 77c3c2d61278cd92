"""Inline SVG charts for the HTML report: no script, no server, no CDN.

Each function returns one ``<svg>`` element as text, escaped, sized in
user units so the browser scales it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["bar_chart", "heat_grid", "histogram"]

WIDTH, HEIGHT, PAD = 640, 260, 40


def _svg(body: str, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" font-family="sans-serif" font-size="11">{body}</svg>'
    )


def bar_chart(values: Sequence[tuple[str, float]]) -> str:
    """Vertical bars, one per (label, value)."""
    if not values:
        return _svg('<text x="10" y="20">no data</text>', 40)
    top = max(value for _, value in values) or 1.0
    step = (WIDTH - 2 * PAD) / len(values)
    bars = []
    for i, (label, value) in enumerate(values):
        h = (HEIGHT - 2 * PAD) * value / top
        x = PAD + i * step
        bars.append(
            f'<rect x="{x + 2:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{step - 4:.1f}" '
            f'height="{h:.1f}" fill="#3b6ea8"><title>{escape(label)}: {value:,.2f}</title></rect>'
            f'<text x="{x + step / 2:.1f}" y="{HEIGHT - PAD + 14}" text-anchor="middle">'
            f"{escape(label[:12])}</text>"
        )
    return _svg("".join(bars))


def histogram(values: Sequence[float], buckets: int = 20) -> str:
    """The distribution of ``values`` in equal-width buckets."""
    if not values:
        return bar_chart([])
    low, high = min(values), max(values)
    width = (high - low) / buckets or 1.0
    counts = [0] * buckets
    for value in values:
        counts[min(int((value - low) / width), buckets - 1)] += 1
    return bar_chart([(f"{low + i * width:,.0f}", float(n)) for i, n in enumerate(counts)])


def heat_grid(
    cells: Mapping[tuple[str, str], float], rows: Sequence[str], columns: Sequence[str]
) -> str:
    """A table of shaded cells; darker is larger. Used for the RFM grid and cohorts."""
    if not rows or not columns:
        return bar_chart([])
    top = max(cells.values(), default=0.0) or 1.0
    cell_w = (WIDTH - 2 * PAD) / len(columns)
    cell_h = min(28.0, (HEIGHT - 2 * PAD) / len(rows))
    parts = []
    for j, column in enumerate(columns):
        x = PAD + j * cell_w + cell_w / 2
        parts.append(
            f'<text x="{x:.1f}" y="{PAD - 6}" text-anchor="middle">{escape(column)}</text>'
        )
    for i, row in enumerate(rows):
        y = PAD + i * cell_h
        parts.append(
            f'<text x="{PAD - 4}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end">'
            f"{escape(row)}</text>"
        )
        for j, column in enumerate(columns):
            value = cells.get((row, column), 0.0)
            shade = 0.08 + 0.92 * value / top
            parts.append(
                f'<rect x="{PAD + j * cell_w:.1f}" y="{y:.1f}" width="{cell_w - 1:.1f}" '
                f'height="{cell_h - 1:.1f}" fill="#3b6ea8" fill-opacity="{shade:.2f}">'
                f"<title>{escape(row)} / {escape(column)}: {value:g}</title></rect>"
            )
    return _svg("".join(parts), int(PAD * 2 + cell_h * len(rows)))
