"""Writes of the meetings: scheduling, invitations, answers, agenda and topics.

Every service that creates e-mails creates their Delivery rows in the same transaction and
enqueues them on commit; the every-minute scan is the safety net if the broker is down.
"""

from __future__ import annotations

import datetime
import secrets
import uuid
from collections.abc import Iterable

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from das.meetings import engine
from das.meetings.schedule import reminder_moment
from das.models import AgendaItem, CalendarFeed, Delivery, Invitation, Mandate, Meeting, StrategicArea, Topic, TopicVote

# Changing any of these changes what attendees' calendars show: SEQUENCE goes up and an
# updated invitation goes out.
CALENDAR_FIELDS = ("title", "starts_at", "ends_at", "place", "video_url", "agenda")


class MeetingError(ValidationError):
    """A request the meeting's state does not allow (cancelled, already over...)."""


def _person_model():
    return apps.get_model("members", "Person")


def default_invitees(*, meeting: Meeting, day: datetime.date):
    """Current mandate holders: of every DAS for the KOL committee, of the one DAS for its board."""
    mandates = Mandate.objects.as_of(day)
    if meeting.committee == Meeting.Committee.DAS_BOARD:
        mandates = mandates.filter(area_id=meeting.area_id)
    return _person_model().objects.filter(pk__in=mandates.values("person_id")).exclude(email="")


def _reminder_row(invitation: Invitation, offset: int, now: datetime.datetime) -> Delivery:
    moment = reminder_moment(invitation.meeting.starts_at, offset)
    late = moment <= now
    return Delivery(
        meeting=invitation.meeting,
        invitation=invitation,
        kind=Delivery.Kind.REMINDER,
        offset_minutes=offset,
        email=invitation.email,
        due_at=moment,
        next_attempt_at=moment,
        status=Delivery.Status.SKIPPED if late else Delivery.Status.PENDING,
        reason=engine.REASON_INVITED_LATE if late else "",
    )


def _notice_row(invitation: Invitation, kind: str, now: datetime.datetime) -> Delivery:
    return Delivery(
        meeting=invitation.meeting,
        invitation=invitation,
        kind=kind,
        sequence=invitation.meeting.sequence,
        email=invitation.email,
        due_at=now,
        next_attempt_at=now,
    )


def _create_deliveries(rows: list[Delivery], *, now: datetime.datetime) -> list[int]:
    """Insert rows, ignoring any that already exist (the unique constraint is the guard);
    return the pending rows of these invitations that are due now, to enqueue on commit."""
    if not rows:
        return []
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    invitation_ids = {r.invitation_id for r in rows if r.status == Delivery.Status.PENDING and r.next_attempt_at <= now}
    return list(
        Delivery.objects.filter(
            invitation_id__in=invitation_ids, status=Delivery.Status.PENDING, next_attempt_at__lte=now
        ).values_list("pk", flat=True)
    )


@transaction.atomic
def meeting_create(
    *,
    by,
    title: str,
    committee: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    area: StrategicArea | None = None,
    place: str = "",
    video_url: str = "",
    agenda: str = "",
    reminder_offsets: list[int] | None = None,
    invite_default: bool = True,
    now: datetime.datetime | None = None,
) -> Meeting:
    """Schedule a meeting and invite the current mandate holders (invitations go out on commit)."""
    now = now or timezone.now()
    meeting = Meeting(
        uid=uuid.uuid4(),
        title=title,
        committee=committee,
        area=area,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        video_url=video_url,
        agenda=agenda,
    )
    if reminder_offsets is not None:
        meeting.reminder_offsets = sorted(reminder_offsets, reverse=True)
    meeting.full_clean()
    if starts_at <= now:
        raise MeetingError(_("A new meeting must start in the future."), code="past")
    meeting.save()
    if invite_default:
        invitations_add(meeting=meeting, people=default_invitees(meeting=meeting, day=timezone.localdate(now)),
                        source=Invitation.Source.MANDATE, now=now)  # fmt: skip
    return meeting


