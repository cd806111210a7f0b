"""Personal data across the portal: one person's export, and anonymisation when they leave.

Each app that holds data about a person exposes `personal_data(person) -> dict` (a selector)
and, if it holds identity that must go, `personal_data_erase(*, person, now) -> None` (a
service). The settings list them (PERSONAL_DATA_SELECTORS, PERSONAL_DATA_ERASERS), like
AUTHENTICATION_BACKENDS: members composes them without importing das or projects, which
the layering forbids (das and members never import each other; neither imports projects).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.module_loading import import_string

from members.models import MembershipYear, Organisation, Person, User


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


# --- Retention: what is kept, for how long (settings; the table in the README) -------------
#
# A daily task (members.purge_expired_personal_data) applies each period. Every step is a
# conditional delete or the idempotent anonymisation, so a task run twice does nothing more.
# Drafts never submitted: projects.purge_stale_drafts (PROJECTS_DRAFT_RETENTION_DAYS).


def lapsed_contacts(*, today: datetime.date, days: int) -> QuerySet[Person]:
    """Contacts of organisations that left (lapsed or resigned) more than `days` days ago.

    An organisation left at the end of the last year it was a member (a membership year
    active or in its grace period); one that never was a member is not "lapsed" and keeps
    its contacts until staff decide.
    """
    left_before = (today - datetime.timedelta(days=days)).year  # its last year ended by then
    last_year = (
        MembershipYear.objects.filter(
            organisation=OuterRef("organisation_id"),
            status__in=[MembershipYear.Status.ACTIVE, MembershipYear.Status.GRACE],
        )
        .order_by("-year")
        .values("year")[:1]
    )
    return (
        Person.objects.filter(
            anonymised_at__isnull=True,
            organisation__status__in=[Organisation.Status.LAPSED, Organisation.Status.RESIGNED],
        )
        .annotate(last_member_year=Subquery(last_year))
        .filter(last_member_year__lt=left_before)
    )


def retention_purge(*, now: datetime.datetime) -> dict[str, int]:
    """Apply the retention periods of lapsed contacts, login attempts and audit entries.

    - contacts of an organisation that left more than MEMBERS_LAPSED_CONTACT_RETENTION_DAYS
      ago are anonymised (person_anonymise: records and figures stay); one who still holds
      a governance mandate is skipped until staff end it;
    - login attempts and logs (django-axes) older than LOGIN_ATTEMPT_RETENTION_DAYS go;
    - audit entries older than AUDIT_LOG_RETENTION_DAYS go;
    - e-mails that ended (sent, failed, cancelled) more than OUTBOX_RETENTION_DAYS ago lose their
      addresses, bodies and attachments (outbox.services.messages_forget);
    - applications to join declined more than MEMBERS_DECLINED_APPLICATION_RETENTION_DAYS ago go.
    Returns how many rows each step removed or anonymised.
    """
    from auditlog.models import LogEntry
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.core.exceptions import ValidationError

    from members.models import MembershipApplication
    from members.services import person_anonymise
    from outbox.services import messages_forget

    today = timezone.localdate(now)
    done = {"contacts": 0, "contacts_skipped": 0, "login_attempts": 0, "audit_entries": 0, "email_addresses": 0,
            "applications": 0}  # fmt: skip
    for person in lapsed_contacts(today=today, days=settings.MEMBERS_LAPSED_CONTACT_RETENTION_DAYS).only("pk"):
        try:
            with transaction.atomic():
                person_anonymise(person=person, by=None, now=now)
            done["contacts"] += 1
        except ValidationError:
            done["contacts_skipped"] += 1  # a current mandate: staff end it first
    attempts_before = now - datetime.timedelta(days=settings.LOGIN_ATTEMPT_RETENTION_DAYS)
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        done["login_attempts"] += model.objects.filter(attempt_time__lt=attempts_before).delete()[0]
    audit_before = now - datetime.timedelta(days=settings.AUDIT_LOG_RETENTION_DAYS)
    done["audit_entries"] = LogEntry.objects.filter(timestamp__lt=audit_before).delete()[0]
    done["email_addresses"] = messages_forget(before=now - datetime.timedelta(days=settings.OUTBOX_RETENTION_DAYS))
    declined_before = now - datetime.timedelta(days=settings.MEMBERS_DECLINED_APPLICATION_RETENTION_DAYS)
    done["applications"] = (
        MembershipApplication.objects.filter(
            status=MembershipApplication.Status.DECLINED, decided_at__lt=declined_before
        )
        .delete()[1]
        .get("members.MembershipApplication", 0)
    )
    return done
