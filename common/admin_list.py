"""The rows of an admin changelist, as Django's `{% result_list %}` renders them, for a fraction of its work.

Django's `items_for_result` does, for each of the page's cells (50 rows by 8 columns), what
depends only on the column: it looks the field up, builds the cell's class, flattens the
field's choices and builds a dict of their (lazy, so translated again) labels, reverses the
row's change address and resolves it again to merge the preserved filters. At 100,000
organisations that was a third of a changelist page's CPU. `fast_results(cl)` does the
per-column work once per page and per cell only what depends on the row; a column it does not
know how to do that for (a method, a relation, an editable list, a popup) falls back to
Django's own rows, so the output is the same HTML whatever `list_display` becomes
(common/tests/test_admin_list.py compares both).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _coerce_field_name,
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

PK_PLACEHOLDER = "__pk__"
# Exactly these types (a URLField is a CharField that display_for_field turns into a link).
PLAIN_TEXT_FIELDS = (models.CharField, models.TextField, models.EmailField, models.SlugField)


def _column(cl, field_name, index: int, link_tag: str) -> Callable | None:
    """A function (row -> the cell's HTML) for one column, or None if this column needs Django's own code."""
    model_admin = cl.model_admin
    empty = model_admin.get_empty_value_display()
    if field_name == "action_checkbox" and not link_tag:
        method = model_admin.action_checkbox
        return lambda row: format_html('<td class="action-checkbox">{}</td>', method(row))
    if not isinstance(field_name, str) or (link_tag and cl.is_popup):
        return None
    try:
        field = cl.lookup_opts.get_field(field_name)
    except FieldDoesNotExist:
        return None  # a method or property of the admin or the model: Django's code decides
    if field.is_relation or field.auto_created or field.attname != field.name:
        return None
    classes = ["field-" + _coerce_field_name(field_name, index)]
    if isinstance(field, (models.DateField, models.TimeField)):
        classes.append("nowrap")
    cell_class = ' class="{}"'.format(" ".join(classes))
    name = field.name
    if field.flatchoices:
        # Django flattens the choices and translates their labels again for every cell.
        labels = {value: conditional_escape(label) for value, label in field.flatchoices}

        def display(value):
            try:
                return labels.get(value, conditional_escape(empty))
            except TypeError:  # unhashable (list-like choices): Django's own way
                return conditional_escape(display_for_field(value, field, empty))

    elif type(field) in PLAIN_TEXT_FIELDS:
        # What display_for_field comes to for text, after a dozen type checks.
        empty_html = conditional_escape(empty)

        def display(value):
            return empty_html if value in field.empty_values else conditional_escape(str(value))

    else:

        def display(value):
            return conditional_escape(display_for_field(value, field, empty, avoid_link=bool(link_tag)))

    if not link_tag:

        def cell(row):
            value = getattr(row, name)
            if isinstance(value, str) and value.strip() == "":
                value = ""
            # The class is made of field names; the value is escaped by display().
            return mark_safe(f"<td{cell_class}>{display(value)}</td>")  # noqa: S308  # nosec B308 B703

        return cell
    return _link_column(cl, name, cell_class, display, tag=link_tag)


def _link_column(cl, name: str, cell_class: str, display: Callable, *, tag: str) -> Callable | None:
    """A column that links to each row's change page (a th for the first such column, as Django's)."""
    opts = cl.opts
    if not isinstance(cl.lookup_opts.pk, models.IntegerField):
        return None  # other keys are escaped by reverse(): Django's code
    try:
        template = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=(PK_PLACEHOLDER,),
            current_app=cl.model_admin.admin_site.name,
        )
    except NoReverseMatch:
        return None
    # The preserved filters make the same query string for every row: merged once, not resolved per row.
    with_filters = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": opts}, template)
    if cl.to_field or not with_filters.startswith(template) or PK_PLACEHOLDER in with_filters[len(template) :]:
        return None
    prefix, suffix = template.split(PK_PLACEHOLDER, 1)
    suffix += with_filters[len(template) :]
    pk_name = cl.pk_attname

    def cell(row):
        value = getattr(row, name)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        url = conditional_escape(f"{prefix}{getattr(row, pk_name)}{suffix}")
        html = f'<{tag}{cell_class}><a href="{url}">{display(value)}</a></{tag}>'  # the address is escaped too
        return mark_safe(html)  # noqa: S308  # nosec B308 B703

    return cell


def _links(cl) -> list[str]:
    """For each column, the tag of its cell if it links to the change page ("th" for the first), else ""."""
    found, first = [], True
    for field_name in cl.list_display:
        if cl.list_display_links is None:
            link = False
        elif first and not cl.list_display_links:
            link = True
        else:
            link = field_name in cl.list_display_links
        found.append(("th" if first else "td") if link else "")
        first = first and not link
    return found


def fast_results(cl) -> Iterator[ResultList]:
    """The changelist's rows, each one piece of HTML, or Django's own rows for a list this cannot do."""
    columns = [
        _column(cl, field_name, index, link)
        for index, (field_name, link) in enumerate(zip(cl.list_display, _links(cl), strict=True))
    ]
    if cl.formset or not all(columns):
        yield from results(cl)
        return
    for row in cl.result_list:
        cells = "".join([column(row) for column in columns])  # each one safe already
        yield ResultList(None, [mark_safe(cells)])  # noqa: S308  # nosec B308 B703


def fast_result_list(cl) -> dict:
    """The context of `admin/change_list_results.html`, as Django's `result_list` makes it, with `fast_results`."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": list(fast_results(cl)),
    }
