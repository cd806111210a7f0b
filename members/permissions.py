"""Who may do what with members' data. Views, templates and tests use these functions.

Who sees which organisation is said once, as querysets: `visible_organisations` (public pages;
the directory lists `Organisation.objects.listed()`, the same rule) and `private_organisations`
(membership and contacts); the object checks and the access helpers filter them
(members/tests/test_visibility.py).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

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


def private_organisations(user: User | AnonymousUser) -> QuerySet[Organisation]:
    """Whose private side (membership, contacts) `user` sees: staff every organisation; every contact
    of an organisation (whatever their role) their own."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    if user.is_staff:
        return Organisation.objects.all()
    person = person_of(user)
    if person is None or person.organisation_id is None:
        return Organisation.objects.none()
    return Organisation.objects.filter(pk=person.organisation_id)


def visible_organisations(user: User | AnonymousUser) -> QuerySet[Organisation]:
    """Whose public page `user` sees: the members listed in the directory (`listed()`, the directory's
    own rule), for everyone; an unlisted one only for those who see its private side."""
    return Organisation.objects.listed() | private_organisations(user)


def can_view_organisation_private(user: User | AnonymousUser, organisation: Organisation) -> bool:
    return private_organisations(user).filter(pk=organisation.pk).exists()


def can_view_organisation(user: User | AnonymousUser, organisation: Organisation) -> bool:
    return visible_organisations(user).filter(pk=organisation.pk).exists()


def can_edit_organisation_profile(user: User | AnonymousUser, organisation: Organisation) -> bool:
    """Staff, and the organisation's primary or communication contacts, edit its public profile."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    person = person_of(user)
    return (
        person is not None
        and person.organisation_id == organisation.pk
        and (person.is_primary_contact or person.is_communication_contact)
    )


def get_organisation_for_user(user: User | AnonymousUser, slug: str) -> Organisation:
    """The organisation's private side (membership, contacts, profile form): 404 for everyone else."""
    organisation = private_organisations(user).filter(slug=slug).first()
    if organisation is None:
        raise Http404
    return organisation


def get_public_organisation(user: User | AnonymousUser, slug: str) -> Organisation:
    """An organisation's public page: listed members for everyone, unlisted ones only for their contacts and staff."""
    organisation = visible_organisations(user).filter(slug=slug).prefetch_related("das_interests").first()
    if organisation is None:
        raise Http404
    return organisation


# --- Billing and colleagues (members/billing_views.py) ------------------------------------


def _contact_of(user: User | AnonymousUser, organisation: Organisation) -> Person | None:
    person = person_of(user)
    if person is None or person.organisation_id != organisation.pk or person.anonymised_at is not None:
        return None
    return person


def can_see_billing(user: User | AnonymousUser, organisation: Organisation) -> bool:
    """Amounts, invoices and what is due: staff, and the organisation's billing and primary contacts."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    person = _contact_of(user, organisation)
    return person is not None and (person.is_billing_contact or person.is_primary_contact)


def can_edit_billing_details(user: User | AnonymousUser, organisation: Organisation) -> bool:
    """The billing address and purchase-order number: the same people who see the invoices."""
    return can_see_billing(user, organisation)


def can_manage_contacts(user: User | AnonymousUser, organisation: Organisation) -> bool:
    """Inviting colleagues, changing their roles, removing them: staff and the primary contacts."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    person = _contact_of(user, organisation)
    return person is not None and person.is_primary_contact
