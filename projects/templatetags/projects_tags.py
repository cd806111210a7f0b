from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def money_short(value: Decimal | int | None) -> str:
    """1 043 071 000 → "1 043,1 M€" (localised); below a million, the full amount in euros."""
    value = Decimal(value or 0)
    if abs(value) >= 1_000_000:
        # number_format truncates decimals: round first.
        millions = (value / 1_000_000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return _("%(amount)s M€") % {"amount": number_format(millions, 1, use_l10n=True, force_grouping=True)}
    return (
        f"{number_format(value.quantize(Decimal(1), rounding=ROUND_HALF_UP), 0, use_l10n=True, force_grouping=True)} €"
    )