@transaction.atomic
def invitations_add(
    *, meeting: Meeting, people: Iterable, source: str = Invitation.Source.STAFF, now: datetime.datetime | None = None
) -> list[Invitation]:
    """Invite people (skipping anyone already invited, by person or by address) and send their invitations.

    One invitation per address: two records sharing an e-mail get one e-mail.
    """
    now = now or timezone.now()
    if meeting.status != Meeting.Status.SCHEDULED or meeting.starts_at <= now:
        raise MeetingError(_("Invitations can only be sent for a scheduled meeting that has not started."))
    taken_people = set(meeting.invitations.values_list("person_id", flat=True))
    taken_addresses = set(meeting.invitations.values_list("email", flat=True))
    new: list[Invitation] = []
    for person in people:
        address = (person.email or "").strip().lower()
        if not address or person.pk in taken_people or address in taken_addresses:
            continue
        taken_people.add(person.pk)
        taken_addresses.add(address)
        invitation = Invitation(meeting=meeting, person=person, email=address, source=source)
        invitation.full_clean(validate_unique=False, validate_constraints=False)
        new.append(invitation)
    if not new:
        return []
    Invitation.objects.bulk_create(new, batch_size=500)
    created = list(
        Invitation.objects.filter(meeting=meeting, email__in=[i.email for i in new]).select_related("meeting")
    )
    rows = []
    for invitation in created:
        rows.append(_notice_row(invitation, Delivery.Kind.INVITATION, now))
        rows.extend(_reminder_row(invitation, offset, now) for offset in meeting.reminder_offsets)
    engine.enqueue_on_commit(_create_deliveries(rows, now=now))
    return created


@transaction.atomic
def invitation_remove(*, invitation: Invitation, now: datetime.datetime | None = None) -> None:
    """Withdraw an invitation: its pending e-mails are skipped, a cancellation tells the person."""
    now = now or timezone.now()
    meeting = invitation.meeting
    Delivery.objects.filter(invitation=invitation, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SKIPPED, reason=engine.REASON_UNINVITED
    )
    if (
        meeting.status == Meeting.Status.SCHEDULED
        and meeting.starts_at > now
        and invitation.deliveries.filter(status=Delivery.Status.SENT).exists()
    ):
        engine.enqueue_on_commit(
            _create_deliveries([_notice_row(invitation, Delivery.Kind.CANCELLATION, now)], now=now)
        )
    # Keep the row (the deliveries reference it) but mark the person as not coming.
    invitation.response = Invitation.Response.DECLINED
    invitation.responded_at = now
    invitation.save(update_fields=["response", "responded_at"])


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().get(pk=meeting.pk)


@transaction.atomic
def meeting_update(*, meeting: Meeting, by, now: datetime.datetime | None = None, **changes) -> Meeting:
    """Change a scheduled meeting. A calendar change raises SEQUENCE and sends an updated
    invitation; a new time moves every unsent reminder with it."""
    now = now or timezone.now()
    current = _lock(meeting)
    if current.status != Meeting.Status.SCHEDULED:
        raise MeetingError(_("Only a scheduled meeting can be changed."), code="not_scheduled")
    if current.ends_at <= now:
        raise MeetingError(_("This meeting is over; record its minutes instead."), code="over")
    allowed = {*CALENDAR_FIELDS, "reminder_offsets", "committee", "area"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"meeting_update() cannot change {sorted(unknown)}")
    old_offsets = list(current.reminder_offsets)
    calendar_changed = [f for f in CALENDAR_FIELDS if f in changes and getattr(current, f) != changes[f]]
    for field, value in changes.items():
        setattr(current, field, value)
    current.reminder_offsets = sorted(current.reminder_offsets, reverse=True)
    current.full_clean()
    if "starts_at" in calendar_changed and current.starts_at <= now:
        raise MeetingError(_("A meeting cannot be moved into the past."), code="past")
    if calendar_changed:
        current.sequence += 1
    current.save()
    meeting.__dict__.update(current.__dict__)

    if "starts_at" in calendar_changed or old_offsets != current.reminder_offsets:
        _reschedule_reminders(current, now=now)
    if calendar_changed:
        # People anonymised after they left get no more e-mails about it.
        invitations = list(current.invitations.filter(person__anonymised_at__isnull=True).select_related("meeting"))
        # An older revision still waiting is superseded: each person gets the latest only.
        Delivery.objects.filter(
            meeting=current,
            kind__in=[Delivery.Kind.INVITATION, Delivery.Kind.UPDATE],
            status=Delivery.Status.PENDING,
        ).update(status=Delivery.Status.SKIPPED, reason=engine.REASON_SUPERSEDED)
        rows = [_notice_row(invitation, Delivery.Kind.UPDATE, now) for invitation in invitations]
        engine.enqueue_on_commit(_create_deliveries(rows, now=now))
    return current


