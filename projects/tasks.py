"""Celery tasks of the projects app: thin, idempotent, claim-before-act (see services)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from projects.services import drafts_purge, review_reminder_claim, review_reminders_due


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
