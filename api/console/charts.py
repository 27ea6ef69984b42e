"""Bar charts drawn on the server as inline SVG: no script, no library, readable without one.
Each bar is a link to the rows that make its figure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

from api.console.i18n import money

ROW = 26
LABEL_WIDTH = 190
BAR_WIDTH = 420
VALUE_WIDTH = 150


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    href: str | None = None
    tone: str = "committed"  # a CSS class: committed, disbursed, available, delivered


def bar_chart(title: str, bars: list[Bar]) -> Markup:
    """Horizontal bars scaled to the largest value, each with its label and amount."""
    if not bars:
        return Markup("")
    top = max((b.value for b in bars), default=Decimal(0)) or Decimal(1)
    height = ROW * len(bars) + 8
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>']
    for n, bar in enumerate(bars):
        y = 4 + n * ROW
        length = max(int(BAR_WIDTH * (bar.value / top)), 1 if bar.value > 0 else 0)
        shape = (
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" class="chart-label">{escape(bar.label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW - 8}" class="bar {escape(bar.tone)}"></rect>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 16}" class="chart-value">{escape(money(bar.value))}</text>'
        )
        if bar.href:
            shape = f'<a href="{escape(bar.href)}">{shape}</a>'
        parts.append(f"<g>{shape}</g>")
    parts.append("</svg>")
    return Markup("".join(parts))
