"""Migration das/0009: the send state of existing deliveries moves to the outbox."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from das.models import Delivery
from members.models import Person
from outbox.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("das", "0008_meeting_foreign_key_names")]
AFTER = [("das", "0009_delivery_on_the_outbox")]


def test_sent_rows_keep_their_facts_in_a_sent_message_and_unsent_ones_wait_for_the_next_scan():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Meeting, Invitation = apps.get_model("das", "Meeting"), apps.get_model("das", "Invitation")
    OldDelivery = apps.get_model("das", "Delivery")
    now = timezone.now()
    person = Person.objects.create(first_name="Claire", last_name="Dubois", email="claire@biosense.example")
    meeting = Meeting.objects.create(
        uid=uuid.uuid4(), title="Comité", committee="kol_committee", status="scheduled",
        starts_at=now + datetime.timedelta(days=3), ends_at=now + datetime.timedelta(days=3, hours=2),
    )  # fmt: skip
    invitation = Invitation.objects.create(meeting=meeting, person_id=person.pk, email=person.email)
    common = {
        "meeting": meeting,
        "invitation": invitation,
        "email": person.email,
        "due_at": now,
        "next_attempt_at": now,
    }
    rows = {
        "sent": OldDelivery.objects.create(
            kind="invitation", status="sent", sent_at=now, attempts=1, message_id="<das-delivery-1.a@m>", **common
        ),
        "skipped": OldDelivery.objects.create(
            kind="reminder", offset_minutes=10080, status="skipped", reason="invited_late", **common
        ),
        "pending": OldDelivery.objects.create(kind="reminder", offset_minutes=1440, status="pending", **common),
        "handed": OldDelivery.objects.create(
            kind="update", sequence=1, status="sending", claimed_at=now, handed_at=now, attempts=1, **common
        ),
        "failed": OldDelivery.objects.create(
            kind="update", sequence=2, status="failed", attempts=1, reason="SMTP error (permanent): 550", **common
        ),
        "released": OldDelivery.objects.create(
            kind="update", sequence=3, status="sending", claimed_at=now, attempts=1, **common
        ),
    }

    MigrationExecutor(connection).migrate(AFTER)

    after = {
        name: Delivery.objects.with_status().select_related("message").get(pk=row.pk) for name, row in rows.items()
    }
    sent = after["sent"].message
    assert (after["sent"].status, sent.status, sent.message_id, sent.sent_at, sent.attempts) == (
        "sent", "sent", "<das-delivery-1.a@m>", now, 1
    )  # fmt: skip
    assert sent.key == f"meeting-invitation:{invitation.pk}:0:0"
    assert (after["skipped"].status, after["skipped"].skip_reason, after["skipped"].message) == (
        "skipped", "invited_late", None
    )  # fmt: skip
    handed = after["handed"].message
    assert (handed.status, handed.handed_at, handed.uncertain_at is not None) == ("sending", now, True)
    for name in ("pending", "failed", "released"):  # did not go out: the next scan decides afresh
        assert (after[name].status, after[name].skip_reason, after[name].message) == ("pending", "", None)
    assert Message.objects.count() == 2
