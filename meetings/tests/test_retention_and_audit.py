"""Issue 12, items 18 and 19 on the meetings side: invitees' addresses do not outlive the meeting by
more than the retention period, and sending a prepared meeting's invitations is in the audit trail."""

from __future__ import annotations

import datetime

import pytest
from auditlog.models import LogEntry
from django.test import Client

from meetings import services
from meetings.models import Delivery, Invitation, Meeting
from meetings.tasks import forget_addresses
from meetings.tests.factories import make_meeting, make_people, run_scan

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def test_addresses_leave_a_meeting_a_retention_period_after_it_ended_and_not_before(now, settings):
    settings.MEETINGS_ADDRESS_RETENTION_DAYS = 365
    people = make_people(3)
    old = make_meeting(starts_at=now - 400 * DAY, now=now - 420 * DAY, people=people[:2])
    recent = make_meeting(starts_at=now - 10 * DAY, now=now - 30 * DAY, people=people[2:], title="Récent")
    run_scan(now)

    assert forget_addresses() == 2
    assert forget_addresses() == 0  # safe to run twice

    for invitation in Invitation.objects.filter(meeting=old):
        assert invitation.email == f"forgotten-{invitation.pk}@retention.invalid"
        assert set(Delivery.objects.filter(invitation=invitation).values_list("email", flat=True)) == {invitation.email}
        assert invitation.person.email.endswith("@example.org")  # the person's own record keeps it
    [kept] = Invitation.objects.filter(meeting=recent)
    assert kept.email == people[2].email
    assert set(Delivery.objects.filter(invitation=kept).values_list("email", flat=True)) == {people[2].email}
    assert Invitation.objects.filter(meeting=old).count() == 2  # who was invited stays


def test_sending_a_prepared_meetings_invitations_is_in_the_audit_trail_with_its_author(staff, now):
    meeting = services.meeting_create(
        title="Comité des KOL", committee=Meeting.Committee.KOL_COMMITTEE, starts_at=now + 10 * DAY,
        ends_at=now + 10 * DAY + datetime.timedelta(hours=2), place="Paris", invite_default=False, draft=True, now=now,
    )  # fmt: skip
    services.invitations_add(meeting=meeting, people=make_people(2), now=now)
    client = Client()
    client.force_login(staff)

    client.post(f"/meetings/{meeting.pk}/send/")

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    entry = LogEntry.objects.get_for_object(meeting).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.changes_dict["status"] == ["draft", "scheduled"]
    assert entry.actor == staff
