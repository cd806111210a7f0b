"""The `elided_pages` filter behind templates/_pagination.html (a template builtin, see settings.TEMPLATES)."""

from __future__ import annotations

from django import template
from django.core.paginator import Page

register = template.Library()


@register.filter
def elided_pages(page: Page) -> list:
    """The page numbers to link around `page`, with the paginator's ellipsis for the gaps."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
