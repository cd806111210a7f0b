"""Bar charts rendered on the server as SVG geometry (no JavaScript, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.humanize.templatetags.humanize import intcomma

WIDTH = 640
LABEL_WIDTH = 220
BAR_HEIGHT = 22
GAP = 8


@dataclass
class Bar:
    label: str
    value_text: str
    y: int
    width: int
    text_y: int
    value_x: int


def _money(value: Decimal | int) -> str:
    return f"{intcomma(round(value))} €"


def bar_chart(rows: list[tuple[str, Decimal | int]], *, money: bool = False) -> dict:
    """Horizontal bars scaled to the largest value; the template draws them in an <svg>."""
    largest = max((value for _label, value in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 110
    bars = []
    for index, (label, value) in enumerate(rows):
        y = index * (BAR_HEIGHT + GAP)
        width = max(1, int(span * float(value) / float(largest))) if value else 0
        bars.append(
            Bar(
                label=label[:32],
                value_text=_money(value) if money else intcomma(value),
                y=y,
                width=width,
                text_y=y + BAR_HEIGHT - 6,
                value_x=LABEL_WIDTH + width + 6,
            )
        )
    return {
        "bars": bars,
        "width": WIDTH,
        "height": max(BAR_HEIGHT, len(rows) * (BAR_HEIGHT + GAP)),
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "label_x": LABEL_WIDTH - 8,
    }
