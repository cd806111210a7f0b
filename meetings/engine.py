"""When a meeting e-mail is due: skip it, or render it and hand it to the outbox — once.

The outbox (outbox/services.py) does the sending: claim, one SMTP connection per batch, the
hand-over mark, retries, the lease and the uncertain flag. This module only decides, as late
as possible, whether each `Delivery` still has to go out.

Invariants
- A Delivery is enqueued at most once: the scan locks the due rows it takes
  (`SELECT … FOR UPDATE SKIP LOCKED`), and in the same transaction either records a skip code
  or enqueues one `outbox.Message` (idempotency key `message_key()`) and points the row at it.
  Concurrent scans split the rows; a scan killed mid-batch rolls back and the next one redoes it.
- The skip decision is taken when the e-mail comes due, on the meeting and invitation as they
  are then (cancelled, started, superseded, declined, withdrawn, anonymised).
- A change after the e-mail was enqueued (meeting cancelled, invitation withdrawn, a decline,
  a newer revision) withdraws its message from the outbox with `messages_cancel`, which only
  moves a row still "pending": the sender's claim and the withdrawal are two conditional
  updates of the same row, so exactly one wins. If the sender won, the e-mail goes out and the
  delivery counts as told (e.g. a cancellation notice follows).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from meetings.emails import render
from meetings.models import AgendaItem, Delivery, Invitation, Meeting
from outbox.models import Message
from outbox.services import messages_cancel, messages_enqueue

logger = logging.getLogger(__name__)

BATCH_SIZE = 500  # rows per scan transaction

# Why a delivery was skipped: codes (Delivery.SkipReason), shown by their translated label.
REASON_CANCELLED = Delivery.SkipReason.CANCELLED
REASON_STARTED = Delivery.SkipReason.STARTED
REASON_DECLINED = Delivery.SkipReason.DECLINED
REASON_SUPERSEDED = Delivery.SkipReason.SUPERSEDED
REASON_INVITED_LATE = Delivery.SkipReason.INVITED_LATE
REASON_MOVED_PAST = Delivery.SkipReason.MOVED_PAST
REASON_REMOVED = Delivery.SkipReason.REMOVED
REASON_UNINVITED = Delivery.SkipReason.UNINVITED
REASON_ANONYMISED = Delivery.SkipReason.ANONYMISED


def message_key(delivery: Delivery) -> str:
    """The outbox idempotency key: one e-mail per invitation, kind, offset and revision.

    A reminder's key also carries its moment: a reminder withdrawn from the outbox (declined,
    meeting moved) and brought back for a later moment is a new e-mail; the same moment again
    is the same e-mail.
    """
    key = f"meeting-{delivery.kind}:{delivery.invitation_id}:{delivery.offset_minutes}:{delivery.sequence}"
    if delivery.kind == Delivery.Kind.REMINDER:
        key += "@" + delivery.due_at.astimezone(datetime.UTC).strftime("%Y%m%dT%H%MZ")
    return key


@dataclass
class ScanResult:
    enqueued: int = 0
    skipped: int = 0

    @property
    def claimed(self) -> int:
        return self.enqueued + self.skipped


def skip_reason(delivery: Delivery, now: datetime.datetime) -> str:
    """Why this due delivery must not go out now ("" if it must)."""
    meeting = delivery.meeting
    invitation = delivery.invitation
    if invitation.person.anonymised_at is not None:
        return REASON_ANONYMISED
    if delivery.kind == Delivery.Kind.CANCELLATION:
        return REASON_STARTED if meeting.starts_at <= now else ""
    if invitation.withdrawn_at is not None:
        return REASON_UNINVITED
    if meeting.status == Meeting.Status.CANCELLED:
        return REASON_CANCELLED
    if meeting.starts_at <= now or meeting.status != Meeting.Status.SCHEDULED:
        return REASON_STARTED
    if delivery.kind in (Delivery.Kind.INVITATION, Delivery.Kind.UPDATE) and delivery.sequence < meeting.sequence:
        return REASON_SUPERSEDED
    if delivery.kind == Delivery.Kind.REMINDER and invitation.response == Invitation.Response.DECLINED:
        return REASON_DECLINED
    return ""


def _take(rows: QuerySet[Delivery], *, now: datetime.datetime, limit: int) -> ScanResult:
    """In the caller's transaction: lock up to `limit` due waiting rows, skip or enqueue each."""
    locked = list(
        rows.waiting()
        .filter(due_at__lte=now)
        .select_related("meeting", "invitation", "invitation__person")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("due_at", "pk")[:limit]
    )
    result = ScanResult()
    if not locked:
        return result
    skipped, to_send = [], []
    for delivery in locked:
        delivery.invitation.meeting = delivery.meeting  # one row, not one query per link
        delivery.skip_reason = skip_reason(delivery, now)
        if delivery.skip_reason:
            skipped.append(delivery)
            continue
        if delivery.kind == Delivery.Kind.REMINDER:
            answered = delivery.invitation.response != Invitation.Response.NONE
            delivery.variant = "reminder" if answered else "reply_request"
        to_send.append(delivery)
    topics: dict[int, list[str]] = {}  # one read of each meeting's agenda per batch
    for item in AgendaItem.objects.filter(meeting__in={d.meeting_id for d in to_send}).select_related("topic"):
        topics.setdefault(item.meeting_id, []).append(item.topic.title)
    shared: dict = {}  # each meeting's body rendered once per kind, variant and language
    mails = [
        render(
            delivery,
            now=now,
            key=message_key(delivery),
            agenda_topics=topics.get(delivery.meeting_id, []),
            shared=shared,
        )
        for delivery in to_send
    ]
    for delivery, message in zip(to_send, messages_enqueue(mails), strict=True):
        delivery.message = message
    # One UPDATE per skip code and per variant, and one bulk_update of a single column: a
    # bulk_update of several columns builds a CASE per column and row, most of a batch's cost.
    by_value: dict[tuple[str, str], list[int]] = {}
    for delivery in skipped:
        by_value.setdefault(("skip_reason", delivery.skip_reason), []).append(delivery.pk)
    for delivery in to_send:
        by_value.setdefault(("variant", delivery.variant), []).append(delivery.pk)
    for (column, value), ids in by_value.items():
        Delivery.objects.filter(pk__in=ids).update(**{column: value, "updated_at": now})
    Delivery.objects.bulk_update(to_send, ["message"], batch_size=500)
    result.enqueued, result.skipped = len(to_send), len(skipped)
    return result


