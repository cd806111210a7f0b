"""Writes of the meetings: scheduling, invitations, answers, agenda and topics.

Every service that creates e-mails creates their Delivery rows in the same transaction and
hands those already due to the outbox in it (meetings.engine); the every-minute scan
enqueues the others when they come due. A service that makes an e-mail pointless skips it,
withdrawing it from the outbox if no sender has claimed it yet (engine.deliveries_skip).

Services trust their caller to have authorised the action (meetings/permissions.py): the views
check it, and the demo, the benchmarks and scripts act for the cluster with no login. None takes
the acting user, since nothing here records it (the audit log takes it from the request).
"""

from __future__ import annotations

import datetime
import secrets
import uuid
from collections.abc import Iterable

from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Max, Min, Q, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from das.models import Mandate, StrategicArea
from meetings import engine
from meetings.models import AgendaItem, CalendarFeed, Delivery, Invitation, Meeting, Topic, TopicVote
from meetings.schedule import reminder_moment
from members.models import Person
from outbox.models import Message
from outbox.services import messages_cancel

# Changing any of these changes what attendees' calendars show: SEQUENCE goes up and an
# updated invitation goes out.
CALENDAR_FIELDS = ("title", "starts_at", "ends_at", "place", "video_url", "agenda")
# A change of the agenda alone (its text, a topic added or removed) is worth an update, but
# not several a day: its update waits until this long after the last notice the person got.
AGENDA_UPDATE_INTERVAL = datetime.timedelta(days=1)
# ... unless that would be too close to the meeting: it goes out by this long before the start.
AGENDA_UPDATE_LATEST_BEFORE_START = datetime.timedelta(hours=2)
NOTICE_KINDS = (Delivery.Kind.INVITATION, Delivery.Kind.UPDATE)


class MeetingError(ValidationError):
    """A request the meeting's state does not allow (cancelled, already over...)."""


def default_invitees(*, meeting: Meeting, day: datetime.date):
    """Current mandate holders: of every DAS for the KOL committee, of the one DAS for its board."""
    mandates = Mandate.objects.as_of(day)
    if meeting.committee == Meeting.Committee.DAS_BOARD:
        mandates = mandates.filter(area_id=meeting.area_id)
    return Person.objects.filter(pk__in=mandates.values("person_id")).exclude(email="")


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
        skip_reason=engine.REASON_INVITED_LATE if late else "",
    )


def _notice_row(invitation: Invitation, kind: str, now: datetime.datetime) -> Delivery:
    return Delivery(
        meeting=invitation.meeting,
        invitation=invitation,
        kind=kind,
        sequence=invitation.meeting.sequence,
        email=invitation.email,
        due_at=now,
    )


def _create_deliveries(rows: list[Delivery], *, now: datetime.datetime) -> None:
    """Insert rows, ignoring any that already exist (the unique constraint is the guard), and
    hand the waiting rows of these invitations that are due now to the outbox, in this transaction."""
    if not rows:
        return
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    invitation_ids = {r.invitation_id for r in rows if not r.skip_reason and r.due_at <= now}
    due = Delivery.objects.filter(invitation_id__in=invitation_ids, due_at__lte=now).waiting()
    engine.deliveries_enqueue(delivery_ids=due.values_list("pk", flat=True), now=now)


