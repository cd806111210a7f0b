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
    """Delivery reasons are stored in English; show them in the reader's language."""
    return gettext(reason) if reason else ""


@register.filter
def get_item(mapping, key):
    return mapping.get(key, 0) if mapping else 0
