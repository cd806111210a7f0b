from celery import shared_task

from calls.services import call_reminders_enqueue


@shared_task(name="calls.reminders_scan")
def reminders_scan() -> int:
    """Enqueue the call deadline reminders that are due; the outbox sends them (safe to run twice)."""
    return call_reminders_enqueue()