def deliveries_enqueue(*, delivery_ids: Iterable[int], now: datetime.datetime) -> ScanResult:
    """Skip or enqueue these deliveries if they are due (a service, in its transaction, for e-mails due now)."""
    ids = list(delivery_ids)
    if not ids:
        return ScanResult()
    with transaction.atomic():
        return _take(Delivery.objects.filter(pk__in=ids), now=now, limit=len(ids))


def scan(*, now: datetime.datetime | None = None) -> ScanResult:
    """Every minute: every due delivery is skipped or enqueued in the outbox, in batches.

    "Due" is everything whose moment has come since ever, not an exact-minute match, so a
    reminder missed while the system was down is found (and sent late, or skipped).
    """
    now = now or timezone.now()
    total = ScanResult()
    while True:
        with transaction.atomic():
            result = _take(Delivery.objects.all(), now=now, limit=BATCH_SIZE)
        total.enqueued += result.enqueued
        total.skipped += result.skipped
        if result.claimed < BATCH_SIZE:
            break
    if total.claimed:
        logger.info("Meeting e-mails: %s enqueued, %s skipped.", total.enqueued, total.skipped)
    return total


def deliveries_skip(rows: QuerySet[Delivery], *, reason: str, now: datetime.datetime) -> int:
    """Skip these deliveries if they have not gone out: waiting ones, and enqueued ones no sender claimed yet.

    Call inside the transaction that makes them pointless (cancel, withdraw, decline...). The
    order matters: the first UPDATE waits for a scan that holds some of these rows and then
    sees them enqueued, so the second finds their messages and withdraws them if still pending.
    """
    count = rows.waiting().update(skip_reason=reason, updated_at=now)
    pending = list(
        rows.filter(skip_reason="", message__status=Message.Status.PENDING).values_list("message_id", flat=True)
    )
    if pending and messages_cancel(message_ids=pending):
        count += rows.filter(skip_reason="", message__status=Message.Status.CANCELLED).update(
            skip_reason=reason, updated_at=now
        )
    return count


def deliveries_rearm(rows: QuerySet[Delivery], *, due_at: datetime.datetime, now: datetime.datetime) -> int:
    """Bring back skipped (or withdrawn from the outbox) deliveries for a new moment; they were never sent."""
    return rows.filter(message__isnull=True).update(skip_reason="", due_at=due_at, updated_at=now) + rows.filter(
        message__status=Message.Status.CANCELLED
    ).update(skip_reason="", message=None, due_at=due_at, updated_at=now)
