"""Writes of an organisation's own contacts, made by its primary contact (or staff): add and invite
a colleague, change roles, remove. An organisation always keeps at least one primary contact.

Every change is saved through the model (not a bulk update), so django-auditlog records it with
the person who made it (the request's user, set by its middleware).
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from members import services
from members.models import Organisation, Person, User

logger = logging.getLogger(__name__)

ROLE_FIELDS = ("is_primary_contact", "is_billing_contact", "is_scientific_contact", "is_communication_contact")


def _lock_contacts(organisation: Organisation) -> list[Person]:
    """Lock the organisation's current contacts, so two primary contacts demoting each other at
    the same moment cannot leave it with none."""
    return list(
        Person.objects.select_for_update().filter(organisation=organisation, anonymised_at__isnull=True).order_by("pk")
    )


def _check_a_primary_remains(contacts: list[Person], *, changed: Person, still_primary: bool) -> None:
    others = [person for person in contacts if person.pk != changed.pk and person.is_primary_contact]
    if not others and not still_primary:
        raise ValidationError(
            _("%(organisation)s must keep at least one primary contact: name another one first.")
            % {"organisation": changed.organisation},
            code="last_primary",
        )


@transaction.atomic
def contact_add(
    *, organisation: Organisation, by: User, first_name: str, last_name: str, email: str, roles: dict[str, bool]
) -> Person:
    """Add a colleague to the organisation and send them the signed invitation to an account."""
    email = User.objects.normalize_email(email).lower()
    if Person.objects.filter(organisation=organisation, email__iexact=email, anonymised_at__isnull=True).exists():
        raise ValidationError(_("%(email)s is already a contact of your organisation.") % {"email": email}, code="dup")
    person = Person(organisation=organisation, first_name=first_name, last_name=last_name, email=email)
    for name in ROLE_FIELDS:
        setattr(person, name, bool(roles.get(name)))
    person.full_clean()
    person.save()
    services.person_invite(person=person, by=by)
    logger.info("%s added %s to %s", by, person, organisation)
    return person


@transaction.atomic
def contact_invite(*, person: Person, by: User) -> User:
    """(Re)send the signed invitation to a contact who has no password yet."""
    return services.person_invite(person=person, by=by)


@transaction.atomic
def contact_set_roles(*, person: Person, by: User, roles: dict[str, bool]) -> Person:
    """Change a colleague's roles; the last primary contact cannot stop being one."""
    contacts = _lock_contacts(person.organisation)
    locked = next((contact for contact in contacts if contact.pk == person.pk), None)
    if locked is None:
        raise ValidationError(_("This person is no longer a contact of the organisation."), code="gone")
    _check_a_primary_remains(contacts, changed=locked, still_primary=bool(roles.get("is_primary_contact")))
    for name in ROLE_FIELDS:
        setattr(locked, name, bool(roles.get(name)))
    locked.full_clean()
    locked.save()
    logger.info("%s changed the roles of %s", by, locked)
    return locked


@transaction.atomic
def contact_remove(*, person: Person, by: User) -> Person:
    """Remove a colleague from the organisation: they keep their person record (past records point
    to it) and their login, without roles or access to the organisation. Never the last primary contact."""
    contacts = _lock_contacts(person.organisation)
    locked = next((contact for contact in contacts if contact.pk == person.pk), None)
    if locked is None:
        raise ValidationError(_("This person is no longer a contact of the organisation."), code="gone")
    _check_a_primary_remains(contacts, changed=locked, still_primary=False)
    organisation = locked.organisation
    locked.organisation = None
    for name in ROLE_FIELDS:
        setattr(locked, name, False)
    locked.full_clean()
    locked.save()
    logger.info("%s removed %s from %s", by, locked, organisation)
    return locked
