"""Personal data across the portal: one person's export, and anonymisation when they leave.

Each app that holds data about a person exposes `personal_data(person) -> dict` (a selector)
and, if it holds identity that must go, `personal_data_erase(*, person, now) -> None` (a
service). The settings list them (PERSONAL_DATA_SELECTORS, PERSONAL_DATA_ERASERS), like
AUTHENTICATION_BACKENDS: members composes them without importing das or projects, which
the layering forbids (das and members never import each other; neither imports projects).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from members.models import Person, User


def personal_data_export(*, user: User) -> dict[str, Any]:
    """Everything the portal holds about the person behind `user`, by app, JSON-serialisable."""
    from members.selectors import user_data

    data: dict[str, Any] = {"user": user_data(user)}
    person = Person.objects.filter(user=user).select_related("organisation").first()
    if person is None:
        return data
    for path in settings.PERSONAL_DATA_SELECTORS:
        data.update(import_string(path)(person))
    return data


def personal_data_erasers() -> list:
    return [import_string(path) for path in settings.PERSONAL_DATA_ERASERS]