@transaction.atomic
def meeting_create(
    *,
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
    draft: bool = False,
    now: datetime.datetime | None = None,
) -> Meeting:
    """Create a meeting and invite the current mandate holders.

    With `draft`, the meeting is prepared first: the invitations are listed but nobody is
    e-mailed until `meeting_send_invitations()`. Without it (scripts, demo data), the
    invitations go out on commit.
    """
    now = now or timezone.now()
    meeting = Meeting(
        uid=uuid.uuid4(),
        status=Meeting.Status.DRAFT if draft else Meeting.Status.SCHEDULED,
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
    """Invite people (skipping anyone already invited, by person or by address).

    One invitation per address: two records sharing an e-mail get one e-mail. A person
    without a directory address is written to at their login address. While the meeting is
    a draft nobody is e-mailed; once its invitations are out, a new invitee's goes out at once.
    """
    now = now or timezone.now()
    if meeting.status not in (Meeting.Status.DRAFT, Meeting.Status.SCHEDULED) or meeting.starts_at <= now:
        raise MeetingError(_("Invitations can only be sent for a scheduled meeting that has not started."))
    taken_people = set(meeting.invitations.values_list("person_id", flat=True))
    taken_addresses = set(meeting.invitations.values_list("email", flat=True))
    new: list[Invitation] = []
    for person in people:
        address = invitation_address(person)
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
    if meeting.status == Meeting.Status.SCHEDULED:
        _send_invitations(created, now=now)
    return created


def invitation_address(person) -> str:
    """Where a person's invitation goes: the directory address, else the login address."""
    address = (person.email or "").strip()
    if not address and getattr(person, "user_id", None):
        address = (person.user.email or "").strip()
    return address.lower()


def _send_invitations(invitations: list[Invitation], *, now: datetime.datetime) -> None:
    rows = []
    for invitation in invitations:
        rows.append(_notice_row(invitation, Delivery.Kind.INVITATION, now))
        rows.extend(_reminder_row(invitation, offset, now) for offset in invitation.meeting.reminder_offsets)
    _create_deliveries(rows, now=now)


@transaction.atomic
def meeting_send_invitations(*, meeting: Meeting, now: datetime.datetime | None = None) -> int:
    """Send a prepared meeting's invitations (with its reminders); the meeting becomes scheduled.

    Claims the draft (a conditional update on its status), so a double click sends once.
    Returns how many invitations went out.
    """
    now = now or timezone.now()
    current = _lock(meeting)
    if current.status != Meeting.Status.DRAFT:
        raise MeetingError(_("The invitations of this meeting have already been sent."), code="not_draft")
    if current.starts_at <= now:
        raise MeetingError(_("This meeting's start has passed: change its date first."), code="past")
    invitations = list(current.invitations.active().filter(person__anonymised_at__isnull=True))
    if not invitations:
        raise MeetingError(_("Nobody is invited yet: add people first."), code="nobody")
    if (
        Meeting.objects.filter(pk=current.pk, status=Meeting.Status.DRAFT).update(
            status=Meeting.Status.SCHEDULED, updated_at=now
        )
        != 1
    ):
        raise MeetingError(_("The invitations of this meeting have already been sent."), code="not_draft")
    # The claim is a queryset update(), which the audit trail never sees: log the move here (the
    # actor is the request's, set by auditlog's middleware).
    LogEntry.objects.log_create(
        current, action=LogEntry.Action.UPDATE, changes={"status": [Meeting.Status.DRAFT, Meeting.Status.SCHEDULED]}
    )
    current.status = Meeting.Status.SCHEDULED
    meeting.__dict__.update(current.__dict__)
    for invitation in invitations:
        invitation.meeting = current
    _send_invitations(invitations, now=now)
    return len(invitations)


@transaction.atomic
def invitation_remove(*, invitation: Invitation, now: datetime.datetime | None = None) -> None:
    """Withdraw an invitation: its pending e-mails are skipped, a cancellation tells the person,
    and the invitation is revoked (answer link refused, meeting no longer visible to them).

    In a draft nobody was told yet: the invitation is simply taken off the list.
    """
    now = now or timezone.now()
    invitation = Invitation.objects.select_for_update().select_related("meeting").get(pk=invitation.pk)
    meeting = invitation.meeting
    if invitation.withdrawn_at is not None:
        return
    if meeting.status == Meeting.Status.DRAFT and not invitation.deliveries.exists():
        invitation.delete()
        return
    engine.deliveries_skip(invitation.deliveries.all(), reason=engine.REASON_UNINVITED, now=now)
    if meeting.status == Meeting.Status.SCHEDULED and meeting.starts_at > now and invitation.deliveries.told().exists():
        _create_deliveries([_notice_row(invitation, Delivery.Kind.CANCELLATION, now)], now=now)
    # Keep the row (the deliveries reference it), revoked.
    invitation.withdrawn_at = now
    invitation.save(update_fields=["withdrawn_at"])


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().get(pk=meeting.pk)


@transaction.atomic
def meeting_update(*, meeting: Meeting, now: datetime.datetime | None = None, **changes) -> Meeting:
    """Change a draft or scheduled meeting.

    Once the invitations are out, a calendar change raises SEQUENCE and sends each invitee
    one updated invitation (at once for the title, time, place or link; for the agenda
    alone, at most one a day); a new time moves every unsent reminder with it.
    """
    now = now or timezone.now()
    current = _lock(meeting)
    if current.status not in (Meeting.Status.DRAFT, Meeting.Status.SCHEDULED):
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
    # A draft has told nobody: no revision to announce, no e-mail, no reminder yet.
    sent = current.status == Meeting.Status.SCHEDULED
    if calendar_changed and sent:
        current.sequence += 1
    current.save()
    meeting.__dict__.update(current.__dict__)

    if sent and ("starts_at" in calendar_changed or old_offsets != current.reminder_offsets):
        _reschedule_reminders(current, now=now)
    if sent and calendar_changed:
        _notify_change(current, now=now, agenda_only=calendar_changed == ["agenda"])
    return current


def _notify_change(meeting: Meeting, *, now: datetime.datetime, agenda_only: bool) -> None:
    """Send each invitee the meeting's latest revision (meeting.sequence), superseding any
    older one still waiting, so a person gets one e-mail per change, never a stale one.

    A change of the agenda alone waits until AGENDA_UPDATE_INTERVAL after the last notice
    the person was sent (so adding topics one by one does not e-mail anyone twice a day),
    but goes out at the latest AGENDA_UPDATE_LATEST_BEFORE_START before the meeting.
    Someone who was never sent the invitation (it was still waiting) gets the invitation.
    """
    notices = Delivery.objects.filter(meeting=meeting, kind__in=NOTICE_KINDS)
    waiting = dict(
        notices.unsent().values("invitation_id").annotate(first=Min("due_at")).values_list("invitation_id", "first")
    )
    # An older revision not sent yet is superseded (withdrawn from the outbox if it was
    # enqueued and no sender has claimed it): each person gets the latest only.
    engine.deliveries_skip(notices, reason=engine.REASON_SUPERSEDED, now=now)
    # After the withdrawal: a notice a sender claimed first is going out, so it counts as told.
    last_told = dict(
        notices.told()
        .values("invitation_id")
        .annotate(last=Max(Coalesce("message__claimed_at", "message__sent_at", "due_at")))
        .values_list("invitation_id", "last")
    )
    # People anonymised after they left, or whose invitation was withdrawn, get no more e-mails about it.
    invitations = meeting.invitations.active().filter(person__anonymised_at__isnull=True).select_related("meeting")
    latest = max(now, meeting.starts_at - AGENDA_UPDATE_LATEST_BEFORE_START)
    rows = []
    for invitation in invitations:
        told = last_told.get(invitation.pk)
        row = _notice_row(invitation, Delivery.Kind.UPDATE if told else Delivery.Kind.INVITATION, now)
        due = now
        if agenda_only and told:
            due = min(max(now, told + AGENDA_UPDATE_INTERVAL), latest)
        if invitation.pk in waiting:
            due = min(due, max(now, waiting[invitation.pk]))
        row.due_at = due
        rows.append(row)
    _create_deliveries(rows, now=now)


def _reschedule_reminders(meeting: Meeting, *, now: datetime.datetime) -> None:
    """Re-derive every unsent reminder from the stored offsets and the (new) start.

    Reminders set aside because the person declined follow the new start too (still set
    aside), so that accepting later brings them back at the meeting's current time.
    """
    reminders = meeting.deliveries.filter(kind=Delivery.Kind.REMINDER)
    # A reminder already enqueued for its old moment but not claimed by a sender yet says the
    # old time: withdrawn from the outbox, it moves like the others (a claimed one goes out).
    enqueued = list(
        reminders.filter(skip_reason="", message__status=Message.Status.PENDING).values_list("message_id", flat=True)
    )
    if enqueued and messages_cancel(message_ids=enqueued):
        reminders.filter(skip_reason="", message__status=Message.Status.CANCELLED).update(message=None, updated_at=now)
    movable = Q(message__isnull=True) & (
        Q(skip_reason="") | Q(skip_reason__in=[engine.REASON_INVITED_LATE, engine.REASON_MOVED_PAST])
    )
    declined_rows = Q(skip_reason=engine.REASON_DECLINED)
    reminders.filter(movable | declined_rows).exclude(offset_minutes__in=meeting.reminder_offsets).update(
        skip_reason=engine.REASON_REMOVED, updated_at=now
    )
    withdrawn = meeting.invitations.filter(withdrawn_at__isnull=False).values("pk")
    declined = meeting.invitations.filter(response=Invitation.Response.DECLINED).values("pk")
    for offset in meeting.reminder_offsets:
        moment = reminder_moment(meeting.starts_at, offset)
        rows = reminders.filter(offset_minutes=offset).exclude(invitation_id__in=withdrawn)
        rows.filter(declined_rows).update(due_at=moment, updated_at=now)
        rows = rows.filter(movable)
        if moment > now:
            rows.filter(invitation_id__in=declined).update(
                skip_reason=engine.REASON_DECLINED, due_at=moment, updated_at=now
            )
            rows.exclude(invitation_id__in=declined).update(skip_reason="", due_at=moment, updated_at=now)
        else:
            # Its moment is already behind us: the updated invitation says it all.
            rows.update(skip_reason=engine.REASON_MOVED_PAST, due_at=moment, updated_at=now)
    # Offsets added after the invitations went out.
    have = set(reminders.values_list("invitation_id", "offset_minutes"))
    rows = []
    for invitation in meeting.invitations.active().select_related("meeting"):
        for offset in meeting.reminder_offsets:
            if (invitation.pk, offset) in have:
                continue
            row = _reminder_row(invitation, offset, now)
            if not row.skip_reason and invitation.response == Invitation.Response.DECLINED:
                row.skip_reason = engine.REASON_DECLINED
            rows.append(row)
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, now: datetime.datetime | None = None) -> Meeting:
    """Cancel a draft or scheduled meeting: nothing pending goes out any more; every invitee
    who was told about it gets METHOD:CANCEL (a draft's invitees were told nothing)."""
    now = now or timezone.now()
    current = _lock(meeting)
    if current.status not in (Meeting.Status.DRAFT, Meeting.Status.SCHEDULED):
        raise MeetingError(_("Only a scheduled meeting can be cancelled."), code="not_scheduled")
    if current.starts_at <= now:
        raise MeetingError(_("A meeting that has started cannot be cancelled."), code="started")
    current.status = Meeting.Status.CANCELLED
    current.sequence += 1
    current.save(update_fields=["status", "sequence", "updated_at"])
    meeting.__dict__.update(current.__dict__)
    engine.deliveries_skip(current.deliveries.all(), reason=engine.REASON_CANCELLED, now=now)
    # Only people who were told about the meeting need to hear it is off (after the
    # withdrawal above: an invitation a sender claimed first is going out, so they were told).
    told_ids = Delivery.objects.filter(meeting=current, kind__in=NOTICE_KINDS).told().values("invitation_id")
    told = current.invitations.active().filter(pk__in=told_ids)
    rows = [_notice_row(invitation, Delivery.Kind.CANCELLATION, now) for invitation in told.select_related("meeting")]
    _create_deliveries(rows, now=now)
    return current


