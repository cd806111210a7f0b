"""Celery tasks of the members app: thin, idempotent, claim-before-act (see services)."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.utils import timezone

from members import services

logger = logging.getLogger(__name__)


@shared_task(name="members.membership_statuses_daily")
def membership_statuses_daily() -> dict:
    """Move membership years and organisations' statuses with the calendar (safe to run twice a day)."""
    report = services.membership_statuses_advance(today=timezone.localdate())
    for line in report.skipped:
        logger.warning("Membership not opened: %s", line)
    return {"opened": report.opened, "grace": report.grace, "lapsed": report.lapsed}


@shared_task(name="members.renewal_reminders_scan")
def renewal_reminders_scan() -> int:
    """Daily: give every membership year due a reminder its e-mail; the outbox sends each once."""
    due = services.renewal_reminders_due(today=timezone.localdate())
    return len(services.renewal_reminders_enqueue(membership_year_ids=due))


# The import's own limit: 100,000 rows take a minute or two; the global limit is five minutes.
IMPORT_TIME_LIMIT = 30 * 60


@shared_task(name="members.run_import_job", time_limit=IMPORT_TIME_LIMIT, soft_time_limit=IMPORT_TIME_LIMIT - 60)
def run_import_job(job_id: int) -> None:
    """Run an import job uploaded in the admin (claims the row first: delivered twice, it imports once)."""
    from members.imports import import_job_run

    import_job_run(job_id=job_id, stale_after=datetime.timedelta(seconds=IMPORT_TIME_LIMIT))


@shared_task(name="members.purge_expired_personal_data")
def purge_expired_personal_data() -> dict:
    """Daily: apply the retention periods (members/privacy.py, the table in the README). Safe to run twice."""
    from members.privacy import retention_purge

    return retention_purge(now=timezone.now())


# --- Invoices (members/billing_mail.py): e-mails through the outbox, once each -----------------


@shared_task(name="members.send_invoice_email")
def send_invoice_email(invoice_id: int) -> bool:
    """Give one invoice its e-mail with the PDF (the outbox sends it once, whatever runs twice)."""
    from members.billing_mail import invoice_email_enqueue

    return invoice_email_enqueue(invoice_id=invoice_id) is not None


@shared_task(name="members.invoice_emails_daily")
def invoice_emails_daily() -> dict:
    """Daily: e-mail invoices whose send task was lost, and remind unpaid ones past their due date."""
    from members.billing_mail import invoice_email_enqueue, invoice_reminders_enqueue, invoices_without_email

    recovered = [invoice_email_enqueue(invoice_id=pk) for pk in invoices_without_email().values_list("pk", flat=True)]
    reminders = invoice_reminders_enqueue(today=timezone.localdate())
    return {"invoices": len(recovered), "reminders": len(reminders)}