def _reschedule_reminders(meeting: Meeting, *, now: datetime.datetime) -> None:
    """Re-derive unsent reminders from the stored offsets and the (new) start."""
    movable = Q(status=Delivery.Status.PENDING) | Q(
        status=Delivery.Status.SKIPPED, reason__in=[engine.REASON_INVITED_LATE, engine.REASON_MOVED_PAST]
    )
    reminders = meeting.deliveries.filter(kind=Delivery.Kind.REMINDER)
    reminders.filter(movable).exclude(offset_minutes__in=meeting.reminder_offsets).update(
        status=Delivery.Status.SKIPPED, reason=engine.REASON_REMOVED
    )
    declined = set(meeting.invitations.filter(response=Invitation.Response.DECLINED).values_list("pk", flat=True))
    for offset in meeting.reminder_offsets:
        moment = reminder_moment(meeting.starts_at, offset)
        rows = reminders.filter(movable, offset_minutes=offset)
        if moment > now:
            rows.exclude(invitation_id__in=declined).update(
                status=Delivery.Status.PENDING, due_at=moment, next_attempt_at=moment, enqueued_at=None, reason=""
            )
        else:
            # Its moment is already behind us: the updated invitation says it all.
            rows.update(status=Delivery.Status.SKIPPED, due_at=moment, reason=engine.REASON_MOVED_PAST)
    # Offsets added after the invitations went out.
    have = set(reminders.values_list("invitation_id", "offset_minutes"))
    rows = [
        _reminder_row(invitation, offset, now)
        for invitation in meeting.invitations.select_related("meeting")
        for offset in meeting.reminder_offsets
        if (invitation.pk, offset) not in have
    ]
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, by, now: datetime.datetime | None = None) -> Meeting:
    """Cancel a scheduled meeting: nothing pending goes out any more; every invitee gets METHOD:CANCEL."""
    now = now or timezone.now()
    current = _lock(meeting)
    if current.status != Meeting.Status.SCHEDULED:
        raise MeetingError(_("Only a scheduled meeting can be cancelled."), code="not_scheduled")
    if current.starts_at <= now:
        raise MeetingError(_("A meeting that has started cannot be cancelled."), code="started")
    current.status = Meeting.Status.CANCELLED
    current.sequence += 1
    current.save(update_fields=["status", "sequence", "updated_at"])
    meeting.__dict__.update(current.__dict__)
    current.deliveries.filter(status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SKIPPED, reason=engine.REASON_CANCELLED
    )
    # Only people who were told about the meeting need to hear it is off.
    told = current.invitations.filter(
        deliveries__kind__in=[Delivery.Kind.INVITATION, Delivery.Kind.UPDATE],
        deliveries__status__in=[Delivery.Status.SENT, Delivery.Status.SENDING],
    ).distinct()
    rows = [_notice_row(invitation, Delivery.Kind.CANCELLATION, now) for invitation in told.select_related("meeting")]
    engine.enqueue_on_commit(_create_deliveries(rows, now=now))
    return current


def rsvp_open(invitation: Invitation, *, now: datetime.datetime) -> bool:
    meeting = invitation.meeting
    return meeting.status == Meeting.Status.SCHEDULED and meeting.ends_at > now


@transaction.atomic
def invitation_respond(*, invitation: Invitation, response: str, now: datetime.datetime | None = None) -> Invitation:
    """Record an invitee's answer. Declining stops their reminders; changing one's mind restores them."""
    now = now or timezone.now()
    if response not in {Invitation.Response.ACCEPTED, Invitation.Response.TENTATIVE, Invitation.Response.DECLINED}:
        raise ValidationError(_("Unknown answer."), code="invalid_response")
    invitation = Invitation.objects.select_for_update().select_related("meeting").get(pk=invitation.pk)
    if not rsvp_open(invitation, now=now):
        raise MeetingError(_("This meeting is over or cancelled: answers are closed."), code="closed")
    invitation.response = response
    invitation.responded_at = now
    invitation.full_clean(validate_unique=False, validate_constraints=False)
    invitation.save(update_fields=["response", "responded_at"])
    reminders = invitation.deliveries.filter(kind=Delivery.Kind.REMINDER)
    if response == Invitation.Response.DECLINED:
        reminders.filter(status=Delivery.Status.PENDING).update(
            status=Delivery.Status.SKIPPED, reason=engine.REASON_DECLINED
        )
    else:
        # Changed their mind: the reminders still ahead come back, at their own moment.
        reminders.filter(status=Delivery.Status.SKIPPED, reason=engine.REASON_DECLINED, due_at__gt=now).update(
            status=Delivery.Status.PENDING, next_attempt_at=F("due_at"), enqueued_at=None, reason=""
        )
    return invitation