def rsvp_open(invitation: Invitation, *, now: datetime.datetime) -> bool:
    meeting = invitation.meeting
    return invitation.withdrawn_at is None and meeting.status == Meeting.Status.SCHEDULED and meeting.ends_at > now


@transaction.atomic
def invitation_respond(*, invitation: Invitation, response: str, now: datetime.datetime | None = None) -> Invitation:
    """Record an invitee's answer. Declining stops their reminders; changing one's mind restores them."""
    now = now or timezone.now()
    if response not in {Invitation.Response.ACCEPTED, Invitation.Response.TENTATIVE, Invitation.Response.DECLINED}:
        raise ValidationError(_("Unknown answer."), code="invalid_response")
    invitation = Invitation.objects.select_for_update().select_related("meeting").get(pk=invitation.pk)
    if invitation.withdrawn_at is not None:
        raise MeetingError(_("This invitation was withdrawn: no answer is recorded."), code="withdrawn")
    if not rsvp_open(invitation, now=now):
        raise MeetingError(_("This meeting is over or cancelled: answers are closed."), code="closed")
    invitation.response = response
    invitation.responded_at = now
    invitation.full_clean(validate_unique=False, validate_constraints=False)
    invitation.save(update_fields=["response", "responded_at"])
    reminders = invitation.deliveries.filter(kind=Delivery.Kind.REMINDER)
    if response == Invitation.Response.DECLINED:
        engine.deliveries_skip(reminders, reason=engine.REASON_DECLINED, now=now)
    else:
        # Changed their mind: the reminders still ahead come back, at the moment the
        # meeting's *current* start and offsets give (it may have moved since they declined).
        meeting = invitation.meeting
        for row in reminders.filter(skip_reason=engine.REASON_DECLINED):
            if row.offset_minutes not in meeting.reminder_offsets:
                continue
            moment = reminder_moment(meeting.starts_at, row.offset_minutes)
            if moment > now:
                engine.deliveries_rearm(
                    Delivery.objects.filter(pk=row.pk, skip_reason=engine.REASON_DECLINED), due_at=moment, now=now
                )
    return invitation


