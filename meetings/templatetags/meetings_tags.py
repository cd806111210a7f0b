"""Template access to the meetings permission functions (the same ones views and tests use)."""

from django import template

from meetings import permissions

register = template.Library()


@register.filter
def can_use_meetings(user) -> bool:
    return permissions.can_use_meetings(user)


@register.filter
def get_item(mapping, key):
    return mapping.get(key, 0) if mapping else 0
