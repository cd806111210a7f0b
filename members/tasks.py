"""Celery tasks of the members app: thin, idempotent, claim-before-act (see services)."""

from __future__ import annotations

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
