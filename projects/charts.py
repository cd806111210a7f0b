"""Bar charts rendered on the server as SVG geometry (no JavaScript, no CDN).

Each chart is drawn twice, and CSS shows one: a wide layout (label left of its bar) for
screens from 576 px, and a narrow one (label above its bar, 340 units wide) for phones. An SVG
scales as a whole, so the wide one squeezed onto a 390 px phone would print its 12 px labels
at about 7 px; the narrow one is drawn at nearly the width it is shown at, so its labels stay
at 12 to 13 px and are not cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.humanize.templatetags.humanize import intcomma

WIDTH = 640
LABEL_WIDTH = 220
BAR_HEIGHT = 22
GAP = 8
VALUE_ROOM = 110  # right of the longest bar, for its value

NARROW_WIDTH = 340
NARROW_LABEL_HEIGHT = 16  # the label's line, above its bar
NARROW_BAR_HEIGHT = 16
NARROW_GAP = 10
NARROW_VALUE_ROOM = 100


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


def _scaled(value: Decimal | int, largest: Decimal | int, span: int) -> int:
    return max(1, int(span * float(value) / float(largest))) if value else 0


def bar_chart(rows: list[tuple[str, Decimal | int]], *, money: bool = False) -> dict:
    """Horizontal bars scaled to the largest value, in both layouts; the template draws them in <svg>s."""
    largest = max((value for _label, value in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_ROOM
    narrow_span = NARROW_WIDTH - NARROW_VALUE_ROOM
    bars, narrow_bars = [], []
    for index, (label, value) in enumerate(rows):
        value_text = _money(value) if money else intcomma(value)
        y = index * (BAR_HEIGHT + GAP)
        width = _scaled(value, largest, span)
        bars.append(
            Bar(
                label=label[:32],
                value_text=value_text,
                y=y,
                width=width,
                text_y=y + BAR_HEIGHT - 6,
                value_x=LABEL_WIDTH + width + 6,
            )
        )
        row_top = index * (NARROW_LABEL_HEIGHT + NARROW_BAR_HEIGHT + NARROW_GAP)
        narrow_width = _scaled(value, largest, narrow_span)
        narrow_bars.append(
            Bar(
                label=label[:48],
                value_text=value_text,
                y=row_top + NARROW_LABEL_HEIGHT,
                width=narrow_width,
                text_y=row_top + NARROW_LABEL_HEIGHT - 4,
                value_x=narrow_width + 6,
            )
        )
    rows_height = len(rows) * (NARROW_LABEL_HEIGHT + NARROW_BAR_HEIGHT + NARROW_GAP)
    return {
        "bars": bars,
        "width": WIDTH,
        "height": max(BAR_HEIGHT, len(rows) * (BAR_HEIGHT + GAP)),
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "label_x": LABEL_WIDTH - 8,
        "narrow": {
            "bars": narrow_bars,
            "width": NARROW_WIDTH,
            "height": max(NARROW_LABEL_HEIGHT + NARROW_BAR_HEIGHT, rows_height),
            "bar_height": NARROW_BAR_HEIGHT,
            "value_dy": NARROW_BAR_HEIGHT - 4,
        },
    }
