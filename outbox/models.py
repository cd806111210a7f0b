"""One row per outgoing e-mail: the row is the truth about whether it went out.

The outbox is a leaf: it imports no app of the portal. Domain rows (a project notification,
a meeting delivery, a membership year's reminder) point at a Message; the Message knows
nothing about them beyond its `kind` and its idempotency `key`.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MessageQuerySet(models.QuerySet):
    def due(self, now: datetime.datetime, *, lease: datetime.timedelta) -> MessageQuerySet:
        """Pending rows whose moment has come (however long ago) and that no scan enqueued recently."""
        return self.filter(
            Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - lease),
            status=Message.Status.PENDING,
            next_attempt_at__lte=now,
        )

    def needs_staff(self) -> MessageQuerySet:
        """Failed for good, or handed to the SMTP server without an answer (may have gone out)."""
        return self.filter(
            Q(status=Message.Status.FAILED) | Q(status=Message.Status.SENDING, uncertain_at__isnull=False)
        )


class Message(models.Model):
    """One e-mail to its recipients, sent at most once (idempotency key) and exactly once when all goes well."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    # e.g. "project-event:41:staff", "renewal-reminder:2027:118", "meeting-reminder:903:1440"
    key = models.CharField(_("idempotency key"), max_length=255, unique=True)
    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    from_email = models.CharField(_("from"), max_length=255, blank=True)
    to = models.JSONField(_("to"), default=list)
    reply_to = models.JSONField(_("reply to"), default=list, blank=True)
    # May hold what a header cannot (a CR/LF): the build fails then, and the row says why.
    subject = models.TextField(_("subject"), blank=True)
    body = models.TextField(_("text body"), blank=True)
    html = models.TextField(_("HTML body"), blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    # Set by the scan that enqueued the row; a row still pending a lease later had its task lost.
    enqueued_at = models.DateTimeField(_("enqueued at"), null=True, blank=True)
    scan_token = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    # The claim: every write of a sender matches on its own token, so a sender whose row was
    # released and claimed again cannot overwrite the new owner's outcome.
    claim_token = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # Set just before the SMTP end-of-data mark (outbox.smtp): a row in "sending" without it
    # certainly did not go out, and is released after the lease.
    handed_at = models.DateTimeField(_("handed to the SMTP server at"), null=True, blank=True)
    uncertain_at = models.DateTimeField(
        _("flagged as uncertain at"),
        null=True,
        blank=True,
        help_text=_(
            "Left in 'sending' after the message was handed to the SMTP server: it may have gone out. "
            "Check before re-sending."
        ),
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["kind", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {', '.join(self.to)} ({self.get_status_display()})"

    @property
    def went_out(self) -> bool:
        return self.status == self.Status.SENT

    @property
    def is_uncertain(self) -> bool:
        return self.status == self.Status.SENDING and self.uncertain_at is not None


class Attachment(models.Model):
    """A file sent with a message: its bytes in the row, or a stored file (large ones, e.g. invoices)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    mimetype = models.CharField(_("type"), max_length=100, default="application/octet-stream")
    content = models.BinaryField(_("content"), blank=True, default=b"")
    file = models.FileField(_("file"), upload_to="outbox/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename

    def read(self) -> bytes:
        if self.file:
            with self.file.open("rb") as handle:
                return handle.read()
        return bytes(self.content)
