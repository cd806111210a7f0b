"""Celery tasks of the projects app: thin, idempotent, claim-before-act (see services)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from projects.services import drafts_purge


@shared_task(name="projects.purge_stale_drafts")
def purge_stale_drafts() -> int:
    """Daily: delete drafts never submitted within PROJECTS_DRAFT_RETENTION_DAYS. Safe to run twice."""
    return drafts_purge(now=timezone.now(), days=settings.PROJECTS_DRAFT_RETENTION_DAYS)
