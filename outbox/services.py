"""The one path of every e-mail the portal sends: enqueue in the domain transaction, claim, send once.

A domain service calls `message_enqueue(...)` inside its own transaction (with an idempotency
key, so a retried request or a second scan adds nothing); the row is handed to the broker
after commit. `messages_send` claims a batch of rows in one UPDATE, opens one SMTP
connection for the batch and writes each message's outcome on its own row.

Invariants (the meeting engine's, now for every kind of mail)
- The row is the truth. Only the caller whose UPDATE moves a row from "pending" to
  "sending" (with its own claim token) sends it: a task delivered twice, or several scans at
  once, send one e-mail.
- Sending is in two steps (outbox.smtp): the body goes to the SMTP server, the row is marked
  handed over (a conditional update on this claim), then the end-of-data mark goes out. A row
  left in "sending" without `handed_at` (its sender was killed or lost its database) certainly
  did not go out: after LEASE the scan releases it and it is sent once. A row handed over but
  never marked sent may have gone out: never re-sent automatically; after UNCERTAIN_AFTER it
  is flagged for staff, who requeue it from the admin after checking.
- No task is delayed (eta/countdown): a transient error puts the row back to "pending" with a
  later `next_attempt_at`, and the every-minute scan picks it up. A database error is treated
  like a transient SMTP error. A message that cannot be built is failed with its reason.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import random
import smtplib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import sanitize_address
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from outbox.models import Attachment, Message
from outbox.smtp import HandoverEmailBackend, HandoverRefused

logger = logging.getLogger(__name__)

BATCH_SIZE = 100  # rows per send task: one claim, one SMTP connection
SCAN_CHUNK = 1000  # rows per scan transaction
UNCERTAIN_AFTER = datetime.timedelta(minutes=15)
UNCLAIMED = ""  # the claim token of a row nobody holds

RELEASED = "The sender stopped before handing the message to the SMTP server, so it did not go out: sent again."
UNCERTAIN = (
    "Stuck in 'sending' after the message was handed to the SMTP server, before its answer. "
    "The e-mail has probably gone out; check before re-sending."
)
UNANSWERED = (
    "The connection to the SMTP server broke after the message was handed over, before its answer. "
    "The e-mail may have gone out; check before re-sending."
)


def lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def backoff(attempts: int) -> datetime.timedelta:
    """Exponential from one minute, capped (below the broker's visibility timeout), with jitter."""
    seconds = min(settings.OUTBOX_RETRY_BACKOFF_CAP, 60 * 2 ** max(attempts - 1, 0))
    return datetime.timedelta(seconds=seconds * random.uniform(0.8, 1.0))  # nosec B311 - jitter, not a secret


def is_transient(exc: BaseException) -> bool:
    """4xx replies, a dropped or unreachable server, and a lost database are worth retrying; 5xx are not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPException):
        return False  # e.g. no usable authentication method: retrying will not help
    if isinstance(exc, OperationalError | InterfaceError):
        return True  # the database went away (restart, terminated backend)
    return isinstance(exc, OSError)  # refused connection, timeout, DNS


# --- Enqueue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attach:
    """An attachment to enqueue: `content` (bytes) or `file` (a Django File, stored under MEDIA_ROOT)."""

    filename: str
    content: bytes | None = None
    file: File | None = None
    mimetype: str = "application/octet-stream"


@dataclass
class Mail:
    """Everything one e-mail needs; see `message_enqueue`."""

    key: str
    kind: str
    to: Sequence[str]
    subject: str
    body: str
    html: str = ""
    reply_to: Sequence[str] = ()
    language: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    attachments: Sequence[Attach] = ()
    not_before: datetime.datetime | None = None
    from_email: str = ""


def message_enqueue(
    *,
    key: str,
    kind: str,
    to: Sequence[str],
    subject: str,
    body: str,
    html: str = "",
    reply_to: Sequence[str] = (),
    language: str = "",
    headers: dict[str, str] | None = None,
    attachments: Sequence[Attach] = (),
    not_before: datetime.datetime | None = None,
    from_email: str = "",
) -> Message:
    """Add one e-mail, in the caller's transaction; it is handed to a worker only after commit.

    Idempotent: a second call with the same `key` returns the first row and sends nothing more.
    The caller renders subject and bodies (in `language`); `not_before` delays it (a reminder).
    """
    mail = Mail(
        key=key, kind=kind, to=to, subject=subject, body=body, html=html, reply_to=reply_to, language=language,
        headers=headers or {}, attachments=attachments, not_before=not_before, from_email=from_email,
    )  # fmt: skip
    return messages_enqueue([mail])[0]


def messages_enqueue(mails: Iterable[Mail]) -> list[Message]:
    """Add many e-mails in one insert (same rules as `message_enqueue`); return their rows in order."""
    mails = list(mails)
    if not mails:
        return []
    now = timezone.now()
    with transaction.atomic():
        rows = [
            Message(
                key=mail.key,
                kind=mail.kind,
                to=[address for address in mail.to if address],
                reply_to=list(mail.reply_to),
                from_email=mail.from_email,
                subject=mail.subject,
                body=mail.body,
                html=mail.html,
                language=mail.language,
                headers=dict(mail.headers),
                next_attempt_at=mail.not_before or now,
            )
            for mail in mails
        ]
        existing = set(Message.objects.filter(key__in=[mail.key for mail in mails]).values_list("key", flat=True))
        # The unique key is the guard: an existing row stays as it is (sent or not).
        Message.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        by_key = Message.objects.in_bulk([mail.key for mail in mails], field_name="key")
        new_attachments = []
        for mail in mails:
            message = by_key[mail.key]
            if mail.key in existing or not mail.attachments:
                continue  # existed before this call (its attachments too)
            for spec in mail.attachments:
                attachment = Attachment(message=message, filename=spec.filename, mimetype=spec.mimetype)
                if spec.file is not None:
                    attachment.file.save(spec.filename, spec.file, save=False)
                else:
                    attachment.content = spec.content or b""
                new_attachments.append(attachment)
        Attachment.objects.bulk_create(new_attachments)
        dispatch_on_commit(
            [m.pk for m in by_key.values() if m.status == Message.Status.PENDING and m.next_attempt_at <= now]
        )
    return [by_key[mail.key] for mail in mails]


def attach_file(filename: str, content: bytes, mimetype: str = "application/octet-stream") -> Attach:
    """An attachment kept as a stored file rather than in the row (PDF invoices and other large files)."""
    return Attach(filename=filename, file=ContentFile(content, name=filename), mimetype=mimetype)


# --- Dispatch to the broker ----------------------------------------------------------------


def dispatch(message_ids: list[int]) -> int:
    """Send one task per batch to the broker; return how many rows could not be handed to it.

    Best effort by design: if the broker is down the rows stay pending and a later scan sends
    them, so a web request never fails on it.
    """
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import RedisError

    # Found by name in the Celery app's registry: outbox.tasks imports this module.
    send_messages = current_app.tasks["outbox.send_messages"]

    for start in range(0, len(message_ids), BATCH_SIZE):
        chunk = message_ids[start : start + BATCH_SIZE]
        try:
            send_messages.apply_async((chunk,), retry=False)
        except (BrokerError, RedisError, OSError) as exc:
            missed = len(message_ids) - start
            logger.warning("Broker unavailable, %s e-mails left for the next scan: %s", missed, exc)
            return missed
    return 0


def dispatch_on_commit(message_ids: list[int]) -> None:
    if message_ids:
        ids = list(message_ids)
        transaction.on_commit(lambda: dispatch(ids), robust=True)


# --- Scan ------------------------------------------------------------------------------------


@dataclass
class ScanResult:
    claimed: int = 0
    released: int = 0
    flagged_uncertain: int = 0
    enqueue_failed: int = 0


def release_abandoned(*, now: datetime.datetime) -> int:
    """Put back to pending the rows a sender claimed and never handed over: they did not go out."""
    return Message.objects.filter(
        status=Message.Status.SENDING, handed_at__isnull=True, claimed_at__lte=now - lease()
    ).update(
        status=Message.Status.PENDING, enqueued_at=None, claim_token=UNCLAIMED, last_error=RELEASED, updated_at=now
    )


def flag_uncertain(*, now: datetime.datetime) -> int:
    """Flag rows handed over but never marked sent. They are not re-sent: staff decide."""
    return Message.objects.filter(
        status=Message.Status.SENDING,
        handed_at__isnull=False,
        claimed_at__lte=now - UNCERTAIN_AFTER,
        uncertain_at__isnull=True,
    ).update(uncertain_at=now, last_error=UNCERTAIN, updated_at=now)


def claim_due(*, now: datetime.datetime, limit: int = SCAN_CHUNK) -> list[int]:
    """Lease up to `limit` due rows for enqueueing; return exactly the ids this call leased."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        # Concurrent scans skip each other's locked rows; the outer UPDATE repeats the due()
        # conditions, so a row another scan leased meanwhile is left alone.
        candidates = (
            Message.objects.due(now, lease=lease())
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values("pk")[:limit]
        )
        leased = (
            Message.objects.due(now, lease=lease()).filter(pk__in=candidates).update(enqueued_at=now, scan_token=token)
        )
        if not leased:
            return []
        return list(
            Message.objects.filter(scan_token=token).order_by("next_attempt_at", "pk").values_list("pk", flat=True)
        )


def scan(*, now: datetime.datetime | None = None, send: Callable[[list[int]], int] | None = None) -> ScanResult:
    """One pass: release abandoned rows, flag uncertain ones, then lease every due row and dispatch it.

    "Due" is everything whose moment has come since ever, so mail missed while the system was
    down is found.
    """
    now = now or timezone.now()
    send = send or dispatch
    result = ScanResult(released=release_abandoned(now=now), flagged_uncertain=flag_uncertain(now=now))
    while True:
        ids = claim_due(now=now)
        if not ids:
            break
        result.claimed += len(ids)
        result.enqueue_failed += send(ids) or 0
        if result.enqueue_failed:
            break  # broker down: the rest waits for the lease to expire and the next scan
    if result.released:
        logger.warning("%s e-mails abandoned by a stopped sender before SMTP were released.", result.released)
    if result.flagged_uncertain:
        logger.error(
            "%s e-mails stuck in 'sending' after the hand-over were flagged for staff.", result.flagged_uncertain
        )
    return result


def send_synchronously(*, now: datetime.datetime | None = None) -> Callable[[list[int]], int]:
    """A `send` for `scan` that sends in this process (tests, `manage.py send_outbox`)."""

    def send(ids: list[int]) -> int:
        for start in range(0, len(ids), BATCH_SIZE):
            messages_send(message_ids=ids[start : start + BATCH_SIZE], now=now)
        return 0

    return send


# --- Send ------------------------------------------------------------------------------------


def message_id_for(message: Message) -> str:
    # Deterministic: a duplicate, if one ever slipped through, would be recognisable downstream.
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "medicen.example"
    return f"<outbox-{message.pk}.{message.kind.replace('.', '-')}@{domain}>"


def build(message: Message) -> EmailMultiAlternatives:
    """The e-mail of one row; raises (BadHeaderError, ValueError...) if it cannot be built."""
    headers = {"Message-ID": message_id_for(message), "Auto-Submitted": "auto-generated", **message.headers}
    if message.language:
        headers.setdefault("Content-Language", message.language)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(message.to),
        reply_to=list(message.reply_to),
        headers=headers,
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    for attachment in message.attachments.all():
        email.attach(attachment.filename, attachment.read(), attachment.mimetype)
    if not email.recipients():
        raise ValueError("no recipient")
    # Rendered once, here: a CR/LF in the subject fails now, not mid-SMTP, and the SMTP path
    # sends these very bytes (MIME rendering is most of a message's cost).
    email.raw = email.message().as_bytes(linesep="\r\n")
    return email


# One SMTP session per worker process, reused while it is fresh: opening a session costs more
# than sending a message. Never reused after an error or a pause (the server may have closed it).
SMTP_REUSE_FOR = 20.0  # seconds
_smtp: dict = {"connection": None, "key": None, "used": 0.0}


def _smtp_key() -> tuple:
    return (settings.EMAIL_BACKEND, getattr(settings, "EMAIL_HOST", ""), getattr(settings, "EMAIL_PORT", 0))


def _send_one(email: EmailMultiAlternatives, *, hand_over: Callable[[], None]) -> None:
    """Send `email`, calling `hand_over` just before the point after which it may be delivered."""
    key = _smtp_key()
    if key[0] != "django.core.mail.backends.smtp.EmailBackend":
        hand_over()  # file and memory backends: no server, so no window to narrow
        with get_connection(fail_silently=False) as backend:
            backend.send_messages([email])
        return
    backend = _smtp["connection"]
    if backend is None or _smtp["key"] != key or time.monotonic() - _smtp["used"] > SMTP_REUSE_FOR:
        close_smtp()
        backend = HandoverEmailBackend(fail_silently=False)
        backend.open()
        _smtp.update(connection=backend, key=key)
    backend.connection.before_end_of_data = hand_over
    encoding = email.encoding or settings.DEFAULT_CHARSET
    try:
        # What Django's SMTP backend does in _send(), on the bytes rendered by build().
        backend.connection.sendmail(
            sanitize_address(email.from_email, encoding),
            [sanitize_address(address, encoding) for address in email.recipients()],
            email.raw,
        )
    except BaseException:
        # Mid-DATA a polite QUIT would be read as message text: drop the socket instead.
        _smtp["connection"] = None
        backend.abandon()
        raise
    _smtp["used"] = time.monotonic()


def close_smtp() -> None:
    backend, _smtp["connection"] = _smtp["connection"], None
    if backend is not None:
        with contextlib.suppress(smtplib.SMTPException, OSError):  # already gone
            backend.close()


class _Writes:
    """A sender's conditional writes on its own rows, surviving a database restart by reconnecting.

    Retried a few times over a few seconds: the outcome of a message that did go out is worth
    waiting for, and a row whose outcome cannot be written is left to the scan (released if
    not handed over, flagged for staff if it was).

    "Sent" marks are deferred and committed with the next write (the next message's hand-over,
    or the end of the batch): one commit per message instead of two, the commit being most of
    a message's cost. A sender killed in between leaves that message handed over and unmarked:
    flagged for staff, never sent twice.
    """

    def __init__(self) -> None:
        self.deferred: list[tuple[dict, dict]] = []

    def defer(self, own: dict, **fields) -> None:
        self.deferred.append((own, fields))

    def hand_over(self, own: dict, at: datetime.datetime) -> int:
        """Mark this row handed over (if still this sender's), with the deferred "sent" marks."""
        one_statement = connection.vendor == "postgresql" and set(own) == {"pk", "status", "claim_token"}
        if one_statement and len(self.deferred) <= 1:
            return self._hand_over_in_one_statement(own, at)
        return self.write({**own, "handed_at__isnull": True}, handed_at=at)

    # One round trip and one commit (PostgreSQL): the previous message's "sent" mark (if any)
    # rides along in a data-modifying CTE, and `set_config(…, true)` lets this one statement
    # commit without waiting for the disk flush (see `_may_commit_asynchronously`).
    HAND_OVER_SQL = (
        "WITH cfg AS MATERIALIZED (SELECT set_config('synchronous_commit', "
        "CASE WHEN %s THEN 'off' ELSE current_setting('synchronous_commit') END, true)), "
        "sent AS (UPDATE outbox_message SET status = %s, sent_at = %s, last_error = '', message_id = %s, "
        "updated_at = %s WHERE id = %s AND status = %s AND claim_token = %s RETURNING 1) "
        "UPDATE outbox_message SET handed_at = %s FROM cfg "
        "WHERE id = %s AND status = %s AND claim_token = %s AND handed_at IS NULL"
    )

    def _hand_over_in_one_statement(self, own: dict, at: datetime.datetime) -> int:
        sent_own, sent = (
            self.deferred[0] if self.deferred else ({"pk": None, "status": "", "claim_token": UNCLAIMED}, {})
        )
        params = [
            _may_commit_asynchronously(),
            sent.get("status", ""), sent.get("sent_at"), sent.get("message_id", ""), sent.get("updated_at"),
            sent_own["pk"], sent_own["status"], sent_own["claim_token"],
            at, own["pk"], own["status"], own["claim_token"],
        ]  # fmt: skip
        for attempt in range(6):
            try:
                with connection.cursor() as cursor:
                    cursor.execute(self.HAND_OVER_SQL, params)
                    count = cursor.rowcount
                self.deferred = []
                return count
            except (OperationalError, InterfaceError):
                if attempt == 5:
                    raise
                connection.close()
                time.sleep(0.5 * (attempt + 1))
        return 0

    def write(self, own: dict | None = None, **fields) -> int:
        for attempt in range(6):
            try:
                asynchronous = _may_commit_asynchronously()
                with transaction.atomic():
                    if asynchronous:
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL synchronous_commit = off")
                    for deferred_own, deferred_fields in self.deferred:
                        Message.objects.filter(**deferred_own).update(**deferred_fields)
                    count = Message.objects.filter(**own).update(**fields) if own is not None else 0
                self.deferred = []
                return count
            except (OperationalError, InterfaceError):
                if attempt == 5:
                    raise
                connection.close()  # the next query opens a fresh connection
                time.sleep(0.5 * (attempt + 1))
        return 0

    def flush(self) -> None:
        if self.deferred:
            self.write()


def _may_commit_asynchronously() -> bool:
    """Whether a sender's next write may commit without waiting for PostgreSQL's disk flush.

    The hand-over mark must be committed before the end-of-data mark goes out, and a sender
    killed while it waits leaves an uncertain e-mail: not waiting for the flush (about 2 ms a
    message) narrows that window to one local round trip, and doubles a worker's rate. What it
    risks: a PostgreSQL crash (not a restart, which flushes) within ~0.6 s of the commit loses
    the mark, and that e-mail may then go out twice. OUTBOX_SYNCHRONOUS_COMMIT=true refuses the
    trade. Never inside a caller's transaction (`send_outbox` in a test, say): the setting
    would last until that transaction's own commit.
    """
    return (
        connection.vendor == "postgresql" and not settings.OUTBOX_SYNCHRONOUS_COMMIT and not connection.in_atomic_block
    )


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0
    not_ours: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)


