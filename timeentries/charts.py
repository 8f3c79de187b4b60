"""A stacked bar chart as inline SVG, drawn on the server: no JavaScript, no build step, and
it prints and works offline."""

from collections.abc import Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Distinguishable on white and in greyscale print, Okabe-Ito's colour-blind-safe palette.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#999999",
)


def stacked_bars(
    columns: Sequence[date],
    series: Sequence[tuple[str, dict[date, float]]],
    *,
    title: str,
    width: int = 760,
    height: int = 280,
) -> SafeString:
    """One bar per column (a week), one coloured segment per series (a project), in hours;
    a legend below. Every text is escaped."""
    left, right, top, bottom = 44, 12, 24, 40
    legend_rows = (len(series) + 2) // 3
    full_height = height + legend_rows * 18 + 8
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values.get(c, 0.0) for _, values in series) for c in columns]
    peak = max(totals, default=0.0) or 1.0
    step = _nice_step(peak)
    scale_top = step * (int(peak / step) + 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="uurwerk-chart" role="img" '
        f'width="{width}" height="{full_height}" viewBox="0 0 {width} {full_height}" '
        f'font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
    ]
    tick = 0.0
    while tick <= scale_top + 1e-9:
        y = top + plot_h - tick / scale_top * plot_h
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{tick:g}h</text>'
        )
        tick += step
    slot = plot_w / max(len(columns), 1)
    bar_w = max(min(slot * 0.7, 48), 2)
    for index, column in enumerate(columns):
        x = left + index * slot + (slot - bar_w) / 2
        y = top + plot_h
        for number, (label, values) in enumerate(series):
            hours = values.get(column, 0.0)
            if hours <= 0:
                continue
            h = hours / scale_top * plot_h
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[number % len(PALETTE)]}">'
                f"<title>{escape(label)}, week of {column:%Y-%m-%d}: {hours:.2f} h</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
            f'fill="#333">{column:%d %b}</text>'
        )
    for number, (label, _) in enumerate(series):
        lx = left + (number % 3) * (plot_w / 3)
        ly = height + (number // 3) * 18
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" '
            f'fill="{PALETTE[number % len(PALETTE)]}"/>'
            f'<text x="{lx + 14:.1f}" y="{ly}" fill="#333">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _nice_step(peak: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000):
        if peak / step <= 6:
            return float(step)
    return float(10 ** len(str(int(peak))))
