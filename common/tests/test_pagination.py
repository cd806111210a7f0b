"""The one pager (templates/_pagination.html): keeps the other query parameters and elides long ranges."""

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory


def _render(query: str, number: int, *, anchor: str = "") -> str:
    page = Paginator(range(1000), 10).get_page(number)
    request = RequestFactory().get(f"/list/?{query}")
    return render_to_string("_pagination.html", {"page": page, "anchor": anchor}, request=request)


def test_links_keep_the_filters_and_replace_the_page():
    html = _render("status=submitted&q=r%C3%A9gion&page=5", 5)
    assert 'href="?status=submitted&amp;q=r%C3%A9gion&amp;page=4"' in html  # previous
    assert 'href="?status=submitted&amp;q=r%C3%A9gion&amp;page=6"' in html  # next
    assert 'aria-current="page"' in html


def test_a_hundred_pages_are_elided_around_the_current_one():
    html = _render("", 50)
    assert "…" in html
    assert "page=100" in html and 'page=1"' in html
    assert "page=30" not in html


def test_one_page_renders_nothing_and_the_anchor_is_kept():
    assert 'page=2#detail"' in _render("", 1, anchor="detail")
    one = Paginator(range(3), 10).get_page(1)
    assert "pagination" not in render_to_string("_pagination.html", {"page": one})


def test_a_cached_page_links_with_its_normalised_filters_only():
    page = Paginator(range(1000), 10).get_page(2)
    request = RequestFactory().get("/directory/?q=bio&utm_source=newsletter&page=2")
    html = render_to_string("_pagination.html", {"page": page, "base_query": "q=bio"}, request=request)
    assert 'href="?q=bio&amp;page=3"' in html
    assert "utm_source" not in html
