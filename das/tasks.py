"""Celery tasks of the das app: thin wrappers around das.meetings.engine."""

from __future__ import annotations

from celery import shared_task

from das.meetings import engine


@shared_task(name="das.scan_due_deliveries", ignore_result=True)
def scan_due_deliveries() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): claim everything due and enqueue one `deliver` per row."""
    return engine.scan().claimed


@shared_task(name="das.deliver", ignore_result=True)
def deliver(delivery_id: int) -> str:
    """Send one delivery; safe to run twice (the row is claimed before SMTP is touched)."""
    return engine.delivery_send(delivery_id=delivery_id)
