"""Template builtins of the one pager, templates/_pagination.html (see settings.TEMPLATES)."""

from __future__ import annotations

from django import template
from django.core.paginator import Page
from django.template.defaulttags import querystring

register = template.Library()


@register.filter
def elided_pages(page: Page) -> list:
    """The page numbers to link around `page`, with the paginator's ellipsis for the gaps."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))


@register.simple_tag(takes_context=True)
def page_url(context, number: int) -> str:
    """The link to page `number`: the request's own query with `page` replaced ({% querystring %}),
    or, when the include is given `base_query`, that one. A page cached for many requests (the
    directory) passes its normalised filters, so no visitor's stray parameters end up in it."""
    base = context.get("base_query")
    if base is None:
        url = querystring(context, page=number)
    elif base:
        url = f"?{base}&page={number}"
    else:
        url = f"?page={number}"
    anchor = context.get("anchor")
    return f"{url}#{anchor}" if anchor else url
