"""Writes of the calls app: deadline reminders through the outbox, and unsubscribing from them.

Reminders: for each published call still taking proposals and each offset of
CALLS_REMINDER_DAYS (e.g. 30 and 7 days before the internal deadline), once that moment has
come and for at most CALLS_REMINDER_WINDOW_HOURS after it (a call published late does not
fire its 30-day reminder 12 days before the deadline), one e-mail goes
- to each contact holding a draft for the call (the draft's proposer), and
- to the primary and scientific contacts of the active members interested in one of the call's
  areas (every area when the call names none), unless they unsubscribed,
except to organisations whose proposal for the call is already submitted. Each e-mail has the
outbox key `call-reminder:<call>:<days>:<person>`, so a scan run twice, or two scans at once,
send it once; the outbox claims, sends and retries it.

The proposals are read through the `projects` reverse relation of the call (calls come before
projects in the dependency order and never import them).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from calls.models import Call, Unsubscription
from members.models import Organisation, Person
from outbox.models import Message
from outbox.services import Mail, messages_enqueue

UNSUBSCRIBE_SALT = "calls.unsubscribe"
KIND = "call-reminder"
SENT_STATUSES = ("draft", "withdrawn")  # proposals *not* yet sent to the cluster (or given up)


def unsubscribe_token(person: Person) -> str:
    """A signed, non-expiring token naming the person: the link in every announcement."""
    return signing.dumps(person.pk, salt=UNSUBSCRIBE_SALT)


def person_from_token(token: str) -> Person | None:
    """The person a token names, or None when it was tampered with or names nobody."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Person.objects.filter(pk=pk, anonymised_at__isnull=True).first()


def calls_unsubscribe(*, person: Person) -> Unsubscription:
    """No more call announcements for this person (idempotent)."""
    unsubscription, _created = Unsubscription.objects.get_or_create(person=person)
    return unsubscription


@dataclass(frozen=True)
class Recipient:
    person: Person
    draft: object | None  # the person's draft for the call, when the reminder is about it


def _recipients(call: Call) -> list[Recipient]:
    proposals = call.projects.select_related("proposer__person", "lead_organisation")
    submitted_organisations = set(
        proposals.exclude(status__in=SENT_STATUSES).values_list("lead_organisation_id", flat=True)
    )
    recipients: dict[int, Recipient] = {}
    for draft in proposals.filter(status="draft"):
        person = getattr(draft.proposer, "person", None) if draft.proposer_id else None
        if person is None or not person.email or person.anonymised_at:
            continue
        recipients[person.pk] = Recipient(person=person, draft=draft)

    areas = list(call.areas.values_list("pk", flat=True))
    organisations = Organisation.objects.filter(status=Organisation.Status.ACTIVE)
    if areas:
        organisations = organisations.filter(das_interests__in=areas)
    interested = (
        Person.objects.filter(
            Q(is_primary_contact=True) | Q(is_scientific_contact=True),
            organisation__in=organisations.values("pk"),
            anonymised_at__isnull=True,
            calls_unsubscription__isnull=True,
        )
        .exclude(email="")
        .exclude(organisation_id__in=submitted_organisations)
        .select_related("user", "organisation")
        .distinct()
    )
    for person in interested:
        recipients.setdefault(person.pk, Recipient(person=person, draft=None))
    return list(recipients.values())


def _mail(call: Call, days: int, recipient: Recipient) -> Mail:
    person = recipient.person
    language = person.language or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "person": person,
            "call": call,
            "days": days,
            "deadline": date_format(timezone.localtime(call.internal_deadline), "DATETIME_FORMAT"),
            "call_url": settings.SITE_URL + reverse("calls:detail", args=[call.pk]),
            "draft": recipient.draft,
            "draft_url": settings.SITE_URL + reverse("projects:edit", args=[recipient.draft.pk])
            if recipient.draft
            else "",
            "unsubscribe_url": settings.SITE_URL + reverse("calls:unsubscribe", args=[unsubscribe_token(person)]),
        }
        subject = _("Call “%(call)s”: the cluster's deadline is %(deadline)s") % {
            "call": call.title,
            "deadline": context["deadline"],
        }
        body = render_to_string("calls/emails/reminder.txt", context)
    return Mail(
        key=f"{KIND}:{call.pk}:{days}:{person.pk}",
        kind=KIND,
        to=[person.email],
        subject=subject,
        body=body,
        language=language,
        headers={"List-Unsubscribe": f"<{context['unsubscribe_url']}>"},
    )


def due_offsets(call: Call, *, now: datetime.datetime) -> list[int]:
    """The offsets (days before the internal deadline) whose moment has come, within its window."""
    window = datetime.timedelta(hours=settings.CALLS_REMINDER_WINDOW_HOURS)
    due = []
    for days in settings.CALLS_REMINDER_DAYS:
        moment = call.internal_deadline - datetime.timedelta(days=days)
        if moment <= now < min(moment + window, call.internal_deadline):
            due.append(days)
    return due


def call_reminders_enqueue(*, now: datetime.datetime | None = None) -> int:
    """Enqueue the deadline reminders that are due (see the module docstring); return how many are new."""
    now = now or timezone.now()
    horizon = now + datetime.timedelta(days=max(settings.CALLS_REMINDER_DAYS, default=0))
    enqueued = 0
    for call in Call.objects.open(now).filter(internal_deadline__lte=horizon):
        for days in due_offsets(call, now=now):
            with transaction.atomic():
                mails = [_mail(call, days, recipient) for recipient in _recipients(call)]
                before = set(Message.objects.filter(key__in=[m.key for m in mails]).values_list("key", flat=True))
                messages_enqueue(mails)
                enqueued += len([m for m in mails if m.key not in before])
    return enqueued
