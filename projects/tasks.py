"""Celery tasks of the projects app: thin, idempotent, claim-before-act (see services)."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from projects.selectors import stale_notification_ids
from projects.services import (
    NOTIFICATION_MAX_ATTEMPTS,
    TransientEmailError,
    drafts_purge,
    notification_send,
    review_reminder_claim,
    review_reminders_due,
)

RETRY_BACKOFF_MAX = 900  # seconds; capped well below the broker's visibility timeout


@shared_task(
    bind=True,
    name="projects.send_project_notification",
    autoretry_for=(TransientEmailError,),
    retry_backoff=30,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=NOTIFICATION_MAX_ATTEMPTS - 1,
)
def send_project_notification(self, notification_id: int) -> str:
    """E-mail one transition to one audience, exactly once even if this task runs twice."""
    return notification_send(notification_id=notification_id, final_attempt=self.request.retries >= self.max_retries)


@shared_task(name="projects.enqueue_stale_notifications")
def enqueue_stale_notifications() -> int:
    """Periodic: fan out one send task per notification whose enqueue or retry message was lost.

    Safe with duplicates: each send task claims its row before sending.
    """
    ids = stale_notification_ids(
        older_than=datetime.timedelta(seconds=settings.PROJECTS_NOTIFICATION_STALE_SECONDS),
        retry_cap=datetime.timedelta(seconds=RETRY_BACKOFF_MAX),
    )
    for pk in ids:
        send_project_notification.delay(pk)
    return len(ids)


@shared_task(name="projects.purge_stale_drafts")
def purge_stale_drafts() -> int:
    """Daily: delete drafts never submitted within PROJECTS_DRAFT_RETENTION_DAYS. Safe to run twice."""
    return drafts_purge(now=timezone.now(), days=settings.PROJECTS_DRAFT_RETENTION_DAYS)


@shared_task(name="projects.review_reminders_scan")
def review_reminders_scan() -> int:
    """Periodic: remind, once, each reviewer who has not submitted PROJECTS_REVIEW_REMINDER_DAYS after
    the assignment. Safe to run twice or concurrently: each reminder is claimed before it is queued."""
    now, days = timezone.now(), settings.PROJECTS_REVIEW_REMINDER_DAYS
    return sum(
        review_reminder_claim(review_id=pk, now=now, days=days) is not None
        for pk in review_reminders_due(now=now, days=days)
    )
