"""Celery tasks of the outbox: thin wrappers around outbox.services."""

from __future__ import annotations

from celery import shared_task

from outbox import services


@shared_task(name="outbox.scan", ignore_result=True)
def scan() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): release abandoned rows, flag uncertain ones, dispatch what is due."""
    return services.scan().claimed


@shared_task(name="outbox.send_messages", ignore_result=True)
def send_messages(message_ids: list[int]) -> dict:
    """Send a batch over one SMTP connection; safe to run twice (each row is claimed before SMTP)."""
    result = services.messages_send(message_ids=message_ids)
    return {"sent": result.sent, "retrying": result.retrying, "failed": result.failed, "uncertain": result.uncertain}
