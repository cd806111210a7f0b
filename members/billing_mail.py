"""Invoice e-mails through the portal's outbox: each invoice to the billing contacts once, with its
Factur-X PDF, and the reminders of an unpaid invoice at INVOICE_REMINDER_DAYS after its due date,
once each. The outbox's idempotency key is the guard: `member-invoice:<id>` and
`member-invoice-reminder:<id>:<days>`; asking again returns the message already there."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from members.invoice_pdf import invoice_pdf, pdf_filename
from members.models import Invoice
from members.services import billing_people, language_for
from outbox.models import Message
from outbox.services import attach_file, message_enqueue

logger = logging.getLogger(__name__)

INVOICE_KEY = "member-invoice:{id}"
REMINDER_KEY = "member-invoice-reminder:{id}:{days}"


def _context(invoice: Invoice) -> dict:
    return {
        "invoice": invoice,
        "seller": invoice.seller,
        "url": settings.SITE_URL + reverse("members:billing", args=[invoice.organisation.slug]),
    }


@transaction.atomic
def invoice_email_enqueue(*, invoice_id: int) -> Message | None:
    """Give an invoice its e-mail to the billing contacts (else the primary ones), with the PDF
    attached; the outbox sends it after commit, once. None for a cancelled invoice or credit note."""
    key = INVOICE_KEY.format(id=invoice_id)
    existing = Message.objects.filter(key=key).first()
    if existing is not None:
        return existing
    invoice = Invoice.objects.select_related("organisation").get(pk=invoice_id)
    if invoice.is_credit_note or invoice.status == Invoice.Status.CANCELLED:
        return None
    people = billing_people(invoice.organisation)
    language = language_for(people)
    content = invoice_pdf(invoice)  # rendered outside any lock the outbox takes, kept on the invoice
    with translation.override(language):
        subject = _("Medicen Paris Region: invoice %(number)s") % {"number": invoice.number}
        body = render_to_string("members/billing/emails/invoice.txt", _context(invoice))
    return message_enqueue(
        key=key,
        kind="members.invoice",
        to=[person.email for person in people],
        subject=subject,
        body=body,
        language=language,
        attachments=[attach_file(pdf_filename(invoice), content, "application/pdf")],
    )


def invoices_without_email():
    """Invoices of membership fees still unpaid that have no e-mail yet (a task lost by the broker)."""
    has_mail = Message.objects.filter(
        key=Concat(Value("member-invoice:"), Cast(OuterRef("pk"), output_field=CharField()))
    )
    return Invoice.objects.unpaid().filter(membership_year__isnull=False).filter(~Exists(has_mail))


def reminder_offsets() -> list[int]:
    return sorted(settings.MEMBERS_INVOICE_REMINDER_DAYS)


def invoice_reminders_enqueue(*, today: datetime.date) -> list[Message]:
    """Remind the billing contacts of every unpaid invoice past its due date by one of the offsets.

    Each (invoice, offset) is sent once (the key). When several offsets have passed since the last
    scan, only the latest is sent: the others are superseded, never sent late in a burst.
    """
    offsets = reminder_offsets()
    if not offsets:
        return []
    sent: list[Message] = []
    first = datetime.timedelta(days=offsets[0])
    for invoice in Invoice.objects.overdue(today).filter(due_on__lte=today - first).select_related("organisation"):
        late = (today - invoice.due_on).days
        reached = max(days for days in offsets if days <= late)
        later_keys = [REMINDER_KEY.format(id=invoice.pk, days=days) for days in offsets if days >= reached]
        if Message.objects.filter(key__in=later_keys).exists():
            continue
        people = billing_people(invoice.organisation)
        language = language_for(people)
        with translation.override(language):
            subject = _("Medicen Paris Region: reminder, invoice %(number)s is overdue") % {"number": invoice.number}
            body = render_to_string("members/billing/emails/reminder.txt", _context(invoice))
        sent.append(
            message_enqueue(
                key=REMINDER_KEY.format(id=invoice.pk, days=reached),
                kind="members.invoice_reminder",
                to=[person.email for person in people],
                subject=subject,
                body=body,
                language=language,
            )
        )
    return sent
