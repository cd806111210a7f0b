"""Who may do what in the DAS governance pages."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from das.models import Mandate


def is_kol(user: AnonymousUser) -> bool:
    """A key opinion leader: a login whose person holds a current governance mandate."""
    if not user.is_authenticated:
        return False
    return Mandate.objects.current().filter(person__user=user).exists()
