"""The delivery engine: scan for due e-mails, claim them, send each exactly once.

Invariants
- A Delivery row is the truth. The scan only *enqueues*; the send claims the row
  (pending -> sending, a conditional update whose row count is checked) before talking to
  SMTP, so a task delivered twice, or three scans running at once, send one e-mail.
- Sending is in two steps (outbox.smtp): the body goes to the SMTP server, then the row
  is marked handed over (`handed_at`, a conditional update on this claim), then the
  end-of-data mark goes out. A row left in "sending" without `handed_at` (its worker was
  killed) certainly did not go out: after LEASE it is released and sent again. If the
  release was wrong and the sender still lives, its hand-over finds the row gone and it
  abandons the message unsent. A row handed over but never marked sent (killed during the
  mark's round trip) may have gone out: it is never re-sent automatically, and after
  STUCK_AFTER it is flagged for staff.
- No task is ever delayed (eta/countdown): a transient SMTP error puts the row back to
  "pending" with a later `next_attempt_at`, and the every-minute scan picks it up then.
- A scan that enqueued a row leases it for LEASE; if the message was lost (broker restart,
  worker killed before the claim), a later scan enqueues it again.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import random
import smtplib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from das.meetings.emails import build_message, message_id
from das.models import Delivery, Invitation, Meeting
from outbox.services import is_transient
from outbox.smtp import HandoverEmailBackend, HandoverRefused

logger = logging.getLogger(__name__)

LEASE = datetime.timedelta(seconds=settings.MEETINGS_SCAN_LEASE_SECONDS)  # default 10 minutes
STUCK_AFTER = datetime.timedelta(minutes=15)
BATCH_SIZE = 500

# Reasons are stored in English (stable, greppable) and translated when shown.
REASON_CANCELLED = gettext_noop("The meeting was cancelled.")
REASON_STARTED = gettext_noop("The meeting had already started when this e-mail came due.")
REASON_DECLINED = gettext_noop("The invitee declined.")
REASON_SUPERSEDED = gettext_noop("Superseded by a later version of the invitation.")
REASON_INVITED_LATE = gettext_noop("The invitation was sent after this reminder's moment.")
REASON_MOVED_PAST = gettext_noop("The meeting was rescheduled and this reminder's moment had already passed.")
REASON_REMOVED = gettext_noop("This reminder was removed from the meeting.")
REASON_UNINVITED = gettext_noop("The invitee was removed from the meeting.")
REASON_ANONYMISED = gettext_noop("The invitee left and was anonymised.")
REASON_STUCK = gettext_noop(
    "Stuck in 'sending' for more than 15 minutes: the worker stopped after handing the message to the "
    "SMTP server and before its answer. The e-mail has probably gone out; check before re-sending."
)
REASON_UNANSWERED = gettext_noop(
    "The connection to the SMTP server broke after the message was handed over, before its answer. "
    "The e-mail may have gone out; check before re-sending."
)
REASON_RELEASED = gettext_noop(
    "The worker stopped before handing the message to the SMTP server, so it did not go out: sent again."
)


def retry_backoff_cap() -> int:
    return settings.MEETINGS_RETRY_BACKOFF_CAP


def max_attempts() -> int:
    return settings.MEETINGS_MAX_ATTEMPTS


def backoff(attempts: int) -> datetime.timedelta:
    """Exponential from one minute, capped (below the broker's visibility timeout), with jitter."""
    # Jitter, not a secret.
    seconds = min(retry_backoff_cap(), 60 * 2 ** max(attempts - 1, 0))
    return datetime.timedelta(seconds=seconds * random.uniform(0.8, 1.0))  # nosec B311


@dataclass
class ScanResult:
    claimed: int = 0
    released: int = 0
    flagged_stuck: int = 0
    enqueue_failed: int = 0


def release_abandoned(*, now: datetime.datetime) -> int:
    """Put back to pending the rows a worker claimed and never handed over: they did not go out."""
    return Delivery.objects.filter(
        status=Delivery.Status.SENDING, handed_at__isnull=True, claimed_at__lte=now - LEASE
    ).update(status=Delivery.Status.PENDING, enqueued_at=None, reason=REASON_RELEASED, updated_at=now)


def flag_stuck(*, now: datetime.datetime) -> int:
    """Flag rows handed over but never marked sent. They are not re-sent: staff decide."""
    return Delivery.objects.filter(
        status=Delivery.Status.SENDING,
        handed_at__isnull=False,
        claimed_at__lte=now - STUCK_AFTER,
        stuck_flagged_at__isnull=True,
    ).update(stuck_flagged_at=now, reason=REASON_STUCK)


def claim_due_batch(*, now: datetime.datetime, limit: int = BATCH_SIZE) -> list[int]:
    """Claim up to `limit` due rows for enqueueing; return exactly the ids this call claimed."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        # PostgreSQL: concurrent scans skip each other's locked rows instead of waiting.
        # The outer UPDATE repeats the due() conditions, so a row another scan claimed in
        # the meantime is re-checked and left alone. SQLite serialises writers anyway.
        candidates = (
            Delivery.objects.due(now, lease=LEASE)
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values("pk")[:limit]
        )
        claimed = (
            Delivery.objects.due(now, lease=LEASE).filter(pk__in=candidates).update(enqueued_at=now, scan_token=token)
        )
        if not claimed:
            return []
        return list(
            Delivery.objects.filter(scan_token=token).order_by("next_attempt_at", "pk").values_list("pk", flat=True)
        )


def enqueue(delivery_ids: list[int]) -> int:
    """Send one task per delivery to the broker; return how many could not be sent.

    Best effort by design: if the broker is down the rows stay pending and a later scan
    (or `manage.py send_due_reminders`) sends them, so a web request never fails on it.
    """
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    from das.tasks import deliver

    for index, pk in enumerate(delivery_ids):
        try:
            deliver.apply_async((pk,), retry=False)
        except (OperationalError, RedisError, OSError) as exc:
            missed = len(delivery_ids) - index
            logger.warning("Broker unavailable, %s deliveries left for the next scan: %s", missed, exc)
            return missed
    return 0


def enqueue_on_commit(delivery_ids: list[int]) -> None:
    if delivery_ids:
        transaction.on_commit(lambda: enqueue(delivery_ids))


def scan(*, now: datetime.datetime | None = None, dispatch: Callable[[list[int]], int] | None = None) -> ScanResult:
    """One pass: release abandoned rows, flag stuck ones, then claim every due row in batches and dispatch.

    "Due" is everything whose moment has come since ever, not an exact-minute match, so
    reminders missed while the system was down are found (and sent or skipped on send).
    """
    now = now or timezone.now()
    dispatch = dispatch or enqueue
    result = ScanResult(released=release_abandoned(now=now), flagged_stuck=flag_stuck(now=now))
    while True:
        ids = claim_due_batch(now=now)
        if not ids:
            break
        result.claimed += len(ids)
        result.enqueue_failed += dispatch(ids) or 0
        if result.enqueue_failed:
            break  # broker down: the rest waits for the lease to expire and the next scan
    if result.released:
        logger.warning("%s deliveries abandoned by a stopped worker before SMTP were released.", result.released)
    if result.flagged_stuck:
        logger.error("%s deliveries stuck in 'sending' were flagged for staff.", result.flagged_stuck)
    return result


def send_synchronously(*, now: datetime.datetime | None = None) -> Callable[[list[int]], int]:
    def dispatch(ids: list[int]) -> int:
        for pk in ids:
            delivery_send(delivery_id=pk, now=now)
        return 0

    return dispatch


def _skip_reason(delivery: Delivery, now: datetime.datetime) -> str:
    meeting = delivery.meeting
    if delivery.kind == Delivery.Kind.CANCELLATION:
        return REASON_STARTED if meeting.starts_at <= now else ""
    if meeting.status == Meeting.Status.CANCELLED:
        return REASON_CANCELLED
    if meeting.starts_at <= now or meeting.status != Meeting.Status.SCHEDULED:
        return REASON_STARTED
    if delivery.kind in (Delivery.Kind.INVITATION, Delivery.Kind.UPDATE) and delivery.sequence < meeting.sequence:
        return REASON_SUPERSEDED
    if delivery.kind == Delivery.Kind.REMINDER and delivery.invitation.response == Invitation.Response.DECLINED:
        return REASON_DECLINED
    return ""


# One SMTP session per worker process, reused while it is fresh: opening a session costs
# more than sending a reminder. Never reused after an error or a pause (the server may have
# closed it), so a stale session cannot turn into a failed, retried e-mail.
SMTP_REUSE_FOR = 20.0  # seconds
_smtp: dict = {"connection": None, "key": None, "used": 0.0}


def _send(message, *, hand_over: Callable[[], None]) -> None:
    """Send `message`, calling `hand_over` just before the point after which it may be delivered."""
    key = (settings.EMAIL_BACKEND, getattr(settings, "EMAIL_HOST", ""), getattr(settings, "EMAIL_PORT", 0))
    if key[0] != "django.core.mail.backends.smtp.EmailBackend":
        hand_over()  # file and memory backends: no server, so no window to narrow
        with get_connection(fail_silently=False) as connection:
            connection.send_messages([message])
        return
    connection = _smtp["connection"]
    if connection is None or _smtp["key"] != key or time.monotonic() - _smtp["used"] > SMTP_REUSE_FOR:
        _close_smtp()
        connection = HandoverEmailBackend(fail_silently=False)
        connection.open()
        _smtp.update(connection=connection, key=key)
    connection.connection.before_end_of_data = hand_over
    try:
        connection.send_messages([message])
    except BaseException:
        # Mid-DATA a polite QUIT would be read as message text: drop the socket instead.
        _smtp["connection"] = None
        connection.abandon()
        raise
    _smtp["used"] = time.monotonic()


def _close_smtp() -> None:
    connection, _smtp["connection"] = _smtp["connection"], None
    if connection is not None:
        with contextlib.suppress(smtplib.SMTPException, OSError):  # already gone
            connection.close()


def _finish(own: dict, *, status: str, now: datetime.datetime, **fields) -> None:
    # atomic(): on SQLite this takes the write lock up front (BEGIN IMMEDIATE, see settings).
    with transaction.atomic():
        Delivery.objects.filter(**own).update(status=status, updated_at=now, **fields)


def delivery_send(*, delivery_id: int, now: datetime.datetime | None = None) -> str:
    """Claim one delivery and send (or skip) it; return its final status, or "" if not ours.

    Safe to run any number of times: only the caller that moves the row from pending to
    sending sends it, and only if the row is still its own when it hands the message over.
    """
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Delivery.objects.filter(
            pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
        ).update(
            status=Delivery.Status.SENDING, claimed_at=now, handed_at=None, attempts=F("attempts") + 1, updated_at=now
        )
    if claimed != 1:
        return ""
    delivery = Delivery.objects.select_related("meeting", "meeting__area", "invitation", "invitation__person").get(
        pk=delivery_id
    )
    # This claim is (status, attempts): every later write matches on it, so a sender whose row
    # was released and claimed again cannot overwrite the new owner's outcome.
    own = {"pk": delivery.pk, "status": Delivery.Status.SENDING, "attempts": delivery.attempts}
    handed = False

    def hand_over() -> None:
        nonlocal handed
        with transaction.atomic():
            if not Delivery.objects.filter(**own, handed_at__isnull=True).update(handed_at=now):
                raise HandoverRefused(delivery.pk)
        handed = True

    delivery.invitation.meeting = delivery.meeting  # one row, not one query per link
    reason = _skip_reason(delivery, now)
    if reason:
        _finish(own, status=Delivery.Status.SKIPPED, now=now, reason=reason)
        return Delivery.Status.SKIPPED
    if delivery.kind == Delivery.Kind.REMINDER:
        delivery.variant = "reply_request" if delivery.invitation.response == Invitation.Response.NONE else "reminder"
    try:
        message = build_message(delivery, now=now)
    except Exception as exc:
        # A rendering bug: record it on the row (so staff see it) rather than leave it "sending".
        _finish(own, status=Delivery.Status.FAILED, now=now, reason=f"Rendering failed: {exc!r}")
        raise
    try:
        _send(message, hand_over=hand_over)
    except HandoverRefused:
        logger.warning("Delivery %s was released while being sent; abandoned unsent.", delivery.pk)
        return ""
    except (smtplib.SMTPException, OSError) as exc:
        if handed and not isinstance(exc, smtplib.SMTPResponseException):
            # The end-of-data mark may have reached the server: only a reply is an answer.
            Delivery.objects.filter(**own).update(stuck_flagged_at=now, reason=REASON_UNANSWERED, updated_at=now)
            return Delivery.Status.SENDING
        if is_transient(exc) and delivery.attempts < max_attempts():
            _finish(
                own,
                status=Delivery.Status.PENDING,
                now=now,
                next_attempt_at=now + backoff(delivery.attempts),
                enqueued_at=None,
                handed_at=None,
                reason=f"Attempt {delivery.attempts} failed, will retry: {exc}",
            )
            return Delivery.Status.PENDING
        kind = f"transient, gave up after {delivery.attempts} attempts" if is_transient(exc) else "permanent"
        _finish(own, status=Delivery.Status.FAILED, now=now, reason=f"SMTP error ({kind}): {exc}")
        return Delivery.Status.FAILED
    _finish(
        own,
        status=Delivery.Status.SENT,
        now=now,
        sent_at=now,
        reason="",
        variant=delivery.variant,
        message_id=message_id(delivery),
    )
    return Delivery.Status.SENT
