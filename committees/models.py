"""Labelling committee sessions: a DAS board meets, reviews the proposals on its agenda and decides.

Dependency order: members ← das ← calls ← projects ← committees. A decision moves the proposal
through the projects workflow service (one transition, its event and its e-mails); a labelled
project gets a labelling letter whose reference anyone can check at a public URL.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Session(models.Model):
    """One sitting of a DAS labelling committee."""

    area = models.ForeignKey(
        "das.StrategicArea",
        verbose_name=_("strategic area"),
        on_delete=models.PROTECT,
        related_name="committee_sessions",
    )
    held_at = models.DateTimeField(_("date and time"), help_text=_("Paris time."))
    place = models.CharField(_("place or video link"), max_length=255, blank=True)
    members = models.ManyToManyField(
        "members.Person",
        verbose_name=_("committee members"),
        related_name="committee_sessions",
        blank=True,
        help_text=_("Filled from the area's current board when the session is created; edit as needed."),
    )
    notes = models.TextField(_("notes for the minutes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("labelling committee session")
        verbose_name_plural = _("labelling committee sessions")
        ordering = ["-held_at", "pk"]

    def __str__(self) -> str:
        return f"{self.area} — {self.held_at:%d/%m/%Y}"


class Item(models.Model):
    """A proposal on a session's agenda, and the decision the committee took on it."""

    class Decision(models.TextChoices):
        LABELLED = "labelled", _("Labelled")
        NOT_LABELLED = "not_labelled", _("Not labelled")
        INFO_REQUESTED = "info_requested", _("More information requested")

    session = models.ForeignKey(Session, verbose_name=_("session"), on_delete=models.CASCADE, related_name="items")
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("proposal"), on_delete=models.PROTECT, related_name="committee_items"
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices, blank=True)
    comment = models.TextField(_("comment for the applicants"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("proposal on the agenda")
        verbose_name_plural = _("proposals on the agenda")
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["session", "project"], name="committee_item_once")]

    def __str__(self) -> str:
        return str(self.project)


def new_reference() -> str:
    """A reference nobody can guess: 16 characters from an alphabet without look-alikes."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


class Letter(models.Model):
    """The labelling letter of a project: its reference proves it is genuine (`/labels/<reference>/`)."""

    project = models.OneToOneField(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="labelling_letter"
    )
    item = models.OneToOneField(
        Item, verbose_name=_("decision"), on_delete=models.PROTECT, related_name="letter", null=True, blank=True
    )
    reference = models.CharField(_("verification reference"), max_length=19, unique=True, default=new_reference)
    language = models.CharField(_("language"), max_length=5, default="fr")
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)

    class Meta:
        verbose_name = _("labelling letter")
        verbose_name_plural = _("labelling letters")

    def __str__(self) -> str:
        return self.reference