def messages_send(*, message_ids: Sequence[int], now: datetime.datetime | None = None) -> SendResult:
    """Claim these rows in one UPDATE and send each once over one SMTP connection.

    Safe to run any number of times on the same ids: only rows this call moved from pending to
    sending (its claim token) are sent, and only while the row is still its own at the hand-over.
    """
    now = now or timezone.now()
    result = SendResult()
    token = uuid.uuid4().hex
    with transaction.atomic():
        Message.objects.filter(
            pk__in=list(message_ids), status=Message.Status.PENDING, next_attempt_at__lte=now
        ).update(
            status=Message.Status.SENDING,
            claim_token=token,
            claimed_at=now,
            handed_at=None,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    claimed = Message.objects.filter(claim_token=token, status=Message.Status.SENDING)
    for attempt in range(6):
        # The claim is committed: reading it back survives a database restart too, or these rows
        # would wait in "sending" for the lease.
        try:
            rows = list(claimed.prefetch_related("attachments").order_by("pk"))
            break
        except (OperationalError, InterfaceError):
            if attempt == 5:
                raise
            connection.close()
            time.sleep(0.5 * (attempt + 1))
    result.not_ours = len(set(message_ids)) - len(rows)
    writes = _Writes()
    for index, message in enumerate(rows):
        try:
            outcome = _send_claimed(message, token=token, now=now, writes=writes)
        except (OperationalError, InterfaceError) as exc:
            # The database went away mid-batch: give back what was not handed over (it did not
            # go out) as after a transient error; the lease covers us if even that fails.
            logger.warning("Database lost while sending e-mails: %s", exc)
            _release_rest(rows[index:], token=token, now=now, error=f"{type(exc).__name__}: {exc}", writes=writes)
            result.retrying += len(rows) - index
            break
        result.outcomes[message.pk] = outcome
        setattr(result, outcome, getattr(result, outcome) + 1)
    try:
        writes.flush()
    except DatabaseError as exc:
        logger.error("Could not record %s e-mails as sent (flagged for staff later): %s", len(writes.deferred), exc)
    return result


def _release_rest(rows: list[Message], *, token: str, now: datetime.datetime, error: str, writes: _Writes) -> None:
    ids = [message.pk for message in rows]
    with contextlib.suppress(DatabaseError):
        close_old_connections()
        writes.write(
            {"pk__in": ids, "status": Message.Status.SENDING, "claim_token": token, "handed_at__isnull": True},
            status=Message.Status.PENDING,
            claim_token=UNCLAIMED,
            enqueued_at=None,
            next_attempt_at=now + backoff(1),
            last_error=f"Attempt failed, will retry: {error}"[:2000],
            updated_at=timezone.now(),
        )


def _send_claimed(message: Message, *, token: str, now: datetime.datetime, writes: _Writes) -> str:
    own = {"pk": message.pk, "status": Message.Status.SENDING, "claim_token": token}
    handed = False

    def hand_over() -> None:
        nonlocal handed
        if not writes.hand_over(own, timezone.now()):
            raise HandoverRefused(message.pk)
        handed = True

    try:
        email = build(message)
    except Exception as exc:
        # A message that cannot be built never will be: failed with its reason, not left "sending".
        writes.write(
            own,
            status=Message.Status.FAILED,
            last_error=f"Could not be built: {type(exc).__name__}: {exc}"[:2000],
            updated_at=now,
        )
        logger.warning("E-mail %s (%s) could not be built: %r", message.pk, message.kind, exc)
        return "failed"
    try:
        _send_one(email, hand_over=hand_over)
    except HandoverRefused:
        logger.warning("E-mail %s was released while being sent; abandoned unsent.", message.pk)
        return "not_ours"
    except (OperationalError, InterfaceError):
        if handed:
            return "uncertain"  # went to the server; the scan flags it if the outcome cannot be written
        raise
    except (smtplib.SMTPException, OSError) as exc:
        if handed and not isinstance(exc, smtplib.SMTPResponseException):
            # The end-of-data mark may have reached the server: only a reply is an answer.
            writes.write(own, uncertain_at=now, last_error=UNANSWERED, updated_at=now)
            return "uncertain"
        if is_transient(exc) and message.attempts < settings.OUTBOX_MAX_ATTEMPTS:
            writes.write(
                own,
                status=Message.Status.PENDING,
                claim_token=UNCLAIMED,
                next_attempt_at=now + backoff(message.attempts),
                enqueued_at=None,
                handed_at=None,
                last_error=f"Attempt {message.attempts} failed, will retry: {type(exc).__name__}: {exc}"[:2000],
                updated_at=now,
            )
            return "retrying"
        kind = f"transient, gave up after {message.attempts} attempts" if is_transient(exc) else "permanent"
        writes.write(own, status=Message.Status.FAILED, last_error=f"SMTP error ({kind}): {exc}"[:2000], updated_at=now)
        return "failed"
    writes.defer(
        own,
        status=Message.Status.SENT,
        sent_at=timezone.now(),
        last_error="",
        message_id=email.extra_headers.get("Message-ID", ""),
        updated_at=now,
    )
    return "sent"


# --- Staff -----------------------------------------------------------------------------------


def messages_requeue(*, message_ids: Iterable[int], now: datetime.datetime | None = None) -> int:
    """Staff send again failed or uncertain e-mails (after checking the uncertain ones did not arrive)."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = Message.objects.needs_staff().filter(pk__in=list(message_ids))
        ids = list(rows.values_list("pk", flat=True))
        count = Message.objects.filter(pk__in=ids).update(
            status=Message.Status.PENDING,
            attempts=0,
            next_attempt_at=now,
            enqueued_at=None,
            claim_token=UNCLAIMED,
            handed_at=None,
            uncertain_at=None,
            updated_at=now,
        )
        dispatch_on_commit(ids)
    return count


def messages_cancel(*, keys: Iterable[str] = (), message_ids: Iterable[int] = ()) -> int:
    """Withdraw e-mails not yet sent (e.g. an anonymised recipient); the rows stay as a record."""
    rows = Message.objects.filter(status=Message.Status.PENDING)
    keys, message_ids = list(keys), list(message_ids)
    return rows.filter(key__in=keys).update(status=Message.Status.CANCELLED) + rows.filter(pk__in=message_ids).update(
        status=Message.Status.CANCELLED
    )


def messages_forget(*, before: datetime.datetime) -> int:
    """Retention: the addresses, bodies and attachments of e-mails that ended before `before` go.

    A row that went out, failed for good or was cancelled keeps its key, kind, subject, status
    and dates (the domain rows that point at it still say whether it went out); its recipients,
    reply-to addresses, headers, bodies and attachments are removed. Safe to run twice.
    """
    ended = Message.objects.filter(
        status__in=[Message.Status.SENT, Message.Status.FAILED, Message.Status.CANCELLED],
        updated_at__lt=before,
    ).exclude(to=[], body="", html="")
    ids = list(ended.values_list("pk", flat=True)[:10_000])
    if not ids:
        return 0
    with transaction.atomic():
        for attachment in Attachment.objects.filter(message_id__in=ids).exclude(file=""):
            attachment.file.delete(save=False)
        Attachment.objects.filter(message_id__in=ids).delete()
        # update(): the scrub must not move updated_at, which dates the end of the e-mail.
        return Message.objects.filter(pk__in=ids).update(to=[], reply_to=[], headers={}, body="", html="")
