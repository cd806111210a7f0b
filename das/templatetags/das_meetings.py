"""Template access to the das permission functions (the same ones views and tests use)."""

from django import template

from das import permissions

register = template.Library()


@register.filter
def can_use_meetings(user) -> bool:
    return permissions.can_use_meetings(user)


@register.filter
def get_item(mapping, key):
    return mapping.get(key, 0) if mapping else 0
