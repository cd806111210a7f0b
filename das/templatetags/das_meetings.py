"""Template access to the das permission functions (the same ones views and tests use)."""

from django import template
from django.utils.translation import gettext

from das import permissions

register = template.Library()


@register.filter
def can_use_meetings(user) -> bool:
    return permissions.can_use_meetings(user)


@register.filter
def reason_text(reason: str) -> str:
    """A delivery's reason in the reader's language: a skip code's label, or a note stored in English."""
    from das.models import Delivery

    if reason in Delivery.SkipReason.values:
        return str(Delivery.SkipReason(reason).label)
    return gettext(reason) if reason else ""


@register.filter
def get_item(mapping, key):
    return mapping.get(key, 0) if mapping else 0
