"""Who may do what with members' data. Views, templates and tests use these functions."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from members.models import Organisation, Person, User


def person_of(user: User | AnonymousUser) -> Person | None:
    """The Person record attached to a login, if any."""
    if not user.is_authenticated:
        return None
    try:
        return user.person
    except Person.DoesNotExist:
        return None


def organisation_of(user: User | AnonymousUser) -> Organisation | None:
    person = person_of(user)
    return person.organisation if person and person.organisation_id else None


def is_member_contact(user: User | AnonymousUser) -> bool:
    """A login attached to a person who acts for an organisation."""
    return organisation_of(user) is not None
