"""Retention periods: lapsed contacts anonymised, login attempts and audit entries deleted, daily."""

from __future__ import annotations

import datetime

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog

from das.tests.factories import MandateFactory
from members.models import MembershipYear, Organisation, Person
from members.privacy import retention_purge
from members.tasks import purge_expired_personal_data
from members.tests.factories import MembershipYearFactory, OrganisationFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2027, 3, 1, 4, 0, tzinfo=datetime.UTC)


def _left(status: str, last_year: int) -> Organisation:
    organisation = OrganisationFactory(status=status)
    MembershipYearFactory(organisation=organisation, year=last_year)
    MembershipYearFactory(
        organisation=organisation, year=last_year + 1, status=MembershipYear.Status.LAPSED, paid_on=None
    )
    return organisation


def test_contacts_of_an_organisation_that_left_long_ago_are_anonymised(settings):
    settings.MEMBERS_LAPSED_CONTACT_RETENTION_DAYS = 3 * 365
    old = PersonFactory(organisation=_left(Organisation.Status.LAPSED, 2022), last_name="Ancien", user=UserFactory())
    resigned = PersonFactory(organisation=_left(Organisation.Status.RESIGNED, 2021), last_name="Démission")
    recent = PersonFactory(organisation=_left(Organisation.Status.LAPSED, 2025), last_name="Récent")
    active = PersonFactory(organisation=OrganisationFactory(status=Organisation.Status.ACTIVE), last_name="Actif")
    never = PersonFactory(organisation=OrganisationFactory(status=Organisation.Status.LAPSED), last_name="Jamais")

    done = retention_purge(now=NOW)

    assert done["contacts"] == 2
    for person in (old, resigned):
        person.refresh_from_db()
        assert person.anonymised_at == NOW and person.last_name == f"#{person.pk}"
    old.user.refresh_from_db()
    assert not old.user.is_active
    assert set(Person.objects.filter(anonymised_at__isnull=True).values_list("last_name", flat=True)) >= {
        "Récent",
        "Actif",
        "Jamais",
    }
    assert {recent.pk, active.pk, never.pk}.isdisjoint(Person.objects.exclude(anonymised_at=None).values_list("pk"))


def test_a_lapsed_contact_who_still_holds_a_mandate_is_skipped(settings):
    settings.MEMBERS_LAPSED_CONTACT_RETENTION_DAYS = 365
    kol = PersonFactory(organisation=_left(Organisation.Status.LAPSED, 2020))
    MandateFactory(person=kol, start_date=datetime.date(2019, 10, 10))

    done = retention_purge(now=NOW)

    kol.refresh_from_db()
    assert kol.anonymised_at is None
    assert (done["contacts"], done["contacts_skipped"]) == (0, 1)


def test_login_attempts_and_audit_entries_older_than_their_periods_are_deleted(settings):
    settings.LOGIN_ATTEMPT_RETENTION_DAYS = 90
    settings.AUDIT_LOG_RETENTION_DAYS = 365
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        extra = {"failures_since_start": 1} if model is AccessAttempt else {}
        row = {"ip_address": "10.0.0.1", "user_agent": "x", "path_info": "/", **extra}
        old = model.objects.create(username="a@example.org", **row)
        model.objects.filter(pk=old.pk).update(attempt_time=NOW - datetime.timedelta(days=91))
        model.objects.create(username="b@example.org", **row)
    OrganisationFactory(name="Ancienne trace")
    OrganisationFactory(name="Trace récente")
    LogEntry.objects.filter(object_repr="Ancienne trace").update(timestamp=NOW - datetime.timedelta(days=366))
    LogEntry.objects.filter(object_repr="Trace récente").update(timestamp=NOW - datetime.timedelta(days=10))

    done = retention_purge(now=NOW)

    assert done["login_attempts"] == 3
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        assert list(model.objects.values_list("username", flat=True)) == ["b@example.org"]
    assert done["audit_entries"] >= 1
    assert not LogEntry.objects.filter(object_repr="Ancienne trace").exists()
    assert LogEntry.objects.filter(object_repr="Trace récente").exists()


def test_the_purge_runs_daily_from_the_settings_and_twice_does_nothing_more(settings):
    assert settings.CELERY_BEAT_SCHEDULE["members-purge-expired-personal-data"]["task"] == (
        "members.purge_expired_personal_data"
    )
    assert settings.MEMBERS_LAPSED_CONTACT_RETENTION_DAYS >= 1
    assert settings.LOGIN_ATTEMPT_RETENTION_DAYS >= 1
    assert settings.AUDIT_LOG_RETENTION_DAYS >= 30
    settings.MEMBERS_LAPSED_CONTACT_RETENTION_DAYS = 30
    PersonFactory(organisation=_left(Organisation.Status.LAPSED, 2020))

    first = purge_expired_personal_data.apply().get()
    second = purge_expired_personal_data.apply().get()

    assert first["contacts"] == 1
    assert second == {
        "contacts": 0, "contacts_skipped": 0, "login_attempts": 0, "audit_entries": 0, "email_addresses": 0,
        "applications": 0,
    }  # fmt: skip


def test_the_readme_documents_every_retention_period():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")

    for name in (
        "PROJECTS_DRAFT_RETENTION_DAYS",
        "MEMBERS_DECLINED_APPLICATION_RETENTION_DAYS",
        "MEMBERS_LAPSED_CONTACT_RETENTION_DAYS",
        "LOGIN_ATTEMPT_RETENTION_DAYS",
        "AUDIT_LOG_RETENTION_DAYS",
        "OUTBOX_RETENTION_DAYS",
    ):
        assert f"| `{name}` (" in readme


def test_e_mails_that_ended_long_ago_lose_their_addresses_bodies_and_attachments(settings):
    from django.utils import timezone

    from outbox.models import Attachment, Message
    from outbox.services import attach_file, message_enqueue

    settings.OUTBOX_RETENTION_DAYS = 365
    old = message_enqueue(
        key="test:old",
        kind="test",
        to=["ada@example.org"],
        subject="Facture 2025-0001",
        body="Bonjour Ada",
        attachments=[attach_file("f.pdf", b"%PDF-1.4", "application/pdf")],
    )
    recent = message_enqueue(key="test:recent", kind="test", to=["bob@example.org"], subject="Relance", body="Bonjour")
    pending = message_enqueue(key="test:pending", kind="test", to=["eve@example.org"], subject="À venir", body="…")
    long_ago = timezone.now() - datetime.timedelta(days=400)
    Message.objects.filter(pk__in=[old.pk, recent.pk]).update(status="sent", sent_at=long_ago)
    Message.objects.filter(pk__in=[old.pk, pending.pk]).update(updated_at=long_ago)

    done = retention_purge(now=timezone.now())

    old.refresh_from_db()
    assert done["email_addresses"] == 1
    assert (old.to, old.body, old.status, old.subject, old.sent_at) == ([], "", "sent", "Facture 2025-0001", long_ago)
    assert not Attachment.objects.filter(message=old).exists()
    assert Message.objects.get(pk=recent.pk).to == ["bob@example.org"]  # ended recently
    assert Message.objects.get(pk=pending.pk).to == ["eve@example.org"]  # not ended: still to be sent
