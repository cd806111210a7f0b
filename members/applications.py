"""Joining online: an organisation applies at /join/, staff approve or decline (docs/members.md, "Joining").

Deciding claims the row with a conditional update (submitted → approved/declined), so a double
click or two staff at once decide once: the second caller finds it decided and changes nothing.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from members import services
from members.imports import probable_duplicates_many
from members.models import MembershipApplication, Organisation, Person, User
from members.selectors import directory_changed
from outbox.services import message_enqueue

logger = logging.getLogger(__name__)

Status = MembershipApplication.Status


class AlreadyDecided(ValidationError):
    def __init__(self, application: MembershipApplication) -> None:
        super().__init__(
            _("This application was already %(status)s.") % {"status": application.get_status_display().lower()},
            code="decided",
        )


def application_duplicates(applications) -> dict[int, list]:
    """The probable duplicates of each application of a page (organisations and other applications), in two queries."""
    return probable_duplicates_many(
        ((a.pk, a.organisation_name, a.siren, a.organisation_id) for a in applications), model=MembershipApplication
    )


def _mail(application: MembershipApplication, *, key: str, subject: str, template: str) -> dict:
    with translation.override(application.language or settings.LANGUAGE_CODE):
        return {
            "key": key,
            "kind": f"members.{template}",
            "to": [application.email],
            "subject": str(subject),
            "body": render_to_string(f"members/emails/{template}.txt", {"application": application}),
            "language": application.language,
        }


@transaction.atomic
def application_submit(*, data: dict, das_interests=(), language: str) -> MembershipApplication:
    """Record an application from the public page and send the acknowledgement (once, through the outbox)."""
    application = MembershipApplication(**data, language=language, consented_at=timezone.now())
    application.full_clean()
    application.save()
    application.das_interests.set(das_interests)
    with translation.override(language):
        subject = _("Your application to join Medicen Paris Region")
    message_enqueue(
        **_mail(application, key=f"join-application:{application.pk}:ack", subject=subject, template="join_ack")
    )
    logger.info("membership application %s from %s", application.pk, application.organisation_name)
    return application


def _claim(application: MembershipApplication, *, to: str, by: User, reason: str = "") -> bool:
    """Move the application out of "submitted"; False if another caller already decided it."""
    now = timezone.now()
    claimed = MembershipApplication.objects.filter(pk=application.pk, status=Status.SUBMITTED).update(
        status=to, decided_by=by, decided_at=now, reason=reason
    )
    if claimed != 1:
        application.refresh_from_db()
        return False
    application.status, application.decided_by, application.decided_at, application.reason = to, by, now, reason
    # A conditional update bypasses django-auditlog's signals: recorded here, with who decided.
    from auditlog.models import LogEntry

    LogEntry.objects.log_create(
        application,
        action=LogEntry.Action.UPDATE,
        changes={"status": [Status.SUBMITTED.value, to], "reason": ["", reason]},
        actor=by,
    )
    return True


def _unique_slug(name: str) -> str:
    base = slugify(name)[:240] or "organisation"
    taken = set(Organisation.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


@transaction.atomic
def application_approve(*, application: MembershipApplication, by: User) -> MembershipApplication:
    """Approve: the organisation as a prospect, its first membership year pending (the fee grid's fee),
    the contact as its primary contact with the signed account invitation. Idempotent: approving an
    approved application does nothing; a declined one cannot be approved.

    Refused (nothing written) when an organisation already has the SIREN, or the grid has no fee.
    """
    if not _claim(application, to=Status.APPROVED, by=by):
        if application.status == Status.APPROVED:
            return application
        raise AlreadyDecided(application)
    owner = Organisation.objects.filter(siren=application.siren).first()
    if owner is not None:
        raise ValidationError(
            _("%(name)s already has the SIREN %(siren)s: add the contact to it instead, and decline this application.")
            % {"name": owner.name, "siren": application.siren},
            code="siren_taken",
        )
    organisation = Organisation(
        name=application.organisation_name,
        slug=_unique_slug(application.organisation_name),
        category=application.category,
        siren=application.siren,
        headcount=application.headcount,
        status=Organisation.Status.PROSPECT,
    )
    organisation.full_clean()
    organisation.save()
    organisation.das_interests.set(application.das_interests.all())
    services.membership_year_open(organisation=organisation, year=timezone.localdate().year)
    person = Person(
        organisation=organisation,
        first_name=application.first_name,
        last_name=application.last_name,
        email=application.email,
        position=application.position,
        is_primary_contact=True,
    )
    person.full_clean()
    person.save()
    email = User.objects.normalize_email(application.email).lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None and user.has_usable_password() and not Person.objects.filter(user=user).exists():
        # Already a login (a KOL, say) acting for no organisation: it becomes this contact's; no invitation needed.
        Person.objects.filter(pk=person.pk).update(user=user)
    else:
        if user is None:
            # Created here so the invitation goes out in the language the applicant used.
            user = User.objects.create_user(
                email=email, first_name=person.first_name, last_name=person.last_name, language=application.language
            )
            person.user = user
        services.person_invite(person=person, by=by)
    MembershipApplication.objects.filter(pk=application.pk).update(organisation=organisation)
    application.organisation = organisation
    directory_changed()
    logger.info("%s approved application %s: %s", by, application.pk, organisation)
    return application


@transaction.atomic
def application_decline(*, application: MembershipApplication, by: User, reason: str) -> MembershipApplication:
    """Decline with a reason, sent to the applicant in a polite e-mail (once). Idempotent as approval is."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give the reason: it is sent to the applicant."), code="reason")
    if not _claim(application, to=Status.DECLINED, by=by, reason=reason):
        if application.status == Status.DECLINED:
            return application
        raise AlreadyDecided(application)
    with translation.override(application.language or settings.LANGUAGE_CODE):
        subject = _("Your application to join Medicen Paris Region")
    message_enqueue(
        **_mail(
            application, key=f"join-application:{application.pk}:declined", subject=subject, template="join_declined"
        )
    )
    logger.info("%s declined application %s", by, application.pk)
    return application
