"""Migrations of the meeting tables: das/0009 (send state to the outbox), and the move from das
to the meetings app (das/0010, meetings/0001) that keeps the rows, the grants and the history."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from meetings.models import Delivery, Meeting, Topic
from members.models import Person
from members.tests.factories import UserFactory
from outbox.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("das", "0008_meeting_foreign_key_names")]
AFTER = [("das", "0009_delivery_on_the_outbox")]


@pytest.fixture(autouse=True)
def back_to_the_latest_state():
    """Each test walks the history back; the database is left at the latest state again."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


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


def test_the_move_to_the_meetings_app_keeps_the_rows_the_permission_grants_and_the_admin_history():
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)  # the last state with the meeting models in das
    ContentType.objects.clear_cache()
    apps = executor.loader.project_state(AFTER).apps
    OldMeeting, OldTopic = apps.get_model("das", "Meeting"), apps.get_model("das", "Topic")
    now = timezone.now()
    meeting = OldMeeting.objects.create(
        uid=uuid.uuid4(), title="Comité de printemps", committee="kol_committee", status="scheduled",
        starts_at=now + datetime.timedelta(days=3), ends_at=now + datetime.timedelta(days=3, hours=2),
    )  # fmt: skip
    area = apps.get_model("das", "StrategicArea").objects.create(code="imaging", name_fr="Imagerie", name_en="Imaging")
    topic = OldTopic.objects.create(title="Bloc opératoire", selected_at_id=meeting.pk)
    topic.areas.add(area.pk)
    das_meeting = ContentType.objects.get(app_label="das", model="meeting")
    secretaries = Group.objects.create(name="Meeting secretaries")
    secretaries.permissions.add(Permission.objects.get(content_type=das_meeting, codename="change_meeting"))
    staff = UserFactory(is_staff=True)
    staff.groups.add(secretaries)
    entry = LogEntry.objects.create(
        user=staff, content_type=das_meeting, object_id=str(meeting.pk), object_repr="Comité", action_flag=CHANGE
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    moved = Meeting.objects.get(pk=meeting.pk)
    assert moved.title == "Comité de printemps"
    assert list(Topic.objects.get(pk=topic.pk).areas.values_list("code", flat=True)) == ["imaging"]
    assert moved.selected_topics.get().pk == topic.pk
    assert not ContentType.objects.filter(app_label="das", model__in=["meeting", "topic", "delivery"]).exists()
    assert ContentType.objects.get_for_model(Meeting).pk == das_meeting.pk  # the same row, relabelled
    staff = type(staff).objects.get(pk=staff.pk)  # a fresh permission cache
    assert staff.has_perm("meetings.change_meeting") and not staff.has_perm("meetings.delete_meeting")
    entry.refresh_from_db()
    assert entry.get_edited_object() == moved
    assert entry.get_admin_url() == f"/admin/meetings/meeting/{meeting.pk}/change/"
