"""Charts drawn on the server as inline SVG: no script, no network, readable without either.

Each chart is a list of labelled values drawn as horizontal bars (the value written beside each bar,
so the numbers stay readable in any renderer and to screen readers through the SVG's <title>s).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

ROW = 22  # px per bar
LABEL = 150  # px for the labels
BAR = 230  # px for the longest bar
TEXT = 90  # px for the value beside a bar


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown ("12.5 %", "3 d 4 h")
    mark: bool = False  # drawn in the warning colour (above a target)


def bars(title: str, items: list[Bar], target: float | None = None) -> Markup:
    """A horizontal bar chart; `target` draws a dashed line at that value."""
    top = max([b.value for b in items] + [target or 0, 0])
    scale = BAR / top if top > 0 else 0
    height = ROW * max(len(items), 1) + 8
    width = LABEL + BAR + TEXT
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, b in enumerate(items):
        y = 4 + i * ROW
        w = max(b.value * scale, 1 if b.value else 0)
        fill = "#9a3b00" if b.mark else "#0b4f8a"
        out.append(
            f"<g><title>{escape(b.label)}: {escape(b.text)}</title>"
            f'<text x="{LABEL - 6}" y="{y + 14}" text-anchor="end" font-size="12">{escape(b.label[:22])}</text>'
            f'<rect x="{LABEL}" y="{y + 3}" width="{w:.1f}" height="{ROW - 8}" fill="{fill}"/>'
            f'<text x="{LABEL + w + 4:.1f}" y="{y + 14}" font-size="12">{escape(b.text)}</text></g>'
        )
    if target is not None and scale:
        x = LABEL + target * scale
        out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="#8c1d24" stroke-dasharray="4 3"/>')
    out.append("</svg>")
    return Markup("".join(out))


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def duration(seconds: int | None) -> str:
    """Seconds as days and hours (or minutes under an hour)."""
    if seconds is None:
        return "—"
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3_600)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min"