@transaction.atomic
def meeting_record_outcome(
    *,
    meeting: Meeting,
    by,
    minutes: str,
    attended_invitation_ids: Iterable[int],
    selected_topic_ids: Iterable[int],
    now: datetime.datetime | None = None,
) -> Meeting:
    """After the meeting: minutes, who attended, which agenda topics the committee selected."""
    now = now or timezone.now()
    current = _lock(meeting)
    if current.status == Meeting.Status.CANCELLED:
        raise MeetingError(_("A cancelled meeting has no minutes."), code="cancelled")
    if current.starts_at > now:
        raise MeetingError(_("Minutes can be recorded once the meeting has started."), code="not_started")
    current.minutes = minutes
    current.status = Meeting.Status.HELD
    current.full_clean()
    current.save(update_fields=["minutes", "status", "updated_at"])
    meeting.__dict__.update(current.__dict__)
    attended = set(attended_invitation_ids)
    for invitation in current.invitations.all():
        value = invitation.pk in attended
        if invitation.attended is not value:
            invitation.attended = value
            invitation.save(update_fields=["attended"])
    selected = set(selected_topic_ids)
    items = list(current.agenda_items.select_related("topic"))
    for item in items:
        item.selected = item.topic_id in selected
        item.save(update_fields=["selected"])
        topic = item.topic
        if item.selected:
            topic.status, topic.selected_at = Topic.Status.SELECTED, current
        elif topic.selected_at_id == current.pk:
            topic.status, topic.selected_at = Topic.Status.PROPOSED, None
        else:
            continue
        topic.save(update_fields=["status", "selected_at"])
    return current


@transaction.atomic
def agenda_add_topic(*, meeting: Meeting, topic: Topic, by) -> AgendaItem:
    """Put a topic on a meeting's agenda (at the end)."""
    if meeting.status == Meeting.Status.CANCELLED:
        raise MeetingError(_("This meeting is cancelled."), code="cancelled")
    if topic.status != Topic.Status.PROPOSED:
        raise MeetingError(_("Only a proposed topic can be put on an agenda."), code="topic_not_open")
    last = meeting.agenda_items.order_by("-position").values_list("position", flat=True).first()
    item = AgendaItem(meeting=meeting, topic=topic, position=(last or 0) + 1)
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def agenda_remove_topic(*, item: AgendaItem, by) -> None:
    """Take a topic off an agenda (before the outcome is recorded)."""
    if item.meeting.status == Meeting.Status.HELD:
        raise MeetingError(_("The outcome of this meeting is recorded; its agenda is closed."), code="held")
    item.delete()


@transaction.atomic
def topic_propose(*, by_person, title: str, description: str, areas: Iterable[StrategicArea]) -> Topic:
    """A KOL (or staff member) proposes a topic, tagged with one or more DAS."""
    areas = list(areas)
    if not areas:
        raise ValidationError({"areas": _("Tag the topic with at least one strategic area.")})
    topic = Topic(title=title.strip(), description=description.strip(), proposed_by=by_person)
    topic.full_clean()
    topic.save()
    topic.areas.set(areas)
    return topic


@transaction.atomic
def topic_vote(*, topic: Topic, person, vote: bool = True) -> bool:
    """Add (or withdraw) a person's vote; idempotent. Returns whether the person now votes for it."""
    if topic.status != Topic.Status.PROPOSED:
        raise MeetingError(_("Voting is closed for this topic."), code="closed")
    if vote:
        TopicVote.objects.get_or_create(topic=topic, person=person)
    else:
        TopicVote.objects.filter(topic=topic, person=person).delete()
    return vote


@transaction.atomic
def calendar_feed_for(*, person, reset: bool = False) -> CalendarFeed:
    """The person's private feed (created on first use); `reset` invalidates the old URL."""
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(
        person=person, defaults={"token": secrets.token_urlsafe(32)}
    )
    if reset and not created:
        feed.token = secrets.token_urlsafe(32)
        feed.save(update_fields=["token"])
    return feed