@transaction.atomic
def meeting_record_outcome(
    *,
    meeting: Meeting,
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
    if current.status == Meeting.Status.DRAFT:
        raise MeetingError(_("The invitations of this meeting were never sent: it has no minutes."), code="draft")
    if current.starts_at > now:
        raise MeetingError(_("Minutes can be recorded once the meeting has started."), code="not_started")
    current.minutes = minutes
    current.status = Meeting.Status.HELD
    current.full_clean()
    current.save(update_fields=["minutes", "status", "updated_at"])
    meeting.__dict__.update(current.__dict__)
    attended = set(attended_invitation_ids)
    for invitation in current.invitations.active():
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


def _agenda_changed(meeting: Meeting, *, now: datetime.datetime) -> None:
    """Invitees hold the agenda in their calendars: a new revision, sent at most once a day."""
    if meeting.status != Meeting.Status.SCHEDULED or meeting.starts_at <= now:
        return
    current = _lock(meeting)
    current.sequence += 1
    current.save(update_fields=["sequence", "updated_at"])
    meeting.__dict__.update(current.__dict__)
    _notify_change(current, now=now, agenda_only=True)


@transaction.atomic
def agenda_add_topic(*, meeting: Meeting, topic: Topic, now: datetime.datetime | None = None) -> AgendaItem:
    """Put a topic on a meeting's agenda (at the end); invitees get the new agenda (once a day at most)."""
    now = now or timezone.now()
    if meeting.status == Meeting.Status.CANCELLED:
        raise MeetingError(_("This meeting is cancelled."), code="cancelled")
    if topic.status != Topic.Status.PROPOSED:
        raise MeetingError(_("Only a proposed topic can be put on an agenda."), code="topic_not_open")
    last = meeting.agenda_items.order_by("-position").values_list("position", flat=True).first()
    item = AgendaItem(meeting=meeting, topic=topic, position=(last or 0) + 1)
    item.full_clean()
    item.save()
    _agenda_changed(meeting, now=now)
    return item


@transaction.atomic
def agenda_remove_topic(*, item: AgendaItem, now: datetime.datetime | None = None) -> None:
    """Take a topic off an agenda (before the outcome is recorded); invitees get the new agenda."""
    now = now or timezone.now()
    meeting = item.meeting
    if meeting.status == Meeting.Status.HELD:
        raise MeetingError(_("The outcome of this meeting is recorded; its agenda is closed."), code="held")
    item.delete()
    _agenda_changed(meeting, now=now)


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


def personal_data_erase(*, person, now: datetime.datetime) -> None:
    """Anonymisation, meetings side: revoke the calendar feed, skip pending e-mails, scrub addresses.

    Invitations, answers and attendance stay (past records, committee figures); the person's
    address goes. Runs inside person_anonymise()'s transaction, after das's eraser, which
    refuses while the person holds a current mandate (settings.PERSONAL_DATA_ERASERS).
    """
    CalendarFeed.objects.filter(person=person).delete()
    engine.deliveries_skip(Delivery.objects.filter(invitation__person=person), reason=engine.REASON_ANONYMISED, now=now)
    for invitation in Invitation.objects.filter(person=person).only("pk"):
        # Unique per meeting, like the real address was; ".invalid" can never be delivered.
        placeholder = f"anonymised-{invitation.pk}@anonymised.invalid"
        Invitation.objects.filter(pk=invitation.pk).update(email=placeholder)
        Delivery.objects.filter(invitation=invitation).update(email=placeholder)


def addresses_forget(*, before: datetime.datetime) -> int:
    """Retention: the addresses copied into the invitations of meetings that ended before `before`,
    and into their e-mails' deliveries, give way to placeholders (MEETINGS_ADDRESS_RETENTION_DAYS).

    The person keeps their own address on their record; the meeting keeps who was invited and
    what they answered. Unique per meeting, like the real address was; ".invalid" can never be
    delivered. Anonymised invitations (already ".invalid") are left as they are. Safe to run twice.
    """
    with transaction.atomic():
        ids = list(
            Invitation.objects.filter(meeting__ends_at__lt=before)
            .exclude(email__endswith=".invalid")
            .values_list("pk", flat=True)[:10_000]
        )
        if not ids:
            return 0
        Delivery.objects.filter(invitation_id__in=ids).update(
            email=Concat(Value("forgotten-"), Cast("invitation_id", CharField()), Value("@retention.invalid"))
        )
        return Invitation.objects.filter(pk__in=ids).update(
            email=Concat(Value("forgotten-"), Cast("pk", CharField()), Value("@retention.invalid"))
        )
