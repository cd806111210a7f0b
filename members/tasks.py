"""Celery tasks of the members app: thin, idempotent, claim-before-act (see services)."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from members import services

logger = logging.getLogger(__name__)

MAX_RETRIES = 6
BACKOFF_CAP_SECONDS = 30 * 60  # below the broker's visibility timeout


def backoff(retries: int) -> int:
    """MEMBERS_EMAIL_RETRY_SECONDS (30 s), then doubling, capped at BACKOFF_CAP_SECONDS."""
    return min(BACKOFF_CAP_SECONDS, settings.MEMBERS_EMAIL_RETRY_SECONDS * 2**retries)


@shared_task(name="members.membership_statuses_daily")
def membership_statuses_daily() -> dict:
    """Move membership years and organisations' statuses with the calendar (safe to run twice a day)."""
    report = services.membership_statuses_advance(today=timezone.localdate())
    for line in report.skipped:
        logger.warning("Membership not opened: %s", line)
    return {"opened": report.opened, "grace": report.grace, "lapsed": report.lapsed}


@shared_task(name="members.renewal_reminders_scan")
def renewal_reminders_scan() -> int:
    """Fan out one send task per renewal reminder due today; each send claims its row first."""
    services.renewal_reminders_interrupted(older_than=datetime.timedelta(hours=1))
    with transaction.atomic():
        due = services.renewal_reminders_due(today=timezone.localdate())
        for membership_year_id in due:
            send_renewal_reminder.delay_on_commit(membership_year_id)
    return len(due)


@shared_task(bind=True, name="members.send_renewal_reminder", max_retries=MAX_RETRIES)
def send_renewal_reminder(self, membership_year_id: int) -> str:
    """Send one renewal reminder exactly once; transient SMTP errors are retried with capped backoff."""
    try:
        return services.renewal_reminder_send(membership_year_id=membership_year_id)
    except services.TransientEmailError as error:
        if self.request.retries >= self.max_retries:
            services.renewal_reminder_give_up(
                membership_year_id=membership_year_id,
                reason=f"Gave up after {self.request.retries + 1} attempts: {error}",
            )
            return "failed"
        raise self.retry(exc=error, countdown=backoff(self.request.retries)) from error


@shared_task(bind=True, name="members.send_invitation", max_retries=MAX_RETRIES)
def send_invitation(self, person_id: int) -> str:
    """Send a contact's account invitation once; transient SMTP errors are retried with capped backoff."""
    try:
        return services.invitation_send(person_id=person_id)
    except services.TransientEmailError as error:
        if self.request.retries >= self.max_retries:
            logger.error("Invitation of person %s not sent: %s", person_id, error)
            return "failed"
        raise self.retry(exc=error, countdown=backoff(self.request.retries)) from error


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
