"""Celery tasks of the meetings app: thin wrappers around meetings.engine (the outbox's tasks send)."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from meetings import engine, services


@shared_task(name="meetings.scan_due_deliveries", ignore_result=True)
def scan_due_deliveries() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): skip or enqueue in the outbox every due meeting e-mail."""
    return engine.scan().claimed


@shared_task(name="meetings.forget_addresses", ignore_result=True)
def forget_addresses() -> int:
    """Daily: invitees' addresses leave meetings that ended MEETINGS_ADDRESS_RETENTION_DAYS ago."""
    days = settings.MEETINGS_ADDRESS_RETENTION_DAYS
    return services.addresses_forget(before=timezone.now() - datetime.timedelta(days=days))


# The name it had while meetings lived in das: a scan a beat sent before the upgrade may still
# wait in the queue, and a worker refuses a task name it does not know. The scan is idempotent
# (it locks the due rows), so running this one as well as the next regular scan does no harm.
# Remove once every deployment has run a release with the new name.
@shared_task(name="das.scan_due_deliveries", ignore_result=True)
def scan_due_deliveries_old_name() -> int:
    """The meetings scan under its former name (messages queued before the move to meetings)."""
    return engine.scan().claimed
