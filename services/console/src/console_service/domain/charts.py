"""Bar charts as inline SVG, drawn on the server: no script, nothing to build, and a
strict Content-Security-Policy still shows them. Pure; every label is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Final

COLOURS: Final = {
    "ok": "#2e7d32",
    "deduped": "#81c784",
    "parked": "#f9a825",
    "failed": "#c62828",
    "api_calls": "#1565c0",
}


def stacked_bars(
    title: str,
    slots: Sequence[str],
    values: Mapping[str, Mapping[str, float]],
    series: Sequence[str],
    *,
    limit: float | None = None,
    width: int = 720,
    height: int = 160,
) -> str:
    """One bar per slot, stacked by series; a dashed line at `limit` when given."""
    totals = [sum(values.get(s, {}).get(k, 0.0) for k in series) for s in slots]
    top = max([*totals, limit or 0.0, 1.0])
    gap, left, bottom = 2, 40, 18
    bar = max(1.0, (width - left) / max(1, len(slots)) - gap)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" '
        f'height="{height + bottom}" viewBox="0 0 {width} {height + bottom}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="12" font-size="10">{_short(top)}</text>',
        f'<text x="0" y="{height}" font-size="10">0</text>',
    ]
    for i, slot in enumerate(slots):
        x = left + i * (bar + gap)
        y = float(height)
        for key in series:
            amount = values.get(slot, {}).get(key, 0.0)
            if amount <= 0:
                continue
            h = amount / top * (height - 14)
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS.get(key, "#555")}"><title>{escape(slot)} {escape(key)}: '
                f"{_short(amount)}</title></rect>"
            )
    if limit is not None:
        y = height - limit / top * (height - 14)
        parts.append(
            f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c62828" '
            'stroke-dasharray="4 3"><title>budget</title></line>'
        )
    if slots:
        parts.append(
            f'<text x="{left}" y="{height + 14}" font-size="10">{escape(slots[0])}</text>'
            f'<text x="{width}" y="{height + 14}" font-size="10" text-anchor="end">'
            f"{escape(slots[-1])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _short(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
