from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectQuerySet(models.QuerySet):
    def funded(self) -> ProjectQuerySet:
        return self.filter(status__in=[Project.Status.FUNDED, Project.Status.COMPLETED])


class Project(models.Model):
    """An R&D project proposed by members, from draft proposal to funded and completed project."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        UNDER_REVIEW = "under_review", _("Under review")
        INFO_REQUESTED = "info_requested", _("More information requested")
        RESUBMITTED = "resubmitted", _("Resubmitted")
        LABELLED = "labelled", _("Labelled")
        NOT_LABELLED = "not_labelled", _("Not labelled")
        SUBMITTED_TO_FUNDER = "submitted_to_funder", _("Submitted to funder")
        FUNDED = "funded", _("Funded")
        NOT_FUNDED = "not_funded", _("Not funded")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    title = models.CharField(_("title"), max_length=255)
    acronym = models.CharField(_("acronym"), max_length=40)
    lead_organisation = models.ForeignKey(
        "members.Organisation",
        verbose_name=_("lead organisation"),
        on_delete=models.PROTECT,
        related_name="led_projects",
    )
    areas = models.ManyToManyField(
        "das.StrategicArea",
        verbose_name=_("strategic areas"),
        related_name="projects",
        help_text=_("Combined therapeutic solutions span several areas."),
    )
    status = models.CharField(_("status"), max_length=30, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.acronym} — {self.title}"
