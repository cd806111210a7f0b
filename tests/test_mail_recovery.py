"""Every kind of mail the portal sends survives its sender losing the database mid-send (issue 17).

The sender's PostgreSQL connection is terminated (`pg_terminate_backend`) while its row is in
"sending", before the message is handed to the SMTP server; the row is recovered and the sink
receives the message exactly once. Runs on PostgreSQL (CI's database).
"""

from __future__ import annotations

import datetime

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from meetings.tests.factories import make_meeting, make_people
from members import services as members
from members.models import MembershipYear
from members.tests.factories import MembershipYearFactory, OrganisationFactory, PersonFactory, UserFactory
from outbox import services as outbox
from outbox.models import Message
from projects import services as projects
from projects.models import Project
from projects.tests.factories import ProjectFactory, contact, eligible_consortium

pytestmark = pytest.mark.django_db(transaction=True)


def _terminate_own_connection() -> None:
    """What a PostgreSQL restart or an administrator does to this process's session."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    db = settings.DATABASES["default"]
    dsn = f"host={db['HOST']} port={db['PORT'] or 5432} user={db['USER']} dbname={db['NAME']}"
    with psycopg.connect(dsn, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])


# --- One function per kind: create what owes the e-mail through the domain service ---------


def _project_notification() -> str:
    UserFactory(is_staff=True, email="staff@medicen.example")
    owner = contact()
    project = ProjectFactory(lead_organisation=owner.person.organisation, proposer=owner)
    eligible_consortium(project)
    projects.project_transition(project=project, to=Project.Status.SUBMITTED, by=owner)
    return "staff@medicen.example"


def _renewal_reminder() -> str:
    organisation = OrganisationFactory(category="startup")
    PersonFactory(organisation=organisation, email="billing@member.example", is_billing_contact=True)
    membership = MembershipYearFactory(
        organisation=organisation, year=2027, status=MembershipYear.Status.PENDING, paid_on=None
    )
    members.renewal_reminders_enqueue(membership_year_ids=[membership.pk])
    return "billing@member.example"


def _account_invitation() -> str:
    person = PersonFactory(email="claire.dubois@biosense.example")
    members.person_invite(person=person, by=UserFactory(is_staff=True))
    return "claire.dubois@biosense.example"


def _meeting_invitation() -> str:
    now = timezone.now()
    [person] = make_people(1)
    make_meeting(starts_at=now + datetime.timedelta(days=10), now=now, people=[person])
    return person.email


OUTBOX_KINDS = {
    "meeting invitation": _meeting_invitation,
    "project notification": _project_notification,
    "renewal reminder": _renewal_reminder,
    "account invitation": _account_invitation,
}


@pytest.mark.parametrize("kind", list(OUTBOX_KINDS))
def test_an_outbox_sender_whose_database_connection_is_terminated_mid_send_delivers_once(kind, smtp_sink, monkeypatch):
    monkeypatch.setattr(outbox, "dispatch", lambda ids: 0)  # this test plays the worker
    address = OUTBOX_KINDS[kind]()
    (message,) = Message.objects.filter(to__contains=[address])
    real_build = outbox.build

    def build_then_lose_the_database(row):
        email = real_build(row)
        assert Message.objects.get(pk=row.pk).status == Message.Status.SENDING
        _terminate_own_connection()
        return email

    monkeypatch.setattr(outbox, "build", build_then_lose_the_database)
    outbox.messages_send(message_ids=[message.pk])
    monkeypatch.setattr(outbox, "build", real_build)
    later = timezone.now() + outbox.lease() + datetime.timedelta(minutes=1)
    outbox.scan(now=later, send=outbox.send_synchronously(now=later))

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert [m["X-Envelope-To"] for m in smtp_sink.messages] == [address]
