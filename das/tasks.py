"""Celery tasks of the das app: thin wrappers around das.meetings.engine (the outbox's tasks send)."""

from __future__ import annotations

from celery import shared_task

from das.meetings import engine


@shared_task(name="das.scan_due_deliveries", ignore_result=True)
def scan_due_deliveries() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): skip or enqueue in the outbox every due meeting e-mail."""
    return engine.scan().claimed
